// Fresh databases with every migration before 0010_vector_models applied, on PGlite and on a real
// PostgreSQL server with pgvector, so tests can apply 0010 with the vector setting they need.
import { randomUUID } from 'node:crypto';
import type { PGlite } from '@electric-sql/pglite';
import { createPgliteDatabase, type PostgresServer, startPostgresServer } from '@tributary/testkit-postgres';
import type pg from 'pg';
import { fromPg, fromPglite, migrate, type SqlDatabase } from '../../src/index.js';
import { migrationsFingerprint, sha256Hex } from './schema-database.js';

/** The last migration before the vector settings migration. */
export const beforeVectorModels = '0008_resumable_listing';

export interface VectorBackend {
  name: 'PGlite' | 'PostgreSQL server';
  /** A fresh database at {@link beforeVectorModels}; closed by `stop()`. */
  fresh(): Promise<SqlDatabase>;
  stop(): Promise<void>;
}

export async function startPglite(): Promise<VectorBackend> {
  const open: PGlite[] = [];
  return {
    name: 'PGlite',
    async fresh() {
      const pglite = await createPgliteDatabase({
        snapshot: {
          key: `tributary-sql-before-0010-${migrationsFingerprint()}`,
          prepare: async (db) => {
            await migrate(fromPglite(db), { target: beforeVectorModels });
          },
        },
      });
      open.push(pglite);
      return fromPglite(pglite);
    },
    async stop() {
      await Promise.all(open.map((pglite) => pglite.close()));
    },
  };
}

export async function startServer(): Promise<VectorBackend> {
  const server: PostgresServer = await startPostgresServer();
  const template = await server.createDatabase({ name: 'vector_template' });
  const templatePool = server.pool(template, { max: 1 });
  await migrate(fromPg(templatePool), { target: beforeVectorModels });
  await templatePool.end();
  const pools: pg.Pool[] = [];
  return {
    name: 'PostgreSQL server',
    async fresh() {
      const pool = server.pool(await server.createDatabase({ template }), { max: 4 });
      pools.push(pool);
      return fromPg(pool);
    },
    stop: () => server.stop(),
  };
}

/** A small deterministic PRNG (mulberry32), so vectors and so expected neighbours are stable. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function cosine(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i += 1) {
    dot += (a[i] ?? 0) * (b[i] ?? 0);
    na += (a[i] ?? 0) ** 2;
    nb += (b[i] ?? 0) ** 2;
  }
  return dot / Math.sqrt(na * nb);
}

export const vectorText = (values: readonly number[]) => `[${values.join(',')}]`;

export interface SeededChunk {
  id: string;
  orgId: string;
  model: string;
  vector: number[];
}

/**
 * Inserts one completed document per call with `vectors.length` chunks (set-based), stored under
 * `model`; returns the chunks. Content is "chunk N of TITLE" plus `words`.
 */
export async function seedChunks(
  db: SqlDatabase,
  input: {
    orgId: string;
    connectorId: string;
    title: string;
    model: string;
    vectors: number[][];
    mimeType?: string;
    metadata?: Record<string, unknown>;
    words?: string;
  },
): Promise<SeededChunk[]> {
  const { rows } = await db.query<{ id: string }>(
    `insert into public.imported_documents (org_id, connector_id, external_id, title, mime_type, processing_status, source_metadata)
     values ($1, $2, $3, $3, $4, 'completed', $5::jsonb) returning id`,
    [
      input.orgId,
      input.connectorId,
      `${input.title}-${randomUUID()}`,
      input.mimeType ?? 'text/plain',
      JSON.stringify(input.metadata ?? {}),
    ],
  );
  const documentId = rows[0]?.id;
  const contents = input.vectors.map((_, index) =>
    `chunk ${index} of ${input.title} ${input.words ?? ''}`.trim(),
  );
  const inserted = await db.query<{ id: string; chunk_index: number }>(
    `insert into public.document_chunks (org_id, document_id, chunk_index, content, content_hash, embedding, embedding_model)
     select $1, $2, i - 1, content, hash, vec::extensions.vector, $6
     from unnest($3::text[], $4::text[], $5::text[]) with ordinality as x(content, hash, vec, i)
     returning id, chunk_index`,
    [
      input.orgId,
      documentId,
      contents,
      contents.map((content) => sha256Hex(content)),
      input.vectors.map(vectorText),
      input.model,
    ],
  );
  return inserted.rows
    .sort((a, b) => a.chunk_index - b.chunk_index)
    .map((row) => ({
      id: row.id,
      orgId: input.orgId,
      model: input.model,
      vector: input.vectors[row.chunk_index] ?? [],
    }));
}
