// 0010_vector_models and migrate({ vector }): the host picks the embedding type and size; a
// different setting later is refused (by the runner before anything runs, or by the migration
// when embeddings exist); databases upgraded in place keep vector(1536) and their embeddings; the
// rollback goes back to vector(1536) only when nothing would be lost. PGlite and a real server.

import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  exportSupabaseMigrations,
  InvalidMigrationOptionsError,
  loadMigrations,
  MigrationFailedError,
  migrate,
  readVectorSettings,
  rollback,
  type SqlDatabase,
  type SqlQueryable,
  VectorSettingsMismatchError,
} from '../src/index.js';
import { insertConnector, seedTenancy } from './support/schema-database.js';
import { seedChunks, startPglite, startServer, type VectorBackend } from './support/vector-databases.js';

async function columnType(db: SqlQueryable): Promise<string | undefined> {
  const { rows } = await db.query<{ type: string }>(
    `select format_type(atttypid, atttypmod) as type from pg_attribute
     where attrelid = 'public.document_chunks'::regclass and attname = 'embedding' and not attisdropped`,
  );
  return rows[0]?.type;
}

async function indexDefinition(db: SqlQueryable): Promise<string | undefined> {
  const { rows } = await db.query<{ definition: string }>(
    "select indexdef as definition from pg_indexes where indexname = 'document_chunks_embedding_idx'",
  );
  return rows[0]?.definition;
}

async function embeddingCount(db: SqlQueryable): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    'select count(*)::integer as n from public.document_chunks where embedding is not null',
  );
  return rows[0]?.n ?? -1;
}

async function seedOne(db: SqlDatabase, dimensions: number): Promise<void> {
  const t = await seedTenancy(db);
  const connectorId = await insertConnector(db, t.orgA);
  const vector = new Array<number>(dimensions).fill(0);
  vector[0] = 1;
  await seedChunks(db, { orgId: t.orgA, connectorId, title: 'Kept', model: 'test@1536', vectors: [vector] });
}

describe.each([
  ['PGlite', startPglite],
  ['PostgreSQL server', startServer],
] as const)('vector settings on %s', (_name, start) => {
  let backend: VectorBackend;
  beforeAll(async () => {
    backend = await start();
  }, 120_000);
  afterAll(async () => {
    await backend?.stop();
  });

  it('keeps vector(1536) by default and records it', async () => {
    const db = await backend.fresh();
    await migrate(db);
    expect(await columnType(db)).toBe('extensions.vector(1536)');
    expect(await readVectorSettings(db)).toEqual({ type: 'vector', dimensions: 1536 });
    const { rows } = await db.query('select * from public.vector_settings()');
    expect(rows).toEqual([{ vector_type: 'vector', dimensions: 1536, distance: 'cosine' }]);
    expect(await indexDefinition(db)).toContain('hnsw (embedding extensions.vector_cosine_ops)');
  });

  it('applies the size and type the host chose, and refuses another one later before anything runs', async () => {
    const db = await backend.fresh();
    await migrate(db, { vector: { dimensions: 768, type: 'halfvec' } });
    expect(await columnType(db)).toBe('extensions.halfvec(768)');
    expect(await indexDefinition(db)).toContain('hnsw (embedding extensions.halfvec_cosine_ops)');
    // The same setting again is fine; so is no setting.
    expect((await migrate(db, { vector: { dimensions: 768, type: 'halfvec' } })).applied).toEqual([]);
    expect((await migrate(db)).applied).toEqual([]);
    const refused = await migrate(db, { vector: { dimensions: 1536 } }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(VectorSettingsMismatchError);
    expect((refused as VectorSettingsMismatchError).code).toBe('vector_settings_mismatch');
    expect((refused as Error).message).toMatch(
      /stores embeddings as halfvec\(768\); you asked for vector\(1536\)\. Migrate without the vector option/,
    );
    expect(await columnType(db)).toBe('extensions.halfvec(768)');
  });

  it('refuses settings HNSW cannot index, naming the limits', async () => {
    const db = await backend.fresh();
    for (const vector of [
      { dimensions: 3072 },
      { dimensions: 0 },
      { dimensions: 1.5 },
      { dimensions: 5000, type: 'halfvec' as const },
      { dimensions: 8, type: 'bit' as unknown as 'vector' },
    ]) {
      await expect(migrate(db, { vector })).rejects.toBeInstanceOf(InvalidMigrationOptionsError);
    }
    await expect(migrate(db, { vector: { dimensions: 3072 } })).rejects.toThrow(
      /Use type "halfvec" for up to 4000/,
    );
    expect(await readVectorSettings(db)).toBeUndefined();
    await migrate(db, { vector: { dimensions: 3072, type: 'halfvec' } });
    expect(await columnType(db)).toBe('extensions.halfvec(3072)');
  });

  it('writes the setting into the Supabase export, where no runner can pass it', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'tributary-vector-export-'));
    try {
      await exportSupabaseMigrations({ directory, vector: { dimensions: 64, type: 'halfvec' } });
      const file = (await readdir(directory)).find((name) =>
        name.endsWith('_tributary_0010_vector_models.sql'),
      );
      const sql = await readFile(join(directory, file ?? 'missing'), 'utf8');
      expect(sql.split('\n').slice(0, 2)).toEqual([
        '-- Vector setting chosen at export: halfvec(64).',
        "select set_config('tributary.vector_type', 'halfvec', false), set_config('tributary.vector_dimensions', '64', false);",
      ]);
      // Applied as the Supabase CLI would (the file alone, after the earlier ones).
      const db = await backend.fresh();
      await db.transaction((tx) => tx.exec(sql));
      expect(await columnType(db)).toBe('extensions.halfvec(64)');
      const other = (await readdir(directory)).find((name) =>
        name.endsWith('_tributary_0007_vector_search.sql'),
      );
      expect(await readFile(join(directory, other ?? 'missing'), 'utf8')).not.toContain('set_config');
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  it('upgrades a database that already has embeddings in place: vector(1536) and every embedding kept', async () => {
    const db = await backend.fresh();
    await seedOne(db, 1536);
    await migrate(db);
    expect(await columnType(db)).toBe('extensions.vector(1536)');
    expect(await embeddingCount(db)).toBe(1);
  });

  it('refuses, in the migration, to change the size of stored embeddings', async () => {
    const db = await backend.fresh();
    await seedOne(db, 1536);
    const failure = await migrate(db, { vector: { dimensions: 768 } }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(MigrationFailedError);
    expect((failure as Error).message).toMatch(
      /holds 1 embeddings of vector\(1536\); refusing to change them to vector\(768\)/,
    );
    expect(await columnType(db)).toBe('extensions.vector(1536)');
    expect(await embeddingCount(db)).toBe(1);
    expect(await readVectorSettings(db)).toBeUndefined();
  });

  it('rolls back to vector(1536) when no embedding would be lost, and refuses otherwise', async () => {
    const db = await backend.fresh();
    await migrate(db, { vector: { dimensions: 8 } });
    await seedOne(db, 8);
    // Back to the migration before 0010 (later ones are undone first, in the same transaction).
    const names = (await loadMigrations()).map((migration) => migration.name);
    const to = names[names.indexOf('0010_vector_models') - 1] as string;
    await expect(rollback(db, { to })).rejects.toThrow(
      /cannot roll back 0010_vector_models: document_chunks holds 1 embeddings of extensions.vector\(8\)/,
    );
    expect(await columnType(db)).toBe('extensions.vector(8)');
    await db.query('update public.document_chunks set embedding = null, embedding_model = null');
    await rollback(db, { to });
    expect(await columnType(db)).toBe('extensions.vector(1536)');
    expect(await indexDefinition(db)).toContain('vector_cosine_ops');
    const { rows } = await db.query<{ n: number }>(
      "select count(*)::integer as n from pg_proc where proname in ('vector_settings', 'semantic_candidates')",
    );
    expect(rows[0]?.n).toBe(0);
    // The 0007 search (no model parameter) is back.
    const search = await db.query<{ args: string }>(
      "select pg_get_function_identity_arguments('public.unified_content_search'::regproc) as args",
    );
    expect(search.rows[0]?.args).not.toContain('query_embedding_model');
    // And forward again with a new size, now that the column is empty.
    await migrate(db, { vector: { dimensions: 16, type: 'halfvec' } });
    expect(await columnType(db)).toBe('extensions.halfvec(16)');
  });
});
