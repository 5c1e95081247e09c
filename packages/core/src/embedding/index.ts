export {
  batchForEmbedding,
  type EmbeddingBatch,
  type EmbeddingBatchLimits,
  OPENAI_MAX_INPUTS_PER_REQUEST,
  OPENAI_MAX_TOKENS_PER_INPUT,
  OPENAI_MAX_TOKENS_PER_REQUEST,
} from './batch-for-embedding.js';
export type { Embedder, EmbeddingUsage, EmbedOptions, EmbedResult } from './embedder.js';
export { EmbeddingInputError, type EmbeddingInputErrorOptions } from './embedding-input-error.js';
export {
  createLexicalEmbedder,
  type LexicalEmbedderOptions,
  type LexicalScheme,
  lexicalVector,
} from './lexical-embedder.js';
