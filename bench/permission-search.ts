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
// For vectors, recall@10 of the source-mode results against the exact nearest readable chunks
// (computed by the bench itself: every chunk of a document whose ACL names one of the member's
// principals, compared exactly) is printed too.
//
// Run: pnpm --filter @tributary/bench permission-search   (after `pnpm build`)
// Tune: BENCH_DOCUMENTS, BENCH_PRINCIPALS, BENCH_QUERIES (default 100), BENCH_DIMENSIONS (default 1536, the
// column's default and what most embedders produce; until 2026-12-04 the default was 64),
// BENCH_KINDS (e.g. `vectors`; default all three), BENCH_VARIANTS: extra source-mode runs with
// session settings, `name=setting:value,setting:value;name2=...`, e.g.
// `ef200=tributary.hnsw_filtered_ef_search:200;hnsw=tributary.permission_exact_max_rows:0` (0: never the
// exact readers path of 0028, always the filtered HNSW scan).
// BENCH_MIXED_DOCUMENTS (default 0): documents of a second connector that stays in `org` mode, and
// BENCH_UPLOADS (default 0): documents without a connector (uploads), beside the source-mode one:
// an organisation that mixes modes (0029), every member reads those.
// BENCH_INTERLEAVE=1 runs org, source and each variant in turn on every query (fairer on a
// shared machine whose load changes). BENCH_EXPLAIN=1 prints each run's plans of its first query (auto_explain, nested statements).
import { fromPg, migrate } from '@tributary/sql';
import { startPostgresServer } from '@tributary/testkit-postgres';
import type pg from 'pg';

const DOCUMENTS = Number(process.env.BENCH_DOCUMENTS ?? 100_000);
const PRINCIPALS = Number(process.env.BENCH_PRINCIPALS ?? 1_000);
const QUERIES = Number(process.env.BENCH_QUERIES ?? 100);
const DIMENSIONS = Number(process.env.BENCH_DIMENSIONS ?? 1536);
const KINDS = (process.env.BENCH_KINDS ?? 'full text,vectors,hybrid').split(',').map((k) => k.trim());
const VARIANTS: { name: string; settings: [string, string][] }[] = (process.env.BENCH_VARIANTS ?? '')
  .split(';')
  .filter((v) => v.includes('='))
  .map((v) => {
    const [name, list] = v.split('=') as [string, string];
    return {
      name: name.trim(),
      settings: list.split(',').map((pair) => pair.split(':').map((x) => x.trim()) as [string, string]),
    };
  });
const MIXED_DOCUMENTS = Number(process.env.BENCH_MIXED_DOCUMENTS ?? 0);
const UPLOADS = Number(process.env.BENCH_UPLOADS ?? 0);
const CENTRES = 32;
const MODEL = `bench:perm@${DIMENSIONS}`;
const ORG = '00000000-0000-4000-8000-000000000001';
const MEMBER = '10000000-0000-4000-8000-000000000001';
const CONNECTOR = '20000000-0000-4000-8000-000000000001';
const ORG_CONNECTOR = '20000000-0000-4000-8000-000000000002';

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
    `insert into public.connector_configs (id, org_id, connector_type, name) values ('${CONNECTOR}', '${ORG}', 'bench', 'Bench'),
       ('${ORG_CONNECTOR}', '${ORG}', 'bench', 'Bench (org mode)')`,
  );
  // ACL entry for principal p (0..PRINCIPALS-1) as JSON, set-based.
  const entry = `case
      when p.n < ${Math.floor(PRINCIPALS * 0.3)} then jsonb_build_object('type', 'user', 'email', 'user' || p.n || '@example.com', 'role', 'reader')
      when p.n < ${Math.floor(PRINCIPALS * 0.6)} then jsonb_build_object('type', 'user', 'id', 'uid-' || p.n, 'role', 'reader')
      when p.n < ${PRINCIPALS - 2} then jsonb_build_object('type', 'group', 'id', 'gid-' || p.n, 'role', 'reader')
      else jsonb_build_object('type', 'domain', 'domain', 'domain' || p.n || '.example', 'role', 'reader') end`;
  const batch = 10_000;
  // The source-mode connector's documents (with ACLs), then the mixed organisation's others: an
  // org-mode connector's and uploads (no connector, no ACL).
  const parts = [
    { connector: `'${CONNECTOR}'`, prefix: 'doc-', count: DOCUMENTS, acl: true },
    { connector: `'${ORG_CONNECTOR}'`, prefix: 'org-', count: MIXED_DOCUMENTS, acl: false },
    { connector: 'null', prefix: 'upload-', count: UPLOADS, acl: false },
  ];
  for (const part of parts)
    for (let from = 0; from < part.count; from += batch) {
      await pool.query(
        `with docs as (
         insert into public.imported_documents (org_id, connector_id, external_id, title, processing_status, metadata)
         select '${ORG}', ${part.connector}::uuid, '${part.prefix}' || d, 'Doc ' || d, 'completed',
                case when not ${part.acl} then '{}'::jsonb else jsonb_build_object('permissions', case when d % 50 = 0
                  then jsonb_build_array(jsonb_build_object('type', 'anyone', 'role', 'reader'))
                  else (select jsonb_agg(${entry}) from (
                          select (abs(hashtext(d || ':' || k)) % ${PRINCIPALS}) as n
                          from generate_series(1, 1 + abs(hashtext(d::text)) % 3) k) p) end) end
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
        [from + 1, Math.min(part.count, from + batch)],
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
      const explain = process.env.BENCH_EXPLAIN === '1';
      if (explain) {
        await member.query("load 'auto_explain'");
        member.on('notice', (notice) => {
          if (/Query Text|Plan/.test(notice.message ?? '')) console.log(notice.message);
        });
      }
      const explaining = async (on: boolean) => {
        if (!explain) return;
        await member.query('reset role'); // auto_explain's settings are the superuser's
        for (const [name, value] of [
          ['auto_explain.log_min_duration', on ? '0' : '-1'],
          ['auto_explain.log_analyze', on ? 'on' : 'off'],
          ['auto_explain.log_buffers', on ? 'on' : 'off'],
          ['auto_explain.log_nested_statements', on ? 'on' : 'off'],
          ['auto_explain.log_level', 'notice'],
        ])
          await member.query('select set_config($1, $2, false)', [name, value]);
        await member.query('set role authenticated');
      };
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
      console.log(
        `in source mode the member can open ${readable.rows[0]?.n} of ${(DOCUMENTS + MIXED_DOCUMENTS + UPLOADS).toLocaleString('en-US')} documents (${MIXED_DOCUMENTS.toLocaleString('en-US')} of an org-mode connector, ${UPLOADS.toLocaleString('en-US')} uploads)`,
      );
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
      const search = async (kind: keyof typeof kinds, q: number) => {
        const [vector, model, text] = kinds[kind](q);
        const { rows } = await member.query<{ chunk_id: string; semantic_strategy: string | null }>(
          `select chunk_id, semantic_strategy from public.unified_content_search(query_embedding => $1::extensions.vector,
             query_embedding_model => $2, match_org_id => $3, match_count => 10, query_text => $4, match_threshold => -1)`,
          [vector, model, ORG, text],
        );
        return rows;
      };
      const setMode = (mode: 'org' | 'source') =>
        pool.query('update public.connector_configs set permission_mode = $1 where id = $2', [
          mode,
          CONNECTOR,
        ]);
      const apply = async (settings: [string, string][], reset = false) => {
        for (const [name, value] of settings)
          await member.query('select set_config($1, $2, false)', [name, reset ? '' : value]);
      };
      // Exact nearest readable chunks per vector query: recall's truth, computed apart from the
      // search function (every chunk of a document whose ACL names one of the member's principals,
      // compared exactly; the materialised CTE keeps the HNSW index out).
      const principals =
        (
          await member.query<{ keys: string[] }>(
            'select array(select tributary_private.caller_principals()) as keys',
          )
        ).rows[0]?.keys ?? [];
      const truth: Set<string>[] = [];
      for (let q = 0; q < QUERIES; q += 1) {
        const { rows } = await pool.query<{ id: string }>(
          `with readable as materialized (
             select c.id, c.embedding from public.document_chunks c
             join public.imported_documents d on d.org_id = c.org_id and d.id = c.document_id
             where c.org_id = $1 and c.embedding_model = $2 and c.embedding is not null
               and not d.is_deleted and d.processing_status = 'completed'
               and (d.connector_id is distinct from '${CONNECTOR}'::uuid
                    or exists (select from tributary_private.document_principals p
                               where p.document_id = d.id and p.principal = any ($3::text[]))))
           select r.id from readable r
           order by r.embedding operator(extensions.<=>) $4::extensions.vector, r.id limit 10`,
          [ORG, MODEL, principals, vectors[q]],
        );
        truth.push(new Set(rows.map((row) => row.id)));
      }

      for (const kind of Object.keys(kinds) as (keyof typeof kinds)[]) {
        if (!KINDS.includes(kind)) continue;
        const runs: { label: string; mode: 'org' | 'source'; settings: [string, string][] }[] = [
          { label: 'org', mode: 'org', settings: [] },
          { label: 'source', mode: 'source', settings: [] },
          ...VARIANTS.map((v) => ({
            label: `source ${v.name}`,
            mode: 'source' as const,
            settings: v.settings,
          })),
        ];
        if (process.env.BENCH_INTERLEAVE === '1') {
          // Every run takes its turn on each query (starting from a rotating one), so a load
          // change on a shared machine falls on all of them alike.
          const times = runs.map(() => [] as number[]);
          const found = runs.map(() => 0);
          for (const run of runs) {
            await setMode(run.mode);
            for (let q = 0; q < 10; q += 1) await search(kind, q);
          }
          for (let q = 0; q < QUERIES; q += 1) {
            for (let k = 0; k < runs.length; k += 1) {
              const index = (q + k) % runs.length;
              const run = runs[index] as (typeof runs)[number];
              await setMode(run.mode);
              await apply(run.settings);
              const start = performance.now();
              const rows = await search(kind, q);
              times[index]?.push(performance.now() - start);
              await apply(run.settings, true);
              for (const row of rows) if (truth[q]?.has(row.chunk_id)) found[index] = (found[index] ?? 0) + 1;
            }
          }
          const total = truth.reduce((n, t) => n + t.size, 0);
          const orgMedian = percentile(
            [...(times[0] ?? [])].sort((a, b) => a - b),
            50,
          );
          runs.forEach((run, index) => {
            const sorted = [...(times[index] ?? [])].sort((a, b) => a - b);
            const p50 = percentile(sorted, 50);
            console.log(
              `${kind.padEnd(10)} ${`${run.label} (interleaved)`.padEnd(30)} p50 ${p50.toFixed(1).padStart(7)} ms  p95 ${percentile(sorted, 95).toFixed(1).padStart(7)} ms${kind === 'vectors' && run.mode === 'source' ? `  recall@10 ${((found[index] ?? 0) / total).toFixed(3)}` : ''}${run.mode === 'source' ? `  source/org p50 ${(p50 / orgMedian).toFixed(2)}x` : ''}`,
            );
          });
          continue;
        }
        let orgP50 = Number.NaN;
        for (const { label, mode, settings } of runs) {
          await setMode(mode);
          await apply(settings);
          for (let q = 0; q < 10; q += 1) await search(kind, q);
          if (explain) {
            console.log(`--- plans: ${kind} ${label}`);
            await explaining(true);
            await search(kind, 0);
            await explaining(false);
          }
          const latencies: number[] = [];
          let hits = 0;
          let found = 0;
          const strategies = new Set<string>();
          for (let q = 0; q < QUERIES; q += 1) {
            const start = performance.now();
            const rows = await search(kind, q);
            latencies.push(performance.now() - start);
            hits += rows.length;
            for (const row of rows) {
              if (row.semantic_strategy) strategies.add(row.semantic_strategy);
              if (truth[q]?.has(row.chunk_id)) found += 1;
            }
          }
          await apply(settings, true);
          latencies.sort((a, b) => a - b);
          const p50 = percentile(latencies, 50);
          if (mode === 'org') orgP50 = p50;
          const recall =
            kind === 'vectors' && mode === 'source'
              ? `  recall@10 ${(found / truth.reduce((n, t) => n + t.size, 0)).toFixed(3)}`
              : '';
          console.log(
            `${kind.padEnd(10)} ${label.padEnd(16)} p50 ${p50.toFixed(1).padStart(7)} ms  p95 ${percentile(latencies, 95).toFixed(1).padStart(7)} ms  hits/query ${(hits / QUERIES).toFixed(1)}  strategy ${[...strategies].join('+') || '-'}${recall}${mode === 'source' ? `  source/org p50 ${(p50 / orgP50).toFixed(2)}x` : ''}`,
          );
        }
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
