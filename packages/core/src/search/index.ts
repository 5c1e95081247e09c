// Search, for imports inside the package. The public API re-exports these from src/index.ts.
export { assertEmbedderFits } from './assert-embedder-fits.js';
export {
  explain,
  RRF_K,
  type ScoreExplanation,
  type SearchHit,
  type SearchOptions,
  type SearchResponse,
  search,
} from './search.js';
