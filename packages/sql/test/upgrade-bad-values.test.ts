// A legacy install whose rows break rules 0003_schema adds (fixtures/legacy-bad-values.sql: a negative
// size, over-long and empty external ids, metadata that is not an object, a connector type with a
// space, an empty name). Before 0012_input_guards such rows block every later write to them; after it
// they are repaired (originals quarantined), the migration warns, and syncs, sweeps, soft deletes and
// connector deletes work. Run on PGlite and on a real PostgreSQL server.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { createPgliteDatabase, type PostgresServer, startPostgresServer } from '@tributary/testkit-postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fromPg,
  fromPglite,
  loadMigrations,
  type MigrateResult,
  migrate,
  migrationsDirectory,
  rollback,
  type SqlDatabase,
} from '../src/index.js';
import { actAs } from './support/schema-database.js';

const shimSql = readFileSync(join(migrationsDirectory, '0001_supabase_shim.sql'), 'utf8');
const legacySql = readFileSync(new URL('./fixtures/legacy-schema.sql', import.meta.url), 'utf8');
const badValuesSql = readFileSync(new URL('./fixtures/legacy-bad-values.sql', import.meta.url), 'utf8');

const driveA = 'ca000000-0000-4000-8000-000000000001';
const badConnector = 'ca000000-0000-4000-8000-000000000005';
const negativeSize = 'e0000000-0000-4000-8000-000000000001';
const longId = 'e0000000-0000-4000-8000-000000000002';
const stringMetadata = 'e0000000-0000-4000-8000-000000000003';
const emptyId = 'e0000000-0000-4000-8000-000000000004';
const twoProblems = 'e0000000-0000-4000-8000-000000000005';

const service = { role: 'service_role' } as const;

async function previousOf0012(): Promise<string> {
  const names = (await loadMigrations()).map((migration) => migration.name);
  const previous = names[names.indexOf('0012_input_guards') - 1];
  if (previous === undefined) throw new Error('0012_input_guards is not bundled');
  return previous;
}

/** The SQLSTATE of `promise`'s failure (undefined when it succeeds). */
async function sqlState(promise: Promise<unknown>): Promise<string | undefined> {
  return promise.then(
    () => undefined,
    (error: { code?: string }) => error.code ?? String(error),
  );
}

function defineSuite(name: string, open: () => Promise<{ db: SqlDatabase; close(): Promise<void> }>): void {
  describe(`legacy rows breaking new rules, on ${name}`, () => {
    let db: SqlDatabase;
    let close: () => Promise<void>;
    let beforeRepair: MigrateResult;
    const blocked: Record<string, string | undefined> = {};
    let repair: MigrateResult;

    beforeAll(async () => {
      ({ db, close } = await open());
      beforeRepair = await migrate(db, { target: await previousOf0012() });
      // What failed before 0012 (each in a transaction that is rolled back).
      blocked.softDelete = await sqlState(
        actAs(db, service, (tx) =>
          tx.query('select public.soft_delete_documents($1, $2)', [driveA, ['drive-negative']]),
        ),
      );
      blocked.deleteConnector = await sqlState(
        actAs(db, service, (tx) =>
          tx.query('delete from public.connector_configs where id = $1', [badConnector]),
        ),
      );
      blocked.sweep = await sqlState(
        actAs(db, service, async (tx) => {
          const { rows } = await tx.query<{ sync_log_id: string }>(
            'select * from public.start_connector_sync($1)',
            [driveA],
          );
          await tx.query('select * from public.sweep_unseen_documents($1, 1)', [rows[0]?.sync_log_id]);
        }),
      );
      repair = await migrate(db);
    });
    afterAll(async () => {
      await close?.();
    });

    it('before 0012 the rows are kept under NOT VALID rules (0003 warns) and block writes with 23514', () => {
      const constraints = beforeRepair.warnings
        .filter((warning) => warning.name === '0003_schema')
        .map((warning) => /break constraint (\w+)/.exec(warning.message)?.[1]);
      expect(constraints.sort()).toEqual([
        'connector_configs_connector_type_check',
        'connector_configs_json_check',
        'connector_configs_name_check',
        'imported_documents_counts_check',
        'imported_documents_json_check',
        'imported_documents_text_size_check',
      ]);
      expect(blocked).toEqual({ softDelete: '23514', deleteConnector: '23514', sweep: '23514' });
    });

    it('0012 repairs them, says so in a warning, and validates every constraint', async () => {
      expect(repair.applied.map((entry) => entry.name)).toContain('0012_input_guards');
      expect(repair.warnings).toEqual([
        {
          name: '0012_input_guards',
          direction: 'up',
          message: expect.stringMatching(
            /^\[tributary\] repaired 6 value\(s\) in 5 imported_documents row\(s\) and 3 value\(s\) in 1 connector_configs row\(s\) .*originals are kept in tributary_private\.quarantined_values$/,
          ),
          hint: 'select * from tributary_private.quarantined_values order by id',
        },
      ]);
      const invalid = await db.query(
        "select conname from pg_constraint where connamespace = 'public'::regnamespace and not convalidated",
      );
      expect(invalid.rows).toEqual([]);
      const facts = await db.query(
        "select key from tributary_private.install_facts where key like 'unvalidated_constraint:%'",
      );
      expect(facts.rows).toEqual([]);
    });

    it('keeps each original in tributary_private.quarantined_values with the rule and what was done', async () => {
      const { rows } = await db.query<Record<string, string>>(
        `select table_name, row_id, column_name, original_value, rule, action
         from tributary_private.quarantined_values order by table_name, row_id, column_name`,
      );
      expect(
        rows.map((row) => [row.table_name, row.row_id, row.column_name, row.original_value, row.rule]),
      ).toEqual([
        [
          'public.connector_configs',
          badConnector,
          'connector_type',
          'Google Drive',
          'connector_configs_connector_type_check',
        ],
        ['public.connector_configs', badConnector, 'name', '', 'connector_configs_name_check'],
        ['public.connector_configs', badConnector, 'settings', '[1, 2]', 'connector_configs_json_check'],
        [
          'public.imported_documents',
          negativeSize,
          'file_size_bytes',
          '-42',
          'imported_documents_counts_check',
        ],
        [
          'public.imported_documents',
          longId,
          'external_id',
          'x'.repeat(2000),
          'imported_documents_text_size_check',
        ],
        [
          'public.imported_documents',
          stringMetadata,
          'metadata',
          '"legacy"',
          'imported_documents_json_check',
        ],
        ['public.imported_documents', emptyId, 'external_id', '', 'imported_documents_text_size_check'],
        [
          'public.imported_documents',
          twoProblems,
          'file_size_bytes',
          '-1',
          'imported_documents_counts_check',
        ],
        ['public.imported_documents', twoProblems, 'metadata', '[]', 'imported_documents_json_check'],
      ]);
      expect(rows.find((row) => row.column_name === 'file_size_bytes')?.action).toBe(
        'set to null (size unknown)',
      );

      const documents = await db.query<Record<string, unknown>>(
        `select id, external_id, file_size_bytes::text, metadata, is_deleted from public.imported_documents
         where id = any ($1::uuid[]) order by id`,
        [[negativeSize, longId, stringMetadata, emptyId, twoProblems]],
      );
      expect(documents.rows).toEqual([
        {
          id: negativeSize,
          external_id: 'drive-negative',
          file_size_bytes: null,
          metadata: {},
          is_deleted: false,
        },
        {
          id: longId,
          external_id: `quarantined:${longId}`,
          file_size_bytes: '10',
          metadata: {},
          is_deleted: true,
        },
        {
          id: stringMetadata,
          external_id: 'drive-string-metadata',
          file_size_bytes: '10',
          metadata: {},
          is_deleted: false,
        },
        {
          id: emptyId,
          external_id: `quarantined:${emptyId}`,
          file_size_bytes: '10',
          metadata: {},
          is_deleted: true,
        },
        { id: twoProblems, external_id: 'gd-1', file_size_bytes: null, metadata: {}, is_deleted: false },
      ]);
      const connector = await db.query(
        'select connector_type, name, settings from public.connector_configs where id = $1',
        [badConnector],
      );
      expect(connector.rows).toEqual([
        { connector_type: 'google_drive', name: 'Google Drive', settings: {} },
      ]);
    });

    it('lets the operations that used to fail run: upsert, mark seen, sweep, soft delete, connector delete', async () => {
      const run = await actAs(
        db,
        service,
        async (tx) => {
          const started = await tx.query<{ sync_log_id: string }>(
            'select * from public.start_connector_sync($1)',
            [driveA],
          );
          const sync = started.rows[0]?.sync_log_id;
          const upserted = await tx.query<{ action: string }>(
            'select action from public.upsert_documents($1, $2::jsonb)',
            [
              driveA,
              JSON.stringify([
                {
                  external_id: 'drive-negative',
                  title: 'Negative size',
                  content: 'New text',
                  file_size_bytes: 10,
                },
              ]),
            ],
          );
          const seen = await tx.query<{ n: number }>('select public.mark_documents_seen($1, $2) as n', [
            driveA,
            ['drive-file-1', 'drive-file-2'],
          ]);
          const swept = await tx.query<{ swept: number; refused: boolean }>(
            'select swept, refused from public.sweep_unseen_documents($1, 1)',
            [sync],
          );
          await tx.query("select public.finish_connector_sync($1, 'success')", [sync]);
          const softDeleted = await tx.query<{ n: number }>(
            'select public.soft_delete_documents($1, $2) as n',
            [driveA, ['drive-negative']],
          );
          const deleted = await tx.query('delete from public.connector_configs where id = $1 returning id', [
            badConnector,
          ]);
          return {
            upserted: upserted.rows,
            seen: seen.rows[0]?.n,
            swept: swept.rows[0],
            softDeleted: softDeleted.rows[0]?.n,
            deleted: deleted.rows.length,
          };
        },
        { commit: true },
      );
      expect(run.upserted).toEqual([{ action: 'updated' }]);
      expect(run.seen).toBe(2);
      expect(run.swept?.refused).toBe(false);
      expect(run.swept?.swept).toBeGreaterThan(0);
      expect(run).toMatchObject({ softDeleted: 1, deleted: 1 });
      const after = await db.query<{ id: string; is_deleted: boolean; file_size_bytes: string | null }>(
        'select id, is_deleted, file_size_bytes::text from public.imported_documents where id = any ($1::uuid[]) order by id',
        [[negativeSize, stringMetadata, twoProblems]],
      );
      expect(after.rows).toEqual([
        { id: negativeSize, is_deleted: true, file_size_bytes: '10' },
        { id: stringMetadata, is_deleted: true, file_size_bytes: '10' }, // swept: not listed again
        { id: twoProblems, is_deleted: true, file_size_bytes: null }, // its connector was deleted
      ]);
      // New bad values are refused up front now, with the documented code.
      const refused = await sqlState(
        actAs(db, service, (tx) =>
          tx.query('select * from public.upsert_documents($1, $2::jsonb)', [
            driveA,
            JSON.stringify([{ external_id: 'drive-negative', file_size_bytes: -1 }]),
          ]),
        ),
      );
      expect(refused).toBe('22023');
    });

    it('rolls 0012 back keeping the quarantined originals (with a warning), and applies again without repeating', async () => {
      const count = async () =>
        Number(
          (await db.query<{ n: string }>('select count(*) as n from tributary_private.quarantined_values'))
            .rows[0]?.n,
        );
      const quarantined = await count();
      const down = await rollback(db, { to: await previousOf0012() });
      expect(down.rolledBack.map((entry) => entry.name)).toContain('0012_input_guards');
      expect(down.warnings.map((warning) => warning.message)).toContain(
        '[tributary] kept tributary_private.quarantined_values: it holds the originals of values 0012_input_guards repaired',
      );
      expect(await count()).toBe(quarantined);
      const again = await migrate(db);
      expect(again.applied.map((entry) => entry.name)).toContain('0012_input_guards');
      expect(again.warnings).toEqual([]);
      expect(await count()).toBe(quarantined);
    });
  });
}

async function seed(db: SqlDatabase): Promise<void> {
  await db.exec(shimSql);
  await db.exec(legacySql);
  await db.exec(badValuesSql);
}

defineSuite('PGlite', async () => {
  const pglite: PGlite = await createPgliteDatabase();
  const db = fromPglite(pglite);
  await seed(db);
  return { db, close: () => pglite.close() };
});

defineSuite('a real PostgreSQL server', async () => {
  const server: PostgresServer = await startPostgresServer();
  const db = fromPg(server.pool(await server.createDatabase(), { max: 4 }));
  await seed(db);
  return { db, close: () => server.stop() };
});
