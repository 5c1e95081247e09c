import type { Embedder, EmbeddingUsage } from '../embedding/embedder.js';
import type {
  KnowledgeRepository,
  SearchResult,
  SemanticStrategy,
} from '../repository/knowledge-repository.js';
import { invalidInput } from '../repository/validate-input.js';
import type { JsonValue } from '../spec/v1/json-value.js';
import { assertEmbedderFits } from './assert-embedder-fits.js';
import { type Reranker, rerankHits } from './reranker.js';

/**
 * Reciprocal rank fusion constant, `unified_content_search`'s `rrf_k` default. Measured on CISI
 * (bench/search-quality.ts): k 10 to 100 with equal weights moved hybrid nDCG@10 by under 0.01, so
 * the common default stays.
 */
export const RRF_K = 60;

export interface SearchOptions {
  /** Any repository; its actor decides what may be read (RLS on the Postgres adapters). */
  repository: KnowledgeRepository;
  orgId: string;
  query: string;
  /**
   * The embedder the chunks were stored with (the same `id`: model and dimensions). Omitted: full
   * text only. Chunks embedded by any other embedder are never compared with the query.
   */
  embedder?: Embedder | undefined;
  /** `hybrid` (default with an embedder), `fullText` (default without) or `vector`. */
  mode?: 'hybrid' | 'fullText' | 'vector' | undefined;
  /** 1 to 200, default 10. */
  limit?: number | undefined;
  /** Weights of the two halves in the fused score (default 1 each). */
  weights?: { fullText?: number | undefined; semantic?: number | undefined } | undefined;
  /** Reciprocal rank fusion: each half adds weight / (k + rank). `k` 1 to 1000, default {@link RRF_K}. */
  fusion?: { k?: number | undefined } | undefined;
  /**
   * Reorders the fused candidates with a cross-encoder or hosted reranking API (off by default):
   * the best `rerank.candidates` hits (default 50, at most 200, at least `limit`) are sent with the
   * query and the `limit` best by the reranker's score come back.
   */
  rerank?: { reranker: Reranker; candidates?: number | undefined } | undefined;
  /**
   * What counts as relevant. `similarity`: the least cosine similarity of a vector hit (-1 to 1,
   * default 0). `fullTextScore`: the least BM25 score of a full-text hit (>= 0, default 0).
   * A chunk below both is dropped, so fewer than `limit` results may come back.
   */
  minRelevance?: { similarity?: number | undefined; fullTextScore?: number | undefined } | undefined;
  filters?:
    | {
        connectorIds?: readonly string[] | undefined;
        mimeTypes?: readonly string[] | undefined;
        /** Documents whose source metadata contains this object (jsonb `@>`). */
        metadata?: Record<string, JsonValue> | undefined;
      }
    | undefined;
  /**
   * One result per duplicate group (cross-source copies and near duplicates, dedup layer 5): the
   * best-scoring document the caller may read stands for its group, and `alternatives` lists the
   * group's other readable documents. Default false. Postgres adapters only (the memory adapter
   * links no duplicates).
   */
  collapseDuplicates?: boolean | undefined;
  signal?: AbortSignal | undefined;
}

/** Why a hit scored what it did: score = fullText.contribution + semantic.contribution. */
export interface ScoreExplanation {
  /** Which halves found the chunk. */
  foundBy: Array<'fullText' | 'semantic'>;
  /** `score`: the chunk's BM25 score for the query (the memory adapter: its share of query words). */
  fullText: { rank: number; score: number; weight: number; contribution: number } | null;
  semantic: {
    rank: number;
    cosineSimilarity: number;
    weight: number;
    contribution: number;
    /** `exact`: every chunk of the org compared; `index`: the HNSW index. */
    strategy: SemanticStrategy;
  } | null;
  /** Reciprocal rank fusion: each half adds weight / (k + rank). */
  fusion: { method: 'rrf'; k: number };
  /** Set when a reranker reordered the hits: its score, and the hit's rank before it. */
  rerank?: { rerankerId: string; score: number; fusedRank: number } | undefined;
  /** One line, e.g. `full text #1 (bm25 7.120) + vector #3 (cosine 0.812, exact) = 0.0323`. */
  summary: string;
}

export interface SearchHit extends SearchResult {
  explanation: ScoreExplanation;
}

export interface SearchResponse {
  hits: SearchHit[];
  mode: 'hybrid' | 'fullText' | 'vector';
  /** The embedder used for the query, and what embedding it cost; undefined for full text. */
  embedding?: { embedderId: string; usage: EmbeddingUsage } | undefined;
}

/**
 * Searches one organisation: embeds the query with `embedder` (after checking that the database
 * stores vectors of its size, so a mismatch costs nothing), calls the repository's search RPC
 * (full text and vectors fused in SQL, only chunks of the same model compared), and explains
 * each hit's score.
 */
export async function search(options: SearchOptions): Promise<SearchResponse> {
  const { repository, embedder } = options;
  const mode = options.mode ?? (embedder ? 'hybrid' : 'fullText');
  if (mode !== 'fullText' && !embedder) {
    throw invalidInput(
      `search mode "${mode}" needs an embedder`,
      'Pass the embedder the documents were synced with',
    );
  }
  if (typeof options.query !== 'string' || options.query.trim() === '') {
    throw invalidInput('search needs a non-empty query');
  }
  const weights = {
    fullText: mode === 'vector' ? 0 : (options.weights?.fullText ?? 1),
    semantic: mode === 'fullText' ? 0 : (options.weights?.semantic ?? 1),
  };

  let queryEmbedding: number[] | undefined;
  let embedding: SearchResponse['embedding'];
  if (embedder && mode !== 'fullText') {
    assertEmbedderFits(embedder, await repository.vectorSettings());
    const result = await embedder.embed([options.query], { signal: options.signal });
    queryEmbedding = result.vectors[0];
    if (!queryEmbedding || queryEmbedding.length !== embedder.dimensions) {
      throw invalidInput(
        `${embedder.id} returned a query vector of ${queryEmbedding?.length ?? 0} dimensions, not ${embedder.dimensions}`,
      );
    }
    embedding = { embedderId: embedder.id, usage: result.usage };
  }

  const limit = options.limit ?? 10;
  const rerankCandidates = options.rerank ? (options.rerank.candidates ?? 50) : undefined;
  if (
    rerankCandidates !== undefined &&
    (!Number.isInteger(rerankCandidates) || rerankCandidates < 1 || rerankCandidates > 200)
  ) {
    throw invalidInput(`rerank.candidates must be an integer from 1 to 200, got ${rerankCandidates}`);
  }
  const fusionK = options.fusion?.k ?? RRF_K;
  const results = await repository.search({
    orgId: options.orgId,
    // Vector mode still passes no text: the full-text half would only add ranks of weight 0.
    queryText: mode === 'vector' ? undefined : options.query,
    queryEmbedding,
    embeddingModel: embedder?.id,
    limit: rerankCandidates === undefined ? limit : Math.max(limit, rerankCandidates),
    rrfK: fusionK,
    connectorIds: options.filters?.connectorIds,
    mimeTypes: options.filters?.mimeTypes,
    metadata: options.filters?.metadata,
    weights,
    matchThreshold: options.minRelevance?.similarity,
    minFullTextScore: options.minRelevance?.fullTextScore,
    collapseDuplicates: options.collapseDuplicates,
  });
  const hits = results.map((result) => explain(result, weights, fusionK));
  if (!options.rerank) return { hits, mode, embedding };
  return {
    hits: await rerankHits(options.rerank.reranker, options.query, hits, limit, options.signal),
    mode,
    embedding,
  };
}

/** Builds the explanation from the row's own figures (the SQL computed them; nothing is redone here). */
export function explain(
  result: SearchResult,
  weights: { fullText: number; semantic: number },
  k: number = RRF_K,
): SearchHit {
  const fullText =
    result.fullTextRank === null
      ? null
      : {
          rank: result.fullTextRank,
          score: result.fullTextScore ?? 0,
          weight: weights.fullText,
          contribution: result.fullTextContribution,
        };
  const semantic =
    result.semanticRank === null
      ? null
      : {
          rank: result.semanticRank,
          cosineSimilarity: result.similarity ?? 0,
          weight: weights.semantic,
          contribution: result.semanticContribution,
          strategy: result.semanticStrategy ?? 'exact',
        };
  const parts = [
    fullText && `full text #${fullText.rank} (bm25 ${fullText.score.toFixed(3)})`,
    semantic &&
      `vector #${semantic.rank} (cosine ${semantic.cosineSimilarity.toFixed(3)}, ${semantic.strategy})`,
  ].filter((part): part is string => Boolean(part));
  const foundBy: ScoreExplanation['foundBy'] = [];
  if (fullText) foundBy.push('fullText');
  if (semantic) foundBy.push('semantic');
  return {
    ...result,
    explanation: {
      foundBy,
      fullText,
      semantic,
      fusion: { method: 'rrf', k },
      summary: `${parts.join(' + ')} = ${result.score.toFixed(4)}`,
    },
  };
}
