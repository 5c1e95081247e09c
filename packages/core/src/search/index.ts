// Search, for imports inside the package. The public API re-exports these from src/index.ts.
export { assertEmbedderFits } from './assert-embedder-fits.js';
export { createHostedReranker, type HostedRerankerOptions } from './hosted-reranker.js';
export { type Reranker, rerankHits } from './reranker.js';
export {
  explain,
  RRF_K,
  type ScoreExplanation,
  type SearchHit,
  type SearchOptions,
  type SearchResponse,
  search,
} from './search.js';
