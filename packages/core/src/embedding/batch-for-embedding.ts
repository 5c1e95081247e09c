import { InvalidConfigError } from '../errors/index.js';
import { EmbeddingInputError } from './embedding-input-error.js';

/** OpenAI's embeddings endpoint: at most 2,048 inputs per request. */
export const OPENAI_MAX_INPUTS_PER_REQUEST = 2048;
/** OpenAI's embeddings endpoint: at most 300,000 tokens summed over one request's inputs. */
export const OPENAI_MAX_TOKENS_PER_REQUEST = 300_000;
/** OpenAI's embedding models: at most 8,191 tokens per input. */
export const OPENAI_MAX_TOKENS_PER_INPUT = 8191;

export interface EmbeddingBatchLimits {
  /** Most inputs per batch. */
  maxInputs: number;
  /** Most tokens per batch (summed over its inputs). */
  maxTokens: number;
  /** Longest single input; a longer one is refused with `EmbeddingInputError`. Default: `maxTokens`. */
  maxTokensPerInput?: number | undefined;
  /** Counts a text's tokens with the model's tokenizer, e.g. `(await loadTokenizer()).count`. */
  countTokens: (text: string) => number;
}

/** A run of consecutive inputs that fits in one request. */
export interface EmbeddingBatch {
  /** Index of the batch's first input in the original array. */
  start: number;
  /** Index after its last input (exclusive). */
  end: number;
  texts: string[];
  /** Tokens in the batch, by `countTokens`. */
  tokens: number;
}

/**
 * Splits texts into as few requests as the provider allows: each batch is filled until the next
 * text would break either the input-count or the token budget, keeping order. With OpenAI's
 * limits, 5,000 short texts make 3 requests (not the 50 that 100-per-request batching makes).
 * Empty texts and texts over `maxTokensPerInput` are refused up front with `EmbeddingInputError`
 * (the provider would reject the whole request).
 *
 * @example
 * const tokenizer = await loadTokenizer('cl100k_base');
 * const batches = batchForEmbedding(texts, {
 *   maxInputs: 2048, maxTokens: 300_000, maxTokensPerInput: 8191, countTokens: tokenizer.count,
 * });
 */
export function batchForEmbedding(texts: readonly string[], limits: EmbeddingBatchLimits): EmbeddingBatch[] {
  const maxTokensPerInput = limits.maxTokensPerInput ?? limits.maxTokens;
  const issues = [
    !(Number.isInteger(limits.maxInputs) && limits.maxInputs > 0) && {
      fieldPath: 'maxInputs',
      message: 'must be a positive integer',
    },
    !(limits.maxTokens > 0) && { fieldPath: 'maxTokens', message: 'must be a positive number' },
    !(maxTokensPerInput > 0 && maxTokensPerInput <= limits.maxTokens) && {
      fieldPath: 'maxTokensPerInput',
      message: 'must be positive and not above maxTokens',
    },
  ].filter((issue) => issue !== false);
  if (issues.length > 0) throw new InvalidConfigError({ subject: 'embedding batch limits', issues });

  const batches: EmbeddingBatch[] = [];
  let current: EmbeddingBatch | undefined;
  for (const [index, text] of texts.entries()) {
    if (text.trim() === '') {
      throw new EmbeddingInputError({
        inputIndex: index,
        reason: 'it is empty or whitespace only (providers reject empty inputs)',
      });
    }
    const tokens = limits.countTokens(text);
    if (tokens > maxTokensPerInput) {
      throw new EmbeddingInputError({
        inputIndex: index,
        reason: `it has ${tokens} tokens, over the model's limit of ${maxTokensPerInput} tokens per input`,
      });
    }
    if (current && current.texts.length < limits.maxInputs && current.tokens + tokens <= limits.maxTokens) {
      current.texts.push(text);
      current.end = index + 1;
      current.tokens += tokens;
      continue;
    }
    current = { start: index, end: index + 1, texts: [text], tokens };
    batches.push(current);
  }
  return batches;
}
