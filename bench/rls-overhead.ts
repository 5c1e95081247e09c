// What does row level security cost on Tributary's documents table?
//
// On a real PostgreSQL server (embedded, the bundled migrations applied, pgvector deferred) with
// 100,000 documents across 100 organisations, the same two queries run as:
//   member   the `authenticated` role with JWT claims, RLS on, Tributary's policy
//            `org_id = any (array(select tributary_private.user_org_ids()))`
//   service  `service_role` (BYPASSRLS): the same query with no policy at all (the baseline)
//   naive    the seed audit's policy shape `org_id in (select org_id from users where id = auth.uid())`
//            on a copy table `imported_documents_naive` with the same rows and indexes
// Each variant runs after a warm-up, interleaved in rounds; the script prints median and p95
// latency per variant, the ratios member/service and naive/service, and one EXPLAIN ANALYZE each.
//
// Run: pnpm --filter @tributary/bench rls   (after `pnpm build`; see README.md)
// Tune: BENCH_ITERATIONS (default 3000 per variant and query), BENCH_WARMUP (default 300).
import { fromPg, migrate } from '@tributary/sql';
import { startPostgresServer } from '@tributary/testkit-postgres';
import type pg from 'pg';

const ORGANIZATIONS = 100;
const DOCUMENTS = 100_000;
const USERS_PER_ORG = 10; // 1 owner, 1 admin, 8 members
const CONNECTORS_PER_ORG = 2;
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 3000);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 300);
const ROUNDS = 10;

type Variant = 'member' | 'service' | 'naive';
const variants: Variant[] = ['member', 'service', 'naive'];

interface BenchQuery {
  name: string;
  /** SQL for a variant on a table; `$1`, when present, is the caller's organisation id. */
  sql: (table: string, variant: Variant) => string;
  /** Share of ITERATIONS to run (the RLS-only queries are slow for the naive policy). */
  share: number;
}

const queries: BenchQuery[] = [
  {
    name: 'latest 50 documents of my org',
    sql: (table) =>
      `select id, title from public.${table} where org_id = $1 order by created_at desc limit 50`,
    share: 1,
  },
  {
    name: 'count documents of my org',
    sql: (table) => `select count(*) from public.${table} where org_id = $1`,
    share: 1,
  },
  // What supabase-js code often sends: no org filter, RLS alone narrows the rows. The service role
  // (which sees everything) runs the equivalent query with the explicit filter as the baseline.
  {
    name: 'latest 50 documents I can see (no org filter: RLS filters)',
    sql: (table, variant) =>
      variant === 'service'
        ? `select id, title from public.${table} where org_id = $1 order by created_at desc limit 50`
        : `select id, title from public.${table} order by created_at desc limit 50`,
    share: 1 / 5,
  },
  {
    name: 'count documents I can see (no org filter: RLS filters)',
    sql: (table, variant) =>
      variant === 'service'
        ? `select count(*) from public.${table} where org_id = $1`
        : `select count(*) from public.${table}`,
    share: 1 / 5,
  },
];

// Deterministic ids: organisation o (1..100), user u (1..1000; user u belongs to org ceil(u / 10)).
const orgId = (o: number) => `00000000-0000-4000-8000-${o.toString(16).padStart(12, '0')}`;
const userId = (u: number) => `10000000-0000-4000-8000-${u.toString(16).padStart(12, '0')}`;
/** A plain member (not owner/admin) of organisation o. */
const memberOf = (o: number) => userId((o - 1) * USERS_PER_ORG + 3);

const seedSql = `
-- Memberships: per organisation one owner, one admin, eight members (Tributary's default table).
insert into tributary_private.memberships (user_id, org_id, role)
select ('10000000-0000-4000-8000-' || lpad(to_hex(u), 12, '0'))::uuid,
       ('00000000-0000-4000-8000-' || lpad(to_hex((u - 1) / ${USERS_PER_ORG} + 1), 12, '0'))::uuid,
       case (u - 1) % ${USERS_PER_ORG} when 0 then 'owner' when 1 then 'admin' else 'member' end
from generate_series(1, ${ORGANIZATIONS * USERS_PER_ORG}) as u;

insert into public.connector_configs (id, org_id, connector_type, name, created_at)
select ('20000000-0000-4000-8000-' || lpad(to_hex(c), 12, '0'))::uuid,
       ('00000000-0000-4000-8000-' || lpad(to_hex((c - 1) / ${CONNECTORS_PER_ORG} + 1), 12, '0'))::uuid,
       case c % 2 when 0 then 'google_drive' else 'notion' end,
       'Connector ' || c,
       now() - interval '400 days'
from generate_series(1, ${ORGANIZATIONS * CONNECTORS_PER_ORG}) as c;

-- Documents: ${DOCUMENTS} spread evenly over the organisations and their connectors, created over a year.
insert into public.imported_documents
  (org_id, connector_id, external_id, title, mime_type, content, file_size_bytes, processing_status,
   metadata, created_at, updated_at, first_synced_at, last_synced_at, last_seen_at)
select ('00000000-0000-4000-8000-' || lpad(to_hex(o), 12, '0'))::uuid,
       ('20000000-0000-4000-8000-' || lpad(to_hex((o - 1) * ${CONNECTORS_PER_ORG} + 1 + d % ${CONNECTORS_PER_ORG}), 12, '0'))::uuid,
       'file-' || d,
       'Document ' || d || ' of organisation ' || o,
       'application/pdf',
       repeat('Lorem ipsum dolor sit amet. ', 8) || d,
       1000 + (d::bigint * 7919) % 5000000,
       (array['pending', 'processing', 'completed', 'completed', 'completed', 'failed'])[1 + d % 6],
       jsonb_build_object('seq', d),
       ts, ts, ts, ts, ts
from generate_series(1, ${DOCUMENTS}) as d
cross join lateral (select (d - 1) % ${ORGANIZATIONS} + 1 as o,
                           now() - make_interval(secs => (d::bigint * 104729) % (365 * 86400)) as ts) as spread;


-- The seed-era shape: the host's users table and a copy of the documents with the naive policy.
create table public.users (
  id uuid primary key,
  org_id uuid not null,
  role text not null default 'member',
  email text
);
create index users_org_id_idx on public.users (org_id);
insert into public.users (id, org_id, role, email)
select user_id, org_id, role, user_id || '@example.test' from tributary_private.memberships;

create table public.imported_documents_naive as select * from public.imported_documents;
alter table public.imported_documents_naive add primary key (id);
create unique index imported_documents_naive_identity_key
  on public.imported_documents_naive (org_id, connector_id, external_id);
create unique index imported_documents_naive_org_id_id_key on public.imported_documents_naive (org_id, id);
create index imported_documents_naive_org_id_created_at_idx
  on public.imported_documents_naive (org_id, created_at desc);
alter table public.imported_documents_naive enable row level security;
create policy "Users can view their org's imported documents"
  on public.imported_documents_naive for select
  using (org_id in (select org_id from users where id = auth.uid()));
revoke all on public.imported_documents_naive, public.users from anon, authenticated;
grant select on public.imported_documents_naive, public.users to authenticated, service_role;
`;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

const ms = (value: number) => `${value.toFixed(3)} ms`;

/** Puts a session into a variant's role; claims are set per iteration (untimed). */
async function enterRole(client: pg.PoolClient, variant: Variant): Promise<void> {
  await client.query(`set role ${variant === 'service' ? 'service_role' : 'authenticated'}`);
}

async function setCaller(client: pg.PoolClient, variant: Variant, org: number): Promise<void> {
  const claims =
    variant === 'service' ? { role: 'service_role' } : { sub: memberOf(org), role: 'authenticated' };
  await client.query("select set_config('request.jwt.claims', $1, false)", [JSON.stringify(claims)]);
}

function tableFor(variant: Variant): string {
  return variant === 'naive' ? 'imported_documents_naive' : 'imported_documents';
}

async function timeOnce(client: pg.PoolClient, sql: string, org: number): Promise<number> {
  const start = process.hrtime.bigint();
  const result = await client.query(sql, sql.includes('$1') ? [orgId(org)] : []);
  const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.rows.length === 0) throw new Error(`[bench] no rows for org ${org}: ${sql}`);
  return elapsed;
}

async function main(): Promise<void> {
  const startedAt = performance.now();
  const server = await startPostgresServer();
  try {
    const database = await server.createDatabase({ name: 'tributary_bench' });
    const pool = server.pool(database, { max: variants.length + 1 });
    const version = await pool.query<{ server_version: string }>('show server_version');

    const migrated = await migrate(fromPg(pool));
    console.log(
      `PostgreSQL ${version.rows[0]?.server_version}; migrations applied: ${migrated.applied.map((m) => m.name).join(', ')}` +
        (migrated.deferred.length > 0
          ? `; deferred: ${migrated.deferred.map((m) => m.name).join(', ')}`
          : ''),
    );

    const loadStart = performance.now();
    await pool.query(seedSql);
    await pool.query('vacuum analyze');
    const counts = await pool.query<{ documents: string; naive: string; memberships: string }>(
      `select (select count(*) from public.imported_documents) as documents,
              (select count(*) from public.imported_documents_naive) as naive,
              (select count(*) from tributary_private.memberships) as memberships`,
    );
    console.log(
      `Loaded ${counts.rows[0]?.documents} documents (+ ${counts.rows[0]?.naive} in the naive copy), ` +
        `${ORGANIZATIONS} organisations, ${counts.rows[0]?.memberships} memberships in ${((performance.now() - loadStart) / 1000).toFixed(1)} s`,
    );
    console.log(
      `Iterations per variant and query: ${ITERATIONS} (a fifth of that for the RLS-only queries), after ${WARMUP} warm-up, in ${ROUNDS} interleaved rounds\n`,
    );

    const clients = new Map<Variant, pg.PoolClient>();
    for (const variant of variants) {
      const client = await pool.connect();
      await enterRole(client, variant);
      clients.set(variant, client);
    }
    const clientFor = (variant: Variant): pg.PoolClient => {
      const client = clients.get(variant);
      if (!client) throw new Error(`[bench] no client for ${variant}`);
      return client;
    };

    // Sanity: a member sees exactly their organisation's 1,000 documents under both policies.
    for (const variant of variants) {
      const client = clientFor(variant);
      await setCaller(client, variant, 7);
      const visible = await client.query<{ n: string }>(
        `select count(*) as n from public.${tableFor(variant)}`,
      );
      console.log(`visible rows without a filter, as ${variant.padEnd(7)}: ${visible.rows[0]?.n}`);
    }
    console.log('');

    const summary: string[] = [];
    for (const query of queries) {
      const samples = new Map<Variant, number[]>(variants.map((variant) => [variant, []]));
      let org = 0;
      const nextOrg = () => (org++ % ORGANIZATIONS) + 1;
      for (const variant of variants) {
        const client = clientFor(variant);
        for (let i = 0; i < Math.max(10, Math.round(WARMUP * query.share)); i++) {
          const o = nextOrg();
          await setCaller(client, variant, o);
          await timeOnce(client, query.sql(tableFor(variant), variant), o);
        }
      }
      const iterations = Math.max(ROUNDS, Math.round(ITERATIONS * query.share));
      const perRound = Math.ceil(iterations / ROUNDS);
      for (let round = 0; round < ROUNDS; round++) {
        for (const variant of variants) {
          const client = clientFor(variant);
          const bucket = samples.get(variant) ?? [];
          for (let i = 0; i < perRound && bucket.length < iterations; i++) {
            const o = nextOrg();
            await setCaller(client, variant, o);
            bucket.push(await timeOnce(client, query.sql(tableFor(variant), variant), o));
          }
        }
      }

      const stats = new Map<Variant, { median: number; p95: number }>();
      console.log(`== ${query.name}`);
      console.log(`   ${query.sql('<table>', 'member')}`);
      if (query.sql('<table>', 'service') !== query.sql('<table>', 'member')) {
        console.log(`   (service: ${query.sql('<table>', 'service')})`);
      }
      for (const variant of variants) {
        const sorted = [...(samples.get(variant) ?? [])].sort((a, b) => a - b);
        const entry = { median: percentile(sorted, 50), p95: percentile(sorted, 95) };
        stats.set(variant, entry);
        console.log(
          `   ${variant.padEnd(8)} median ${ms(entry.median).padStart(10)}   p95 ${ms(entry.p95).padStart(10)}   (n=${sorted.length})`,
        );
      }
      const service = stats.get('service');
      const member = stats.get('member');
      const naive = stats.get('naive');
      if (service && member && naive) {
        const ratios =
          `member/service median ${(member.median / service.median).toFixed(2)}x, p95 ${(member.p95 / service.p95).toFixed(2)}x; ` +
          `naive/service median ${(naive.median / service.median).toFixed(2)}x, p95 ${(naive.p95 / service.p95).toFixed(2)}x`;
        console.log(`   ${ratios}\n`);
        summary.push(`${query.name}: ${ratios}`);
      }

      for (const variant of variants) {
        const client = clientFor(variant);
        await setCaller(client, variant, 42);
        const plan = await client.query<{ 'QUERY PLAN': string }>(
          `explain (analyze, buffers, costs off) ${query.sql(tableFor(variant), variant)}`,
          query.sql(tableFor(variant), variant).includes('$1') ? [orgId(42)] : [],
        );
        console.log(`   EXPLAIN ANALYZE as ${variant}:`);
        for (const row of plan.rows) console.log(`     ${row['QUERY PLAN']}`);
      }
      console.log('');
    }

    console.log('== Summary');
    for (const line of summary) console.log(`   ${line}`);
    console.log(`\nFinished in ${((performance.now() - startedAt) / 1000).toFixed(1)} s`);
    for (const client of clients.values()) client.release();
  } finally {
    await server.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
