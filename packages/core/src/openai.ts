/**
 * `@tributary/core/openai`: the OpenAI embedder. A separate entry point so that `openai` stays an
 * optional peer dependency: hosts that embed elsewhere (or offline) never install it.
 */
import { loadTokenizer } from './chunking/tokenizer.js';
import {
  batchForEmbedding,
  type EmbeddingBatch,
  OPENAI_MAX_INPUTS_PER_REQUEST,
  OPENAI_MAX_TOKENS_PER_INPUT,
  OPENAI_MAX_TOKENS_PER_REQUEST,
} from './embedding/batch-for-embedding.js';
import type { Embedder, EmbedOptions, EmbedResult } from './embedding/embedder.js';
import {
  AuthError,
  ConnectorApiError,
  InvalidConfigError,
  QuotaExceededError,
  RateLimitError,
} from './errors/index.js';
import { sleep } from './http/clock.js';

/** US dollars per 1M input tokens, from OpenAI's price list. Override with `pricePerMillionTokens`. */
export const OPENAI_EMBEDDING_PRICES_PER_MILLION_TOKENS: Readonly<Record<string, number>> = {
  'text-embedding-3-small': 0.02,
  'text-embedding-3-large': 0.13,
  'text-embedding-ada-002': 0.1,
};

/** Largest `dimensions` each model returns (the v3 models can shorten their vectors). */
const MAX_DIMENSIONS: Readonly<Record<string, number>> = {
  'text-embedding-3-small': 1536,
  'text-embedding-3-large': 3072,
  'text-embedding-ada-002': 1536,
};

/** The request body this embedder sends (OpenAI's `POST /v1/embeddings`). */
export interface OpenAIEmbeddingRequest {
  model: string;
  input: string[];
  dimensions?: number;
  encoding_format: 'float';
}

/** The part of OpenAI's embeddings response this embedder reads. */
export interface OpenAIEmbeddingResponse {
  data: ReadonlyArray<{ index: number; embedding: readonly number[] }>;
  usage?: { prompt_tokens: number; total_tokens?: number } | undefined;
}

/**
 * The slice of an `OpenAI` client instance this embedder calls. A real `new OpenAI(...)` fits;
 * so does any object with the same method (an Azure OpenAI client, a test double).
 */
export interface OpenAIEmbeddingsClient {
  embeddings: {
    create(
      body: OpenAIEmbeddingRequest,
      options?: { signal?: AbortSignal | undefined; maxRetries?: number; timeout?: number },
    ): PromiseLike<OpenAIEmbeddingResponse>;
  };
}

export interface OpenAIEmbedderOptions {
  /** API key. Default: `OPENAI_API_KEY`, read at the first `embed()` call (not at creation). */
  apiKey?: string | undefined;
  /** Default `text-embedding-3-small`. */
  model?: string | undefined;
  /** Vector length. Default 1536. The v3 models shorten their vectors to it; ada-002 only has 1536. */
  dimensions?: number | undefined;
  /** A ready client (e.g. `new OpenAI({...})` or an `AzureOpenAI`). `apiKey`, `baseURL`, `organization` then go unused. */
  client?: OpenAIEmbeddingsClient | undefined;
  /** API base URL, e.g. a proxy or a local test server. Default: the `openai` package's (`OPENAI_BASE_URL` or api.openai.com). */
  baseURL?: string | undefined;
  organization?: string | undefined;
  /** Retries per request after a 429 (rate limit), 408/409, 5xx or network error. Default 5. */
  maxRetries?: number | undefined;
  /** First backoff delay when the response names none; doubles per retry up to 8 s. Default 500 ms. */
  initialRetryDelayMs?: number | undefined;
  /**
   * Longest wait we accept from `Retry-After`. A longer one ends the call with `RateLimitError`
   * (carrying `retryAfterMs`) so the runner can reschedule instead of holding a worker. Default 60 s.
   */
  maxRetryDelayMs?: number | undefined;
  /** Time limit per request. Default 60 s. */
  timeoutMs?: number | undefined;
  /** Requests in flight at once. Default 1. */
  concurrency?: number | undefined;
  /** Price per 1M tokens for `usage.costUsd`. Default: {@link OPENAI_EMBEDDING_PRICES_PER_MILLION_TOKENS} for the model, else 0. */
  pricePerMillionTokens?: number | undefined;
  /** Per-request input cap. Default 2048 (OpenAI's limit); lower it for proxies with smaller limits. */
  maxInputsPerRequest?: number | undefined;
  /** Per-request token cap. Default 300,000 (OpenAI's limit). */
  maxTokensPerRequest?: number | undefined;
}

/**
 * Creates an embedder backed by OpenAI's embeddings API through the official `openai` package.
 *
 * - Batches by input count and token budget (`batchForEmbedding`, counted with cl100k_base):
 *   5,000 chunks are 3 requests, not 50.
 * - **One retry owner: this embedder.** The `openai` client's own retries are switched off
 *   (`maxRetries: 0` on every request, even on a client you pass in), and this code retries
 *   429, 408/409, 5xx and network errors, honouring `retry-after-ms` / `retry-after`. Two retry
 *   layers would multiply attempts (2 × 5 = 15 requests for one batch); the client would also
 *   retry `insufficient_quota` 429s, which can never succeed; and only this layer can stop
 *   waiting when the caller's signal aborts, count every request in `usage`, and hand a long
 *   `Retry-After` back to the runner.
 * - 401/403 → `AuthError`; 429 with `insufficient_quota` → `QuotaExceededError`: both fatal,
 *   never retried.
 * - `usage` reports requests, tokens (as OpenAI billed them) and `costUsd` from the price table.
 * - The key is read lazily, kept in a closure (not on the returned object) and never logged or
 *   put in an error message.
 *
 * @example
 * import { createOpenAIEmbedder } from '@tributary/core/openai';
 * const embedder = createOpenAIEmbedder({ model: 'text-embedding-3-small', dimensions: 1536 });
 * const { vectors, usage } = await embedder.embed(['hello world']);
 */
export function createOpenAIEmbedder(options: OpenAIEmbedderOptions = {}): Embedder {
  const model = options.model ?? 'text-embedding-3-small';
  const dimensions = options.dimensions ?? 1536;
  const maxRetries = options.maxRetries ?? 5;
  const initialRetryDelayMs = options.initialRetryDelayMs ?? 500;
  const maxRetryDelayMs = options.maxRetryDelayMs ?? 60_000;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const concurrency = options.concurrency ?? 1;
  const maxInputsPerRequest = options.maxInputsPerRequest ?? OPENAI_MAX_INPUTS_PER_REQUEST;
  const maxTokensPerRequest = options.maxTokensPerRequest ?? OPENAI_MAX_TOKENS_PER_REQUEST;
  const pricePerMillionTokens =
    options.pricePerMillionTokens ?? OPENAI_EMBEDDING_PRICES_PER_MILLION_TOKENS[model] ?? 0;
  validateOptions({
    model,
    dimensions,
    maxRetries,
    concurrency,
    maxInputsPerRequest,
    maxTokensPerRequest,
    timeoutMs,
  });

  const endpoint = `${(options.baseURL ?? 'https://api.openai.com/v1').replace(/\/+$/, '')}/embeddings`;
  // ada-002 has one size and rejects the parameter; the v3 models take it.
  const sendDimensions = model !== 'text-embedding-ada-002';
  const secrets = (): string[] =>
    [options.apiKey, process.env.OPENAI_API_KEY].filter((key): key is string => !!key);

  let client: Promise<OpenAIEmbeddingsClient> | undefined = options.client
    ? Promise.resolve(options.client)
    : undefined;
  const getClient = (): Promise<OpenAIEmbeddingsClient> => {
    client ??= createClient(options).catch((error: unknown) => {
      client = undefined; // let a later call retry (e.g. after OPENAI_API_KEY is set)
      throw error;
    });
    return client;
  };

  async function embed(texts: readonly string[], embedOptions: EmbedOptions = {}): Promise<EmbedResult> {
    const signal = embedOptions.signal;
    signal?.throwIfAborted();
    const usage = { requests: 0, inputs: texts.length, tokens: 0, costUsd: 0 };
    if (texts.length === 0) return { vectors: [], usage };

    const tokenizer = await loadTokenizer('cl100k_base');
    const batches = batchForEmbedding(texts, {
      maxInputs: maxInputsPerRequest,
      maxTokens: maxTokensPerRequest,
      maxTokensPerInput: Math.min(OPENAI_MAX_TOKENS_PER_INPUT, maxTokensPerRequest),
      countTokens: tokenizer.count,
    });
    const openai = await getClient();
    const vectors: number[][] = new Array(texts.length);

    const runBatch = async (batch: EmbeddingBatch) => {
      const response = await requestWithRetries(openai, batch, signal, usage);
      const data = [...response.data].sort((left, right) => left.index - right.index);
      if (data.length !== batch.texts.length || data.some((item, position) => item.index !== position)) {
        throw malformed(`returned ${data.length} embeddings for ${batch.texts.length} inputs`);
      }
      for (const [position, item] of data.entries()) {
        if (!Array.isArray(item.embedding) || item.embedding.length !== dimensions) {
          throw malformed(
            `returned a vector of ${Array.isArray(item.embedding) ? item.embedding.length : 'no'} dimensions, expected ${dimensions}`,
          );
        }
        vectors[batch.start + position] = item.embedding as number[];
      }
      usage.tokens += response.usage?.prompt_tokens ?? batch.tokens;
    };

    // Bounded concurrency: a shared cursor over the batches, `concurrency` workers.
    let next = 0;
    const worker = async () => {
      while (next < batches.length) {
        const batch = batches[next++] as EmbeddingBatch;
        await runBatch(batch);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, batches.length) }, worker));
    usage.costUsd = (usage.tokens / 1_000_000) * pricePerMillionTokens;
    return { vectors, usage };
  }

  async function requestWithRetries(
    openai: OpenAIEmbeddingsClient,
    batch: EmbeddingBatch,
    signal: AbortSignal | undefined,
    usage: { requests: number },
  ): Promise<OpenAIEmbeddingResponse> {
    const body: OpenAIEmbeddingRequest = {
      model,
      input: batch.texts,
      ...(sendDimensions ? { dimensions } : {}),
      encoding_format: 'float',
    };
    for (let attempt = 0; ; attempt += 1) {
      signal?.throwIfAborted();
      usage.requests += 1;
      try {
        return await openai.embeddings.create(body, { signal, maxRetries: 0, timeout: timeoutMs });
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        const failure = classifyFailure(error);
        if (failure.kind === 'unknown') throw error;
        const detail = redact(failure.message, secrets());
        // The provider's error can echo the key back (a 401 quoting it): keep a redacted copy as the cause.
        const cause = redactedCause(error, secrets());
        if (failure.kind === 'auth') {
          throw new AuthError({
            connector: 'openai',
            status: failure.status,
            url: endpoint,
            message: `OpenAI rejected the API key (HTTP ${failure.status})${detail ? `: ${detail}` : ''}`,
            hint:
              failure.status === 403
                ? "Check that the key's project may use this model (and that the organization is right)"
                : 'Set a valid key in OPENAI_API_KEY or pass apiKey to createOpenAIEmbedder()',
            cause,
          });
        }
        if (failure.kind === 'quota') {
          throw new QuotaExceededError({
            connector: 'openai',
            status: failure.status,
            url: endpoint,
            message: `OpenAI reports the account's quota is used up (insufficient_quota)${detail ? `: ${detail}` : ''}`,
            hint: 'Add credits or raise the usage limit in the OpenAI dashboard (Billing), then run the sync again',
            cause,
          });
        }
        const retryAfterMs = failure.retryAfterMs;
        const delay = retryAfterMs ?? backoffDelay(attempt, initialRetryDelayMs);
        if (failure.kind === 'fatal' || attempt >= maxRetries || delay > maxRetryDelayMs) {
          const common = {
            connector: 'openai',
            status: failure.status,
            method: 'POST',
            url: endpoint,
            responseBody: detail,
            retryAfterMs,
            cause,
          };
          if (failure.status === 429) throw new RateLimitError(common);
          throw new ConnectorApiError({
            ...common,
            ...(failure.kind === 'fatal' ? { isRetryable: false } : {}),
          });
        }
        await sleep(delay, signal);
      }
    }
  }

  return {
    id: `openai:${model}@${dimensions}`,
    model,
    dimensions,
    kind: 'semantic',
    maxInputsPerRequest,
    maxTokensPerRequest,
    maxTokensPerInput: OPENAI_MAX_TOKENS_PER_INPUT,
    embed,
  };
}

async function createClient(options: OpenAIEmbedderOptions): Promise<OpenAIEmbeddingsClient> {
  const apiKey = options.apiKey ?? process.env.OPENAI_API_KEY;
  if (!apiKey) {
    throw new AuthError({
      connector: 'openai',
      message: 'no OpenAI API key was given',
      hint: 'Set OPENAI_API_KEY, pass apiKey to createOpenAIEmbedder(), or use createLexicalEmbedder() to run without a key',
    });
  }
  let OpenAI: new (settings: Record<string, unknown>) => OpenAIEmbeddingsClient;
  try {
    const module = (await import('openai')) as unknown as { OpenAI?: typeof OpenAI; default?: typeof OpenAI };
    OpenAI = (module.OpenAI ?? module.default) as typeof OpenAI;
  } catch (error) {
    throw new InvalidConfigError({
      subject: 'OpenAI embedder options',
      issues: [{ fieldPath: 'client', message: 'the "openai" package is not installed' }],
      hint: 'Install it in the host app (npm install openai), or pass a ready client',
      cause: error,
    });
  }
  return new OpenAI({
    apiKey,
    ...(options.baseURL ? { baseURL: options.baseURL } : {}),
    ...(options.organization ? { organization: options.organization } : {}),
    // This embedder owns retries; see createOpenAIEmbedder's doc comment.
    maxRetries: 0,
  });
}

type Failure =
  | { kind: 'auth' | 'quota' | 'fatal'; status: number; message: string; retryAfterMs: number | undefined }
  | { kind: 'retryable'; status: number | undefined; message: string; retryAfterMs: number | undefined }
  | { kind: 'unknown' };

/** Reads an `openai` package error (any major version) by shape, not by class. */
function classifyFailure(error: unknown): Failure {
  if (typeof error !== 'object' || error === null) return { kind: 'unknown' };
  const shaped = error as {
    name?: unknown;
    status?: unknown;
    code?: unknown;
    type?: unknown;
    error?: { code?: unknown; type?: unknown; message?: unknown } | null;
    headers?: unknown;
    message?: unknown;
  };
  const name = String(shaped.name ?? error.constructor?.name ?? '');
  const status = typeof shaped.status === 'number' ? shaped.status : undefined;
  const message =
    typeof shaped.error?.message === 'string' ? shaped.error.message : String(shaped.message ?? '');
  const retryAfterMs = readRetryAfter(shaped.headers);
  if (status === undefined) {
    // APIConnectionError / APIConnectionTimeoutError: no response at all.
    const isConnection = /Connection|Timeout/i.test(name) || 'headers' in shaped;
    return isConnection
      ? { kind: 'retryable', status: undefined, message, retryAfterMs }
      : { kind: 'unknown' };
  }
  if (status === 401 || status === 403) return { kind: 'auth', status, message, retryAfterMs };
  const code = shaped.code ?? shaped.error?.code;
  const type = shaped.type ?? shaped.error?.type;
  if (status === 429 && (code === 'insufficient_quota' || type === 'insufficient_quota')) {
    return { kind: 'quota', status, message, retryAfterMs };
  }
  if (status === 408 || status === 409 || status === 429 || status >= 500)
    return { kind: 'retryable', status, message, retryAfterMs };
  return { kind: 'fatal', status, message, retryAfterMs };
}

/** `retry-after-ms` (milliseconds), else `retry-after` (seconds or an HTTP date). */
function readRetryAfter(headers: unknown): number | undefined {
  const get = (name: string): string | undefined => {
    if (!headers || typeof headers !== 'object') return undefined;
    if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
    const value = (headers as Record<string, unknown>)[name];
    return typeof value === 'string' ? value : undefined;
  };
  const milliseconds = Number.parseFloat(get('retry-after-ms') ?? '');
  if (Number.isFinite(milliseconds) && milliseconds >= 0) return Math.ceil(milliseconds);
  const retryAfter = get('retry-after');
  if (!retryAfter) return undefined;
  const seconds = Number.parseFloat(retryAfter);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds * 1000);
  const date = Date.parse(retryAfter);
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : undefined;
}

/** Exponential backoff with jitter: initial × 2^attempt, at most 8 s, scaled by 0.75–1. */
function backoffDelay(attempt: number, initialDelayMs: number): number {
  return Math.round(Math.min(8000, initialDelayMs * 2 ** attempt) * (0.75 + Math.random() * 0.25));
}

/** Masks the configured key and anything shaped like an OpenAI key in provider messages. */
function redact(text: string, secrets: readonly string[]): string {
  let redacted = text;
  for (const secret of secrets) redacted = redacted.split(secret).join('[REDACTED]');
  return redacted.replace(/\bsk-[A-Za-z0-9_*-]{6,}/g, 'sk-[REDACTED]').slice(0, 500);
}

/** A plain Error copying the provider error's name, message (redacted) and status fields. */
function redactedCause(error: unknown, secrets: readonly string[]): Error {
  const source = error as {
    name?: unknown;
    message?: unknown;
    status?: unknown;
    code?: unknown;
    type?: unknown;
    requestID?: unknown;
  };
  const copy = new Error(redact(String(source.message ?? error), secrets)) as Error & Record<string, unknown>;
  copy.name = typeof source.name === 'string' ? source.name : 'Error';
  for (const key of ['status', 'code', 'type', 'requestID'] as const) {
    if (source[key] !== undefined && source[key] !== null) copy[key] = source[key];
  }
  return copy;
}

function malformed(problem: string): ConnectorApiError {
  return new ConnectorApiError({
    connector: 'openai',
    message: `the OpenAI embeddings response is malformed: it ${problem}`,
    hint: 'Check baseURL (a proxy may be rewriting responses) and the dimensions setting for this model',
    isRetryable: false,
  });
}

function validateOptions(values: {
  model: string;
  dimensions: number;
  maxRetries: number;
  concurrency: number;
  maxInputsPerRequest: number;
  maxTokensPerRequest: number;
  timeoutMs: number;
}): void {
  const issues: Array<{ fieldPath: string; message: string }> = [];
  const maxDimensions = MAX_DIMENSIONS[values.model];
  if (!Number.isInteger(values.dimensions) || values.dimensions < 1) {
    issues.push({ fieldPath: 'dimensions', message: 'must be a positive integer' });
  } else if (maxDimensions !== undefined && values.dimensions > maxDimensions) {
    issues.push({
      fieldPath: 'dimensions',
      message: `${values.model} returns at most ${maxDimensions} dimensions`,
    });
  } else if (values.model === 'text-embedding-ada-002' && values.dimensions !== 1536) {
    issues.push({ fieldPath: 'dimensions', message: 'text-embedding-ada-002 only returns 1536 dimensions' });
  }
  if (!Number.isInteger(values.maxRetries) || values.maxRetries < 0) {
    issues.push({ fieldPath: 'maxRetries', message: 'must be an integer of 0 or more' });
  }
  if (!Number.isInteger(values.concurrency) || values.concurrency < 1) {
    issues.push({ fieldPath: 'concurrency', message: 'must be a positive integer' });
  }
  if (!Number.isInteger(values.maxInputsPerRequest) || values.maxInputsPerRequest < 1) {
    issues.push({ fieldPath: 'maxInputsPerRequest', message: 'must be a positive integer' });
  }
  if (!(values.maxTokensPerRequest > 0))
    issues.push({ fieldPath: 'maxTokensPerRequest', message: 'must be positive' });
  if (!(values.timeoutMs > 0)) issues.push({ fieldPath: 'timeoutMs', message: 'must be positive' });
  if (issues.length > 0) throw new InvalidConfigError({ subject: 'OpenAI embedder options', issues });
}

export type { Embedder, EmbeddingUsage, EmbedOptions, EmbedResult } from './embedding/embedder.js';
