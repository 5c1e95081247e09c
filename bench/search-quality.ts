// Search quality on the CISI collection (1,460 library-science abstracts, 76 judged queries):
// nDCG@10 and Recall@100 of Tributary's full text, vector and hybrid search next to a BM25 baseline
// this script computes itself over the same documents (bm25-baseline.ts).
//
// The documents go in through the real pipeline (`runSync` with an in-memory connector: title +
// abstract as text, the title as the document title) with the offline lexical embedder, into a real
// PostgreSQL server with pgvector (default) or PGlite (BENCH_BACKEND=pglite), and every query goes
// through core's `search()` (the `unified_content_search` RPC). Results are chunks; a document's
// rank is that of its first chunk. With OPENAI_API_KEY set, the documents are also embedded with
// OpenAI's text-embedding-3-small (BENCH_OPENAI_MODEL) and its vector and hybrid modes reported.
//
// Queries are split by id into two halves (odd: "tuning", even: "held out"); defaults were chosen
// as general defaults, not fitted to either half, and both halves are printed so that any gain that
// only holds on one of them shows. BENCH_SWEEP=1 also prints hybrid fusion variants (RRF k,
// weights, candidate depth) per half.
//
// Run: pnpm --filter @tributary/bench search-quality   (after `pnpm build`; see README.md)
import { existsSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import {
  createLexicalEmbedder,
  defineConnector,
  type Embedder,
  type KnowledgeRepository,
  runSync,
  type SearchOptions,
  search,
} from '@tributary/core';
import { createPgliteRepository } from '@tributary/core/pglite';
import { createNodePostgresRepository } from '@tributary/core/postgres';
import { fromPg, fromPglite, migrate } from '@tributary/sql';
import { startPostgresServer } from '@tributary/testkit-postgres';
import { buildBm25 } from './bm25-baseline.ts';
import { type CisiCollection, type CisiDocument, loadCisi, ndcgAt, recallAt } from './cisi.ts';

// The repository's sibling shared/ folder (a checkout next to shared/), or BENCH_CISI_DIR.
const DATASET =
  process.env.BENCH_CISI_DIR ??
  [new URL('../../shared/datasets/cisi', import.meta.url).pathname, '/work/shared/datasets/cisi'].find(
    (dir) => existsSync(dir),
  ) ??
  'shared/datasets/cisi';
const BACKEND = process.env.BENCH_BACKEND ?? 'postgres';
const SWEEP = process.env.BENCH_SWEEP === '1';
const ORG_ID = '00000000-0000-4000-8000-00000000c151';
const DEPTH = 200; // results per query (the RPC's maximum): enough chunks for Recall@100 of documents

interface Backend {
  repository: KnowledgeRepository;
  query<Row>(sql: string, params?: unknown[]): Promise<Row[]>;
  /** Runs statements in one transaction (for `set_config(..., true)`). */
  transaction<T>(
    fn: (query: <Row>(sql: string, params?: unknown[]) => Promise<Row[]>) => Promise<T>,
  ): Promise<T>;
  close(): Promise<void>;
}

async function openBackend(): Promise<Backend> {
  if (BACKEND === 'pglite') {
    const pglite = await PGlite.create({ extensions: { vector } });
    await migrate(fromPglite(pglite));
    return {
      repository: createPgliteRepository(pglite),
      query: async <Row>(sql: string, params?: unknown[]) => (await pglite.query<Row>(sql, params)).rows,
      transaction: (fn) =>
        pglite.transaction((tx) =>
          fn(async <Row>(sql: string, params?: unknown[]) => (await tx.query<Row>(sql, params)).rows),
        ),
      close: () => pglite.close(),
    };
  }
  const server = await startPostgresServer();
  const database = await server.createDatabase({ name: 'tributary_bench_search_quality' });
  const pool = server.pool(database, { max: 4 });
  await migrate(fromPg(pool));
  return {
    repository: createNodePostgresRepository(pool),
    query: async <Row>(sql: string, params?: unknown[]) =>
      (await pool.query(sql, params as unknown[])).rows as Row[],
    async transaction(fn) {
      const client = await pool.connect();
      try {
        await client.query('begin');
        const result = await fn(
          async <Row>(sql: string, params?: unknown[]) =>
            (await client.query(sql, params as unknown[])).rows as Row[],
        );
        await client.query('commit');
        return result;
      } catch (error) {
        await client.query('rollback');
        throw error;
      } finally {
        client.release();
      }
    },
    close: () => server.stop(),
  };
}

function cisiConnector(documents: readonly CisiDocument[]) {
  return defineConnector({
    type: 'cisi',
    displayName: 'CISI collection',
    async check() {},
    async *sync() {
      for (const document of documents) {
        yield {
          kind: 'upsert',
          document: {
            externalId: document.id,
            title: document.title,
            mimeType: 'text/plain',
            version: '1',
            content: { kind: 'text', text: `${document.title}\n\n${document.text}` },
          },
        };
      }
      yield { kind: 'listing-complete', complete: true };
    },
  });
}

async function ingest(backend: Backend, collection: CisiCollection, embedder: Embedder): Promise<string> {
  const [row] = await backend.query<{ id: string }>(
    `insert into public.connector_configs (org_id, connector_type, name) values ($1, 'cisi', $2) returning id`,
    [ORG_ID, `CISI ${embedder.id}`],
  );
  const connectorId = row?.id ?? '';
  const started = performance.now();
  const summary = await runSync({
    connector: cisiConnector(collection.documents),
    connectorId,
    repository: backend.repository,
    embedder,
  });
  const [chunks] = await backend.query<{ n: number }>(
    'select count(*)::int as n from public.document_chunks c join public.imported_documents d on d.id = c.document_id where d.connector_id = $1',
    [connectorId],
  );
  console.log(
    `ingested with ${embedder.id}: ${summary.status}, ${summary.counts.inserted} documents, ${chunks?.n} chunks ` +
      `in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  return connectorId;
}

interface Scores {
  ndcg: number[];
  recall: number[];
}

interface Run {
  label: string;
  perQuery: Map<string, { ndcg: number; recall: number }>;
}

/**
 * `rank(query, limit)`: document ids, best first. nDCG@10 is taken from a call with limit 10 (what
 * an application asks for: fusion then sees 40 candidates per half), Recall@100 from one with the
 * RPC's maximum, 200 chunks.
 */
async function evaluate(
  label: string,
  collection: CisiCollection,
  rank: (query: string, limit: number) => Promise<string[]>,
  options: { recall?: boolean } = {},
): Promise<Run> {
  const perQuery = new Map<string, { ndcg: number; recall: number }>();
  for (const query of collection.queries) {
    const relevant = collection.relevant.get(query.id) ?? new Set<string>();
    const top = await rank(query.text, 10);
    const deep = options.recall === false ? [] : await rank(query.text, DEPTH);
    perQuery.set(query.id, { ndcg: ndcgAt(top, relevant, 10), recall: recallAt(deep, relevant, 100) });
  }
  return { label, perQuery };
}

const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length);

function summarize(run: Run, filter: (id: string) => boolean): { ndcg: number; recall: number } {
  const scores: Scores = { ndcg: [], recall: [] };
  for (const [id, value] of run.perQuery) {
    if (!filter(id)) continue;
    scores.ndcg.push(value.ndcg);
    scores.recall.push(value.recall);
  }
  return { ndcg: mean(scores.ndcg), recall: mean(scores.recall) };
}

const tuning = (id: string) => Number(id) % 2 === 1;
const heldOut = (id: string) => Number(id) % 2 === 0;

function printTable(runs: Run[], baseline: Run): void {
  const base = summarize(baseline, () => true).ndcg;
  console.log(
    '\n| mode | nDCG@10 | Recall@100 | x BM25 nDCG | nDCG@10 tuning half | nDCG@10 held-out half |',
  );
  console.log('|---|---|---|---|---|---|');
  for (const run of runs) {
    const all = summarize(run, () => true);
    console.log(
      `| ${run.label} | ${all.ndcg.toFixed(3)} | ${all.recall.toFixed(3)} | ${(all.ndcg / base).toFixed(2)} | ` +
        `${summarize(run, tuning).ndcg.toFixed(3)} | ${summarize(run, heldOut).ndcg.toFixed(3)} |`,
    );
  }
}

function documentRanker(
  backend: Backend,
  base: Omit<SearchOptions, 'query'>,
  externalIds: Map<string, string>,
): (query: string, limit: number) => Promise<string[]> {
  void backend;
  return async (query, limit) => {
    const response = await search({ ...base, query: query.slice(0, 2000), limit });
    return documentsOf(
      response.hits.map((hit) => hit.documentId),
      externalIds,
    );
  };
}

function documentsOf(documentIds: readonly string[], externalIds: Map<string, string>): string[] {
  const seen = new Set<string>();
  for (const documentId of documentIds) {
    const id = externalIds.get(documentId);
    if (id) seen.add(id);
  }
  return [...seen];
}

/** The RPC called directly, so that the candidate depth (a transaction setting) can be varied. */
function fusionRanker(
  backend: Backend,
  embedder: Embedder,
  connectorId: string,
  externalIds: Map<string, string>,
  fusion: { depth: number; k: number; fullTextWeight: number },
): (query: string, limit: number) => Promise<string[]> {
  return async (query, limit) => {
    const text = query.slice(0, 2000);
    const [vector] = (await embedder.embed([text])).vectors;
    const rows = await backend.transaction(async (query) => {
      await query("select set_config('tributary.search_candidates', $1, true)", [String(fusion.depth)]);
      return query<{ document_id: string }>(
        `select document_id from public.unified_content_search(query_embedding => $1::extensions.vector,
           match_org_id => $2::uuid, match_count => $3::integer, query_text => $4::text,
           connector_ids => array[$5::uuid], full_text_weight => $6::double precision, semantic_weight => 1,
           rrf_k => $7::integer, query_embedding_model => $8::text)`,
        [
          `[${vector?.join(',')}]`,
          ORG_ID,
          limit,
          text,
          connectorId,
          fusion.fullTextWeight,
          fusion.k,
          embedder.id,
        ],
      );
    });
    return documentsOf(
      rows.map((row) => row.document_id),
      externalIds,
    );
  };
}

async function main(): Promise<void> {
  const collection = await loadCisi(DATASET);
  console.log(
    `CISI: ${collection.documents.length} documents, ${collection.queries.length} judged queries ` +
      `(${collection.queries.filter((q) => tuning(q.id)).length} tuning / ` +
      `${collection.queries.filter((q) => heldOut(q.id)).length} held out); backend ${BACKEND}`,
  );
  const bm25 = buildBm25(collection.documents);
  const baseline = await evaluate('BM25 (k1 0.9, b 0.4, Porter, 33 stop words)', collection, async (query) =>
    bm25.search(query, 100),
  );

  const backend = await openBackend();
  try {
    const embedders: Embedder[] = [createLexicalEmbedder()];
    if (process.env.OPENAI_API_KEY) {
      const { createOpenAIEmbedder } = await import('@tributary/core/openai');
      embedders.push(
        createOpenAIEmbedder({
          model: process.env.BENCH_OPENAI_MODEL ?? 'text-embedding-3-small',
          dimensions: 1536,
        }),
      );
    }
    const runs: Run[] = [baseline];
    let fullTextDone = false;
    for (const embedder of embedders) {
      const connectorId = await ingest(backend, collection, embedder);
      const rows = await backend.query<{ id: string; external_id: string }>(
        'select id, external_id from public.imported_documents where connector_id = $1',
        [connectorId],
      );
      const externalIds = new Map(rows.map((row) => [row.id, row.external_id]));
      const base = {
        repository: backend.repository,
        orgId: ORG_ID,
        filters: { connectorIds: [connectorId] },
      };
      if (!fullTextDone) {
        runs.push(
          await evaluate(
            'full text',
            collection,
            documentRanker(backend, { ...base, mode: 'fullText' }, externalIds),
          ),
        );
        fullTextDone = true;
      }
      runs.push(
        await evaluate(
          `vector (${embedder.id})`,
          collection,
          documentRanker(backend, { ...base, embedder, mode: 'vector' }, externalIds),
        ),
      );
      runs.push(
        await evaluate(
          `hybrid (${embedder.id})`,
          collection,
          documentRanker(backend, { ...base, embedder, mode: 'hybrid' }, externalIds),
        ),
      );
      if (SWEEP) {
        for (const depth of [40, 100, 200]) {
          for (const k of [10, 30, 60, 100]) {
            for (const fullTextWeight of [0.5, 1, 2]) {
              runs.push(
                await evaluate(
                  `  hybrid depth ${depth}, k ${k}, weights full text ${fullTextWeight} : vector 1`,
                  collection,
                  fusionRanker(backend, embedder, connectorId, externalIds, { depth, k, fullTextWeight }),
                  { recall: false },
                ),
              );
            }
          }
        }
      }
    }
    printTable(runs, baseline);
  } finally {
    await backend.close();
  }
}

await main();
