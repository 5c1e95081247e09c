// In-place upgrade of a pre-Tributary install (the older connector_configs / imported_documents the
// seed audit describes, see fixtures/legacy-schema.sql): the bundled migrations keep every row, carry
// the legacy columns over, move credentials out of client reach, replace the seed-era foreign key and
// policies, and refuse to roll back 0003. Run on PGlite and on a real PostgreSQL server.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { createPgliteDatabase, type PostgresServer, startPostgresServer } from '@tributary/testkit-postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fromPg,
  fromPglite,
  type MigrateOptions,
  type MigrateResult,
  MigrationFailedError,
  migrate,
  migrationStatus,
  migrationsDirectory,
  rollback,
  type SqlDatabase,
  type SqlQueryable,
} from '../src/index.js';
import { actAs } from './support/schema-database.js';

const shimSql = readFileSync(join(migrationsDirectory, '0001_supabase_shim.sql'), 'utf8');
const legacySql = readFileSync(new URL('./fixtures/legacy-schema.sql', import.meta.url), 'utf8');

const orgA = 'a0000000-0000-4000-8000-00000000000a';
const orgB = 'a0000000-0000-4000-8000-00000000000b';
const ownerA = 'a1000000-0000-4000-8000-000000000001';
const adminA = 'a1000000-0000-4000-8000-000000000002';
const memberA = 'a1000000-0000-4000-8000-000000000003';
const memberB = 'b1000000-0000-4000-8000-000000000002';
const driveA = 'ca000000-0000-4000-8000-000000000001';
const notionA = 'ca000000-0000-4000-8000-000000000002';
const zoomA = 'ca000000-0000-4000-8000-000000000003';
const uploadsA = 'ca000000-0000-4000-8000-000000000004';
const teamsB = 'cb000000-0000-4000-8000-000000000001';
const webB = 'cb000000-0000-4000-8000-000000000002';
const longTitleDocument = 'd0000000-0000-4000-8000-000000000010';

const seedPolicyNames = [
  'Users can create connectors for their org',
  "Users can delete their org's connectors",
  "Users can update their org's connectors",
  "Users can view their org's connectors",
  "Users can view their org's imported documents",
];

/** How 0003_schema maps the legacy document sync_status. */
const documentStatusMapping: Record<string, string> = {
  pending: 'pending',
  processing: 'processing',
  completed: 'completed',
  failed: 'failed',
  synced: 'completed',
  error: 'failed',
};

/** The replacement the package README (Tenancy) tells hosts with a `users (id, org_id, role)` table to run. */
const hostMembershipView = `create or replace view tributary_private.membership_source with (security_invoker = true) as
  select u.id as user_id, u.org_id, u.role
  from public.users u
  where u.role in ('owner', 'admin', 'member');`;

interface LegacyDocument {
  id: string;
  org_id: string;
  connector_id: string | null;
  sync_status: string;
  sync_error: string | null;
  metadata: Record<string, unknown>;
  title: string | null;
  created_at: string;
}

interface LegacyConnector {
  id: string;
  org_id: string;
  connector_type: string;
  name: string | null;
  credentials: Record<string, unknown> | null;
  sync_status: string;
  sync_error: string | null;
  updated_at: string;
}

interface LegacyState {
  organizations: string[];
  users: string[];
  connectors: LegacyConnector[];
  documents: LegacyDocument[];
}

async function readLegacyState(db: SqlQueryable): Promise<LegacyState> {
  const organizations = await db.query<{ id: string }>('select id from public.organizations order by id');
  const users = await db.query<{ id: string }>('select id from public.users order by id');
  const connectors = await db.query<LegacyConnector>(
    `select id, org_id, connector_type, name, credentials, sync_status, sync_error, updated_at::text
     from public.connector_configs order by id`,
  );
  const documents = await db.query<LegacyDocument>(
    `select id, org_id, connector_id, sync_status, sync_error, metadata, title, created_at::text
     from public.imported_documents order by id`,
  );
  return {
    organizations: organizations.rows.map((row) => row.id),
    users: users.rows.map((row) => row.id),
    connectors: connectors.rows,
    documents: documents.rows,
  };
}

/** Data, history and catalog (relations, constraints, policies, functions, triggers) as sorted lines. */
async function stateSnapshot(db: SqlQueryable): Promise<string[]> {
  const { rows } = await db.query<{ item: string }>(`
    select 'relation ' || n.nspname || '.' || c.relname || ' ' || c.relkind::text || ' rls=' || c.relrowsecurity::text
      || ' acl=' || coalesce(c.relacl::text, '') as item
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname in ('public', 'tributary_private', 'auth', 'storage')
    union all
    select 'column ' || a.attrelid::regclass::text || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
      || ' notnull=' || a.attnotnull::text
    from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
    where n.nspname in ('public', 'tributary_private') and a.attnum > 0 and not a.attisdropped and c.relkind = 'r'
    union all
    select 'constraint ' || conrelid::regclass::text || '.' || conname || ' valid=' || convalidated::text || ' '
      || pg_get_constraintdef(oid)
    from pg_constraint where connamespace in ('public'::regnamespace, 'tributary_private'::regnamespace)
    union all
    select 'policy ' || schemaname || '.' || tablename || '.' || policyname || ' ' || cmd || ' ' || roles::text
      || ' ' || coalesce(qual, '') || ' ' || coalesce(with_check, '')
    from pg_policies
    union all
    select 'function ' || p.oid::regprocedure::text || ' acl=' || coalesce(p.proacl::text, '')
    from pg_proc p where p.pronamespace in ('public'::regnamespace, 'tributary_private'::regnamespace)
    union all
    select 'trigger ' || tgrelid::regclass::text || '.' || tgname from pg_trigger where not tgisinternal
    union all
    select 'history ' || name || ' ' || checksum from tributary_migrations.applied
    union all
    select 'connector ' || to_jsonb(c)::text from public.connector_configs c
    union all
    select 'document ' || to_jsonb(d)::text from public.imported_documents d
    union all
    select 'secret ' || to_jsonb(s)::text from tributary_private.connector_secrets s
    union all
    select 'fact ' || key || ' ' || value::text from tributary_private.install_facts
    order by 1`);
  return rows.map((row) => row.item);
}

/** The SQLSTATE `promise` fails with (undefined when it succeeds). */
async function sqlState(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
}

async function ids(db: SqlQueryable, sql: string, params: unknown[] = []): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(sql, params);
  return rows.map((row) => row.id).sort();
}

interface UpgradeBackend {
  /** A database holding the legacy install (shim roles and auth.uid(), then the fixture); not migrated. */
  legacyDatabase(): Promise<SqlDatabase>;
  migrateOptions: MigrateOptions;
  /** Migrations that stay pending on this backend (e.g. the vector one without pgvector). */
  deferred: string[];
  close(): Promise<void>;
}

function defineUpgradeSuite(name: string, createBackend: () => Promise<UpgradeBackend>): void {
  describe(`in-place upgrade of a legacy install on ${name}`, () => {
    let backend: UpgradeBackend;
    let db: SqlDatabase;
    let legacy: LegacyState;
    let firstRun: MigrateResult;

    beforeAll(async () => {
      backend = await createBackend();
      db = await backend.legacyDatabase();
      legacy = await readLegacyState(db);
      firstRun = await migrate(db, backend.migrateOptions);
    });
    afterAll(async () => {
      await backend?.close();
    });

    it('starts from the legacy install the fixture describes', () => {
      expect(legacy.organizations).toEqual([orgA, orgB]);
      expect(legacy.users).toHaveLength(5);
      expect(new Set(legacy.connectors.map((row) => row.sync_status))).toEqual(
        new Set(['idle', 'syncing', 'error', 'success']),
      );
      expect(new Set(legacy.documents.map((row) => row.sync_status))).toEqual(
        new Set(Object.keys(documentStatusMapping)),
      );
      expect(legacy.documents).toHaveLength(36);
      expect(legacy.connectors.filter((row) => row.name === null).map((row) => row.id)).toEqual([notionA]);
      expect(legacy.documents.find((row) => row.id === longTitleDocument)?.title).toHaveLength(3000);
      expect(firstRun.applied.map((entry) => entry.name)).toContain('0003_schema');
      expect(firstRun.deferred.map((entry) => entry.name)).toEqual(backend.deferred);
    });

    it('keeps every legacy row (same ids) and records the upgrade', async () => {
      expect(await ids(db, 'select id from public.organizations')).toEqual(legacy.organizations);
      expect(await ids(db, 'select id from public.users')).toEqual(legacy.users);
      expect(await ids(db, 'select id from public.connector_configs')).toEqual(
        legacy.connectors.map((row) => row.id).sort(),
      );
      expect(await ids(db, 'select id from public.imported_documents')).toEqual(
        legacy.documents.map((row) => row.id).sort(),
      );
      const perOrg = await db.query<{ org_id: string; documents: number }>(
        'select org_id, count(*)::integer as documents from public.imported_documents group by org_id order by org_id',
      );
      expect(perOrg.rows).toEqual([
        { org_id: orgA, documents: 22 },
        { org_id: orgB, documents: 14 },
      ]);
      const fact = await db.query<{ value: unknown }>(
        "select value from tributary_private.install_facts where key = 'upgraded_in_place'",
      );
      expect(fact.rows).toEqual([{ value: { connector_configs: true, imported_documents: true } }]);
    });

    it('carries connector sync_status/sync_error into last_sync_status/last_error and names the unnamed one', async () => {
      const { rows } = await db.query<{
        id: string;
        name: string;
        last_sync_status: string | null;
        last_error: string | null;
        last_error_at: string | null;
      }>(
        `select id, name, last_sync_status, last_error, last_error_at::text
         from public.connector_configs order by id`,
      );
      const byId = Object.fromEntries(rows.map((row) => [row.id, row]));
      expect(Object.fromEntries(rows.map((row) => [row.id, row.last_sync_status]))).toEqual({
        [driveA]: 'success', // success
        [notionA]: 'failed', // error
        [zoomA]: 'failed', // syncing: interrupted by the upgrade
        [uploadsA]: null, // idle
        [teamsB]: 'success',
        [webB]: null,
      });
      const notion = legacy.connectors.find((row) => row.id === notionA);
      expect(byId[notionA]).toMatchObject({ name: 'notion', last_error: notion?.sync_error });
      expect(byId[notionA]?.last_error_at).not.toBeNull();
      for (const row of rows.filter((entry) => entry.id !== notionA)) {
        expect(row.last_error).toBeNull();
        expect(row.name).toBe(legacy.connectors.find((entry) => entry.id === row.id)?.name);
      }
    });

    it('carries document sync_status/sync_error into processing_status/processing_error and uploadedBy into uploaded_by', async () => {
      const { rows } = await db.query<{
        id: string;
        processing_status: string;
        processing_error: string | null;
        uploaded_by: string | null;
        metadata: Record<string, unknown>;
        is_deleted: boolean;
      }>(
        `select id, processing_status, processing_error, uploaded_by, metadata, is_deleted
         from public.imported_documents order by id`,
      );
      expect(rows).toHaveLength(legacy.documents.length);
      for (const row of rows) {
        const before = legacy.documents.find((entry) => entry.id === row.id);
        expect(before).toBeDefined();
        expect({ id: row.id, status: row.processing_status, error: row.processing_error }).toEqual({
          id: row.id,
          status: documentStatusMapping[before?.sync_status ?? ''],
          error: before?.sync_error,
        });
        // metadata is kept as it was (uploadedBy included); nothing is soft-deleted by the upgrade.
        expect(row.metadata).toEqual(before?.metadata);
        expect(row.is_deleted).toBe(false);
      }
      const uploaders = Object.fromEntries(
        rows.filter((row) => row.uploaded_by !== null).map((row) => [row.id, row.uploaded_by]),
      );
      expect(uploaders).toEqual({
        'd0000000-0000-4000-8000-000000000007': memberA,
        'd0000000-0000-4000-8000-000000000008': adminA,
        'd0000000-0000-4000-8000-000000000011': memberB,
      });
      // 'migration-script' is not a user id: left in metadata, uploaded_by stays null.
      expect(rows.find((row) => row.id === 'd0000000-0000-4000-8000-000000000009')?.uploaded_by).toBeNull();
    });

    it('moves credentials to tributary_private.connector_secrets unchanged and drops the readable column', async () => {
      const secrets = await db.query<{
        connector_id: string;
        credentials: unknown;
        webhook_secret: string | null;
      }>(
        'select connector_id, credentials, webhook_secret from tributary_private.connector_secrets order by connector_id',
      );
      const withCredentials = legacy.connectors.filter((row) => row.credentials !== null);
      expect(withCredentials.map((row) => row.id)).toEqual([driveA, teamsB]);
      expect(secrets.rows).toEqual(
        withCredentials.map((row) => ({
          connector_id: row.id,
          credentials: row.credentials,
          webhook_secret: null,
        })),
      );
      const column = await db.query(
        `select 1 from information_schema.columns
         where table_schema = 'public' and table_name = 'connector_configs' and column_name = 'credentials'`,
      );
      expect(column.rows).toEqual([]);
      const stamped = await ids(
        db,
        'select id from public.connector_configs where credentials_updated_at is not null',
      );
      expect(stamped).toEqual([driveA, teamsB]);
      // Not even an owner can read them through the API roles.
      const denied = await sqlState(
        actAs(db, { role: 'authenticated', userId: ownerA }, (tx) =>
          tx.query('select * from tributary_private.connector_secrets'),
        ),
      );
      expect(denied).toBe('42501');
    });

    it('replaces the legacy NO ACTION foreign key: deleting a connector soft-deletes and keeps its documents', async () => {
      const { rows: foreignKeys } = await db.query<{
        conname: string;
        definition: string;
        convalidated: boolean;
      }>(
        `select conname, pg_get_constraintdef(oid) as definition, convalidated from pg_constraint
         where conrelid = 'public.imported_documents'::regclass and contype = 'f'
           and confrelid = 'public.connector_configs'::regclass`,
      );
      expect(foreignKeys).toEqual([
        {
          conname: 'imported_documents_connector_fkey',
          definition:
            'FOREIGN KEY (org_id, connector_id) REFERENCES connector_configs(org_id, id) ON DELETE SET NULL (connector_id)',
          convalidated: true,
        },
      ]);

      const documentsOfDrive = await ids(
        db,
        'select id from public.imported_documents where connector_id = $1',
        [driveA],
      );
      expect(documentsOfDrive).toHaveLength(16);
      const after = await actAs(db, { role: 'service_role' }, async (tx) => {
        await tx.query('delete from public.connector_configs where id = $1', [driveA]);
        return tx.query<{
          id: string;
          connector_id: string | null;
          is_deleted: boolean;
          has_deleted_at: boolean;
        }>(
          `select id, connector_id, is_deleted, deleted_at is not null as has_deleted_at
           from public.imported_documents where id = any ($1::uuid[]) order by id`,
          [documentsOfDrive],
        );
      });
      expect(after.rows).toEqual(
        documentsOfDrive.map((id) => ({ id, connector_id: null, is_deleted: true, has_deleted_at: true })),
      );
    });

    it('drops the seed-named policies and installs Tributary’s, each for a named role', async () => {
      const { rows } = await db.query<{ tablename: string; policyname: string; roles: string[] }>(
        `select tablename, policyname, roles::text[] as roles from pg_policies
         where schemaname = 'public' and tablename in ('connector_configs', 'imported_documents')
         order by tablename, policyname`,
      );
      expect(rows.map((row) => `${row.tablename}.${row.policyname}`)).toEqual([
        'connector_configs.connector_configs_delete_admins',
        'connector_configs.connector_configs_insert_admins',
        'connector_configs.connector_configs_select_members',
        'connector_configs.connector_configs_update_admins',
        'imported_documents.imported_documents_delete_admins_or_uploader',
        'imported_documents.imported_documents_select_members',
      ]);
      for (const row of rows) expect(row.roles).toEqual(['authenticated']);
      const seedPolicies = await db.query(
        'select policyname from pg_policies where policyname = any ($1::text[])',
        [seedPolicyNames],
      );
      expect(seedPolicies.rows).toEqual([]);
    });

    it('shortens the over-long legacy title (original kept in install_facts), validates every constraint, and rejects new over-long writes', async () => {
      const title = await db.query<{ title: string }>(
        'select title from public.imported_documents where id = $1',
        [longTitleDocument],
      );
      const original = legacy.documents.find((row) => row.id === longTitleDocument)?.title ?? '';
      expect(title.rows[0]?.title).toHaveLength(1000);
      expect(title.rows[0]?.title).toBe(`${original.slice(0, 999)}…`);
      const facts = await db.query<{ key: string; value: { id: string; title: string } }>(
        "select key, value from tributary_private.install_facts where key like 'clamped_title:%' or key like 'unvalidated_constraint:%'",
      );
      expect(facts.rows).toEqual([
        {
          key: `clamped_title:${longTitleDocument}`,
          value: { table: 'public.imported_documents', id: longTitleDocument, title: original },
        },
      ]);
      const unvalidated = await db.query<{ conname: string }>(
        `select conname from pg_constraint where connamespace = 'public'::regnamespace and not convalidated`,
      );
      expect(unvalidated.rows).toEqual([]);

      const insert = (length: number) =>
        actAs(db, { role: 'service_role' }, (tx) =>
          tx.query(
            `insert into public.imported_documents (org_id, connector_id, external_id, title)
             values ($1, $2, 'new-' || $3::text, repeat('t', $3::integer))`,
            [orgA, driveA, length],
          ),
        );
      expect(await sqlState(insert(1001))).toBe('23514');
      expect(await sqlState(insert(1000))).toBeUndefined();
    });

    it('keeps legacy updated_at (host triggers paused during the upgrade); last_error_at and credentials_updated_at derive from it', async () => {
      const { rows } = await db.query<{
        id: string;
        updated_at: string;
        last_error_at: string | null;
        credentials_updated_at: string | null;
      }>(
        'select id, updated_at::text, last_error_at::text, credentials_updated_at::text from public.connector_configs order by id',
      );
      for (const row of rows) {
        expect({ id: row.id, updatedAt: row.updated_at }).toEqual({
          id: row.id,
          updatedAt: legacy.connectors.find((connector) => connector.id === row.id)?.updated_at,
        });
      }
      const legacyUpdatedAt = (id: string) =>
        legacy.connectors.find((connector) => connector.id === id)?.updated_at;
      expect(rows.find((row) => row.id === notionA)?.last_error_at).toBe(legacyUpdatedAt(notionA));
      expect(rows.find((row) => row.id === driveA)?.credentials_updated_at).toBe(legacyUpdatedAt(driveA));
      const triggers = await db.query<{ tgname: string; tgenabled: string }>(
        `select tgname, tgenabled::text from pg_trigger
         where tgrelid = 'public.connector_configs'::regclass and not tgisinternal order by tgname`,
      );
      expect(triggers.rows.every((trigger) => trigger.tgenabled === 'O')).toBe(true);
      expect(triggers.rows.length).toBeGreaterThan(2); // the host's own trigger is still there
    });

    it('takes first_synced_at from created_at', async () => {
      const { rows } = await db.query<{ id: string; first: string }>(
        'select id, first_synced_at::text as first from public.imported_documents order by id',
      );
      for (const row of rows) {
        expect({ id: row.id, first: row.first }).toEqual({
          id: row.id,
          first: legacy.documents.find((document) => document.id === row.id)?.created_at,
        });
      }
    });

    it('can delete the connector of the formerly over-long row (no frozen legacy rows)', async () => {
      const result = await actAs(db, { role: 'service_role' }, async (tx) => {
        await tx.query('delete from public.connector_configs where id = $1', [zoomA]);
        return tx.query<{ is_deleted: boolean }>(
          'select is_deleted from public.imported_documents where id = $1',
          [longTitleDocument],
        );
      });
      expect(result.rows).toEqual([{ is_deleted: true }]);
    });

    it('rolls back to before 0003 all or nothing: refused as a whole, nothing changed', async () => {
      const before = await stateSnapshot(db);
      const refusal = await rejectionOf(rollback(db, { to: '0002_tenancy' }));
      expect(refusal).toBeInstanceOf(MigrationFailedError);
      expect(refusal).toMatchObject({ migration: '0003_schema', postgresCode: '55000' });
      expect(await stateSnapshot(db)).toEqual(before);
    });

    it('keeps rows that break a new CHECK, records the constraint as NOT VALID, and guards new writes', async () => {
      const result = await db.transaction(async (tx) => {
        await tx.exec(`create table public.legacy_scratch (id int primary key, label text);
          insert into public.legacy_scratch values (1, repeat('x', 50)), (2, 'ok');`);
        await tx.query(
          "select tributary_private.ensure_constraint('public.legacy_scratch', 'legacy_scratch_label_check', 'check (char_length(label) <= 10)')",
        );
        const constraint = await tx.query<{ convalidated: boolean }>(
          "select convalidated from pg_constraint where conname = 'legacy_scratch_label_check'",
        );
        const fact = await tx.query<{ key: string }>(
          "select key from tributary_private.install_facts where key = 'unvalidated_constraint:public.legacy_scratch.legacy_scratch_label_check'",
        );
        const rows = await tx.query<{ id: number }>('select id from public.legacy_scratch order by id');
        let newWrite: string | undefined;
        await tx.exec('savepoint over_long');
        try {
          await tx.query("insert into public.legacy_scratch values (3, repeat('y', 11))");
        } catch (error) {
          newWrite = (error as { code?: string }).code;
        }
        await tx.exec('rollback to savepoint over_long');
        await tx.exec('drop table public.legacy_scratch');
        await tx.query(
          "delete from tributary_private.install_facts where key = 'unvalidated_constraint:public.legacy_scratch.legacy_scratch_label_check'",
        );
        return { constraint: constraint.rows, fact: fact.rows.length, rows: rows.rows.length, newWrite };
      });
      expect(result).toEqual({ constraint: [{ convalidated: false }], fact: 1, rows: 2, newWrite: '23514' });
    });

    it('refuses to roll back 0003 with the upgrade message, changing nothing, and migrates forward again', async () => {
      const before = await stateSnapshot(db);
      const second = await migrate(db, backend.migrateOptions);
      expect(second.applied).toEqual([]);
      expect(await stateSnapshot(db)).toEqual(before);

      // Later migrations have plain down scripts; 0003 is the one that refuses.
      const later = await rollback(db, { to: '0003_schema' });
      expect(later.rolledBack.map((entry) => entry.name)).not.toContain('0003_schema');
      const beforeRefusal = await stateSnapshot(db);

      const refusal = await rejectionOf(rollback(db, { steps: 1 }));
      expect(refusal).toBeInstanceOf(MigrationFailedError);
      expect(refusal).toMatchObject({ migration: '0003_schema', direction: 'down', postgresCode: '55000' });
      expect((refusal as Error).message).toMatch(
        /refusing to roll back 0003_schema: this database was upgraded in place from existing connector_configs\/imported_documents tables/,
      );
      expect(await stateSnapshot(db)).toEqual(beforeRefusal);
      const status = await migrationStatus(db);
      expect(status.migrations.find((entry) => entry.name === '0003_schema')?.state).toBe('applied');

      // Forward again: the same catalog, data and history as before; then nothing left to do.
      const reapplied = await migrate(db, backend.migrateOptions);
      expect(reapplied.applied.map((entry) => entry.name)).toEqual(
        later.rolledBack.map((entry) => entry.name).reverse(),
      );
      expect(await stateSnapshot(db)).toEqual(before);
      const noop = await migrate(db, backend.migrateOptions);
      expect(noop.applied).toEqual([]);
      expect(await stateSnapshot(db)).toEqual(before);
    });

    it('with membership read from the host’s users table, legacy users get org-scoped, role-checked access', async () => {
      // Before: legacy users are not in Tributary's default membership table, so they see nothing.
      const unseen = await actAs(db, { role: 'authenticated', userId: memberA }, (tx) =>
        tx.query('select id from public.connector_configs'),
      );
      expect(unseen.rows).toEqual([]);

      await db.exec(hostMembershipView);

      const asMember = (userId: string) =>
        actAs(db, { role: 'authenticated', userId }, async (tx) => ({
          connectors: await ids(tx, 'select id from public.connector_configs'),
          documents: await ids(tx, 'select id from public.imported_documents'),
        }));
      const memberView = await asMember(memberA);
      expect(memberView.connectors).toEqual([driveA, notionA, zoomA, uploadsA]);
      expect(memberView.documents).toEqual(
        legacy.documents
          .filter((row) => row.org_id === orgA)
          .map((row) => row.id)
          .sort(),
      );
      const otherOrgView = await asMember(memberB);
      expect(otherOrgView.connectors).toEqual([teamsB, webB]);
      expect(otherOrgView.documents).toEqual(
        legacy.documents
          .filter((row) => row.org_id === orgB)
          .map((row) => row.id)
          .sort(),
      );

      const rename = (userId: string) =>
        actAs(db, { role: 'authenticated', userId }, (tx) =>
          tx.query<{ id: string }>(
            "update public.connector_configs set name = 'Renamed' where id = $1 returning id",
            [driveA],
          ),
        );
      expect((await rename(adminA)).rows).toEqual([{ id: driveA }]);
      expect((await rename(ownerA)).rows).toEqual([{ id: driveA }]);
      // A member's update matches no row (USING filter), and nothing changes.
      expect((await rename(memberA)).rows).toEqual([]);
      // An admin of org A cannot touch org B's connector either.
      const crossOrg = await actAs(db, { role: 'authenticated', userId: adminA }, (tx) =>
        tx.query("update public.connector_configs set name = 'Renamed' where id = $1 returning id", [teamsB]),
      );
      expect(crossOrg.rows).toEqual([]);
      // A member cannot create a connector for their org (WITH CHECK).
      const create = await sqlState(
        actAs(db, { role: 'authenticated', userId: memberA }, (tx) =>
          tx.query(
            "insert into public.connector_configs (org_id, connector_type, name) values ($1, 'notion', 'x')",
            [orgA],
          ),
        ),
      );
      expect(create).toBe('42501');

      // An admin deleting a connector (no UPDATE right on documents) still soft-deletes its documents.
      const adminDelete = await actAs(db, { role: 'authenticated', userId: adminA }, async (tx) => {
        const deleted = await tx.query<{ id: string }>(
          'delete from public.connector_configs where id = $1 returning id',
          [notionA],
        );
        const documents = await tx.query<{ is_deleted: boolean }>(
          "select is_deleted from public.imported_documents where external_id like 'notion-page-%'",
        );
        return { deleted: deleted.rows, documents: documents.rows };
      });
      expect(adminDelete).toEqual({
        deleted: [{ id: notionA }],
        documents: [{ is_deleted: true }, { is_deleted: true }],
      });

      const names = await db.query<{ name: string }>(
        'select name from public.connector_configs where id = $1',
        [driveA],
      );
      expect(names.rows).toEqual([{ name: 'Team Drive' }]);
    });
  });
}

defineUpgradeSuite('PGlite (with pgvector)', async () => {
  let pglite: PGlite | undefined;
  return {
    async legacyDatabase() {
      pglite = await createPgliteDatabase();
      await pglite.exec(shimSql);
      await pglite.exec(legacySql);
      return fromPglite(pglite);
    },
    migrateOptions: {},
    deferred: [],
    close: async () => {
      await pglite?.close();
    },
  };
});

defineUpgradeSuite('a real PostgreSQL server with pgvector', async () => {
  const server: PostgresServer = await startPostgresServer();
  return {
    async legacyDatabase() {
      const name = await server.createDatabase();
      const pool = server.pool(name, { max: 4 });
      await pool.query(shimSql);
      await pool.query(legacySql);
      return fromPg(pool);
    },
    migrateOptions: {},
    deferred: [],
    close: () => server.stop(),
  };
});

defineUpgradeSuite('a real PostgreSQL server without pgvector (vector migration deferred)', async () => {
  const server: PostgresServer = await startPostgresServer({ pgvector: false });
  return {
    async legacyDatabase() {
      const name = await server.createDatabase();
      const pool = server.pool(name, { max: 4 });
      await pool.query(shimSql);
      await pool.query(legacySql);
      return fromPg(pool);
    },
    migrateOptions: { deferMissingExtensions: ['vector'] },
    deferred: [
      '0007_vector_search',
      '0010_vector_models',
      '0015_search_quality',
      '0018_permission_aware_search',
      '0020_cross_source_duplicates',
      '0021_permission_search_speed',
      '0022_pipeline_seen_marks',
      '0025_full_text_stats_at_commit',
      '0026_filtered_vector_search',
      '0028_readable_chunks_search',
      '0029_mixed_permission_search',
      '0031_inline_embeddings',
      '0032_search_overheads',
      '0033_static_readers_search',
      '0034_full_text_documents_after_ranking',
    ],
    close: () => server.stop(),
  };
});
