// What does one sync cost, end to end? The pipeline (`runSync`, default settings) over synthetic
// documents, on PGlite (pgvector, HNSW index) and on a real PostgreSQL server with pgvector (HNSW index;
// installed by scripts/install-postgres.sh).
//
// - Documents: BENCH_DOCUMENTS (default 10,000) deterministic Markdown documents of ~5 KB each
//   (headings, varied text), from an in-memory connector made with `defineConnector`: every
//   document has a `version` and lazy content whose `load()` calls are counted.
// - Embedder: a stub implementing core's `Embedder` (OpenAI-like limits: 2,048 inputs and 300,000
//   tokens per request) that sleeps 50 ms per request and returns deterministic 1536-dimension
//   unit vectors; requests and inputs are counted.
// - Phases per backend: (1) initial ingest, (2) re-sync with nothing changed (must load nothing and
//   embed nothing), (3) re-sync with 10% of the documents changed (a new version whose third
//   section is rewritten). Each prints time, documents/s, loads, embedding requests and inputs,
//   reused embeddings, the time spent in each repository method, and peak RSS (sampled every 50 ms).
//
// - On the server, after the initial ingest: the raw floor. The same rows (vectors included) are
//   COPYed by as many connections as the pipeline's writers into an identical table (same
//   columns, same HNSW and GIN indexes), no framework: time per chunk vs the pipeline's.
// - Embedding requests are compared with the minimum the stub's limits allow for the tokens and
//   inputs actually sent (max of inputs/2,048 and tokens/300,000, rounded up).
// - Scale (server): BENCH_SCALE_DOCUMENTS (default 100,000) small documents (~0.6 KB, one chunk)
//   with small vectors (BENCH_SCALE_DIMENSIONS, default 16: the 100k figures are about the
//   pipeline's skip path and memory, not HNSW cost): initial, unchanged (target <= 5 s, 0 loads,
//   0 requests), 1% changed; peak RSS over all three (target <= 300 MB).
// - Big binary: one connector document streaming BENCH_BIG_BYTES (default 2 GiB) of generated
//   bytes, offered with and without `sizeBytes`: refused before download or stopped at the
//   100 MB cap; peak RSS (target <= 200 MB).
//
// Run: pnpm --filter @tributary/bench pipeline   (after building the workspace packages; see README.md)
// Tune: BENCH_DOCUMENTS (default 10000), BENCH_BACKENDS (default `postgres`), BENCH_WRITERS (default 2),
// BENCH_PARTS (default `ingest,scale,big`), BENCH_FLOOR=0 skips the floor.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline as pipeStreams } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import {
  defineConnector,
  type Embedder,
  type KnowledgeRepository,
  loadTokenizer,
  reportSyncTotal,
  runSync,
  type SyncSummary,
} from '@tributary/core';
import { createPgliteRepository } from '@tributary/core/pglite';
import { createNodePostgresRepository } from '@tributary/core/postgres';
import { fromPg, fromPglite, migrate } from '@tributary/sql';
import { startPostgresServer } from '@tributary/testkit-postgres';
import type pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';

const DOCUMENTS = Number(process.env.BENCH_DOCUMENTS ?? 10_000);
const WRITERS = Number(process.env.BENCH_WRITERS ?? 2);
const PARTS = new Set((process.env.BENCH_PARTS ?? 'ingest,scale,big').split(',').map((p) => p.trim()));
const SCALE_DOCUMENTS = Number(process.env.BENCH_SCALE_DOCUMENTS ?? 100_000);
const SCALE_DIMENSIONS = Number(process.env.BENCH_SCALE_DIMENSIONS ?? 16);
// `pipeline` (default): the scale run's initial ingest goes through runSync (~10 minutes on 2 cores);
// `sql`: the same documents (and one chunk each) are inserted set-based, as a completed initial
// ingest leaves them, so the re-sync phases can be measured in a few minutes.
const SCALE_SEED = process.env.BENCH_SCALE_SEED ?? 'pipeline';
// Which scale re-syncs run after the seed: `unchanged,changed` (default); `unchanged` alone for a profile.
const SCALE_PHASES = new Set(
  (process.env.BENCH_SCALE_PHASES ?? 'unchanged,changed').split(',').map((p) => p.trim()),
);
const BIG_BYTES = Number(process.env.BENCH_BIG_BYTES ?? 2 * 1024 ** 3);
const BACKENDS = (process.env.BENCH_BACKENDS ?? 'postgres')
  .split(',')
  .map((name) => name.trim())
  .filter((name) => name !== '');
const EMBED_DELAY_MS = 50;
const DIMENSIONS = Number(process.env.BENCH_DIMENSIONS ?? 1536);
// How the ingest backend stores vectors: `vector` (4 bytes a value) or `halfvec` (2 bytes, half the
// index), chosen when the migrations are applied.
const VECTOR_TYPE = (process.env.BENCH_VECTOR_TYPE ?? 'vector') as 'vector' | 'halfvec';
const CHANGED_SHARE = 0.1;
const RSS_SAMPLE_MS = 50;

// ---- deterministic text ----------------------------------------------------------------------

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

const WORDS = (
  'account action agenda analysis annual approval architecture archive audit backlog balance ' +
  'benefit budget calendar campaign capacity catalog change channel checklist client cluster ' +
  'commitment compliance contract cost coverage customer dashboard database deadline decision ' +
  'delivery dependency deployment design detail device discount document draft effort engineer ' +
  'estimate event expense feature feedback finance forecast framework funding goal guideline ' +
  'hardware headcount holiday incident index initiative insight inventory invoice issue leave ' +
  'license limit load manager margin market meeting metric migration milestone module network ' +
  'office onboarding operation option order outage owner partner payment payroll pipeline plan ' +
  'policy portal priority process procurement product project proposal quality quarter query ' +
  'ratio record region release report request requirement resource review revenue risk roadmap ' +
  'rollout salary schedule schema security server service session signal software sprint staff ' +
  'standard strategy supplier support survey system target task team template tenant test ' +
  'ticket timeline training travel trend update upgrade usage vendor version warehouse workflow'
).split(' ');
const VERBS = (
  'adjusts approves blocks captures changes checks covers defines delays describes drives ' +
  'enables estimates explains extends improves includes limits lists measures moves needs ' +
  'outlines owns plans reduces replaces requires reviews schedules shows supports tracks updates'
).split(' ');

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

function sentence(random: () => number): string {
  const words = [pick(random, WORDS), pick(random, WORDS), pick(random, VERBS)];
  const extra = 4 + Math.floor(random() * 9);
  for (let i = 0; i < extra; i++) words.push(pick(random, WORDS));
  if (random() < 0.3) words.push(String(Math.floor(random() * 10_000)));
  const text = words.join(' ');
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}.`;
}

function paragraph(random: () => number, sentences: number): string {
  return Array.from({ length: sentences }, () => sentence(random)).join(' ');
}

const SECTIONS = 7;

function sectionText(doc: number, section: number, revision: number): string {
  // Revision 1 is the original; a changed document rewrites its third section only.
  const seed = fnv1a(`doc ${doc} section ${section} revision ${section === 2 ? revision : 1}`);
  const random = mulberry32(seed);
  const heading = `## ${pick(random, WORDS)} ${pick(random, WORDS)} ${section + 1}`;
  const body = [paragraph(random, 4), paragraph(random, 3)];
  if (random() < 0.4) {
    body.push(Array.from({ length: 3 }, () => `- ${pick(random, WORDS)}: ${sentence(random)}`).join('\n'));
  }
  return [heading, ...body].join('\n\n');
}

function documentTitle(doc: number): string {
  const random = mulberry32(fnv1a(`title ${doc}`));
  return `Document ${doc}: ${pick(random, WORDS)} ${pick(random, WORDS)} ${pick(random, WORDS)}`;
}

let sectionsPerDocument = SECTIONS;

function documentText(doc: number, revision: number): string {
  // The scale run uses one short section (changed documents rewrite it).
  if (sectionsPerDocument === 1) {
    return `# ${documentTitle(doc)}\n\n${sectionText(doc, 2, revision).slice(0, 600)}\n`;
  }
  const sections = Array.from({ length: SECTIONS }, (_, section) => sectionText(doc, section, revision));
  return `# ${documentTitle(doc)}\n\n${sections.join('\n\n')}\n`;
}

// ---- the in-memory source ----------------------------------------------------------------------

interface Source {
  revisions: Uint8Array;
  loads: number;
  loadMs: number;
}

function createSource(documents: number): Source {
  return { revisions: new Uint8Array(documents).fill(1), loads: 0, loadMs: 0 };
}

function createBenchConnector(source: Source) {
  return defineConnector({
    type: 'bench_memory',
    displayName: 'Bench (in memory)',
    async check() {},
    async *sync(ctx) {
      reportSyncTotal(ctx, source.revisions.length);
      for (let doc = 0; doc < source.revisions.length; doc++) {
        const revision = source.revisions[doc] ?? 1;
        yield {
          kind: 'upsert',
          document: {
            externalId: `doc-${doc}`,
            title: documentTitle(doc),
            mimeType: 'text/markdown',
            version: `r${revision}`,
            content: {
              kind: 'lazy',
              load: async () => {
                const started = performance.now();
                source.loads += 1;
                const text = documentText(doc, revision);
                source.loadMs += performance.now() - started;
                return { kind: 'text', text };
              },
            },
          },
        };
      }
      yield { kind: 'listing-complete', complete: true };
    },
  });
}

// ---- the embedder stub -------------------------------------------------------------------------

interface StubEmbedder extends Embedder {
  requests: number;
  inputs: number;
  tokens: number;
}

const tokenizer = await loadTokenizer('cl100k_base');

function createStubEmbedder(dimensions = DIMENSIONS): StubEmbedder {
  const stub: StubEmbedder = {
    id: `bench:stub@${dimensions}`,
    model: 'stub',
    dimensions,
    kind: 'semantic',
    maxInputsPerRequest: 2048,
    maxTokensPerRequest: 300_000,
    maxTokensPerInput: 8191,
    requests: 0,
    inputs: 0,
    tokens: 0,
    async embed(texts, options) {
      stub.requests += 1;
      stub.inputs += texts.length;
      let tokens = 0;
      for (const text of texts) tokens += tokenizer.count(text);
      stub.tokens += tokens;
      if (texts.length > 2048 || tokens > 300_000) {
        throw new Error(`stub: request over the limits (${texts.length} inputs, ${tokens} tokens)`);
      }
      await sleep(EMBED_DELAY_MS, undefined, { signal: options?.signal });
      // One array of doubles per vector, as an SDK's decoded response holds them (a callback per
      // value and a spread into Math.hypot would box every double and triple the garbage).
      const vectors = texts.map((text) => {
        const random = mulberry32(fnv1a(text));
        const values: number[] = new Array(dimensions);
        let squares = 0;
        for (let index = 0; index < dimensions; index++) {
          const value = random() * 2 - 1;
          values[index] = value;
          squares += value * value;
        }
        const norm = Math.sqrt(squares) || 1;
        for (let index = 0; index < dimensions; index++) values[index] = (values[index] as number) / norm;
        return values;
      });
      return { vectors, usage: { requests: 1, inputs: texts.length, tokens, costUsd: 0 } };
    },
  };
  return stub;
}

// ---- measuring -------------------------------------------------------------------------------

/** Wraps a repository so that every method's calls and time are recorded. */
function timedRepository(
  repository: KnowledgeRepository,
  timings: Map<string, { calls: number; ms: number }>,
): KnowledgeRepository {
  return new Proxy(repository, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      return (...args: unknown[]) => {
        const started = performance.now();
        const record = () => {
          const entry = timings.get(property) ?? { calls: 0, ms: 0 };
          entry.calls += 1;
          entry.ms += performance.now() - started;
          timings.set(property, entry);
        };
        const result: unknown = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (result instanceof Promise) return result.finally(record);
        record();
        return result;
      };
    },
  });
}

let peakRss = 0;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, RSS_SAMPLE_MS);
sampler.unref();

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

interface PhaseResult {
  backend: string;
  phase: string;
  summary: SyncSummary;
  wallMs: number;
  loads: number;
  requests: number;
  inputs: number;
  minRequests: number;
  peakRss: number;
  chunksStored: number;
  chunksWritten: number;
}

interface Backend {
  name: string;
  repository: KnowledgeRepository;
  connectorId: string;
  countChunks(): Promise<number>;
  close(): Promise<void>;
  pool?: pg.Pool;
  database?: string;
}

async function runPhase(
  backend: Backend,
  phase: string,
  source: Source,
  embedder: StubEmbedder,
  expect: { loads?: number; requests?: number },
  embedBatch?: { maxWaitMs: number },
): Promise<PhaseResult> {
  const timings = new Map<string, { calls: number; ms: number }>();
  const loadsBefore = source.loads;
  const loadMsBefore = source.loadMs;
  const requestsBefore = embedder.requests;
  const inputsBefore = embedder.inputs;
  const tokensBefore = embedder.tokens;
  const chunksBefore = await backend.countChunks();
  const rssAtStart = process.memoryUsage().rss;
  peakRss = rssAtStart;
  let lastReport = performance.now();
  const started = performance.now();
  // When the progress first counts a document inserted or updated (its row upserted; its chunks follow).
  let firstStoredMs: number | undefined;
  const summary = await runSync({
    connector: createBenchConnector(source),
    connectorId: backend.connectorId,
    repository: timedRepository(backend.repository, timings),
    embedder,
    concurrency: { write: WRITERS },
    ...(embedBatch ? { embedBatch } : {}),
    onProgress: (event) => {
      const now = performance.now();
      if (firstStoredMs === undefined && event.counts.inserted + event.counts.updated > 0) {
        firstStoredMs = now - started;
      }
      if (now - lastReport < 30_000 || event.type === 'document-started') return;
      lastReport = now;
      const { counts } = event;
      console.log(
        `   ... ${seconds(now - started)}: ${counts.seen}/${event.total ?? '?'} listed, ${counts.inserted} inserted, ` +
          `${counts.updated} updated, ${counts.skippedByVersion} skipped, ${counts.failed} failed; rss ${mb(process.memoryUsage().rss)}`,
      );
    },
  });
  const wallMs = performance.now() - started;
  const result: PhaseResult = {
    backend: backend.name,
    phase,
    summary,
    wallMs,
    loads: source.loads - loadsBefore,
    requests: embedder.requests - requestsBefore,
    inputs: embedder.inputs - inputsBefore,
    minRequests: Math.max(
      Math.ceil((embedder.inputs - inputsBefore) / 2048),
      Math.ceil((embedder.tokens - tokensBefore) / 300_000),
    ),
    peakRss: Math.max(peakRss, process.memoryUsage().rss),
    chunksStored: await backend.countChunks(),
    chunksWritten: 0,
  };
  result.chunksWritten = result.chunksStored - chunksBefore;
  const { counts, embeddings } = summary;
  const docsPerSecond = counts.seen / (wallMs / 1000);
  console.log(`== ${backend.name}: ${phase}`);
  console.log(
    `   status ${summary.status} in ${seconds(wallMs)} (${docsPerSecond.toFixed(1)} documents/s); ` +
      `summary.durationMs ${seconds(summary.durationMs)}; first document counted inserted or updated after ` +
      `${firstStoredMs === undefined ? '-' : seconds(firstStoredMs)}`,
  );
  console.log(
    `   documents: ${counts.seen} listed, ${counts.inserted} inserted, ${counts.updated} updated, ` +
      `${counts.unchanged} unchanged, ${counts.skippedByVersion} skipped by version, ${counts.failed} failed, ` +
      `${counts.deleted} deleted`,
  );
  console.log(
    `   content loads: ${result.loads} (${(source.loadMs - loadMsBefore).toFixed(0)} ms generating text), ` +
      `${mb(summary.contentBytes)} of content`,
  );
  console.log(
    `   embedding: ${result.requests} request(s), ${result.inputs} input(s), ${embedder.tokens - tokensBefore} tokens ` +
      `(summary: ${embeddings.requests} / ${embeddings.inputs}, ${embeddings.reused} reused); ` +
      `minimum the limits allow: ${result.minRequests} (${result.minRequests > 0 ? (result.requests / result.minRequests).toFixed(2) : '-'}x)`,
  );
  console.log(
    `   stages (busy ms/calls): ${Object.entries(summary.stages)
      .map(([stage, f]) => `${stage} ${f.ms}/${f.count}`)
      .join(', ')}`,
  );
  if (result.chunksWritten > 0) {
    console.log(
      `   ${(wallMs / result.chunksWritten).toFixed(2)} ms per stored chunk (${result.chunksWritten} new chunks)`,
    );
  }
  console.log(
    `   chunks stored for the connector: ${result.chunksStored}; peak RSS ${mb(result.peakRss)} ` +
      `(${mb(rssAtStart)} at the start of the phase)`,
  );
  const methods = [...timings.entries()].sort((a, b) => b[1].ms - a[1].ms);
  console.log(
    `   repository time: ${methods.map(([name, t]) => `${name} ${seconds(t.ms)}/${t.calls}`).join(', ')}`,
  );
  if (summary.error) console.log(`   error: ${summary.error}`);
  const causes = new Map<string, number>();
  for (const error of summary.errors) causes.set(error.message, (causes.get(error.message) ?? 0) + 1);
  for (const [message, n] of causes) {
    // summary.errors keeps at most 1,000 entries; counts.failed is the total.
    console.log(`   ! ${n} of the ${summary.errors.length} error(s) kept: ${message.slice(0, 300)}`);
  }
  if (expect.loads !== undefined && result.loads !== expect.loads) {
    console.log(`   !! FLAG: expected ${expect.loads} content loads, got ${result.loads}`);
  }
  if (expect.requests !== undefined && result.requests !== expect.requests) {
    console.log(`   !! FLAG: expected ${expect.requests} embedding requests, got ${result.requests}`);
  }
  console.log('');
  return result;
}

async function runBackend(backend: Backend): Promise<PhaseResult[]> {
  const source = createSource(DOCUMENTS);
  const embedder = createStubEmbedder();
  const results: PhaseResult[] = [];
  results.push(await runPhase(backend, 'initial ingest', source, embedder, {}));
  if (backend.pool && backend.database && process.env.BENCH_FLOOR !== '0') {
    await measureFloor(backend, results[0] as PhaseResult);
  }
  results.push(
    await runPhase(backend, 're-sync, nothing changed', source, embedder, { loads: 0, requests: 0 }),
  );
  // One 10%-changed re-sync per batcher cap in BENCH_CHANGED_MAX_WAITS (ms, e.g. `5000,600000`;
  // default: the pipeline's own default), each on another 10% of the documents.
  const waits = (process.env.BENCH_CHANGED_MAX_WAITS ?? '')
    .split(',')
    .filter((w) => w.trim() !== '')
    .map(Number);
  const every = Math.round(1 / CHANGED_SHARE);
  for (const [round, wait] of (waits.length > 0 ? waits : [undefined]).entries()) {
    let changed = 0;
    for (let doc = round % every; doc < DOCUMENTS; doc += every) {
      source.revisions[doc] = (source.revisions[doc] ?? 1) + 1;
      changed += 1;
    }
    results.push(
      await runPhase(
        backend,
        `re-sync, ${changed} documents (10%) changed${wait === undefined ? '' : `, embedBatch.maxWaitMs ${wait}`}`,
        source,
        embedder,
        { loads: changed },
        wait === undefined ? undefined : { maxWaitMs: wait },
      ),
    );
  }
  return results;
}

// ---- backends ------------------------------------------------------------------------------

const ORG_ID = '00000000-0000-4000-8000-0000000be4c4';

async function openPglite(): Promise<Backend> {
  const dir = await mkdtemp(join(tmpdir(), 'tributary-bench-pglite-'));
  const pglite = await PGlite.create({ dataDir: dir, extensions: { vector } });
  const migrated = await migrate(fromPglite(pglite));
  const version = await pglite.query<{ server_version: string }>('show server_version');
  console.log(
    `PGlite (PostgreSQL ${version.rows[0]?.server_version}, pgvector) in ${dir}; ` +
      `${migrated.applied.length} migrations applied`,
  );
  const inserted = await pglite.query<{ id: string }>(
    `insert into public.connector_configs (org_id, connector_type, name) values ($1, 'bench_memory', 'Bench') returning id`,
    [ORG_ID],
  );
  const connectorId = inserted.rows[0]?.id as string;
  return {
    name: 'pglite',
    repository: createPgliteRepository(pglite),
    connectorId,
    async countChunks() {
      const result = await pglite.query<{ n: number }>(
        'select count(*)::int as n from public.document_chunks c join public.imported_documents d on d.id = c.document_id where d.connector_id = $1',
        [connectorId],
      );
      return result.rows[0]?.n ?? 0;
    },
    async close() {
      await pglite.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function openPostgres(dimensions = DIMENSIONS, name = 'postgres'): Promise<Backend> {
  const server = await startPostgresServer();
  try {
    const database = await server.createDatabase({ name: `tributary_bench_${name.replace(/\W/g, '_')}` });
    const pool = server.pool(database, { max: WRITERS + 4 });
    const version = await pool.query<{ server_version: string }>('show server_version');
    const migrated = await migrate(fromPg(pool), {
      vector: { dimensions, type: name === 'postgres' ? VECTOR_TYPE : 'vector' },
    });
    console.log(
      `PostgreSQL ${version.rows[0]?.server_version} (with pgvector ${server.pgvector ? 'installed' : 'missing'}); ` +
        `${migrated.applied.length} migrations applied` +
        (migrated.deferred.length > 0
          ? `, deferred: ${migrated.deferred.map((m) => m.name).join(', ')}`
          : ''),
    );
    const inserted = await pool.query<{ id: string }>(
      `insert into public.connector_configs (org_id, connector_type, name) values ($1, 'bench_memory', 'Bench') returning id`,
      [ORG_ID],
    );
    const connectorId = inserted.rows[0]?.id as string;
    return {
      name,
      repository: createNodePostgresRepository(pool),
      connectorId,
      async countChunks() {
        const result = await pool.query<{ n: number }>(
          'select count(*)::int as n from public.document_chunks c join public.imported_documents d on d.id = c.document_id where d.connector_id = $1',
          [connectorId],
        );
        return result.rows[0]?.n ?? 0;
      },
      async close() {
        await server.stop();
      },
      pool,
      database,
    };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

// ---- the raw floor -----------------------------------------------------------------------------

/**
 * The same rows the pipeline stored, COPYed by WRITERS connections into an identical table (same
 * columns, same HNSW and GIN indexes, no foreign keys or framework): what the database itself
 * costs per chunk. Each connection streams its share out of document_chunks (COPY TO) and into
 * the copy (COPY FROM) at once, so nothing is held in memory.
 */
async function measureFloor(backend: Backend, initial: PhaseResult): Promise<void> {
  const pool = backend.pool as pg.Pool;
  await pool.query('drop table if exists public.bench_floor');
  await pool.query('create table public.bench_floor (like public.document_chunks including all)');
  const columns =
    'id, org_id, document_id, chunk_index, context, content, content_hash, token_count, metadata, created_at, embedding, embedding_model';
  const started = performance.now();
  await Promise.all(
    Array.from({ length: WRITERS }, async (_, share) => {
      const reader = await pool.connect();
      const writer = await pool.connect();
      try {
        const source = reader.query(
          copyTo(
            `copy (select ${columns} from public.document_chunks where abs(hashtext(id::text)) % ${WRITERS} = ${share}) to stdout`,
          ),
        );
        const sink = writer.query(copyFrom(`copy public.bench_floor (${columns}) from stdin`));
        await pipeStreams(source, sink);
      } finally {
        reader.release();
        writer.release();
      }
    }),
  );
  const floorMs = performance.now() - started;
  const { rows } = await pool.query<{ n: number }>('select count(*)::int as n from public.bench_floor');
  const n = rows[0]?.n ?? 0;
  const pipelinePerChunk = initial.wallMs / Math.max(1, initial.chunksWritten);
  const floorPerChunk = floorMs / Math.max(1, n);
  console.log(
    `== ${backend.name}: raw floor (COPY by ${WRITERS} connection(s) into an identical indexed table)`,
  );
  console.log(
    `   ${n} chunks in ${seconds(floorMs)}: ${floorPerChunk.toFixed(2)} ms per chunk; ` +
      `the pipeline's initial ingest: ${pipelinePerChunk.toFixed(2)} ms per chunk = ${(pipelinePerChunk / floorPerChunk).toFixed(2)}x the floor (target <= 1.3x)\n`,
  );
  await pool.query('drop table public.bench_floor');
}

// ---- scale: 100,000 small documents --------------------------------------------------------------

async function runScale(): Promise<PhaseResult[]> {
  sectionsPerDocument = 1;
  const backend = await openPostgres(SCALE_DIMENSIONS, 'postgres-scale');
  const results: PhaseResult[] = [];
  let overallPeak = 0;
  try {
    const source = createSource(SCALE_DOCUMENTS);
    const embedder = createStubEmbedder(SCALE_DIMENSIONS);
    const phase = async (name: string, expect: { loads?: number; requests?: number }) => {
      const result = await runPhase(backend, name, source, embedder, expect);
      overallPeak = Math.max(overallPeak, result.peakRss);
      results.push(result);
      return result;
    };
    if (SCALE_SEED === 'sql') await seedScale(backend, SCALE_DIMENSIONS);
    else
      await phase(`scale: initial, ${SCALE_DOCUMENTS} documents, ${SCALE_DIMENSIONS}-dimension vectors`, {});
    const unchanged = await phase('scale: re-sync, nothing changed', { loads: 0, requests: 0 });
    if (!SCALE_PHASES.has('changed')) {
      console.log(
        `== scale: unchanged re-sync ${seconds(unchanged.wallMs)} (target <= 5 s) with ${unchanged.loads} loads and ${unchanged.requests} requests\n`,
      );
      return results;
    }
    let changed = 0;
    for (let doc = 0; doc < SCALE_DOCUMENTS; doc += 100) {
      source.revisions[doc] = 2;
      changed += 1;
    }
    const onePercent = await phase(`scale: re-sync, ${changed} documents (1%) changed`, { loads: changed });
    console.log(
      `== scale: unchanged re-sync ${seconds(unchanged.wallMs)} (target <= 5 s) with ${unchanged.loads} loads and ` +
        `${unchanged.requests} requests; 1% changed: ${onePercent.requests} request(s) for ${onePercent.inputs} inputs ` +
        `(minimum ${onePercent.minRequests}); peak RSS over the scale phases ${mb(overallPeak)} (target <= 300 MB)\n`,
    );
  } finally {
    await backend.close();
    sectionsPerDocument = SECTIONS;
  }
  return results;
}

/**
 * What a completed initial ingest of the scale source leaves, written set-based: one document per
 * source document (version `r1`, completed) and one chunk each with a random vector.
 */
async function seedScale(backend: Backend, dimensions: number): Promise<void> {
  const pool = backend.pool as pg.Pool;
  const started = performance.now();
  await pool.query(
    `insert into public.imported_documents (org_id, connector_id, external_id, title, mime_type, source_version,
       content, content_hash, processing_status, chunks_generated, embeddings_generated, chunk_count, last_synced_at)
     select $1, $2, 'doc-' || n, 'Document ' || n, 'text/markdown', 'r1',
       repeat('seeded text ' || n || ' ', 40), md5('c' || n) || md5('d' || n), 'completed', true, true, 1, now()
     from generate_series(0, $3 - 1) n`,
    [ORG_ID, backend.connectorId, SCALE_DOCUMENTS],
  );
  // HNSW built once over the rows rather than 100,000 single inserts (13 minutes on a loaded 2-core machine).
  await pool.query('drop index public.document_chunks_embedding_idx');
  await pool.query(
    `insert into public.document_chunks (org_id, document_id, chunk_index, content, content_hash, token_count,
       embedding, embedding_model)
     select d.org_id, d.id, 0, d.content, d.content_hash, 120,
       (select array_agg(random() * 2 - 1) from generate_series(1, $2) g where d.id is not null)::extensions.vector,
       'bench:stub@' || $2
     from public.imported_documents d where d.connector_id = $1`,
    [backend.connectorId, dimensions],
  );
  await pool.query(
    'create index document_chunks_embedding_idx on public.document_chunks using hnsw (embedding extensions.vector_cosine_ops)',
  );
  await pool.query('vacuum analyze public.imported_documents');
  await pool.query('vacuum analyze public.document_chunks');
  console.log(
    `== scale: seeded ${SCALE_DOCUMENTS} completed documents with one ${dimensions}-dimension chunk each (SQL) in ${seconds(performance.now() - started)}\n`,
  );
}

// ---- one very large binary ---------------------------------------------------------------------

async function runBigBinary(): Promise<void> {
  const backend = await openPostgres(DIMENSIONS, 'postgres-big');
  try {
    for (const announced of [true, false]) {
      let pulled = 0;
      const connector = defineConnector({
        type: 'bench_memory',
        async check() {},
        async *sync() {
          yield {
            kind: 'upsert',
            document: {
              externalId: `big-${announced ? 'announced' : 'unannounced'}`,
              title: 'recording.mp4',
              mimeType: 'video/mp4',
              version: '1',
              content: {
                kind: 'lazy',
                async load() {
                  const part = new Uint8Array(1024 * 1024);
                  const stream = new ReadableStream<Uint8Array>({
                    pull(controller) {
                      if (pulled * part.byteLength >= BIG_BYTES) return controller.close();
                      pulled += 1;
                      controller.enqueue(part.slice());
                    },
                  });
                  return { kind: 'stream', stream, sizeBytes: announced ? BIG_BYTES : undefined };
                },
              },
            },
          };
          yield { kind: 'listing-complete', complete: true };
        },
      });
      const rssAtStart = process.memoryUsage().rss;
      peakRss = rssAtStart;
      const started = performance.now();
      const summary = await runSync({
        connector,
        connectorId: backend.connectorId,
        repository: backend.repository,
        embedder: createStubEmbedder(),
      });
      const peak = Math.max(peakRss, process.memoryUsage().rss);
      console.log(
        `== big binary (${mb(BIG_BYTES)}, sizeBytes ${announced ? 'given' : 'not given'}): ${summary.status} in ` +
          `${seconds(performance.now() - started)}, ${pulled} MB read; peak RSS ${mb(peak)} (${mb(rssAtStart)} before; target <= 200 MB)`,
      );
      console.log(`   ${summary.errors[0]?.message ?? 'no error'}\n`);
    }
  } finally {
    await backend.close();
  }
}

async function main(): Promise<void> {
  const startedAt = performance.now();
  const sample = documentText(0, 1);
  console.log(
    `${DOCUMENTS} documents of ~${(sample.length / 1024).toFixed(1)} KB Markdown (${SECTIONS} sections); ` +
      `embedder stub: ${EMBED_DELAY_MS} ms per request, ${DIMENSIONS} dimensions stored as ${VECTOR_TYPE}; runSync defaults; ` +
      `backends: ${BACKENDS.join(', ')}\n`,
  );
  const results: PhaseResult[] = [];
  if (PARTS.has('big')) await runBigBinary();
  for (const name of PARTS.has('ingest') ? BACKENDS : []) {
    const open = name === 'pglite' ? openPglite : name === 'postgres' ? openPostgres : undefined;
    if (!open) throw new Error(`unknown backend ${name} (pglite or postgres)`);
    const backend = await open();
    try {
      results.push(...(await runBackend(backend)));
    } finally {
      await backend.close();
    }
  }

  if (PARTS.has('scale')) results.push(...(await runScale()));
  console.log('== Summary');
  const header = [
    'backend',
    'phase',
    'status',
    'wall',
    'docs/s',
    'loads',
    'embed req',
    'min req',
    'inputs',
    'reused',
    'failed',
    'chunks',
    'peak RSS',
  ];
  const rows = results.map((r) => [
    r.backend,
    r.phase,
    r.summary.status,
    seconds(r.wallMs),
    (r.summary.counts.seen / (r.wallMs / 1000)).toFixed(1),
    String(r.loads),
    String(r.requests),
    String(r.minRequests),
    String(r.inputs),
    String(r.summary.embeddings.reused),
    String(r.summary.counts.failed),
    String(r.chunksStored),
    mb(r.peakRss),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  console.log(line(header));
  console.log(`| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`);
  for (const row of rows) console.log(line(row));
  console.log(`\nFinished in ${seconds(performance.now() - startedAt)}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
