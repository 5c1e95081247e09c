import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fromPglite,
  loadMigrations,
  migrate,
  migrationStatus,
  rollback,
  type SqlQueryable,
} from '../src/index.js';
import { createMigratedPglite, type MigratedServer, startMigratedServer } from './support/schema-database.js';

const expectedTables = [
  'connector_configs',
  'connector_state',
  'connector_sync_logs',
  'connector_webhook_events',
  'document_chunks',
  'file_upload_batches',
  'imported_documents',
];

async function publicTables(db: SqlQueryable): Promise<string[]> {
  const { rows } = await db.query<{ relname: string }>(
    "select relname from pg_class where relnamespace = 'public'::regnamespace and relkind = 'r' order by relname",
  );
  return rows.map((row) => row.relname);
}

async function catalogSnapshot(db: SqlQueryable): Promise<string> {
  const { rows } = await db.query<{ item: string }>(`
    select n.nspname || '.' || c.relname || ':' || c.relkind::text as item from pg_class c
      join pg_namespace n on n.oid = c.relnamespace
      where n.nspname in ('public', 'tributary_private', 'auth', 'storage', 'extensions')
    union all
    select n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' from pg_proc p
      join pg_namespace n on n.oid = p.pronamespace
      where n.nspname in ('public', 'tributary_private', 'auth', 'storage')
    union all
    select 'policy ' || schemaname || '.' || tablename || '.' || policyname from pg_policies
    union all
    select 'schema ' || nspname from pg_namespace where nspname not like 'pg_%' and nspname <> 'information_schema'
    order by 1`);
  return rows.map((row) => row.item).join('\n');
}

describe('bundled migrations on PGlite (with pgvector)', () => {
  let context: Awaited<ReturnType<typeof createMigratedPglite>>;
  beforeAll(async () => {
    context = await createMigratedPglite();
  });
  afterAll(async () => {
    await context?.pglite.close();
  });

  it('create every table, the hybrid search RPC and the bucket', async () => {
    const { db } = context;
    expect(await publicTables(db)).toEqual(expectedTables);
    const functions = await db.query<{ proname: string }>(
      "select proname from pg_proc where pronamespace = 'public'::regnamespace order by proname",
    );
    expect(functions.rows.map((row) => row.proname)).toEqual(
      expect.arrayContaining([
        'cleanup_old_connector_imports',
        'commit_sync_checkpoint_with_state',
        'get_connector_state',
        'get_connector_stats',
        'increment_batch_failed',
        'increment_batch_processed',
        'list_connector_state',
        'record_webhook_event',
        'start_connector_sync',
        'unified_content_search',
        'upsert_documents',
      ]),
    );
    const bucket = await db.query<{ public: boolean; file_size_limit: string; types: number }>(
      "select public, file_size_limit::text, cardinality(allowed_mime_types) as types from storage.buckets where id = 'connector-imports'",
    );
    expect(bucket.rows).toEqual([{ public: false, file_size_limit: '5368709120', types: 19 }]);
    const embedding = await db.query<{ type: string }>(
      "select format_type(atttypid, atttypmod) as type from pg_attribute where attrelid = 'public.document_chunks'::regclass and attname = 'embedding'",
    );
    expect(embedding.rows).toEqual([{ type: 'extensions.vector(1536)' }]);
  });

  it('applies nothing the second time', async () => {
    const result = await migrate(context.db);
    expect(result.applied).toEqual([]);
    const status = await migrationStatus(context.db);
    expect(status.migrations.every((entry) => entry.state === 'applied')).toBe(true);
  });

  it('rolls every migration back to an empty database and applies them again', async () => {
    const { db } = context;
    const migrations = await loadMigrations();
    const before = await catalogSnapshot(db);
    await rollback(db, { steps: migrations.length });
    expect(await publicTables(db)).toEqual([]);
    const leftovers = await db.query<{ nspname: string }>(
      "select nspname from pg_namespace where nspname in ('tributary_private', 'auth', 'storage')",
    );
    expect(leftovers.rows).toEqual([]);
    await migrate(fromPglite(context.pglite));
    expect(await catalogSnapshot(db)).toEqual(before);
  });
});

describe('bundled migrations on a real PostgreSQL server with pgvector', () => {
  let migrated: MigratedServer;
  beforeAll(async () => {
    migrated = await startMigratedServer();
  });
  afterAll(async () => {
    await migrated?.stop();
  });

  it('apply every migration, the vector one included, and a second run applies nothing', async () => {
    const { db } = await migrated.createDatabase(2);
    expect(await publicTables(db)).toEqual(expectedTables);
    const status = await migrationStatus(db);
    expect(status.migrations.filter((entry) => entry.state !== 'applied')).toEqual([]);
    const vector = await db.query<{ type: string }>(
      `select format_type(atttypid, atttypmod) as type from pg_attribute
       where attrelid = 'public.document_chunks'::regclass and attname = 'embedding'`,
    );
    expect(vector.rows[0]?.type).toMatch(/^(extensions\.)?(vector|halfvec)\(\d+\)$/);
    const second = await migrate(db);
    expect(second.applied).toEqual([]);
  });
});

describe('bundled migrations on a real PostgreSQL server without pgvector', () => {
  let migrated: MigratedServer;
  beforeAll(async () => {
    migrated = await startMigratedServer({ pgvector: false });
  });
  afterAll(async () => {
    await migrated?.stop();
  });

  it('apply everything but the vector migration, which stays pending until pgvector exists', async () => {
    const { db } = await migrated.createDatabase(2);
    expect(await publicTables(db)).toEqual(expectedTables);
    const status = await migrationStatus(db);
    const states = Object.fromEntries(status.migrations.map((entry) => [entry.name, entry.state]));
    expect(states['0007_vector_search']).toBe('blocked');
    expect(
      Object.entries(states)
        .filter(([, state]) => state !== 'applied')
        .map(([name]) => name),
    ).toEqual([
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
    ]);
    const second = await migrate(db, { deferMissingExtensions: ['vector'] });
    expect(second.applied).toEqual([]);
  });
});
