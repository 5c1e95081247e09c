// The `readers` vector search (0028; since 0033 a statement whose plan PL/pgSQL keeps for the
// session, one per column type): a member of an organisation with a `source`-mode connector who
// reads few of its chunks gets the exact nearest readable chunks, on vector and on halfvec columns,
// on PGlite and on a real server. Covered here: many searches on one connection (past the five
// after which PL/pgSQL may switch to a generic plan), document filters that leave fewer than the
// candidate count among the nearest readable chunks (the second, unlimited pass), and a query
// vector read from a table, where it is a TOAST pointer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, type SqlDatabase, type SqlQueryable } from '../src/index.js';
import { insertConnector, seedTenancy } from './support/schema-database.js';
import { cosine, random, startPglite, startServer, type VectorBackend } from './support/vector-databases.js';

const DIMENSIONS = 1536;
const MODEL = 'test:readers@1536';
const DOCUMENTS = 600;

interface Chunk {
  id: string;
  documentId: string;
  readable: boolean;
  pdf: boolean;
  vector: number[];
}

describe.each([
  ['PGlite', startPglite],
  ['PostgreSQL server', startServer],
] as const)('readers-path vector search on %s', (_name, start) => {
  let backend: VectorBackend;
  beforeAll(async () => {
    backend = await start();
  }, 120_000);
  afterAll(async () => {
    await backend?.stop();
  });

  describe.each(['vector', 'halfvec'] as const)('with a %s column', (type) => {
    let db: SqlDatabase;
    let orgId: string;
    let member: string;
    const chunks: Chunk[] = [];
    const next = random(type === 'vector' ? 7 : 11);
    // Multiples of 1/64 in [-1, 1] are exact in half precision, so both column types hold the same
    // values and the expected order is the same.
    const draw = () => Array.from({ length: DIMENSIONS }, () => Math.round((next() * 2 - 1) * 64) / 64);

    beforeAll(async () => {
      db = await backend.fresh();
      await migrate(db, { vector: { dimensions: DIMENSIONS, type } });
      const t = await seedTenancy(db);
      orgId = t.orgA;
      member = t.memberA;
      const connector = await insertConnector(db, orgId, { name: 'Source mode' });
      await db.query("update public.connector_configs set permission_mode = 'source' where id = $1", [
        connector,
      ]);
      // One chunk per document; the member (user:reader-1) reads every third document (200), ten
      // of them PDFs. Written set-based, the documents first (their ACL rows and the chunks'
      // readers come from the migrations' triggers).
      const vectors = Array.from({ length: DOCUMENTS }, () => draw());
      const { rows } = await db.query<{ id: string; i: number }>(
        `insert into public.imported_documents (org_id, connector_id, external_id, title, content, content_hash,
           mime_type, processing_status, metadata)
         select $1, $2, 'doc-' || i, 'doc-' || i, 'document ' || i, encode(sha256(convert_to('document ' || i, 'UTF8')), 'hex'),
                case when i % 60 = 0 then 'application/pdf' else 'text/plain' end, 'completed',
                jsonb_build_object('permissions', jsonb_build_array(jsonb_build_object(
                  'type', 'user', 'id', case when i % 3 = 0 then 'reader-1' else 'someone-else' end, 'role', 'reader')))
         from generate_series(0, $3::integer - 1) i
         returning id, substr(external_id, 5)::integer as i`,
        [orgId, connector, DOCUMENTS],
      );
      const documents = new Map(rows.map((row) => [row.i, row.id]));
      const inserted = await db.query<{ id: string; i: number }>(
        `insert into public.document_chunks (org_id, document_id, chunk_index, content, content_hash, embedding, embedding_model)
         select $1, d.id, 0, 'document ' || x.i, encode(sha256(convert_to('document ' || x.i, 'UTF8')), 'hex'),
                x.v::extensions.${type}, $4
         from unnest($2::integer[], $3::text[]) x(i, v)
         join public.imported_documents d on d.org_id = $1 and d.external_id = 'doc-' || x.i
         returning id, substr(content, 10)::integer as i`,
        [orgId, vectors.map((_, i) => i), vectors.map((vector) => `[${vector.join(',')}]`), MODEL],
      );
      for (const row of inserted.rows) {
        chunks.push({
          id: row.id,
          documentId: documents.get(row.i) ?? '',
          readable: row.i % 3 === 0,
          pdf: row.i % 60 === 0,
          vector: vectors[row.i] ?? [],
        });
      }
      expect(chunks.filter((chunk) => chunk.readable)).toHaveLength(200);
      expect(chunks.filter((chunk) => chunk.readable && chunk.pdf)).toHaveLength(10);
      await db.query('analyze public.document_chunks');
      await db.query('analyze public.imported_documents');
    }, 300_000);

    /** The nearest `count` chunks the member may read (and that pass `pdfOnly`), nearest first. */
    function expectedTop(query: number[], count: number, pdfOnly = false): string[] {
      return chunks
        .filter((chunk) => chunk.readable && (!pdfOnly || chunk.pdf))
        .map((chunk) => ({ id: chunk.id, similarity: cosine(chunk.vector, query) }))
        .sort((a, b) => b.similarity - a.similarity)
        .slice(0, count)
        .map((entry) => entry.id);
    }

    /** Runs `fn` as the member, on one connection, in a transaction rolled back afterwards. */
    async function asMember(fn: (tx: SqlQueryable) => Promise<void>): Promise<void> {
      const rollback = new Error('rollback');
      try {
        await db.transaction(async (tx) => {
          await tx.query("select set_config('request.jwt.claims', $1, true)", [
            JSON.stringify({ sub: member, role: 'authenticated', tributary_identities: ['user:reader-1'] }),
          ]);
          await tx.query("select set_config('role', 'authenticated', true)");
          // An organisation searched through the HNSW index but for the readers path: `exact` in
          // semantic_strategy then means the readers path (the only exact one left).
          await tx.query("select set_config('tributary.exact_search_max_rows', '1', true)");
          await fn(tx);
          throw rollback;
        });
      } catch (error) {
        if (error !== rollback) throw error;
      }
    }

    async function search(
      tx: SqlQueryable,
      query: string,
      params: unknown[],
      options: { count?: number; mimeTypes?: string[] } = {},
    ) {
      const { rows } = await tx.query<{ chunk_id: string; semantic_strategy: string; similarity: number }>(
        `select chunk_id, semantic_strategy, similarity from public.unified_content_search(
           query_embedding => ${query}, query_embedding_model => '${MODEL}', match_org_id => $1,
           match_count => $2, match_threshold => -1, mime_types => $3)`,
        [orgId, options.count ?? 10, options.mimeTypes ?? null, ...params],
      );
      return rows;
    }

    it('returns the exact nearest readable chunks, search after search on one connection', async () => {
      await asMember(async (tx) => {
        for (let q = 0; q < 12; q += 1) {
          const query = draw();
          const rows = await search(tx, '$4::extensions.vector', [`[${query.join(',')}]`]);
          expect(
            rows.map((row) => row.semantic_strategy),
            `query ${q}`,
          ).toEqual(Array(10).fill('exact'));
          expect(
            rows.map((row) => row.chunk_id),
            `query ${q}`,
          ).toEqual(expectedTop(query, 10));
          const best = chunks.find((chunk) => chunk.id === rows[0]?.chunk_id);
          expect(rows[0]?.similarity).toBeCloseTo(cosine(best?.vector ?? [], query), 5);
        }
      });
    }, 120_000);

    it('ranks every readable chunk when a document filter leaves fewer than the candidates among the nearest', async () => {
      // 200 readable chunks, 10 of them PDFs; 20 results asked, so 80 candidates. The first pass
      // ranks the nearest 160 readable chunks and keeps the PDFs among them (about 8 of the 10):
      // fewer than 80, so the second pass ranks all 200, and every readable PDF comes back.
      await asMember(async (tx) => {
        for (let q = 0; q < 7; q += 1) {
          const query = draw();
          const rows = await search(tx, '$4::extensions.vector', [`[${query.join(',')}]`], {
            count: 20,
            mimeTypes: ['application/pdf'],
          });
          expect(rows.map((row) => row.chunk_id)).toEqual(expectedTop(query, 20, true));
          expect(rows).toHaveLength(10);
        }
      });
    }, 120_000);

    it('gives the same answer for a query vector read from a table (a TOAST pointer) as for a literal', async () => {
      const query = draw();
      await asMember(async (tx) => {
        await tx.query('create temporary table stored_query (v extensions.vector) on commit drop');
        await tx.query('insert into stored_query values ($1::extensions.vector)', [`[${query.join(',')}]`]);
        // A 6 kB value of pgvector's EXTERNAL storage: stored out of line, so the search receives a
        // pointer to it.
        const fromTable = await search(tx, '(select v from stored_query)', []);
        const literal = await search(tx, '$4::extensions.vector', [`[${query.join(',')}]`]);
        expect(fromTable.map((row) => row.chunk_id)).toEqual(expectedTop(query, 10));
        expect(fromTable).toEqual(literal);
      });
    }, 120_000);
  });
});
