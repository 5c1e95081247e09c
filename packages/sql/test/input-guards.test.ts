// 0012_input_guards: the RPCs refuse what they used to accept silently (a null or unknown connector
// id, an over-long worker id) and report a value that breaks a table's size or range rule as 22023,
// changing nothing. Its down script restores the earlier functions exactly. PGlite and a server.
import { randomUUID } from 'node:crypto';
import type { PGlite } from '@electric-sql/pglite';
import { createPgliteDatabase } from '@tributary/testkit-postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromPglite, loadMigrations, migrate, rollback, type SqlDatabase } from '../src/index.js';
import {
  actAs,
  createMigratedPglite,
  insertConnector,
  type MigratedServer,
  seedTenancy,
  startMigratedServer,
} from './support/schema-database.js';

const guardedFunctions = [
  'start_connector_sync',
  'heartbeat_connector_sync',
  'finish_connector_sync',
  'record_webhook_event',
  'upsert_documents',
  'mark_documents_seen',
  'soft_delete_documents',
];

interface Backend {
  db: SqlDatabase;
  close(): Promise<void>;
}

function defineGuardSuite(name: string, open: () => Promise<Backend>): void {
  describe(`0012_input_guards on ${name}`, () => {
    let backend: Backend;
    let db: SqlDatabase;
    beforeAll(async () => {
      backend = await open();
      db = backend.db;
    });
    afterAll(async () => {
      await backend?.close();
    });

    /** One call as the service role, in its own committed transaction. */
    const call = (sql: string, params: unknown[] = []) =>
      actAs(db, { role: 'service_role' }, async (tx) => (await tx.query(sql, params)).rows, { commit: true });

    /** The refusal `sql` gets (SQLSTATE and message), asserting that `state` did not change. */
    async function refusal(sql: string, params: unknown[], state: () => Promise<unknown>) {
      const before = await state();
      const error = await call(sql, params).then(
        () => undefined,
        (failure: { code?: string; message: string }) => failure,
      );
      expect(error, `${sql} should have been refused`).toBeDefined();
      expect(await state()).toEqual(before);
      return { code: error?.code, message: error?.message ?? '' };
    }

    async function connectorState(connector: string) {
      const documents = await db.query(
        'select external_id, title, file_size_bytes, is_deleted, last_seen_at, sync_count from public.imported_documents where connector_id = $1 order by external_id',
        [connector],
      );
      const runs = await db.query(
        'select status, worker_id, documents_synced from public.connector_sync_logs where connector_id = $1 order by started_at',
        [connector],
      );
      const events = await db.query(
        'select event_id from public.connector_webhook_events where connector_id = $1',
        [connector],
      );
      return { documents: documents.rows, runs: runs.rows, events: events.rows };
    }

    const document = (externalId: string, extra: Record<string, unknown> = {}) =>
      JSON.stringify([{ external_id: externalId, title: 'T', content: 'text', ...extra }]);

    it('refuses a null connector id (22004) and an unknown one (P0002) in every RPC taking one', async () => {
      const t = await seedTenancy(db);
      const connector = await insertConnector(db, t.orgA);
      await call('select * from public.upsert_documents($1, $2::jsonb)', [connector, document('kept')]);
      const state = () => connectorState(connector);
      const calls: [string, (id: string | null) => unknown[]][] = [
        ['select * from public.start_connector_sync($1)', (id) => [id]],
        ['select * from public.upsert_documents($1, $2::jsonb)', (id) => [id, document('kept')]],
        ['select public.mark_documents_seen($1, $2::text[]) as n', (id) => [id, ['kept']]],
        ['select public.soft_delete_documents($1, $2::text[]) as n', (id) => [id, ['kept']]],
        [
          "select * from public.record_webhook_event($1, 'zoom', 'evt-1', 'meeting.ended', '{}'::jsonb)",
          (id) => [id],
        ],
      ];
      for (const [sql, params] of calls) {
        const nullId = await refusal(sql, params(null), state);
        expect({ sql, code: nullId.code }).toEqual({ sql, code: '22004' });
        expect(nullId.message).toMatch(/p_connector_id is null/);
        const unknown = randomUUID();
        const missing = await refusal(sql, params(unknown), state);
        expect({ sql, code: missing.code }).toEqual({ sql, code: 'P0002' });
        expect(missing.message).toContain(`connector ${unknown} not found`);
      }
      // A deleted connector is unknown too (it used to count 0 and say nothing).
      const deleted = await insertConnector(db, t.orgA);
      await db.query('delete from public.connector_configs where id = $1', [deleted]);
      const gone = await refusal(
        'select public.soft_delete_documents($1, $2::text[]) as n',
        [deleted, ['x']],
        state,
      );
      expect(gone.code).toBe('P0002');
      // The known connector still works, and an empty or null id list still counts 0.
      expect(
        await call('select public.mark_documents_seen($1, $2::text[]) as n', [connector, ['kept']]),
      ).toEqual([{ n: 1 }]);
      expect(await call('select public.soft_delete_documents($1, null) as n', [connector])).toEqual([
        { n: 0 },
      ]);
    });

    it('refuses a worker id over 200 characters (22023) instead of truncating it; 200 is stored whole', async () => {
      const t = await seedTenancy(db);
      const connector = await insertConnector(db, t.orgA);
      const state = () => connectorState(connector);
      const tooLong = await refusal(
        'select * from public.start_connector_sync($1, p_worker_id => $2)',
        [connector, `w${'x'.repeat(200)}`],
        state,
      );
      expect(tooLong.code).toBe('22023');
      expect(tooLong.message).toMatch(/p_worker_id is 201 characters long; at most 200 are allowed/);
      const exact = `w${'y'.repeat(199)}`;
      await call('select * from public.start_connector_sync($1, p_worker_id => $2)', [connector, exact]);
      expect((await state()).runs).toEqual([{ status: 'running', worker_id: exact, documents_synced: 0 }]);
    });

    it('reports a value breaking a size or range rule as 22023 naming the rule, changing nothing', async () => {
      const t = await seedTenancy(db);
      const connector = await insertConnector(db, t.orgA);
      await call('select * from public.upsert_documents($1, $2::jsonb)', [connector, document('kept')]);
      const [run] = (await call('select * from public.start_connector_sync($1)', [connector])) as {
        sync_log_id: string;
      }[];
      const state = () => connectorState(connector);
      const cases: [string, unknown[], RegExp][] = [
        [
          'select * from public.upsert_documents($1, $2::jsonb)',
          [connector, document('long-title', { title: 't'.repeat(1001) })],
          /upsert_documents: a value breaks imported_documents_text_size_check/,
        ],
        [
          'select * from public.upsert_documents($1, $2::jsonb)',
          [connector, document('kept', { file_size_bytes: -5 })],
          /upsert_documents: a value breaks imported_documents_counts_check/,
        ],
        [
          'select * from public.upsert_documents($1, $2::jsonb)',
          [connector, document('bad-uuid', { uploaded_by: 'not-a-uuid' })],
          /upsert_documents: .*uuid/,
        ],
        [
          "select * from public.record_webhook_event($1, 'zoom', 'evt-2', $2, '{}'::jsonb)",
          [connector, 'e'.repeat(201)],
          /record_webhook_event: a value breaks connector_webhook_events_size_check/,
        ],
        [
          'select public.heartbeat_connector_sync($1, 300, \'{"documents_synced": -1}\'::jsonb)',
          [run?.sync_log_id],
          /heartbeat_connector_sync: a value breaks connector_sync_logs_counts_check/,
        ],
        [
          'select public.heartbeat_connector_sync($1, 300, \'{"documents_synced": "many"}\'::jsonb)',
          [run?.sync_log_id],
          /heartbeat_connector_sync: .*many/,
        ],
        [
          'select public.heartbeat_connector_sync($1, 300, \'{"progress": [5]}\'::jsonb)',
          [run?.sync_log_id],
          /p_progress\.progress must be a JSON object/,
        ],
        [
          "select public.finish_connector_sync($1, 'success', '{\"bytes_transferred\": -1}'::jsonb)",
          [run?.sync_log_id],
          /finish_connector_sync: a value breaks connector_sync_logs_counts_check/,
        ],
      ];
      for (const [sql, params, message] of cases) {
        const refused = await refusal(sql, params, state);
        expect({ sql, code: refused.code }).toEqual({ sql, code: '22023' });
        expect(refused.message).toMatch(message);
      }
      // The run is still running: the refused finish changed nothing, and a good one works.
      await call("select public.finish_connector_sync($1, 'success', '{\"documents_synced\": 1}'::jsonb)", [
        run?.sync_log_id,
      ]);
      expect((await state()).runs).toEqual([{ status: 'success', worker_id: null, documents_synced: 1 }]);
    });
  });
}

defineGuardSuite('PGlite', async () => {
  const { pglite, db }: { pglite: PGlite; db: SqlDatabase } = await createMigratedPglite();
  return { db, close: () => pglite.close() };
});

defineGuardSuite('a real PostgreSQL server', async () => {
  const migrated: MigratedServer = await startMigratedServer();
  const { db } = await migrated.createDatabase(4);
  return { db, close: () => migrated.stop() };
});

async function functionDefinitions(db: SqlDatabase): Promise<{ name: string; definition: string }[]> {
  const { rows } = await db.query<{ name: string; definition: string }>(
    `select p.proname as name, pg_get_functiondef(p.oid) as definition from pg_proc p
     where p.pronamespace = 'public'::regnamespace and p.proname = any ($1::text[]) order by 1`,
    [guardedFunctions],
  );
  return rows;
}

describe('0012_input_guards.down.sql', () => {
  it('restores the functions exactly as the earlier migrations define them, and 0012 applies again', async () => {
    const names = (await loadMigrations()).map((migration) => migration.name);
    const previous = previousOf(names);
    const { pglite, db } = await createMigratedPglite();
    const earlier = await createPgliteDatabase();
    try {
      const guarded = await functionDefinitions(db);
      await rollback(db, { to: previous });
      const restored = await functionDefinitions(db);
      expect(restored).toHaveLength(guardedFunctions.length);
      expect(restored).not.toEqual(guarded);
      const leftovers = await db.query(
        "select to_regprocedure('tributary_private.require_connector(uuid)')::text as f, to_regclass('tributary_private.quarantined_values')::text as t",
      );
      expect(leftovers.rows).toEqual([{ f: null, t: null }]);
      // A database that never had 0012 has the same definitions.
      await migrate(fromPglite(earlier), { target: previous });
      expect(await functionDefinitions(fromPglite(earlier))).toEqual(restored);

      await migrate(db);
      expect(await functionDefinitions(db)).toEqual(guarded);
    } finally {
      await pglite.close();
      await earlier.close();
    }
    // Migrates three PGlite databases through every later migration and back: it grows with each one.
  }, 240_000);
});

/** The migration just before 0012 (0011 once the other 00xx files exist). */
function previousOf(names: readonly string[]): string {
  const index = names.indexOf('0012_input_guards');
  const previous = names[index - 1];
  if (index < 1 || previous === undefined) throw new Error('0012_input_guards is not bundled');
  return previous;
}
