// 0023_listing_seen_marks: a full listing marks the documents it skipped by id, one array row per
// call, without rewriting document rows; the sweep counts them as seen, keeps a resumed listing's
// marks and drops older listings' marks once it completes; only the service role may mark; the
// down script restores 0008's sweep. PGlite and a real PostgreSQL server.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromPglite, migrate, rollback, type SqlDatabase, type SqlQueryable } from '../src/index.js';
import { migrationsFrom } from './helpers.js';
import {
  actAs,
  createMigratedPglite,
  insertConnector,
  startMigratedServer,
} from './support/schema-database.js';

interface Backend {
  db: SqlDatabase;
  /** A fresh database with every migration applied (for the rollback). */
  scratch(): Promise<{ db: SqlDatabase; close(): Promise<void> }>;
  close(): Promise<void>;
}

const backends: [string, () => Promise<Backend>][] = [
  [
    'PGlite',
    async () => {
      const { pglite, db } = await createMigratedPglite();
      return {
        db,
        async scratch() {
          const fresh = await createMigratedPglite();
          return { db: fromPglite(fresh.pglite), close: () => fresh.pglite.close() };
        },
        close: () => pglite.close(),
      };
    },
  ],
  [
    'a PostgreSQL server',
    async () => {
      const migrated = await startMigratedServer();
      const { db } = await migrated.createDatabase(4);
      return {
        db,
        async scratch() {
          const fresh = await migrated.createDatabase(2);
          return { db: fresh.db, close: () => fresh.pool.end() };
        },
        close: () => migrated.stop(),
      };
    },
  ],
];

/** One call as the service role, committed. */
function service<T>(db: SqlDatabase, sql: string, params: unknown[] = []): Promise<T[]> {
  return actAs(db, { role: 'service_role' }, async (tx) => (await tx.query<T>(sql, params)).rows as T[], {
    commit: true,
  });
}

function failure(promise: Promise<unknown>): Promise<{ code?: string; message: string }> {
  return promise.then(
    () => {
      throw new Error('expected a refusal');
    },
    (error: { code?: string; message: string }) => error,
  );
}

/** Documents last seen a minute ago (listed by an earlier run); returns their ids by external id. */
async function insertDocuments(
  db: SqlQueryable,
  orgId: string,
  connectorId: string,
  externalIds: string[],
): Promise<Record<string, string>> {
  const { rows } = await db.query<{ id: string; external_id: string }>(
    `insert into public.imported_documents (org_id, connector_id, external_id, title, content, content_hash,
       processing_status, source_version, last_seen_at)
     select $1, $2, e, e, 'text ' || e, md5(e) || md5(e), 'completed', 'v1', now() - interval '1 minute'
     from unnest($3::text[]) e
     returning id, external_id`,
    [orgId, connectorId, externalIds],
  );
  return Object.fromEntries(rows.map((row) => [row.external_id, row.id]));
}

async function startFull(db: SqlDatabase, connectorId: string, mode = 'full'): Promise<string> {
  const [row] = await service<{ sync_log_id: string; started: boolean }>(
    db,
    `select * from public.start_connector_sync($1, 'manual', $2)`,
    [connectorId, mode],
  );
  expect(row?.started).toBe(true);
  return row?.sync_log_id as string;
}

async function finish(db: SqlDatabase, runId: string, status: string): Promise<void> {
  await service(db, 'select * from public.finish_connector_sync($1, $2)', [runId, status]);
}

async function mark(db: SqlDatabase, runId: string, ids: string[]): Promise<number> {
  const [row] = await service<{ n: number }>(
    db,
    'select public.mark_documents_seen_by_id($1, $2::uuid[]) as n',
    [runId, ids],
  );
  return Number(row?.n);
}

async function sweep(db: SqlDatabase, runId: string, fraction = 0.5) {
  const [row] = await service<{ swept: number; unseen: number; total: number; refused: boolean }>(
    db,
    'select * from public.sweep_unseen_documents($1, $2)',
    [runId, fraction],
  );
  return row;
}

async function liveExternalIds(db: SqlQueryable, connectorId: string): Promise<string[]> {
  const { rows } = await db.query<{ external_id: string }>(
    'select external_id from public.imported_documents where connector_id = $1 and not is_deleted order by 1',
    [connectorId],
  );
  return rows.map((row) => row.external_id);
}

async function markRows(db: SqlQueryable, connectorId: string) {
  const { rows } = await db.query<{ listing_started_at: Date; n: number }>(
    `select listing_started_at, cardinality(document_ids) as n from tributary_private.listing_seen_marks
     where connector_id = $1 order by id`,
    [connectorId],
  );
  return rows;
}

describe.each(backends)('0023_listing_seen_marks on %s', (_name, open) => {
  let backend: Backend;
  let db: SqlDatabase;
  beforeAll(async () => {
    backend = await open();
    db = backend.db;
  });
  afterAll(async () => {
    await backend?.close();
  });

  it('marks by id without rewriting document rows; the sweep counts marks of its listing only', async () => {
    const orgId = randomUUID();
    const connectorId = await insertConnector(db, orgId);
    const ids = await insertDocuments(db, orgId, connectorId, ['a', 'b', 'c', 'd']);
    const before = await db.query(
      'select id, xmin::text, last_seen_at, last_synced_at, sync_count from public.imported_documents where connector_id = $1 order by id',
      [connectorId],
    );
    const run = await startFull(db, connectorId);
    expect(await mark(db, run, [ids.a, ids.b] as string[])).toBe(2);
    // Ids are stored unchecked (an unknown one matches nothing in the sweep).
    expect(await mark(db, run, [ids.c, randomUUID()] as string[])).toBe(2);
    // Two calls, two array rows; no document row was written (same row versions).
    expect((await markRows(db, connectorId)).map((row) => Number(row.n))).toEqual([2, 2]);
    expect(
      (
        await db.query(
          'select id, xmin::text, last_seen_at, last_synced_at, sync_count from public.imported_documents where connector_id = $1 order by id',
          [connectorId],
        )
      ).rows,
    ).toEqual(before.rows);

    expect(await sweep(db, run)).toEqual({ swept: 1, unseen: 1, total: 4, refused: false });
    expect(await liveExternalIds(db, connectorId)).toEqual(['a', 'b', 'c']);
    await finish(db, run, 'success');
    // The completed listing's own marks stay (a resumed listing could still need them).
    expect(await markRows(db, connectorId)).toHaveLength(2);

    // The next listing: only b is marked, a is written (upserted) this listing, c is gone.
    const next = await startFull(db, connectorId);
    expect(await mark(db, next, [ids.b] as string[])).toBe(1);
    await db.query(`update public.imported_documents set last_seen_at = now() where id = $1`, [ids.a]);
    expect(await sweep(db, next)).toEqual({ swept: 1, unseen: 1, total: 3, refused: false });
    expect(await liveExternalIds(db, connectorId)).toEqual(['a', 'b']);
    // Its sweep completed: the first listing's marks are gone, its own remain.
    const { rows: listing } = await db.query<{ listing_started_at: Date }>(
      'select listing_started_at from public.connector_sync_logs where id = $1',
      [next],
    );
    const left = await markRows(db, connectorId);
    expect(left.map((row) => [row.listing_started_at.getTime(), Number(row.n)])).toEqual([
      [listing[0]?.listing_started_at.getTime(), 1],
    ]);
  });

  it("keeps an interrupted listing's marks for the run that resumes it; a refused sweep drops nothing", async () => {
    const orgId = randomUUID();
    const connectorId = await insertConnector(db, orgId);
    const ids = await insertDocuments(db, orgId, connectorId, ['a', 'b', 'c', 'd', 'e', 'f']);
    const first = await startFull(db, connectorId);
    expect(await mark(db, first, [ids.a, ids.b] as string[])).toBe(2);
    await finish(db, first, 'failed');
    const resumed = await startFull(db, connectorId);
    expect(await mark(db, resumed, [ids.c] as string[])).toBe(1);
    // a, b, c seen of 6: three unseen is more than a 0.4 guard allows.
    expect(await sweep(db, resumed, 0.4)).toEqual({ swept: 0, unseen: 3, total: 6, refused: true });
    expect(await markRows(db, connectorId)).toHaveLength(2);
    expect(await mark(db, resumed, [ids.d] as string[])).toBe(1);
    expect(await sweep(db, resumed, 0.4)).toEqual({ swept: 2, unseen: 2, total: 6, refused: false });
    expect(await liveExternalIds(db, connectorId)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('refuses bad input and lost leases, stores nothing for an incremental run, and is for the service role only', async () => {
    const orgId = randomUUID();
    const connectorId = await insertConnector(db, orgId);
    const ids = await insertDocuments(db, orgId, connectorId, ['a']);
    const incremental = await startFull(db, connectorId, 'incremental');
    expect(await mark(db, incremental, [ids.a] as string[])).toBe(0);
    expect(await markRows(db, connectorId)).toEqual([]);
    expect(
      (await failure(service(db, 'select public.mark_documents_seen_by_id($1, null)', [incremental]))).code,
    ).toBe('22004');
    const tooMany = Array.from({ length: 5001 }, () => randomUUID());
    const refusal = await failure(mark(db, incremental, tooMany));
    expect(refusal.code).toBe('22023');
    expect(refusal.message).toMatch(/at most 5000/);
    expect((await failure(mark(db, randomUUID(), [ids.a] as string[]))).code).toBe('P0002');
    await finish(db, incremental, 'success');
    expect((await failure(mark(db, incremental, [ids.a] as string[]))).code).toBe('55000');

    const full = await startFull(db, connectorId);
    for (const role of ['anon', 'authenticated'] as const) {
      const actor = role === 'anon' ? { role } : { role, userId: randomUUID() };
      const denied = await failure(
        actAs(db, actor, (tx) =>
          tx.query('select public.mark_documents_seen_by_id($1, $2::uuid[])', [full, [ids.a]]),
        ),
      );
      expect(denied.code).toBe('42501');
      const hidden = await failure(
        actAs(db, actor, (tx) => tx.query('select count(*) from tributary_private.listing_seen_marks')),
      );
      expect(hidden.code).toBe('42501');
    }
    expect(await mark(db, full, [ids.a] as string[])).toBe(1);
    // Deleting the connector deletes its marks.
    await db.query('delete from public.connector_configs where id = $1', [connectorId]);
    expect(await markRows(db, connectorId)).toEqual([]);
  });

  it("rolls back to 0008's sweep (last_seen_at only) and applies again", async () => {
    const scratch = await backend.scratch();
    try {
      const orgId = randomUUID();
      const connectorId = await insertConnector(scratch.db, orgId);
      const ids = await insertDocuments(scratch.db, orgId, connectorId, ['a', 'b', 'c']);
      const run = await startFull(scratch.db, connectorId);
      expect(await mark(scratch.db, run, [ids.a, ids.b] as string[])).toBe(2);

      // Migrations after 0023 are rolled back first, in one transaction.
      const later = await migrationsFrom('0023_listing_seen_marks');
      const down = await rollback(scratch.db, { to: '0022_pipeline_seen_marks' });
      expect(down.rolledBack.map((entry) => entry.name)).toEqual([...later].reverse());
      const { rows } = await scratch.db.query<{ fn: number; marks: string | null }>(
        `select (select count(*)::int from pg_proc where proname = 'mark_documents_seen_by_id') as fn,
                to_regclass('tributary_private.listing_seen_marks')::text as marks`,
      );
      expect(rows[0]).toEqual({ fn: 0, marks: null });
      // 0008's sweep reads last_seen_at only: marks by id are gone, so all three are unseen.
      expect(await sweep(scratch.db, run, 1)).toEqual({ swept: 3, unseen: 3, total: 3, refused: false });

      const up = await migrate(scratch.db);
      expect(up.applied.map((entry) => entry.name)).toEqual(later);
      await finish(scratch.db, run, 'success');
      const again = await startFull(scratch.db, connectorId);
      expect(await mark(scratch.db, again, [ids.a] as string[])).toBe(1);
    } finally {
      await scratch.close();
    }
  });
});
