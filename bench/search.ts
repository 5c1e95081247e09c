// Filtered vector search for tenants of very different sizes, as a member (role authenticated).
//
// On a real PostgreSQL server with pgvector (startPostgresServer), the bundled migrations applied
// with `vector: { dimensions: BENCH_DIMENSIONS }`, BENCH_CHUNKS chunks over 100 organisations:
// one organisation holds 50% of the chunks ("large"), one 0.1% ("small"), the 98 others share the
// rest. Vectors are synthetic and clustered (64 random centres plus noise), written set-based with
// the HNSW index dropped, then the index is built once and the table analysed.
//
// For each of the two organisations, BENCH_QUERIES query vectors (a centre plus noise) are sent as
// a member of that organisation (`set role authenticated` + JWT claims, as PostgREST does) through
// `unified_content_search` (it checks the membership, then searches as its owner) with match_count 10, vector-only and hybrid (plus query_text). Printed:
// recall@10 against exact search (the same filters, no index, as the service role), p50/p95
// latency, and which strategy the function chose; then the strategy it did not choose, forced
// through `tributary_private.semantic_candidates`, to show why.
//
// Run: pnpm --filter @tributary/bench search   (after `pnpm build`; see README.md)
// Tune: BENCH_CHUNKS (default 200000), BENCH_DIMENSIONS (default 128), BENCH_QUERIES (default 200).
// BENCH_DATA_DIR keeps the server's data between runs (the second run skips loading and indexing);
// BENCH_EXPLAIN=1 prints the plan of the large org's vector statement; BENCH_EF_SEARCH sets
// tributary.hnsw_ef_search (the HNSW candidate list, default 200).
import { fromPg, migrate } from '@tributary/sql';
import { startPostgresServer } from '@tributary/testkit-postgres';
import type pg from 'pg';

const ORGANIZATIONS = 100;
const CHUNKS = Number(process.env.BENCH_CHUNKS ?? 200_000);
const DIMENSIONS = Number(process.env.BENCH_DIMENSIONS ?? 128);
const QUERIES = Number(process.env.BENCH_QUERIES ?? 200);
const CHUNKS_PER_DOCUMENT = 10;
const CENTRES = 64;
const MODEL = `bench:clustered@${DIMENSIONS}`;
const K = 10;

const orgId = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const memberOf = (n: number) => `10000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
// Org 0: 50% of the chunks; org 1: 0.1%; orgs 2..99 share the rest.
const LARGE = 0;
const SMALL = 1;
const sizeOf = (n: number) =>
  n === LARGE ? CHUNKS / 2 : n === SMALL ? CHUNKS / 1000 : Math.floor((CHUNKS / 2 - CHUNKS / 1000) / 98);

function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function percentile(sorted: number[], p: number): number {
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

const seconds = (start: number) => `${((performance.now() - start) / 1000).toFixed(1)} s`;

async function seed(pool: pg.Pool): Promise<void> {
  const started = performance.now();
  await pool.query('drop index public.document_chunks_embedding_idx');
  await pool.query(`create table bench_centres as
    select c, array(select random() * 2 - 1 from generate_series(1, ${DIMENSIONS}) where c >= 0) as v
    from generate_series(0, ${CENTRES - 1}) c`);
  await pool.query(
    `insert into tributary_private.memberships (user_id, org_id, role)
     select ('10000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid,
            ('00000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid, 'member'
     from generate_series(0, ${ORGANIZATIONS - 1}) n`,
  );
  await pool.query(
    `insert into public.connector_configs (id, org_id, connector_type, name)
     select ('20000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid,
            ('00000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid, 'bench', 'Bench ' || n
     from generate_series(0, ${ORGANIZATIONS - 1}) n`,
  );
  for (let org = 0; org < ORGANIZATIONS; org += 1) {
    const chunks = sizeOf(org);
    const documents = Math.ceil(chunks / CHUNKS_PER_DOCUMENT);
    await pool.query(
      `with docs as (
         insert into public.imported_documents (org_id, connector_id, external_id, title, processing_status)
         select $1::uuid, ('20000000-0000-4000-8000-' || lpad($2::text, 12, '0'))::uuid, 'doc-' || d, 'Doc ' || d, 'completed'
         from generate_series(1, $3::integer) d
         returning id, external_id)
       insert into public.document_chunks (org_id, document_id, chunk_index, content, content_hash, embedding, embedding_model)
       select $1::uuid, docs.id, i, content, md5(content) || md5(content || 'x'), vec, $5
       from docs
       cross join generate_series(0, ${CHUNKS_PER_DOCUMENT - 1}) i
       cross join lateral (select (abs(hashtext(docs.external_id || i)) % ${CENTRES}) as centre) pick
       cross join lateral (
         select 'topic' || pick.centre || ' word' || (abs(hashtext(docs.id::text || i)) % 500)
                || ' word' || (abs(hashtext(i || docs.id::text)) % 500) || ' shared text' as content,
                (select array_agg(v + (random() - 0.5) * 0.8) from unnest(c.v) v)::extensions.vector as vec
         from bench_centres c where c.c = pick.centre) body
       where (split_part(docs.external_id, '-', 2)::integer - 1) * ${CHUNKS_PER_DOCUMENT} + i < $4::integer`,
      [orgId(org), org, documents, chunks, MODEL],
    );
  }
  console.log(`loaded ${CHUNKS.toLocaleString('en-US')} chunks in ${seconds(started)}`);
  const indexStarted = performance.now();
  await pool.query("set maintenance_work_mem = '1GB'");
  await pool.query(
    'create index document_chunks_embedding_idx on public.document_chunks using hnsw (embedding extensions.vector_cosine_ops)',
  );
  console.log(`built the HNSW index (m 16, ef_construction 64) in ${seconds(indexStarted)}`);
  await pool.query('vacuum analyze');
}

function queryVectors(centres: number[][], seedValue: number): number[][] {
  const next = random(seedValue);
  return Array.from({ length: QUERIES }, () => {
    const centre = centres[Math.floor(next() * centres.length)] ?? [];
    return centre.map((value) => value + (next() - 0.5) * 0.8);
  });
}

const vectorText = (values: readonly number[]) => `[${values.join(',')}]`;

async function exactTop(service: pg.PoolClient, org: number, vector: number[]): Promise<string[]> {
  const { rows } = await service.query<{ id: string }>(
    `with org_chunks as materialized (
       select c.id, c.embedding from public.document_chunks c
       where c.org_id = $1 and c.embedding_model = $2 and c.embedding is not null)
     select id from org_chunks order by embedding operator(extensions.<=>) $3::extensions.vector, id limit ${K}`,
    [orgId(org), MODEL, vectorText(vector)],
  );
  return rows.map((row) => row.id);
}

interface Measured {
  latencies: number[];
  recall: number[];
  strategies: Set<string>;
}

async function measure(
  exact: string[][],
  vectors: number[][],
  run: (vector: number[]) => Promise<{ ids: string[]; strategy: string }>,
): Promise<Measured> {
  const measured: Measured = { latencies: [], recall: [], strategies: new Set() };
  for (const [index, vector] of vectors.entries()) {
    const start = performance.now();
    const { ids, strategy } = await run(vector);
    measured.latencies.push(performance.now() - start);
    measured.strategies.add(strategy);
    const truth = new Set(exact[index]);
    measured.recall.push(ids.slice(0, K).filter((id) => truth.has(id)).length / K);
  }
  return measured;
}

function report(label: string, measured: Measured, withRecall: boolean): void {
  const sorted = [...measured.latencies].sort((a, b) => a - b);
  const recall = measured.recall.reduce((sum, value) => sum + value, 0) / measured.recall.length;
  console.log(
    `${label.padEnd(44)} ${withRecall ? `recall@10 ${recall.toFixed(3)}` : '                '}` +
      `  p50 ${percentile(sorted, 50).toFixed(1).padStart(6)} ms  p95 ${percentile(sorted, 95).toFixed(1).padStart(6)} ms` +
      `  strategy ${[...measured.strategies].join('/')}`,
  );
}

/**
 * The plan of the vector statement for the large org with the settings semantic_candidates uses, run
 * as unified_content_search runs it: as the function's owner (it is security definer and checks the
 * caller's membership itself), here the superuser that applied the migrations.
 */
async function explainIndexPath(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    await client.query(
      "select set_config('hnsw.iterative_scan', 'relaxed_order', true), set_config('hnsw.ef_search', '200', true), set_config('enable_sort', 'off', true), set_config('jit', 'off', true)",
    );
    const { rows } = await client.query<{ sql: string }>(
      "select tributary_private.semantic_candidates_sql('vector', 'index') as sql",
    );
    await client.query(
      `prepare nearest(uuid, text, extensions.vector, integer, uuid[], text[], jsonb) as ${rows[0]?.sql}`,
    );
    const centre =
      (await client.query<{ v: number[] }>('select v from bench_centres where c = 0')).rows[0]?.v ?? [];
    // EXPLAIN EXECUTE takes no bind parameters: the values are literals (a uuid, a model id, numbers).
    const plan = await client.query<{ 'QUERY PLAN': string }>(
      `explain (analyze, buffers) execute nearest('${orgId(LARGE)}', '${MODEL}', '${vectorText(centre.map(Number))}', 40, null, null, null)`,
    );
    console.log(plan.rows.map((row) => row['QUERY PLAN']).join('\n'));
    await client.query('rollback');
  } finally {
    client.release();
  }
}

async function main(): Promise<void> {
  const startedAt = performance.now();
  // BENCH_DATA_DIR keeps the server's data directory, so a second run skips loading and indexing.
  const dataDir = process.env.BENCH_DATA_DIR;
  const server = await startPostgresServer({
    settings: { shared_buffers: '512MB' },
    ...(dataDir ? { dataDir } : {}),
  });
  try {
    const name = 'tributary_search_bench';
    const admin = server.pool('postgres', { max: 1 });
    const exists =
      (await admin.query('select 1 from pg_database where datname = $1', [name])).rows.length > 0;
    await admin.end();
    const database = exists ? name : await server.createDatabase({ name });
    const pool = server.pool(database, { max: 3 });
    if (!exists) await migrate(fromPg(pool), { vector: { dimensions: DIMENSIONS } });
    const version = await pool.query<{ v: string; pgvector: string }>(
      "select current_setting('server_version') as v, (select extversion from pg_extension where extname = 'vector') as pgvector",
    );
    const { v, pgvector } = version.rows[0] ?? { v: '?', pgvector: '?' };
    console.log(
      `PostgreSQL ${v}, pgvector ${pgvector}; ` +
        `vector(${DIMENSIONS}), ${CHUNKS.toLocaleString('en-US')} chunks over ${ORGANIZATIONS} orgs ` +
        `(large org ${sizeOf(LARGE).toLocaleString('en-US')}, small org ${sizeOf(SMALL)}), ${QUERIES} queries per case`,
    );
    if (!exists) await seed(pool);
    if (process.env.BENCH_EXPLAIN) await explainIndexPath(pool);
    const centres = (await pool.query<{ v: number[] }>('select v from bench_centres order by c')).rows.map(
      (row) => row.v.map(Number),
    );

    const service = await pool.connect();
    const member = await pool.connect();
    try {
      await member.query('set role authenticated');
      // The HNSW candidate list (default 200 in semantic_candidates): the recall/latency knob.
      if (process.env.BENCH_EF_SEARCH) {
        await member.query("select set_config('tributary.hnsw_ef_search', $1, false)", [
          process.env.BENCH_EF_SEARCH,
        ]);
        await service.query("select set_config('tributary.hnsw_ef_search', $1, false)", [
          process.env.BENCH_EF_SEARCH,
        ]);
        console.log(`tributary.hnsw_ef_search = ${process.env.BENCH_EF_SEARCH}`);
      }
      for (const [org, name] of [
        [LARGE, 'large org (50%)'],
        [SMALL, 'small org (0.1%)'],
      ] as const) {
        await member.query("select set_config('request.jwt.claims', $1, false)", [
          JSON.stringify({ sub: memberOf(org), role: 'authenticated' }),
        ]);
        const vectors = queryVectors(centres, 1000 + org);
        const exact: string[][] = [];
        for (const vector of vectors) exact.push(await exactTop(service, org, vector));
        const search = async (vector: number[], text: string | null) => {
          const { rows } = await member.query<{ chunk_id: string; semantic_strategy: string }>(
            `select chunk_id, semantic_strategy from public.unified_content_search(
               query_embedding => $1::extensions.vector, query_embedding_model => $2, match_org_id => $3,
               match_count => ${K}, query_text => $4, match_threshold => -1)`,
            [vectorText(vector), MODEL, orgId(org), text],
          );
          return { ids: rows.map((row) => row.chunk_id), strategy: rows[0]?.semantic_strategy ?? 'none' };
        };
        // Warm up (caches, plans), then measure.
        for (const vector of vectors.slice(0, 20)) await search(vector, null);
        report(`${name}, vector only`, await measure(exact, vectors, (q) => search(q, null)), true);
        const words = (i: number) => `word${(i * 37) % 500} or topic${i % CENTRES}`;
        let i = 0;
        report(
          `${name}, hybrid (text + vector)`,
          await measure(exact, vectors, (q) => {
            i += 1;
            return search(q, words(i));
          }),
          false,
        );
        // The strategy not chosen, forced, for comparison (semantic_candidates is not a client RPC:
        // the superuser calls it, as content_search does after its access check).
        const other = org === LARGE ? 'exact' : 'index';
        report(
          `${name}, forced ${other} (semantic_candidates)`,
          await measure(exact, vectors, async (vector) => {
            const { rows } = await service.query<{ id: string }>(
              `select id from tributary_private.semantic_candidates($1, $2, $3::extensions.vector, ${K}, $4)`,
              [orgId(org), MODEL, vectorText(vector), other],
            );
            return { ids: rows.map((row) => row.id), strategy: other };
          }),
          true,
        );
      }
    } finally {
      service.release();
      member.release();
    }
  } finally {
    await server.stop();
  }
  console.log(`done in ${seconds(startedAt)}`);
}

await main();
