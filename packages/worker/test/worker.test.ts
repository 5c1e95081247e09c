import { randomUUID } from 'node:crypto';
import { AuthError, createLexicalEmbedder, defineConnector, silentLogger } from '@tributary/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorker, type Worker, WorkerError } from '../src/index.js';
import { createConnectors, startTestDatabase, type TestDatabase } from './support/database.js';
import { createTickConnector } from './support/tick-connector.js';

const failing = defineConnector({
  type: 'locked_out',
  async check() {},
  // biome-ignore lint/correctness/useYield: fails before yielding anything
  async *sync() {
    throw new AuthError({ connector: 'locked_out', message: 'token revoked' });
  },
});

let database: TestDatabase;
const workers: Worker[] = [];

function startWorker(extra: Partial<Parameters<typeof createWorker>[0]> = {}): Worker {
  const worker = createWorker({
    connectionString: database.connectionString,
    connectors: [createTickConnector(), failing],
    embedder: createLexicalEmbedder(),
    logger: silentLogger,
    pollingIntervalSeconds: 0.5,
    superviseIntervalSeconds: 1,
    schedule: false,
    retry: { limit: 2, delaySeconds: 1, maxDelaySeconds: 2 },
    ...extra,
  });
  workers.push(worker);
  return worker;
}

beforeAll(async () => {
  database = await startTestDatabase();
});

afterAll(async () => {
  await Promise.allSettled(workers.map((worker) => worker.stop()));
  await database?.server.stop();
});

describe('createWorker', () => {
  it('refuses bad options before connecting', () => {
    expect(() => startWorker({ concurrency: -1 })).toThrow(/concurrency must be an integer/);
    expect(() =>
      createWorker({ connectionString: '', connectors: [], embedder: createLexicalEmbedder() }),
    ).toThrow(/\[tributary\] \[worker\] connectionString is missing/);
    try {
      startWorker({ connectors: [createTickConnector(), createTickConnector()] });
      expect.unreachable();
    } catch (error) {
      expect(WorkerError.isInstance(error)).toBe(true);
      expect((error as WorkerError).reason).toBe('invalid_options');
    }
  });

  it('runs a manual sync as a job that can be awaited and followed', async () => {
    const worker = startWorker();
    await worker.start();
    const orgId = randomUUID();
    const [connectorId] = await createConnectors(database.pool, {
      orgId,
      count: 1,
      settings: { docs: 3, round: 1 },
    });
    const requested = await worker.requestSync(connectorId as string);
    expect(requested.created).toBe(true);
    const states: string[] = [];
    for await (const status of worker.followJob(requested.jobId, { intervalMs: 100 }))
      states.push(status.state);
    expect(states.at(-1)).toBe('completed');
    const done = await worker.waitForJob(requested.jobId, { timeoutMs: 30_000 });
    expect(done.output).toMatchObject({ status: 'success', counts: { inserted: 3 } });
    const { rows } = await database.pool.query(
      `select count(*)::int as n from imported_documents where connector_id = $1 and not is_deleted`,
      [connectorId],
    );
    expect(rows[0].n).toBe(3);
    const runs = await database.pool.query(
      `select sync_type, status from connector_sync_logs where connector_id = $1`,
      [connectorId],
    );
    expect(runs.rows).toEqual([{ sync_type: 'manual', status: 'success' }]);
  });

  it('collapses requests for a connector that already has a sync waiting', async () => {
    // No worker takes jobs during this test: only producers.
    await Promise.all(workers.map((worker) => worker.stop()));
    const producer = startWorker({ concurrency: 0 });
    await producer.start();
    const [connectorId] = await createConnectors(database.pool, { orgId: randomUUID(), count: 1 });
    const first = await producer.requestSync(connectorId as string);
    const second = await producer.requestSync(connectorId as string);
    expect(first.created).toBe(true);
    expect(second).toEqual({ jobId: first.jobId, created: false });
    await expect(producer.requestSync(randomUUID())).rejects.toThrow(/not found/);
  });

  it('claims each due connector exactly once however many schedulers run at once', async () => {
    const schedulers = [
      startWorker({ concurrency: 0 }),
      startWorker({ concurrency: 0 }),
      startWorker({ concurrency: 0 }),
    ];
    await Promise.all(schedulers.map((worker) => worker.start()));
    const orgId = randomUUID();
    const ids = await createConnectors(database.pool, { orgId, count: 120, syncFrequency: 'hourly' });
    const claimed = await Promise.all(
      schedulers.flatMap((worker) => [worker.scheduleNow(), worker.scheduleNow(), worker.scheduleNow()]),
    );
    expect(claimed.reduce((a, b) => a + b, 0)).toBe(120);
    const jobs = await database.pool.query<{ key: string; n: number }>(
      `select singleton_key as key, count(*)::int as n from pgboss.job
       where name = 'tributary_sync' and singleton_key = any($1) group by singleton_key`,
      [ids],
    );
    expect(jobs.rows).toHaveLength(120);
    expect(jobs.rows.every((row) => row.n === 1)).toBe(true);
    // Each moved to its next slot, an hour on: nothing is due any more.
    expect(await schedulers[0]?.scheduleNow()).toBe(0);
    const next = await database.pool.query(
      `select count(*)::int as n from connector_configs where id = any($1) and next_sync_at > now() + interval '59 minutes'`,
      [ids],
    );
    expect(next.rows[0].n).toBe(120);
  });

  it('keeps a huge organisation from starving a small one (per-organisation concurrency)', async () => {
    // Everything is queued by a worker that runs nothing before the runner starts, so the order in
    // which jobs are claimed does not depend on how fast the enqueue loop is under load.
    const enqueuer = startWorker({ concurrency: 0 });
    await enqueuer.start();
    const huge = await createConnectors(database.pool, {
      orgId: randomUUID(),
      count: 16,
      settings: { docs: 3, round: 0 },
    });
    const small = await createConnectors(database.pool, {
      orgId: randomUUID(),
      count: 2,
      settings: { docs: 3, round: 0 },
    });
    // The huge tenant's 16 jobs are queued first, all at the same priority.
    const jobs = [];
    for (const id of [...huge, ...small]) jobs.push(await enqueuer.requestSync(id));
    const worker = startWorker({
      connectors: [createTickConnector({ delayMs: 60 })],
      concurrency: 4,
      perOrgConcurrency: 2,
    });
    await worker.start();
    await Promise.all(
      jobs.map((job) => worker.waitForJob(job.jobId, { timeoutMs: 60_000, intervalMs: 100 })),
    );
    const { rows } = await database.pool.query<{ connector_id: string; started_at: Date }>(
      `select connector_id, started_at from connector_sync_logs where connector_id = any($1) order by started_at`,
      [[...huge, ...small]],
    );
    const order = rows.map((row) => (small.includes(row.connector_id) ? 'small' : 'huge'));
    // Both small syncs start among the first runs, not after the 16 queued before them.
    expect(order.indexOf('small')).toBeLessThan(4);
    expect(order.lastIndexOf('small')).toBeLessThan(6);
  });

  it('dead-letters a sync that fails for a reason a retry cannot fix, and keeps it visible', async () => {
    const worker = startWorker();
    await worker.start();
    const [connectorId] = await createConnectors(database.pool, {
      orgId: randomUUID(),
      count: 1,
      type: 'locked_out',
    });
    const { jobId } = await worker.requestSync(connectorId as string);
    await expect(worker.waitForJob(jobId, { timeoutMs: 30_000, intervalMs: 100 })).rejects.toThrow(
      /ended failed/,
    );
    const job = await worker.getJob(jobId);
    expect(job?.retryCount).toBe(0);
    const dead = await worker.deadJobs('sync');
    expect(dead.map((entry) => entry.jobId)).toContain(jobId);
    const health = await worker.health();
    expect(health.database.reachable).toBe(true);
    expect(health.queues.sync.failed).toBeGreaterThanOrEqual(1);
  });
});
