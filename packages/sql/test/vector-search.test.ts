// unified_content_search after 0010_vector_models, on PGlite and a real server with pgvector: only
// chunks of the query's model are compared; small organisations are searched exactly (full recall)
// and large ones through the HNSW index (iterative scan), chosen per query and reported in
// semantic_strategy; members reach only their organisation; bad vectors and weights are refused.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, type SqlDatabase } from '../src/index.js';
import { type Actor, actAs, insertConnector } from './support/schema-database.js';
import {
  cosine,
  random,
  type SeededChunk,
  seedChunks,
  startPglite,
  startServer,
  type VectorBackend,
  vectorText,
} from './support/vector-databases.js';

const DIMENSIONS = 16;
const MODEL = 'test:clustered@16';
const OTHER_MODEL = 'test:other@16';

describe.each([
  ['PGlite', startPglite],
  ['PostgreSQL server', startServer],
] as const)('model-aware vector search on %s', (_name, start) => {
  let backend: VectorBackend;
  let db: SqlDatabase;
  const big = randomUUID();
  const small = randomUUID();
  const bigMember = randomUUID();
  const smallMember = randomUUID();
  const chunks: SeededChunk[] = [];
  const next = random(42);
  const centres = Array.from({ length: 8 }, () => Array.from({ length: DIMENSIONS }, () => next() * 2 - 1));
  const near = (centre: number[]) => centre.map((value) => value + (next() - 0.5) * 0.6);

  beforeAll(async () => {
    backend = await start();
    db = await backend.fresh();
    await migrate(db, { vector: { dimensions: DIMENSIONS } });
    await db.query(
      `insert into tributary_private.memberships (user_id, org_id, role) values ($1, $2, 'member'), ($3, $4, 'member')`,
      [bigMember, big, smallMember, small],
    );
    const orgs: [string, number][] = [
      [big, 600],
      [small, 12],
      ...Array.from({ length: 20 }, (): [string, number] => [randomUUID(), 50]),
    ];
    for (const [orgId, count] of orgs) {
      const connectorId = await insertConnector(db, orgId);
      const vectors = Array.from({ length: count }, (_, i) => near(centres[i % centres.length] ?? []));
      chunks.push(...(await seedChunks(db, { orgId, connectorId, title: 'doc', model: MODEL, vectors })));
    }
    // The same vectors under another model, in the same organisations: never comparable.
    for (const orgId of [big, small]) {
      const connectorId = await insertConnector(db, orgId, { name: 'Other model' });
      const vectors = chunks.filter((chunk) => chunk.orgId === orgId).map((chunk) => chunk.vector);
      chunks.push(
        ...(await seedChunks(db, { orgId, connectorId, title: 'other', model: OTHER_MODEL, vectors })),
      );
    }
    await db.query('analyze public.document_chunks');
    await db.query('analyze public.imported_documents');
  }, 300_000);
  afterAll(async () => {
    await backend?.stop();
  });

  const member = (userId: string): Actor => ({ role: 'authenticated', userId });

  /** Vector-only search as `actor`; `exactMaxRows` lowers the org size up to which search is exact. */
  async function vectorSearch(
    actor: Actor,
    orgId: string,
    query: number[],
    model = MODEL,
    exactMaxRows?: number,
  ) {
    return actAs(db, actor, async (tx) => {
      if (exactMaxRows !== undefined) {
        await tx.query("select set_config('tributary.exact_search_max_rows', $1, true)", [
          String(exactMaxRows),
        ]);
      }
      const { rows } = await tx.query<{ chunk_id: string; semantic_strategy: string; similarity: number }>(
        `select chunk_id, semantic_strategy, similarity from public.unified_content_search(
           query_embedding => $1::extensions.vector, query_embedding_model => $2, match_org_id => $3,
           match_count => 10, match_threshold => -1)`,
        [vectorText(query), model, orgId],
      );
      return rows;
    });
  }

  function exactTop(orgId: string, query: number[], model = MODEL): string[] {
    return chunks
      .filter((chunk) => chunk.orgId === orgId && chunk.model === model)
      .map((chunk) => ({ id: chunk.id, similarity: cosine(chunk.vector, query) }))
      .sort((a, b) => b.similarity - a.similarity)
      .slice(0, 10)
      .map((entry) => entry.id);
  }

  it('searches a small organisation exactly: the true ten nearest, in order, of its model only', async () => {
    for (let q = 0; q < 5; q += 1) {
      const query = near(centres[q] ?? []);
      const rows = await vectorSearch(member(smallMember), small, query, MODEL, 100);
      expect(rows.every((row) => row.semantic_strategy === 'exact')).toBe(true);
      expect(rows.map((row) => row.chunk_id)).toEqual(exactTop(small, query));
      const others = await vectorSearch(member(smallMember), small, query, OTHER_MODEL, 100);
      expect(others.map((row) => row.chunk_id)).toEqual(exactTop(small, query, OTHER_MODEL));
      expect(others.map((row) => row.chunk_id).some((id) => rows.some((row) => row.chunk_id === id))).toBe(
        false,
      );
    }
  });

  it('uses the HNSW index for a large organisation, as a member, keeping recall and the model apart', async () => {
    let found = 0;
    for (let q = 0; q < 10; q += 1) {
      const query = near(centres[q % centres.length] ?? []);
      const rows = await vectorSearch(member(bigMember), big, query, MODEL, 100);
      expect(rows.every((row) => row.semantic_strategy === 'index')).toBe(true);
      const modelIds = new Set(
        chunks.filter((chunk) => chunk.model === MODEL && chunk.orgId === big).map((c) => c.id),
      );
      expect(rows.every((row) => modelIds.has(row.chunk_id))).toBe(true);
      const truth = new Set(exactTop(big, query));
      found += rows.filter((row) => truth.has(row.chunk_id)).length;
    }
    expect(found / 100).toBeGreaterThanOrEqual(0.9);
    // At the default size limit (10,000 chunks) the same organisation is searched exactly.
    const query = near(centres[0] ?? []);
    const exact = await vectorSearch(member(bigMember), big, query);
    expect(exact.map((row) => row.chunk_id)).toEqual(exactTop(big, query));
    expect(exact[0]?.semantic_strategy).toBe('exact');
  });

  it('plans the index strategy as an HNSW index scan and the exact one without it', async () => {
    const plan = async (strategy: 'index' | 'exact') =>
      db.transaction(async (tx) => {
        await tx.query(
          "select set_config('hnsw.iterative_scan', 'relaxed_order', true), set_config('enable_sort', 'off', true)",
        );
        const { rows } = await tx.query<{ sql: string }>(
          'select tributary_private.semantic_candidates_sql($1, $2) as sql',
          ['vector', strategy],
        );
        const name = `nearest_${strategy}`;
        await tx.query(
          `prepare ${name}(uuid, text, extensions.vector, integer, uuid[], text[], jsonb) as ${rows[0]?.sql}`,
        );
        const explained = await tx.query<{ 'QUERY PLAN': string }>(
          `explain execute ${name}('${big}', '${MODEL}', '${vectorText(near(centres[1] ?? []))}', 40, null, null, null)`,
        );
        await tx.query(`deallocate ${name}`);
        return explained.rows.map((row) => row['QUERY PLAN']).join('\n');
      });
    expect(await plan('index')).toMatch(/Index Scan using document_chunks_embedding_idx/);
    expect(await plan('exact')).not.toMatch(/document_chunks_embedding_idx/);
  });

  it('lets members search only their organisation, through every entry point', async () => {
    const query = near(centres[2] ?? []);
    const denied = async (sql: string, params: unknown[]) =>
      actAs(db, member(smallMember), (tx) => tx.query(sql, params)).then(
        () => 'allowed',
        (error: { code?: string }) => error.code,
      );
    const args = [vectorText(query), MODEL, big];
    expect(
      await denied(
        'select * from public.unified_content_search(query_embedding => $1::extensions.vector, query_embedding_model => $2, match_org_id => $3)',
        args,
      ),
    ).toBe('42501');
    expect(
      await denied(
        'select * from tributary_private.content_search(query_embedding => $1::extensions.vector, query_embedding_model => $2, match_org_id => $3)',
        args,
      ),
    ).toBe('42501');
    expect(
      await denied(
        "select * from tributary_private.semantic_candidates($3, $2, $1::extensions.vector, 10, 'index')",
        args,
      ),
    ).toBe('42501');
    const anon = await actAs(db, { role: 'anon' }, (tx) =>
      tx.query('select * from public.vector_settings()'),
    ).then(
      () => 'allowed',
      (error: { code?: string }) => error.code,
    );
    expect(anon).toBe('42501');
    const settings = await actAs(db, member(smallMember), (tx) =>
      tx.query('select * from public.vector_settings()'),
    );
    expect(settings.rows).toEqual([{ vector_type: 'vector', dimensions: DIMENSIONS, distance: 'cosine' }]);
  });

  it('refuses a query vector of another size, all zeros, without a model, and NaN or infinite weights', async () => {
    const failure = async (sql: string, params: unknown[]) =>
      actAs(db, member(bigMember), (tx) => tx.query(sql, params)).then(
        () => ({ code: 'none', message: '' }),
        (error: { code?: string; message: string }) => ({ code: error.code, message: error.message }),
      );
    const search = (extra: string) =>
      `select * from public.unified_content_search(match_org_id => $1, query_embedding => $2::extensions.vector${extra})`;
    const good = vectorText(near(centres[0] ?? []));
    expect(await failure(search(", query_embedding_model => 'm'"), [big, vectorText([1, 2, 3])])).toEqual({
      code: '22000',
      message: '[tributary] query_embedding has 3 dimensions; this database stores vector(16)',
    });
    expect(
      await failure(search(", query_embedding_model => 'm'"), [big, vectorText(new Array(16).fill(0))]),
    ).toEqual({
      code: '22023',
      message: '[tributary] query_embedding is all zeros',
    });
    expect(await failure(search(''), [big, good])).toEqual({
      code: '22023',
      message: '[tributary] query_embedding needs query_embedding_model',
    });
    for (const weight of ['NaN', 'Infinity', '-1']) {
      const result = await failure(search(`, query_embedding_model => 'm', semantic_weight => '${weight}'`), [
        big,
        good,
      ]);
      expect(result.code).toBe('22023');
      expect(result.message).toMatch(/must be >= 0 and finite/);
    }
    const threshold = await failure(search(", query_embedding_model => 'm', match_threshold => 'NaN'"), [
      big,
      good,
    ]);
    expect(threshold).toEqual({
      code: '22023',
      message: '[tributary] match_threshold must be between -1 and 1',
    });
  });
});
