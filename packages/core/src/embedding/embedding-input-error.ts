import { TributaryError } from '../errors/index.js';

const marker = Symbol.for('tributary.error.embedding_input');

export interface EmbeddingInputErrorOptions {
  /** Position of the offending text in the `embed()` / `batchForEmbedding()` input. */
  inputIndex: number;
  /** What is wrong with it. */
  reason: string;
  hint?: string | undefined;
}

/**
 * A text handed to an embedder cannot be embedded as it is: empty, or longer than the model's
 * per-input token limit. Raised before any request is sent. The chunker never produces such
 * texts; this guards hand-made input.
 */
export class EmbeddingInputError extends TributaryError {
  /** Marks instances for `isInstance`, across duplicate copies of the package. */
  readonly [marker] = true;
  readonly inputIndex: number;
  readonly isRetryable = false;

  constructor(options: EmbeddingInputErrorOptions) {
    super({
      code: 'embedding_input_invalid',
      area: 'embedding',
      message: `input #${options.inputIndex} cannot be embedded: ${options.reason}`,
      hint:
        options.hint ??
        'Chunk long texts with createChunker() (its maxTokens keeps every chunk within the model limit)',
    });
    this.inputIndex = options.inputIndex;
  }

  static override isInstance(error: unknown): error is EmbeddingInputError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[marker] === true;
  }
}
