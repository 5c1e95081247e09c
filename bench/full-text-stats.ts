// What the BM25 term statistics cost on writes: the CISI abstracts written as one chunk each through
// replace_document_chunks into three databases of one PostgreSQL server — statistics triggers
// disabled ("no stats"), 0015's per-statement upserts (the migrations rolled back one step), and
// 0025's queue folded at commit — in single-statement transactions, in multi-statement
// transactions, and from concurrent writers. Variants run interleaved, round after round, so load
// changes on the shared machine hit them alike. Each figure is the wall time of writing every
// document once; after each, the statistics are checked against a count of the chunks and the
// chunks deleted (untimed).
//
//   pnpm turbo run build --filter=@tributary/bench^...
//   pnpm --filter @tributary/bench fts-stats
//
// Knobs: BENCH_FTS_DOCS (documents, default all 1,460), BENCH_FTS_ROUNDS (3), BENCH_FTS_TX
// (documents per multi-statement transaction, 250), BENCH_FTS_WRITERS (4), BENCH_FTS_SCENARIOS
// (single,multi,concurrent).
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fromPg, migrate, rollback } from '@tributary/sql';
import { startPostgresServer } from '@tributary/testkit-postgres';
import type pg from 'pg';
import { loadCisi } from './cisi.ts';

const DATASET =
  process.env.BENCH_CISI_DIR ??
  [new URL('../../shared/datasets/cisi', import.meta.url).pathname, '/work/shared/datasets/cisi'].find(
    (dir) => existsSync(dir),
  ) ??
  'shared/datasets/cisi';
const ROUNDS = Number(process.env.BENCH_FTS_ROUNDS ?? 3);
const TX_DOCS = Number(process.env.BENCH_FTS_TX ?? 250);
const WRITERS = Number(process.env.BENCH_FTS_WRITERS ?? 4);
const ORG_ID = '00000000-0000-4000-8000-0000000f7500';

type Variant = 'no stats' | '0015' | '0025';
type Scenario = 'single' | 'multi' | 'concurrent';
const variants: Variant[] = ['no stats', '0015', '0025'];
const scenarios = (process.env.BENCH_FTS_SCENARIOS ?? 'single,multi,concurrent').split(',') as Scenario[];

const load = () =>
  loadavg()
    .map((value) => value.toFixed(1))
    .join(' ');

const collection = await loadCisi(DATASET);
const documents = collection.documents.slice(
  0,
  Number(process.env.BENCH_FTS_DOCS ?? collection.documents.length),
);
console.log(`full-text-stats: ${documents.length} CISI documents, ${ROUNDS} rounds, load ${load()}`);

const server = await startPostgresServer();
const template = await server.createDatabase({ name: 'tributary_bench_fts_template' });
{
  const pool = server.pool(template, { max: 2 });
  await migrate(fromPg(pool));
  await pool.end();
}

interface Target {
  variant: Variant;
  pool: pg.Pool;
  documentIds: string[];
}

function chunkPayload(documentId: string, title: string, text: string): string {
  const content = `${title}\n\n${text}`.slice(0, 32_000);
  return JSON.stringify([
    {
      document_id: documentId,
      chunks: [{ chunk_index: 0, content, content_hash: createHash('sha256').update(content).digest('hex') }],
    },
  ]);
}

async function open(variant: Variant): Promise<Target> {
  const name = await server.createDatabase({ template });
  const pool = server.pool(name, { max: WRITERS + 2 });
  if (variant === '0015') {
    const result = await rollback(fromPg(pool), { steps: 1 });
    const names = result.rolledBack.map((entry) => entry.name);
    if (names.join() !== '0025_full_text_stats_at_commit')
      throw new Error(`expected to roll back 0025, got ${names}`);
  } else if (variant === 'no stats') {
    await pool.query(`alter table public.document_chunks
      disable trigger document_chunks_full_text_stats_insert,
      disable trigger document_chunks_full_text_stats_update,
      disable trigger document_chunks_full_text_stats_delete`);
  }
  await pool.query(
    `insert into tributary_private.memberships (user_id, org_id, role) values (gen_random_uuid(), $1, 'owner')`,
    [ORG_ID],
  );
  const { rows: connector } = await pool.query<{ id: string }>(
    `insert into public.connector_configs (org_id, connector_type, name, sync_frequency)
     values ($1, 'google_drive', 'bench', 'manual') returning id`,
    [ORG_ID],
  );
  const { rows } = await pool.query<{ id: string }>(
    `insert into public.imported_documents (org_id, connector_id, external_id, title, processing_status)
     select $1, $2, x, x, 'completed' from unnest($3::text[]) x returning id`,
    [ORG_ID, connector[0]?.id, documents.map((document) => document.id)],
  );
  return { variant, pool, documentIds: rows.map((row) => row.id) };
}

async function writeAll(target: Target, scenario: Scenario): Promise<number> {
  const payloads = documents.map((document, index) =>
    chunkPayload(target.documentIds[index] ?? '', document.title, document.text),
  );
  const write = (client: pg.PoolClient | pg.Pool, payload: string) =>
    client.query('select * from public.replace_document_chunks($1::jsonb)', [payload]);
  const started = performance.now();
  if (scenario === 'single') {
    const client = await target.pool.connect();
    try {
      for (const payload of payloads) await write(client, payload);
    } finally {
      client.release();
    }
  } else if (scenario === 'multi') {
    const client = await target.pool.connect();
    try {
      for (let start = 0; start < payloads.length; start += TX_DOCS) {
        await client.query('begin');
        for (const payload of payloads.slice(start, start + TX_DOCS)) await write(client, payload);
        await client.query('commit');
      }
    } finally {
      client.release();
    }
  } else {
    await Promise.all(
      Array.from({ length: WRITERS }, async (_, writer) => {
        const client = await target.pool.connect();
        try {
          for (let index = writer; index < payloads.length; index += WRITERS) {
            await write(client, payloads[index] ?? '');
          }
        } finally {
          client.release();
        }
      }),
    );
  }
  return performance.now() - started;
}

async function statisticsRight(target: Target): Promise<boolean> {
  const { rows } = await target.pool.query<{ same: boolean }>(
    `select (select count(*) from (
        select c.org_id, l.lexeme collate "C", count(*) from public.document_chunks c
          cross join lateral unnest(tsvector_to_array(c.fts)) l(lexeme) group by 1, 2
        except
        select org_id, lexeme, sum(chunk_count) from tributary_private.full_text_terms
          group by 1, 2 having sum(chunk_count) <> 0) x) = 0 as same`,
  );
  return rows[0]?.same === true;
}

const targets: Target[] = [];
for (const variant of variants) targets.push(await open(variant));
const times = new Map<string, number[]>();

for (let round = 1; round <= ROUNDS; round++) {
  for (const scenario of scenarios) {
    // A different variant goes first each round.
    const order = targets.map((_, index) => targets[(index + round) % targets.length] as Target);
    for (const target of order) {
      const ms = await writeAll(target, scenario);
      const key = `${scenario}|${target.variant}`;
      times.set(key, [...(times.get(key) ?? []), ms]);
      if (target.variant !== 'no stats' && !(await statisticsRight(target))) {
        throw new Error(`statistics of ${target.variant} do not match the chunks after ${scenario}`);
      }
      await target.pool.query('delete from public.document_chunks');
      console.log(
        `  round ${round} ${scenario.padEnd(10)} ${target.variant.padEnd(8)} ${ms.toFixed(0).padStart(6)} ms  (load ${load()})`,
      );
    }
  }
}

const describe = {
  single: `${documents.length} single-statement transactions`,
  multi: `${TX_DOCS} statements per transaction`,
  concurrent: `${WRITERS} concurrent writers, single-statement`,
} satisfies Record<Scenario, string>;
const range = (values: number[]) => `${Math.min(...values).toFixed(0)}-${Math.max(...values).toFixed(0)} ms`;

console.log(`\n| scenario | no stats | 0015 | 0025 | 0015 / no stats | 0025 / no stats | 0025 / 0015 |`);
console.log('|---|---|---|---|---|---|---|');
for (const scenario of scenarios) {
  const none = times.get(`${scenario}|no stats`) ?? [];
  const old = times.get(`${scenario}|0015`) ?? [];
  const now = times.get(`${scenario}|0025`) ?? [];
  // Ratios per round (the variants of one round ran back to back), as a range.
  const ratio = (a: number[], b: number[]) => {
    const values = a.map((value, index) => value / (b[index] ?? Number.NaN));
    return `${Math.min(...values).toFixed(2)}-${Math.max(...values).toFixed(2)}x`;
  };
  console.log(
    `| ${describe[scenario]} | ${range(none)} | ${range(old)} | ${range(now)} | ${ratio(old, none)} | ${ratio(now, none)} | ${ratio(now, old)} |`,
  );
}
console.log(`\nload ${load()} at the end`);

for (const target of targets) await target.pool.end();
await server.stop();
