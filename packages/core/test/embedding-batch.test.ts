import { describe, expect, it } from 'vitest';
import { loadTokenizer } from '../src/chunking/index.js';
import {
  batchForEmbedding,
  EmbeddingInputError,
  OPENAI_MAX_INPUTS_PER_REQUEST,
  OPENAI_MAX_TOKENS_PER_INPUT,
  OPENAI_MAX_TOKENS_PER_REQUEST,
} from '../src/embedding/index.js';
import { InvalidConfigError } from '../src/errors/index.js';

const openAILimits = async () => ({
  maxInputs: OPENAI_MAX_INPUTS_PER_REQUEST,
  maxTokens: OPENAI_MAX_TOKENS_PER_REQUEST,
  maxTokensPerInput: OPENAI_MAX_TOKENS_PER_INPUT,
  countTokens: (await loadTokenizer('cl100k_base')).count,
});

describe('batchForEmbedding', () => {
  it('fills batches up to the input limit: 5,000 short texts are 3 requests of 2048, 2048, 904', async () => {
    const texts = Array.from({ length: 5000 }, (_, index) => `chunk number ${index}`);
    const batches = batchForEmbedding(texts, await openAILimits());
    expect(batches.map((batch) => batch.texts.length)).toEqual([2048, 2048, 904]);
    expect(batches.map((batch) => [batch.start, batch.end])).toEqual([
      [0, 2048],
      [2048, 4096],
      [4096, 5000],
    ]);
    expect(batches.flatMap((batch) => batch.texts)).toEqual(texts);
  });

  it('fills batches up to the token budget', async () => {
    const limits = await openAILimits();
    const text = `${'token '.repeat(7999)}end`; // 8,000 tokens
    expect(limits.countTokens(text)).toBe(8000);
    const batches = batchForEmbedding(
      Array.from({ length: 80 }, () => text),
      limits,
    );
    // 300,000 / 8,000 = 37.5: 37 per request.
    expect(batches.map((batch) => batch.texts.length)).toEqual([37, 37, 6]);
    expect(batches.map((batch) => batch.tokens)).toEqual([296_000, 296_000, 48_000]);
  });

  it('applies whichever limit comes first, in order, never splitting or reordering', () => {
    const texts = ['aaaa', 'bb', 'cccccc', 'd', 'eeeeeeee', 'ff'];
    const batches = batchForEmbedding(texts, {
      maxInputs: 3,
      maxTokens: 10,
      countTokens: (text) => text.length,
    });
    expect(batches.map((batch) => batch.texts)).toEqual([
      ['aaaa', 'bb'],
      ['cccccc', 'd'],
      ['eeeeeeee', 'ff'],
    ]);
  });

  it('refuses an input over the per-input limit with a clear error naming its position', async () => {
    const limits = await openAILimits();
    const tooLong = `${'word '.repeat(8999)}word`;
    const error = (() => {
      try {
        batchForEmbedding(['fine', tooLong], limits);
      } catch (caught) {
        return caught;
      }
    })();
    expect(EmbeddingInputError.isInstance(error)).toBe(true);
    expect((error as EmbeddingInputError).inputIndex).toBe(1);
    expect((error as Error).message).toMatch(
      /input #1 cannot be embedded: it has 9000 tokens, over the model's limit of 8191 tokens per input.*createChunker/,
    );
  });

  it('refuses empty inputs, which providers reject', async () => {
    expect(() =>
      batchForEmbedding(['ok', '  '], { maxInputs: 10, maxTokens: 100, countTokens: () => 1 }),
    ).toThrow(/input #1.*empty/);
  });

  it('returns no batches for no texts, and rejects nonsense limits', () => {
    expect(batchForEmbedding([], { maxInputs: 1, maxTokens: 1, countTokens: () => 1 })).toEqual([]);
    expect(() => batchForEmbedding(['x'], { maxInputs: 0, maxTokens: 1, countTokens: () => 1 })).toThrow(
      InvalidConfigError,
    );
  });
});
