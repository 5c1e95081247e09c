import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { countTokens } from 'gpt-tokenizer/encoding/cl100k_base';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  AuthError,
  ConnectorApiError,
  InvalidConfigError,
  QuotaExceededError,
  RateLimitError,
} from '../src/errors/index.js';
import { createOpenAIEmbedder, OPENAI_EMBEDDING_PRICES_PER_MILLION_TOKENS } from '../src/openai.js';
import { type FakeOpenAIServer, startFakeOpenAIServer } from './__fixtures__/fake-openai-server.js';

const API_KEY = 'sk-test-tributary-0123456789abcdefSECRET';
let server: FakeOpenAIServer;

beforeAll(async () => {
  server = await startFakeOpenAIServer({ tokensOf: (text) => countTokens(text) });
});
afterAll(async () => {
  await server.close();
});
afterEach(() => {
  server.requests.length = 0;
  server.script();
  vi.restoreAllMocks();
});

const embedderFor = (options: Parameters<typeof createOpenAIEmbedder>[0] = {}) =>
  createOpenAIEmbedder({ apiKey: API_KEY, baseURL: server.baseURL, initialRetryDelayMs: 5, ...options });

async function failure(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(outcome instanceof Error)) throw new Error('expected embed() to fail');
  return outcome;
}

describe('createOpenAIEmbedder against a local server speaking the embeddings wire format', () => {
  it('embeds through the real openai client: request shape, vector order, usage and cost', async () => {
    const embedder = embedderFor();
    expect(embedder).toMatchObject({
      id: 'openai:text-embedding-3-small@1536',
      model: 'text-embedding-3-small',
      dimensions: 1536,
      kind: 'semantic',
      maxInputsPerRequest: 2048,
      maxTokensPerRequest: 300_000,
      maxTokensPerInput: 8191,
    });
    const texts = ['alpha', 'beta gamma', 'delta epsilon zeta'];
    const { vectors, usage } = await embedder.embed(texts);

    expect(server.requests).toHaveLength(1);
    const [request] = server.requests;
    expect(request?.method).toBe('POST');
    expect(request?.path).toBe('/v1/embeddings');
    expect(request?.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(request?.headers['x-stainless-retry-count']).toBe('0');
    expect(request?.body).toEqual({
      model: 'text-embedding-3-small',
      input: texts,
      dimensions: 1536,
      encoding_format: 'float',
    });

    // The server answers in reverse order; vectors still follow the inputs.
    expect(vectors.map((vector) => vector[0])).toEqual(texts.map((text) => text.length));
    expect(vectors.every((vector) => vector.length === 1536)).toBe(true);
    const tokens = texts.reduce((sum, text) => sum + countTokens(text), 0);
    expect(usage).toEqual({ requests: 1, inputs: 3, tokens, costUsd: (tokens / 1_000_000) * 0.02 });
  });

  it('retries a 429 after the retry-after-ms delay, then succeeds', async () => {
    server.script({
      kind: 'error',
      status: 429,
      headers: { 'retry-after-ms': '120' },
      error: { message: 'Rate limit reached for requests', type: 'requests', code: 'rate_limit_exceeded' },
    });
    const started = performance.now();
    const { vectors, usage } = await embedderFor().embed(['one', 'two']);
    expect(performance.now() - started).toBeGreaterThanOrEqual(110);
    expect(server.requests).toHaveLength(2);
    expect(server.requests[1]?.body).toEqual(server.requests[0]?.body);
    expect(vectors).toHaveLength(2);
    expect(usage.requests).toBe(2);
  });

  it('honours a retry-after header given in seconds', async () => {
    server.script({
      kind: 'error',
      status: 429,
      headers: { 'retry-after': '1' },
      error: { message: 'slow down', type: 'requests', code: null },
    });
    const started = performance.now();
    await embedderFor().embed(['one']);
    expect(performance.now() - started).toBeGreaterThanOrEqual(950);
    expect(server.requests).toHaveLength(2);
  });

  it('retries a 500 with backoff, then succeeds', async () => {
    server.script({
      kind: 'error',
      status: 500,
      error: { message: 'The server had an error', type: 'server_error', code: null },
    });
    const { usage } = await embedderFor().embed(['one']);
    expect(server.requests).toHaveLength(2);
    expect(usage.requests).toBe(2);
  });

  it('maps 401 to AuthError without retrying, and never shows the key', async () => {
    server.script({
      kind: 'error',
      status: 401,
      error: {
        message: `Incorrect API key provided: ${API_KEY}.`,
        type: 'invalid_request_error',
        code: 'invalid_api_key',
      },
    });
    const error = await failure(embedderFor().embed(['one']));
    expect(AuthError.isInstance(error)).toBe(true);
    expect((error as AuthError).status).toBe(401);
    expect(error.message).toMatch(
      /^\[tributary\] \[openai\] OpenAI rejected the API key \(HTTP 401\).*OPENAI_API_KEY/,
    );
    expect(error.message).not.toContain(API_KEY);
    expect(error.message).not.toContain('SECRET');
    expect(server.requests).toHaveLength(1);
  });

  it('maps insufficient_quota to QuotaExceededError without retrying', async () => {
    server.script({
      kind: 'error',
      status: 429,
      headers: { 'retry-after-ms': '10' },
      error: {
        message: 'You exceeded your current quota, please check your plan and billing details.',
        type: 'insufficient_quota',
        code: 'insufficient_quota',
      },
    });
    const error = await failure(embedderFor().embed(['one']));
    expect(QuotaExceededError.isInstance(error)).toBe(true);
    expect(error.message).toMatch(/quota.*Billing/);
    expect(server.requests).toHaveLength(1);
  });

  it('gives up with RateLimitError (carrying retryAfterMs) after maxRetries', async () => {
    const throttled = {
      kind: 'error',
      status: 429,
      headers: { 'retry-after-ms': '5' },
      error: { message: 'slow down', type: 'tokens', code: 'rate_limit_exceeded' },
    } as const;
    server.script(throttled, throttled, throttled);
    const error = await failure(embedderFor({ maxRetries: 2 }).embed(['one']));
    expect(RateLimitError.isInstance(error)).toBe(true);
    expect((error as RateLimitError).retryAfterMs).toBe(5);
    expect(server.requests).toHaveLength(3);
  });

  it('hands a Retry-After longer than maxRetryDelayMs back to the caller instead of sleeping', async () => {
    server.script({
      kind: 'error',
      status: 429,
      headers: { 'retry-after': '3600' },
      error: { message: 'come back later', type: 'requests', code: null },
    });
    const error = await failure(embedderFor().embed(['one']));
    expect(RateLimitError.isInstance(error)).toBe(true);
    expect((error as RateLimitError).retryAfterMs).toBe(3_600_000);
    expect((error as RateLimitError).isRetryable).toBe(true);
    expect(server.requests).toHaveLength(1);
  });

  it('does not retry a 400 and reports it as a non-retryable ConnectorApiError', async () => {
    server.script({
      kind: 'error',
      status: 400,
      error: { message: "'$.input' is invalid.", type: 'invalid_request_error', code: null },
    });
    const error = await failure(embedderFor().embed(['one']));
    expect(ConnectorApiError.isInstance(error)).toBe(true);
    expect((error as ConnectorApiError).isRetryable).toBe(false);
    expect((error as ConnectorApiError).status).toBe(400);
    expect(server.requests).toHaveLength(1);
  });

  it('batches 5,000 short inputs into exactly 3 requests of 2048, 2048 and 904, in order', async () => {
    const texts = Array.from({ length: 5000 }, (_, index) => `chunk ${index}`);
    const { vectors, usage } = await embedderFor().embed(texts);
    expect(server.requests.map((request) => request.body.input.length)).toEqual([2048, 2048, 904]);
    expect(server.requests.flatMap((request) => request.body.input)).toEqual(texts);
    expect(vectors.map((vector) => vector[0])).toEqual(texts.map((text) => text.length));
    expect(usage.requests).toBe(3);
    expect(usage.tokens).toBe(texts.reduce((sum, text) => sum + countTokens(text), 0));
  });

  it('splits by the 300k token budget: 80 inputs of 8,000 tokens are 3 requests of 37, 37 and 6', async () => {
    const texts = Array.from({ length: 80 }, (_, index) => `${'token '.repeat(7998)}end${index}`);
    expect(countTokens(texts[0] as string)).toBeLessThanOrEqual(8000);
    const { usage } = await embedderFor().embed(texts);
    expect(server.requests.map((request) => request.body.input.length)).toEqual([37, 37, 6]);
    expect(server.requests.flatMap((request) => request.body.input)).toEqual(texts);
    for (const request of server.requests) {
      expect(request.body.input.reduce((sum, text) => sum + countTokens(text), 0)).toBeLessThanOrEqual(
        300_000,
      );
    }
    expect(usage.costUsd).toBeCloseTo((usage.tokens / 1_000_000) * 0.02, 12);
  });

  it('refuses an input over 8,191 tokens before sending anything', async () => {
    const error = await failure(embedderFor().embed(['short', 'word '.repeat(9000)]));
    expect(error.message).toMatch(/input #1 cannot be embedded.*8191 tokens per input/);
    expect(server.requests).toHaveLength(0);
  });

  it('owns retries even with a caller-supplied client configured to retry', async () => {
    const client = new OpenAI({ apiKey: API_KEY, baseURL: server.baseURL, maxRetries: 5 });
    server.script({
      kind: 'error',
      status: 503,
      error: { message: 'overloaded', type: 'server_error', code: null },
    });
    const error = await failure(createOpenAIEmbedder({ client, maxRetries: 0 }).embed(['one']));
    expect(ConnectorApiError.isInstance(error)).toBe(true);
    expect((error as ConnectorApiError).status).toBe(503);
    expect(server.requests).toHaveLength(1); // the client's own 5 retries were switched off
  });

  it('reads OPENAI_API_KEY lazily: creating without a key works, embedding without one is an AuthError', async () => {
    const saved = process.env.OPENAI_API_KEY;
    delete process.env.OPENAI_API_KEY;
    try {
      const embedder = createOpenAIEmbedder({ baseURL: server.baseURL });
      const error = await failure(embedder.embed(['one']));
      expect(AuthError.isInstance(error)).toBe(true);
      expect(error.message).toContain('OPENAI_API_KEY');
      process.env.OPENAI_API_KEY = API_KEY;
      await embedder.embed(['one']);
      expect(server.requests[0]?.headers.authorization).toBe(`Bearer ${API_KEY}`);
    } finally {
      if (saved === undefined) delete process.env.OPENAI_API_KEY;
      else process.env.OPENAI_API_KEY = saved;
    }
  });

  it('never logs the key or exposes it on the embedder', async () => {
    const logged: unknown[] = [];
    for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
        logged.push(...args);
      });
    }
    const embedder = embedderFor();
    server.script({
      kind: 'error',
      status: 500,
      error: { message: 'boom', type: 'server_error', code: null },
    });
    await embedder.embed(['one']);
    server.script({
      kind: 'error',
      status: 401,
      error: {
        message: `Incorrect API key provided: ${API_KEY}.`,
        type: 'invalid_request_error',
        code: 'invalid_api_key',
      },
    });
    const error = await failure(embedder.embed(['two']));
    logged.push(error.message, inspect(error, { depth: 2 }));
    const everything = [
      JSON.stringify(embedder),
      inspect(embedder, { depth: 5, showHidden: true }),
      inspect(logged, { depth: 5 }),
    ].join('\n');
    expect(everything).not.toContain(API_KEY);
  });

  it('stops waiting for a retry when the signal aborts', async () => {
    server.script({
      kind: 'error',
      status: 429,
      headers: { 'retry-after-ms': '30000' },
      error: { message: 'wait', type: 'requests', code: null },
    });
    const controller = new AbortController();
    const started = performance.now();
    const pending = embedderFor().embed(['one'], { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('cancelled by test')), 100);
    await expect(pending).rejects.toThrow('cancelled by test');
    expect(performance.now() - started).toBeLessThan(5000);
    expect(server.requests).toHaveLength(1);
  });

  it('sends no dimensions for ada-002, uses the price table, and validates dimensions per model', async () => {
    const { usage } = await embedderFor({ model: 'text-embedding-ada-002' }).embed(['hello world']);
    expect(server.requests[0]?.body).toEqual({
      model: 'text-embedding-ada-002',
      input: ['hello world'],
      encoding_format: 'float',
    });
    expect(usage.costUsd).toBeCloseTo(
      (usage.tokens / 1_000_000) *
        (OPENAI_EMBEDDING_PRICES_PER_MILLION_TOKENS['text-embedding-ada-002'] ?? 0),
      12,
    );
    const large = embedderFor({ model: 'text-embedding-3-large', dimensions: 256, pricePerMillionTokens: 1 });
    expect(large.id).toBe('openai:text-embedding-3-large@256');
    expect((await large.embed(['abc'])).usage.costUsd).toBeCloseTo(countTokens('abc') / 1_000_000, 12);
    expect(() => createOpenAIEmbedder({ dimensions: 3072 })).toThrow(InvalidConfigError);
    expect(() => createOpenAIEmbedder({ model: 'text-embedding-ada-002', dimensions: 512 })).toThrow(
      /ada-002/,
    );
  });

  it('rejects a response whose vectors do not match the requested dimensions', async () => {
    // The fake server honours `dimensions`; a client returning short vectors stands in for a bad proxy.
    const lying = {
      embeddings: {
        create: async () => ({ data: [{ index: 0, embedding: [1, 2, 3] }], usage: { prompt_tokens: 1 } }),
      },
    };
    const error = await failure(createOpenAIEmbedder({ client: lying, dimensions: 8 }).embed(['one']));
    expect(ConnectorApiError.isInstance(error)).toBe(true);
    expect(error.message).toMatch(/malformed.*3 dimensions, expected 8/);
  });
});

describe('@tributary/core package shape', () => {
  const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    dependencies?: Record<string, string>;
    peerDependencies?: Record<string, string>;
    peerDependenciesMeta?: Record<string, { optional?: boolean }>;
    exports: Record<string, unknown>;
  };

  it('keeps openai out of dependencies: an optional peer behind the ./openai entry', () => {
    expect(Object.keys(manifest.dependencies ?? {})).not.toContain('openai');
    expect(manifest.peerDependencies?.openai).toBeDefined();
    expect(manifest.peerDependenciesMeta?.openai?.optional).toBe(true);
    expect(manifest.exports['./openai']).toBeDefined();
  });
});
