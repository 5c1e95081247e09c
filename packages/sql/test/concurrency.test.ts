// Races on a real PostgreSQL server: many connections call the same RPC at the same moment, and the
// results must be exact. Every call runs in its own transaction on its own connection and first
// waits at a barrier (a shared advisory lock that a coordinator holds exclusively); the coordinator
// lets them all go only once every one of them is waiting, so the calls really overlap. The tests
// assert results only, never timing.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqlDatabase } from '../src/index.js';
import {
  insertConnector,
  type MigratedServer,
  seedTenancy,
  sha256Hex,
  startMigratedServer,
  type Tenancy,
} from './support/schema-database.js';

let migrated: MigratedServer;
let pool: pg.Pool;
let db: SqlDatabase;
let tenancy: Tenancy;

beforeAll(async () => {
  migrated = await startMigratedServer();
  // 200 racing connections + the coordinator + a little head room (the server allows 300).
  ({ pool, db } = await migrated.createDatabase(210));
  tenancy = await seedTenancy(db);
});
afterAll(async () => {
  await migrated?.stop();
});

let nextBarrierKey = 7_000;

/**
 * Runs `work` on `count` connections at once, as the service role, each in its own transaction,
 * all released together from a barrier. Returns each call's outcome (in index order).
 */
async function race<T>(
  count: number,
  work: (client: pg.PoolClient, index: number) => Promise<T>,
): Promise<PromiseSettledResult<T>[]> {
  const key = nextBarrierKey++;
  const coordinator = await pool.connect();
  const clients: pg.PoolClient[] = [];
  try {
    await coordinator.query('select pg_advisory_lock($1)', [key]);
    for (let index = 0; index < count; index++) clients.push(await pool.connect());
    const runs = clients.map(async (client, index) => {
      await client.query('begin');
      try {
        await client.query(
          "select set_config('request.jwt.claims', $1, true), set_config('role', 'service_role', true)",
          [JSON.stringify({ role: 'service_role' })],
        );
        await client.query('select pg_advisory_xact_lock_shared($1)', [key]); // the barrier
        const result = await work(client, index);
        await client.query('commit');
        return result;
      } catch (error) {
        await client.query('rollback').catch(() => undefined);
        throw error;
      }
    });
    // Wait until every connection is blocked at the barrier, then open it.
    for (;;) {
      const { rows } = await coordinator.query<{ waiting: number }>(
        `select count(*)::int as waiting from pg_locks
         where locktype = 'advisory' and classid = 0 and objid = $1 and objsubid = 1 and not granted
           and database = (select oid from pg_database where datname = current_database())`,
        [key],
      );
      if (rows[0]?.waiting === count) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await coordinator.query('select pg_advisory_unlock($1)', [key]);
    return await Promise.allSettled(runs);
  } finally {
    coordinator.release();
    for (const client of clients) client.release();
  }
}

function fulfilled<T>(results: PromiseSettledResult<T>[]): T[] {
  return results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
}

function rejectionCodes(results: PromiseSettledResult<unknown>[]): (string | undefined)[] {
  return results.flatMap((result) =>
    result.status === 'rejected' ? [(result.reason as { code?: string }).code] : [],
  );
}

/** Fails with the first error if any call failed (so an unexpected error shows its message). */
function allFulfilled<T>(results: PromiseSettledResult<T>[]): T[] {
  const failed = results.find((result) => result.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
  return fulfilled(results);
}

async function createBatch(totalFiles: number): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    'insert into public.file_upload_batches (org_id, total_files) values ($1, $2) returning id',
    [tenancy.orgA, totalFiles],
  );
  const [row] = rows;
  if (!row) throw new Error('no batch inserted');
  return row.id;
}

async function batchState(id: string) {
  const { rows } = await db.query(
    `select processed_files, failed_files, status, progress_percent::text as progress,
            completed_at is not null as completed
     from public.file_upload_batches where id = $1`,
    [id],
  );
  return rows[0];
}

describe('increment_batch_processed / increment_batch_failed under concurrency', () => {
  it('64 calls at once on a 64-file batch (50 processed, 14 failed) count exactly', async () => {
    const batch = await createBatch(64);
    const results = await race(64, async (client, index) => {
      const fn = index < 50 ? 'increment_batch_processed' : 'increment_batch_failed';
      const { rows } = await client.query<{ processed_files: number; status: string }>(
        `select processed_files, status from public.${fn}($1)`,
        [batch],
      );
      return rows[0];
    });
    const rows = allFulfilled(results);
    expect(await batchState(batch)).toEqual({
      processed_files: 64,
      failed_files: 14,
      status: 'completed_with_errors',
      progress: '100.00',
      completed: true,
    });
    // The calls were serialised on the row: each one saw a different count, 1 to 64, and only the
    // call that accounted for the last file finished the batch.
    expect(rows.map((row) => row?.processed_files).sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual(
      Array.from({ length: 64 }, (_, index) => index + 1),
    );
    expect(rows.filter((row) => row?.status === 'completed_with_errors')).toEqual([
      { processed_files: 64, status: 'completed_with_errors' },
    ]);
    expect(rows.filter((row) => row?.status === 'processing')).toHaveLength(63);
  });

  it('70 calls at once on a 64-file batch: exactly 64 succeed and 6 get 55000', async () => {
    const batch = await createBatch(64);
    const results = await race(70, async (client, index) => {
      const fn = index % 10 === 0 ? 'increment_batch_failed' : 'increment_batch_processed';
      await client.query(`select public.${fn}($1)`, [batch]);
      return fn;
    });
    const succeeded = fulfilled(results);
    expect(succeeded).toHaveLength(64);
    expect(rejectionCodes(results)).toEqual(Array.from({ length: 6 }, () => '55000'));
    const failedCalls = succeeded.filter((fn) => fn === 'increment_batch_failed').length;
    expect(await batchState(batch)).toEqual({
      processed_files: 64,
      failed_files: failedCalls,
      status: failedCalls === 0 ? 'completed' : 'completed_with_errors',
      progress: '100.00',
      completed: true,
    });
  });

  it('64 failed calls at once end the batch as failed', async () => {
    const batch = await createBatch(64);
    allFulfilled(
      await race(64, (client) => client.query('select public.increment_batch_failed($1)', [batch])),
    );
    expect(await batchState(batch)).toEqual({
      processed_files: 64,
      failed_files: 64,
      status: 'failed',
      progress: '100.00',
      completed: true,
    });
  });
});

describe('start_connector_sync under concurrency', () => {
  interface Start {
    started: boolean;
    sync_log_id: string;
  }
  const start = async (client: pg.PoolClient, connector: string): Promise<Start> => {
    const { rows } = await client.query<Start>(
      'select started, sync_log_id from public.start_connector_sync($1, p_worker_id => $2)',
      [connector, `worker-${randomUUID()}`],
    );
    const [row] = rows;
    if (!row) throw new Error('start_connector_sync returned no row');
    return row;
  };
  const runsOf = async (connector: string) =>
    (
      await db.query<{ id: string; status: string }>(
        'select id, status from public.connector_sync_logs where connector_id = $1 order by started_at, id',
        [connector],
      )
    ).rows;

  for (const count of [2, 20]) {
    it(`${count} workers starting one connector at once: exactly one starts, one running row`, async () => {
      const connector = await insertConnector(db, tenancy.orgA, { name: `race ${count}` });
      const starts = allFulfilled(await race(count, (client) => start(client, connector)));
      const winners = starts.filter((row) => row.started);
      expect(winners).toHaveLength(1);
      const runs = await runsOf(connector);
      expect(runs).toEqual([{ id: winners[0]?.sync_log_id, status: 'running' }]);
      // Every loser was told which run holds the lease.
      expect(new Set(starts.map((row) => row.sync_log_id))).toEqual(new Set([winners[0]?.sync_log_id]));
    });
  }

  it('20 workers taking over an expired lease at once: the old run fails once, exactly one new run starts', async () => {
    const connector = await insertConnector(db, tenancy.orgA, { name: 'takeover race' });
    const { rows } = await db.query<{ sync_log_id: string }>(
      'select sync_log_id from public.start_connector_sync($1)',
      [connector],
    );
    const stale = rows[0]?.sync_log_id;
    await db.query(
      `update public.connector_sync_logs set lease_expires_at = now() - interval '1 second',
         started_at = now() - interval '1 hour' where id = $1`,
      [stale],
    );
    const starts = allFulfilled(await race(20, (client) => start(client, connector)));
    const winners = starts.filter((row) => row.started);
    expect(winners).toHaveLength(1);
    const runs = await runsOf(connector);
    expect(runs).toEqual([
      { id: stale, status: 'failed' },
      { id: winners[0]?.sync_log_id, status: 'running' },
    ]);
  });
});

describe('record_webhook_event under concurrency', () => {
  it('200 deliveries of 50 distinct events at once: exactly 50 rows and 50 responses with is_new', async () => {
    const connector = await insertConnector(db, tenancy.orgA, { name: 'webhook race' });
    const prefix = `evt-${randomUUID()}`;
    const results = await race(200, async (client, index) => {
      const eventId = `${prefix}-${index % 50}`;
      const { rows } = await client.query<{ webhook_event_id: string; is_new: boolean }>(
        `select webhook_event_id, is_new
         from public.record_webhook_event($1, 'notion', $2, 'page.updated', $3::jsonb)`,
        [connector, eventId, JSON.stringify({ delivery: index })],
      );
      return { eventId, ...rows[0] };
    });
    const responses = allFulfilled(results);
    expect(responses).toHaveLength(200);
    expect(responses.filter((response) => response.is_new)).toHaveLength(50);
    const stored = await db.query<{ id: string; event_id: string }>(
      'select id, event_id from public.connector_webhook_events where connector_id = $1',
      [connector],
    );
    expect(stored.rows).toHaveLength(50);
    // Each event: one first delivery, and all four deliveries name the same row.
    const rowOf = new Map(stored.rows.map((row) => [row.event_id, row.id]));
    for (let event = 0; event < 50; event++) {
      const deliveries = responses.filter((response) => response.eventId === `${prefix}-${event}`);
      expect(deliveries).toHaveLength(4);
      expect(deliveries.filter((response) => response.is_new)).toHaveLength(1);
      expect(new Set(deliveries.map((response) => response.webhook_event_id))).toEqual(
        new Set([rowOf.get(`${prefix}-${event}`)]),
      );
    }
  });
});

describe('upsert_documents under concurrency', () => {
  const documentsFor = (ids: number[]) =>
    ids.map((id) => {
      const content = `document ${id}`;
      return { external_id: `doc-${String(id).padStart(4, '0')}`, content, content_hash: sha256Hex(content) };
    });
  const range = (from: number, to: number) => Array.from({ length: to - from }, (_, index) => from + index);

  it('overlapping batches in different orders written at once: no deadlock, one row per document', async () => {
    const connector = await insertConnector(db, tenancy.orgA, { name: 'order race' });
    const ids = range(0, 300);
    const results = await race(8, async (client, worker) => {
      const batch = documentsFor(worker % 2 === 0 ? ids : [...ids].reverse());
      const { rows } = await client.query('select action from public.upsert_documents($1, $2::jsonb)', [
        connector,
        JSON.stringify(batch),
      ]);
      return rows;
    });
    expect(rejectionCodes(results)).toEqual([]);
    const { rows } = await db.query<{ n: number }>(
      'select count(*)::int as n from public.imported_documents where connector_id = $1',
      [connector],
    );
    expect(rows).toEqual([{ n: 300 }]);
  });

  it('overlapping batches written at once: no error, no duplicate, each document inserted exactly once', async () => {
    const connector = await insertConnector(db, tenancy.orgA, { name: 'upsert race' });
    // 16 workers; worker i writes documents [25 i, 25 i + 100): each document is in up to 4 batches.
    const batches = Array.from({ length: 16 }, (_, worker) =>
      documentsFor(range(worker * 25, worker * 25 + 100)),
    );
    const results = await race(batches.length, async (client, worker) => {
      const { rows } = await client.query<{ external_id: string; action: string }>(
        'select external_id, action from public.upsert_documents($1, $2::jsonb)',
        [connector, JSON.stringify(batches[worker])],
      );
      return rows;
    });
    const responses = allFulfilled(results).flat();
    const expectedIds = new Set(batches.flat().map((document) => document.external_id));
    expect(responses).toHaveLength(batches.flat().length);

    const stored = await db.query<{ external_id: string; copies: number; sync_count: number }>(
      `select external_id, count(*)::int as copies, max(sync_count) as sync_count
       from public.imported_documents where connector_id = $1 group by external_id`,
      [connector],
    );
    expect(stored.rows).toHaveLength(expectedIds.size);
    expect(stored.rows.every((row) => row.copies === 1)).toBe(true);
    expect(new Set(stored.rows.map((row) => row.external_id))).toEqual(expectedIds);
    // Exactly one call inserted each document; the others updated it or found it unchanged, and
    // sync_count counts every write.
    for (const row of stored.rows) {
      const writes = responses.filter((response) => response.external_id === row.external_id);
      expect(writes.filter((response) => response.action === 'inserted')).toHaveLength(1);
      expect(row.sync_count).toBe(writes.length);
    }
  });

  it('the same batch written by 12 workers at once leaves one row per document', async () => {
    const connector = await insertConnector(db, tenancy.orgA, { name: 'same batch race' });
    const batch = documentsFor(range(0, 200));
    const results = await race(12, async (client) => {
      const { rows } = await client.query<{ action: string }>(
        'select action from public.upsert_documents($1, $2::jsonb)',
        [connector, JSON.stringify(batch)],
      );
      return rows;
    });
    const actions = allFulfilled(results).flat();
    expect(actions.filter((row) => row.action === 'inserted')).toHaveLength(200);
    expect(actions).toHaveLength(12 * 200);
    const { rows } = await db.query<{ n: number; distinct_ids: number }>(
      `select count(*)::int as n, count(distinct external_id)::int as distinct_ids
       from public.imported_documents where connector_id = $1`,
      [connector],
    );
    expect(rows).toEqual([{ n: 200, distinct_ids: 200 }]);
  });
});
