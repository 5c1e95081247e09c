export {
  type Chunk,
  type Chunker,
  type ChunkerOptions,
  type ChunkOptions,
  chunkEmbeddingText,
  createChunker,
} from './chunker.js';
export { loadTokenizer, type Tokenizer, type TokenizerName } from './tokenizer.js';
