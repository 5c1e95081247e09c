/** What an embedder spent on one `embed()` call. */
export interface EmbeddingUsage {
  /** HTTP requests sent (retries included); 0 for local embedders. */
  requests: number;
  /** Texts embedded. */
  inputs: number;
  /** Tokens billed (as the provider reported them); 0 for local embedders. */
  tokens: number;
  /** Estimated cost in US dollars from the embedder's price table; 0 for local embedders. */
  costUsd: number;
}

export interface EmbedOptions {
  /** Cancels waiting and in-flight requests; `embed()` then rejects with the signal's reason. */
  signal?: AbortSignal | undefined;
}

export interface EmbedResult {
  /** One vector per input text, in input order, each `dimensions` long. */
  vectors: number[][];
  usage: EmbeddingUsage;
}

/**
 * Turns texts into vectors. Implementations: `createLexicalEmbedder()` (offline, no key; lexical
 * similarity only) and `createOpenAIEmbedder()` from `@tributary/core/openai`. Write your own
 * for another provider: the pipeline only needs this interface.
 */
export interface Embedder {
  /**
   * Stable identity of the vector space, `provider:model@dimensions`
   * (e.g. `openai:text-embedding-3-small@1536`). Stored with every embedding: vectors are reused
   * and compared only between chunks embedded under the same id.
   */
  readonly id: string;
  readonly model: string;
  readonly dimensions: number;
  /**
   * `semantic`: a trained model, similar meaning lands close. `lexical`: shared words land close,
   * synonyms and paraphrases do not.
   */
  readonly kind: 'semantic' | 'lexical';
  /** Most texts one request may carry. */
  readonly maxInputsPerRequest: number;
  /** Most tokens (summed over inputs) one request may carry. */
  readonly maxTokensPerRequest: number;
  /** Longest single input, in tokens, when the model has such a limit. */
  readonly maxTokensPerInput?: number | undefined;
  /** Embeds the texts (batching and retrying internally as the implementation needs). */
  embed(texts: readonly string[], options?: EmbedOptions): Promise<EmbedResult>;
}
