// Four worker processes, 200 connectors on schedules, workers killed at random (SIGKILL: a crash;
// SIGTERM: a graceful stop) and replaced: every due slot syncs exactly once, no two runs of a
// connector ever overlap, no lease is left behind, and nothing is imported twice.

import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConnectors, startTestDatabase, type TestDatabase } from './support/database.js';
import { exited, spawnWorker } from './support/worker-processes.js';

const CONNECTORS = 200;
const ORGS = 10;
const ROUNDS = 2;
const LEASE_SECONDS = 10;

let database: TestDatabase;
const children = new Set<ChildProcess>();
let spawned = 0;

async function startOne(): Promise<ChildProcess> {
  spawned += 1;
  const child = await spawnWorker({
    connectionString: database.connectionString,
    workerId: `chaos-${spawned}`,
    delayMs: 15,
    worker: {
      concurrency: 3,
      perOrgConcurrency: 4,
      pollingIntervalSeconds: 0.5,
      superviseIntervalSeconds: 1,
      heartbeatSeconds: 10,
      leaseSeconds: LEASE_SECONDS,
      schedulerIntervalMs: 250,
      shutdownTimeoutMs: 500,
      maxConnections: 6,
      retry: { limit: 20, delaySeconds: 1, maxDelaySeconds: 2 },
    },
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

beforeAll(async () => {
  database = await startTestDatabase();
});

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await Promise.all([...children].map(exited));
  await database?.server.stop();
});

describe('scheduled syncs on four worker processes, killed at random', () => {
  it('runs every due sync exactly once per period', { timeout: 150_000 }, async () => {
    const ids: string[] = [];
    for (let org = 0; org < ORGS; org += 1) {
      ids.push(
        ...(await createConnectors(database.pool, {
          orgId: randomUUID(),
          count: CONNECTORS / ORGS,
          syncFrequency: 'hourly',
          settings: { docs: 3, round: 0 },
        })),
      );
    }
    await Promise.all([startOne(), startOne(), startOne(), startOne()]);
    let kills = 0;

    for (let round = 0; round < ROUNDS; round += 1) {
      // The period passes: every connector is due again, with new content. (Round 0: they were
      // created due, and the workers may already be claiming them.)
      const { rows: started } =
        round === 0
          ? await database.pool.query<{ at: Date }>(`select to_timestamp(0) as at`)
          : await database.pool.query<{ at: Date }>(
              `update connector_configs set settings = jsonb_set(settings, '{round}', to_jsonb($1::int)), next_sync_at = now()
               where id = any($2) returning now() as at`,
              [round, ids],
            );
      const roundStart = started[0]?.at as Date;
      let done = 0;
      let killedThisRound = 0;
      let polls = 0;
      while (done < CONNECTORS) {
        polls += 1;
        await new Promise((resolve) => setTimeout(resolve, 400));
        // Kill a random worker twice per round while work is in flight, and start a replacement.
        if (killedThisRound < 2 && polls >= 2 + 3 * killedThisRound) {
          const victims = [...children];
          const victim = victims[Math.floor(Math.random() * victims.length)] as ChildProcess;
          victim.kill(kills % 2 === 0 ? 'SIGKILL' : 'SIGTERM');
          kills += 1;
          killedThisRound += 1;
          await exited(victim);
          await startOne();
        }
        const { rows } = await database.pool.query<{ n: number }>(
          `select count(distinct connector_id)::int as n from connector_sync_logs
           where connector_id = any($1) and sync_type = 'scheduled' and status = 'success' and started_at >= $2`,
          [ids, roundStart],
        );
        done = rows[0]?.n ?? 0;
      }

      // Wait until no sync job is waiting or running: a retried job of this round (whose earlier
      // attempt was killed) must have ended before the runs are counted.
      for (;;) {
        const { rows: open } = await database.pool.query<{ n: number }>(
          `select count(*)::int as n from pgboss.job where name = 'tributary_sync' and state in ('created', 'retry', 'active')`,
        );
        if (open[0]?.n === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      const { rows: perConnector } = await database.pool.query<{ connector_id: string; n: number }>(
        `select connector_id, count(*)::int as n from connector_sync_logs
         where connector_id = any($1) and status = 'success' and started_at >= $2 group by connector_id`,
        [ids, roundStart],
      );
      expect(perConnector).toHaveLength(CONNECTORS);
      expect(perConnector.filter((row) => row.n !== 1)).toEqual([]);
      const { rows: versions } = await database.pool.query<{ n: number }>(
        `select count(*)::int as n from imported_documents where connector_id = any($1) and source_version = $2 and not is_deleted`,
        [ids, String(round)],
      );
      expect(versions[0]?.n).toBe(CONNECTORS * 3);
    }
    // The chaos happened: at least one worker was killed in every round.
    expect(kills).toBeGreaterThanOrEqual(ROUNDS);

    // No run overlapped another of its connector: the lease was never taken over before it expired.
    const { rows: overlaps } = await database.pool.query<{ n: number }>(
      `select count(*)::int as n from connector_sync_logs a join connector_sync_logs b
         on a.connector_id = b.connector_id and a.id <> b.id and b.started_at > a.started_at
       where a.connector_id = any($1) and b.started_at < coalesce(a.completed_at, now())`,
      [ids],
    );
    expect(overlaps[0]?.n).toBe(0);
    // No lease is left behind: nothing is still running once every job is done.
    const { rows: running } = await database.pool.query<{ n: number }>(
      `select count(*)::int as n from connector_sync_logs where connector_id = any($1) and status = 'running'`,
      [ids],
    );
    expect(running[0]?.n).toBe(0);
    // Nothing imported twice: three documents per connector, each once.
    const { rows: documents } = await database.pool.query<{ total: number; distinct_ids: number }>(
      `select count(*)::int as total, count(distinct (connector_id, external_id))::int as distinct_ids
       from imported_documents where connector_id = any($1)`,
      [ids],
    );
    expect(documents[0]).toEqual({ total: CONNECTORS * 3, distinct_ids: CONNECTORS * 3 });
    // The jobs of killed workers were retried, not lost: no sync job is left active or waiting.
    const { rows: jobs } = await database.pool.query<{ n: number }>(
      `select count(*)::int as n from pgboss.job where name = 'tributary_sync' and state in ('created', 'retry', 'active')`,
    );
    expect(jobs[0]?.n).toBe(0);
  });
});
