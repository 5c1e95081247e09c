// Search latency with permission filtering (0018) vs without, as a member (role authenticated).
//
// On a real PostgreSQL server with pgvector: one organisation, BENCH_DOCUMENTS documents (default
// 100,000) of one connector, one chunk each, vectors clustered around 32 centres. Every document
// has an ACL of 1-3 entries drawn from BENCH_PRINCIPALS principals (default 1,000: users by email
// and by id, groups, two domains; 2% of documents are "anyone with the link"). The same queries
// run through `unified_content_search` with the connector in `org` mode (no filtering: today's
// behaviour) and then in `source` mode, as a member whose JWT carries an email, 5 group ids and 2
// identities (about 1% of the documents readable). Full text only, vectors only, and hybrid.
// Printed: p50/p95 per mode and the ratio of the p50s (target: source within 1.5x of org).
//
// Run: pnpm --filter @tributary/bench permission-search   (after `pnpm build`)
// Tune: BENCH_DOCUMENTS, BENCH_PRINCIPALS, BENCH_QUERIES (default 100), BENCH_DIMENSIONS (64).
import { fromPg, migrate } from '@tributary/sql';
import { startPostgresServer } from '@tributary/testkit-postgres';
import type pg from 'pg';

const DOCUMENTS = Number(process.env.BENCH_DOCUMENTS ?? 100_000);
const PRINCIPALS = Number(process.env.BENCH_PRINCIPALS ?? 1_000);
const QUERIES = Number(process.env.BENCH_QUERIES ?? 100);
const DIMENSIONS = Number(process.env.BENCH_DIMENSIONS ?? 64);
const CENTRES = 32;
const MODEL = `bench:perm@${DIMENSIONS}`;
const ORG = '00000000-0000-4000-8000-000000000001';
const MEMBER = '10000000-0000-4000-8000-000000000001';
const CONNECTOR = '20000000-0000-4000-8000-000000000001';

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
const seconds = (start: number) => `${((performance.now() - start) / 1000).toFixed(1)} s`;

async function seed(pool: pg.Pool): Promise<void> {
  const started = performance.now();
  await pool.query('drop index public.document_chunks_embedding_idx');
  await pool.query(
    `insert into tributary_private.memberships (user_id, org_id, role) values ('${MEMBER}', '${ORG}', 'member')`,
  );
  await pool.query(
    `insert into public.connector_configs (id, org_id, connector_type, name) values ('${CONNECTOR}', '${ORG}', 'bench', 'Bench')`,
  );
  // ACL entry for principal p (0..PRINCIPALS-1) as JSON, set-based.
  const entry = `case
      when p.n < ${Math.floor(PRINCIPALS * 0.3)} then jsonb_build_object('type', 'user', 'email', 'user' || p.n || '@example.com', 'role', 'reader')
      when p.n < ${Math.floor(PRINCIPALS * 0.6)} then jsonb_build_object('type', 'user', 'id', 'uid-' || p.n, 'role', 'reader')
      when p.n < ${PRINCIPALS - 2} then jsonb_build_object('type', 'group', 'id', 'gid-' || p.n, 'role', 'reader')
      else jsonb_build_object('type', 'domain', 'domain', 'domain' || p.n || '.example', 'role', 'reader') end`;
  const batch = 10_000;
  for (let from = 0; from < DOCUMENTS; from += batch) {
    await pool.query(
      `with docs as (
         insert into public.imported_documents (org_id, connector_id, external_id, title, processing_status, metadata)
         select '${ORG}', '${CONNECTOR}', 'doc-' || d, 'Doc ' || d, 'completed',
                jsonb_build_object('permissions', case when d % 50 = 0
                  then jsonb_build_array(jsonb_build_object('type', 'anyone', 'role', 'reader'))
                  else (select jsonb_agg(${entry}) from (
                          select (abs(hashtext(d || ':' || k)) % ${PRINCIPALS}) as n
                          from generate_series(1, 1 + abs(hashtext(d::text)) % 3) k) p) end)
         from generate_series($1::integer, $2::integer) d
         returning id, external_id)
       insert into public.document_chunks (org_id, document_id, chunk_index, content, content_hash, embedding, embedding_model)
       select '${ORG}', docs.id, 0, body.content, md5(body.content) || md5(body.content || 'x'), body.vec, '${MODEL}'
       from docs
       cross join lateral (select abs(hashtext(docs.external_id)) % ${CENTRES} as centre) pick
       cross join lateral (
         select 'topic' || pick.centre || ' word' || (abs(hashtext(docs.id::text)) % 500) || ' shared text' as content,
                (select array_agg(((abs(hashtext(pick.centre || ':' || i)) % 1000) / 500.0 - 1) + (random() - 0.5) * 0.6)
                 from generate_series(1, ${DIMENSIONS}) i)::extensions.vector as vec) body`,
      [from + 1, Math.min(DOCUMENTS, from + batch)],
    );
  }
  console.log(`loaded ${DOCUMENTS.toLocaleString('en-US')} documents in ${seconds(started)}`);
  await pool.query("set maintenance_work_mem = '1GB'");
  await pool.query(
    'create index document_chunks_embedding_idx on public.document_chunks using hnsw (embedding extensions.vector_cosine_ops)',
  );
  await pool.query('vacuum analyze');
  const acl = await pool.query<{ rows: string; docs: string }>(
    'select count(*) as rows, count(distinct document_id) as docs from tributary_private.document_principals',
  );
  console.log(
    `ACL rows ${acl.rows[0]?.rows} over ${acl.rows[0]?.docs} documents; indexed in ${seconds(started)}`,
  );
}

async function main(): Promise<void> {
  const server = await startPostgresServer({ settings: { shared_buffers: '512MB' } });
  try {
    const database = await server.createDatabase({ name: 'tributary_permission_bench' });
    const pool = server.pool(database, { max: 2 });
    await migrate(fromPg(pool), { vector: { dimensions: DIMENSIONS } });
    await seed(pool);
    const member = await pool.connect();
    try {
      await member.query('set role authenticated');
      const groups = [0, 1, 2, 3, 4].map((i) => `gid-${Math.floor(PRINCIPALS * 0.6) + i * 37}`);
      await member.query("select set_config('request.jwt.claims', $1, false)", [
        JSON.stringify({
          sub: MEMBER,
          role: 'authenticated',
          email: 'user7@example.com',
          tributary_groups: groups,
          tributary_identities: [
            `user:uid-${Math.floor(PRINCIPALS * 0.3) + 11}`,
            `user:uid-${Math.floor(PRINCIPALS * 0.3) + 12}`,
          ],
        }),
      ]);
      await pool.query("update public.connector_configs set permission_mode = 'source' where id = $1", [
        CONNECTOR,
      ]);
      const readable = await member.query<{ n: string }>(
        'select count(*) as n from public.imported_documents',
      );
      console.log(`in source mode the member can open ${readable.rows[0]?.n} of ${DOCUMENTS} documents`);
      const vectors = Array.from(
        { length: QUERIES },
        (_, q) =>
          `[${Array.from({ length: DIMENSIONS }, (_, i) => (Math.abs(Math.sin(q * 131 + i)) * 2 - 1).toFixed(4)).join(',')}]`,
      );
      const kinds = {
        'full text': (q: number) => [null, null, `topic${q % CENTRES} word${q % 500}`],
        vectors: (q: number) => [vectors[q], MODEL, null],
        hybrid: (q: number) => [vectors[q], MODEL, `topic${q % CENTRES} shared`],
      } as const;
      for (const [kind, params] of Object.entries(kinds)) {
        const p50s: number[] = [];
        for (const mode of ['org', 'source'] as const) {
          await pool.query('update public.connector_configs set permission_mode = $1 where id = $2', [
            mode,
            CONNECTOR,
          ]);
          const run = async (q: number) => {
            const [vector, model, text] = params(q);
            const { rows } = await member.query(
              `select chunk_id from public.unified_content_search(query_embedding => $1::extensions.vector,
                 query_embedding_model => $2, match_org_id => $3, match_count => 10, query_text => $4, match_threshold => -1)`,
              [vector, model, ORG, text],
            );
            return rows.length;
          };
          for (let q = 0; q < 10; q += 1) await run(q);
          const latencies: number[] = [];
          let hits = 0;
          for (let q = 0; q < QUERIES; q += 1) {
            const start = performance.now();
            hits += await run(q);
            latencies.push(performance.now() - start);
          }
          latencies.sort((a, b) => a - b);
          p50s.push(percentile(latencies, 50));
          console.log(
            `${kind.padEnd(10)} ${mode.padEnd(7)} p50 ${percentile(latencies, 50).toFixed(1).padStart(7)} ms  p95 ${percentile(latencies, 95).toFixed(1).padStart(7)} ms  hits/query ${(hits / QUERIES).toFixed(1)}`,
          );
        }
        console.log(
          `${kind.padEnd(10)} source/org p50 ratio ${((p50s[1] ?? 0) / (p50s[0] ?? 1)).toFixed(2)}x`,
        );
      }
    } finally {
      member.release();
    }
    await pool.end();
  } finally {
    await server.stop();
  }
}

await main();
