import { invalidInput } from '../repository/validate-input.js';
import type { SearchHit } from './search.js';

/**
 * Scores how well each text answers a query: a cross-encoder the host runs itself, or a hosted
 * reranking API (`createHostedReranker`). Optional; `search({ rerank: { reranker } })` calls it.
 */
export interface Reranker {
  /** Stable name shown in explanations, e.g. `hosted:rerank-v3.5`. */
  readonly id: string;
  /** One score per text, in input order; higher is more relevant. */
  rerank(
    query: string,
    texts: readonly string[],
    options?: { signal?: AbortSignal | undefined },
  ): Promise<number[]>;
}

/** Orders `hits` by the reranker's scores (ties keep the fused order) and keeps the best `limit`. */
export async function rerankHits(
  reranker: Reranker,
  query: string,
  hits: readonly SearchHit[],
  limit: number,
  signal?: AbortSignal,
): Promise<SearchHit[]> {
  if (hits.length === 0) return [];
  const texts = hits.map((hit) => (hit.title ? `${hit.title}\n${hit.content}` : hit.content));
  const scores = await reranker.rerank(query, texts, { signal });
  if (
    !Array.isArray(scores) ||
    scores.length !== hits.length ||
    scores.some((score) => !Number.isFinite(score))
  ) {
    throw invalidInput(
      `reranker ${reranker.id} returned ${Array.isArray(scores) ? scores.length : 'no'} scores for ${hits.length} texts (or a score that is not a finite number)`,
      'A reranker must return one finite score per text, in input order',
    );
  }
  return hits
    .map((hit, index) => ({ hit, index, score: scores[index] ?? 0 }))
    .sort((a, b) => b.score - a.score || a.index - b.index)
    .slice(0, limit)
    .map(({ hit, index, score }) => ({
      ...hit,
      explanation: {
        ...hit.explanation,
        rerank: { rerankerId: reranker.id, score, fusedRank: index + 1 },
        summary: `reranker ${reranker.id} ${score.toFixed(3)} (fused #${index + 1}: ${hit.explanation.summary})`,
      },
    }));
}
