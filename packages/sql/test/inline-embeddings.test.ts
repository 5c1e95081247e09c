// 0031: embeddings stay in the chunk row (MAIN storage, toast_tuple_target 8160) instead of
// pgvector's default out-of-line storage past 2 kB, so exact comparisons read no TOAST. Observed
// through the TOAST table itself: clearing a row's embedding frees TOAST rows only if the vector
// lived there. On PGlite and on the real server, with the pre-0031 layout as the control.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqlDatabase, SqlQueryable } from '../src/index.js';
import {
  createMigratedPglite,
  insertConnector,
  type MigratedServer,
  rolledBack,
  seedTenancy,
  sha256Hex,
  startMigratedServer,
} from './support/schema-database.js';

/** 1536 values that do not compress (pglz would shrink a vector of zeros to a few bytes). */
function incompressibleVector(seed: number): string {
  const values = Array.from({ length: 1536 }, (_, i) => Math.sin(seed * 7919 + i * 104_729).toFixed(6));
  return `[${values.join(',')}]`;
}

/** Text that does not compress either: `words` distinct pseudo-random words. */
function incompressibleText(seed: number, words: number): string {
  return Array.from({ length: words }, (_, i) => Math.abs(Math.sin(seed * 31 + i) * 1e9).toString(36)).join(
    ' ',
  );
}

interface Layout {
  /** TOAST values (distinct chunk ids) the row holds. */
  toasted: number;
  /** TOAST values freed by setting its embedding to null: 1 when the vector lived in TOAST. */
  vectorToasted: number;
}

async function layoutOf(tx: SqlQueryable, orgId: string, documentId: string, content: string, seed: number) {
  const toast = await tx.query<{ name: string }>(
    `select t.relname as name from pg_catalog.pg_class c join pg_catalog.pg_class t on t.oid = c.reltoastrelid
     where c.oid = 'public.document_chunks'::regclass`,
  );
  const table = `pg_toast.${toast.rows[0]?.name}`;
  const values = async () =>
    Number(
      (await tx.query<{ n: number }>(`select count(distinct chunk_id)::int as n from ${table}`)).rows[0]?.n,
    );
  const before = await values();
  await tx.query(
    `insert into public.document_chunks (org_id, document_id, chunk_index, content, content_hash, embedding, embedding_model)
     values ($1, $2, $3, $4, $5, $6::extensions.vector, 'test-embedding-1536')`,
    [orgId, documentId, seed, content, sha256Hex(`${seed}:${content}`), incompressibleVector(seed)],
  );
  const written = await values();
  await tx.query(
    'update public.document_chunks set embedding = null where document_id = $1 and chunk_index = $2',
    [documentId, seed],
  );
  const cleared = await values();
  return { toasted: written - before, vectorToasted: written - cleared } satisfies Layout;
}

function suite(name: string, open: () => Promise<{ db: SqlDatabase; close: () => Promise<void> }>) {
  describe(`embedding storage (0031) on ${name}`, () => {
    let db: SqlDatabase;
    let close: () => Promise<void>;
    let orgId: string;
    let documentId: string;

    beforeAll(async () => {
      ({ db, close } = await open());
      const t = await seedTenancy(db);
      orgId = t.orgA;
      const connector = await insertConnector(db, orgId);
      const { rows } = await db.query<{ document_id: string }>(
        'select document_id from public.upsert_documents($1, $2::jsonb)',
        [
          connector,
          JSON.stringify([
            { external_id: 'doc', title: 'Doc', content: 'doc', content_hash: sha256Hex('doc') },
          ]),
        ],
      );
      documentId = rows[0]?.document_id ?? '';
    }, 120_000);

    afterAll(async () => close?.());

    it('keeps a 1536-dimension vector in the row, and moves a long chunk text out before it', async () => {
      await rolledBack(db, async (tx) => {
        // A short chunk: the whole row fits a page, nothing goes to TOAST.
        expect(await layoutOf(tx, orgId, documentId, 'a short chunk about salmon', 1)).toEqual({
          toasted: 0,
          vectorToasted: 0,
        });
        // 4 kB of text beside the 6 kB vector: the row cannot fit, so the text (and its tsvector,
        // as large) leave; the vector stays.
        const long = await layoutOf(tx, orgId, documentId, incompressibleText(2, 400), 2);
        expect(long.toasted).toBeGreaterThan(0);
        expect(long.vectorToasted).toBe(0);
      });
    });

    it('is what makes the difference: with the previous layout the vector goes to TOAST', async () => {
      await rolledBack(db, async (tx) => {
        await tx.query('alter table public.document_chunks alter column embedding set storage external');
        await tx.query('alter table public.document_chunks reset (toast_tuple_target)');
        expect(await layoutOf(tx, orgId, documentId, 'a short chunk about salmon', 3)).toEqual({
          toasted: 1,
          vectorToasted: 1,
        });
      });
    });

    it('records the storage in the catalog', async () => {
      const { rows } = await db.query<{ storage: string; options: string[] | null }>(
        `select a.attstorage::text as storage, c.reloptions as options
         from pg_catalog.pg_attribute a join pg_catalog.pg_class c on c.oid = a.attrelid
         where a.attrelid = 'public.document_chunks'::regclass and a.attname = 'embedding'`,
      );
      expect(rows[0]).toEqual({ storage: 'm', options: ['toast_tuple_target=8160'] });
    });
  });
}

suite('PGlite', async () => {
  const { pglite, db } = await createMigratedPglite();
  return { db, close: () => pglite.close() };
});

let server: MigratedServer | undefined;
suite('the PostgreSQL server', async () => {
  server = await startMigratedServer();
  const { db } = await server.createDatabase(2);
  return { db, close: async () => server?.stop() };
});
