import type { ZodType } from 'zod';
import { ConnectorApiError } from '../errors/connector-api-error.js';
import { formatFieldPath } from '../errors/invalid-config-error.js';
import { redactUrl } from '../errors/redact-secrets.js';
import { TimeoutError } from '../errors/timeout-error.js';
import { type Logger, silentLogger } from '../spec/logger.js';
import type { SyncMetrics } from '../spec/sync-metrics.js';
import { type Clock, systemClock } from './clock.js';
import { type RateLimiter, type RateLimitSettings, resolveRateLimiter } from './rate-limiter.js';
import { createResponseError } from './response-error.js';
import {
  abortErrorFromSignal,
  defaultRetryPolicy,
  isNetworkError,
  type RetryPolicy,
  type WithRetriesOptions,
  withRetries,
} from './with-retries.js';

export interface HttpClientOptions {
  /** Connector type: error message scope, log field and default rate-limit key. */
  provider: string;
  /** Default: the global `fetch`. Inject one to route through a proxy or a test server. */
  fetch?: typeof fetch | undefined;
  /** Limit for one attempt, in milliseconds. Default 30 s. See `request` and `json`. */
  timeoutMs?: number | undefined;
  retry?: Partial<RetryPolicy> | undefined;
  /**
   * Request budget. Settings (`{ requestsPerSecond, burst }`) give a token bucket per key, shared
   * by every client created with the same settings object; or pass a `RateLimiter`
   * (`createRateLimiter`, or one shared across workers).
   */
  rateLimit?: RateLimitSettings | RateLimiter | undefined;
  /** Bucket key; default `provider`. Use e.g. `notion:<workspace>` for per-account limits. */
  rateLimitKey?: string | undefined;
  /** Retry POST/PATCH too. Default false: a retried non-idempotent request can act twice. */
  retryNonIdempotent?: boolean | undefined;
  metrics?: SyncMetrics | undefined;
  logger?: Logger | undefined;
  /** Cancels every request of this client (the run's signal). */
  signal?: AbortSignal | undefined;
  /** Default headers, e.g. `{ 'notion-version': '2025-09-03' }`. Request headers win. */
  headers?: Record<string, string> | undefined;
  /** Injectable time source for backoff waits, `Retry-After` dates and the rate limiter. */
  clock?: Clock | undefined;
  /** Injectable randomness for jitter. */
  random?: (() => number) | undefined;
}

export interface HttpRequestInit extends Omit<RequestInit, 'signal'> {
  signal?: AbortSignal | undefined;
  /** Overrides the client's per-attempt timeout. */
  timeoutMs?: number | undefined;
  /** Overrides the client's `retryNonIdempotent` for this request. */
  retryNonIdempotent?: boolean | undefined;
  /** Overrides the number of retries for this request. */
  retries?: number | undefined;
  /** Error statuses returned as responses instead of thrown (e.g. `[404]` to test existence). */
  acceptStatuses?: readonly number[] | undefined;
}

export interface HttpJsonInit<T> extends Omit<HttpRequestInit, 'body'> {
  body?: RequestInit['body'] | undefined;
  /** Sent as a JSON body with `content-type: application/json`. */
  json?: unknown;
  /** Validates the parsed response (a zod schema of the provider's documented shape). */
  schema?: ZodType<T> | undefined;
}

/**
 * The HTTP kit a connector gets as `ctx.http`. Every request gets, per attempt: a rate-limit
 * token, a timeout combined with the caller's signal, metrics (`apiCalls` per attempt, `bytes`
 * per response body), retries of 408/425/429/5xx and network errors with exponential backoff,
 * full jitter and `Retry-After`, and typed errors with redacted URLs.
 */
export interface HttpClient {
  readonly provider: string;
  /**
   * Sends a request and returns the `Response` (status < 400, or in `acceptStatuses`). The
   * timeout covers each attempt until the response headers arrive; the body is then read under
   * the caller's signal only, so a large download is not cut at `timeoutMs`. Bytes are counted
   * as the body is read.
   */
  request(url: string | URL, init?: HttpRequestInit): Promise<Response>;
  /** Sends a request and parses the JSON body; the timeout covers headers and body. */
  json<T = unknown>(url: string | URL, init?: HttpJsonInit<T>): Promise<T>;
  /**
   * Applies this client's retry policy, signal, logger and provider to any async call, e.g. a
   * vendor SDK call whose own retries are off (the one-retry-owner rule). Counts one API call
   * per attempt and waits for a rate-limit token before each.
   */
  withRetries<T>(
    fn: (attempt: { attemptNumber: number; signal: AbortSignal | undefined }) => Promise<T>,
    options?: WithRetriesOptions,
  ): Promise<T>;
}

const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);
const MAX_ERROR_BODY_BYTES = 16 * 1024;

/** Creates the HTTP kit for one provider. See `HttpClient`. */
export function createHttpClient(options: HttpClientOptions): HttpClient {
  const provider = options.provider;
  const fetchImplementation = options.fetch ?? globalThis.fetch;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const metrics = options.metrics;
  const defaultTimeoutMs = options.timeoutMs ?? 30_000;
  const limiter = resolveRateLimiter(options.rateLimit, clock);
  const rateLimitKey = options.rateLimitKey ?? provider;
  const retryPolicy: RetryPolicy = { ...defaultRetryPolicy, ...options.retry };

  const combineSignals = (signal: AbortSignal | undefined): AbortSignal | undefined => {
    const signals = [options.signal, signal].filter((value): value is AbortSignal => value !== undefined);
    if (signals.length <= 1) return signals[0];
    return AbortSignal.any(signals);
  };

  const retrying = <T>(
    fn: (attempt: { attemptNumber: number; signal: AbortSignal | undefined }) => Promise<T>,
    overrides: WithRetriesOptions,
  ): Promise<T> =>
    withRetries(fn, { ...retryPolicy, provider, logger, clock, random: options.random, ...overrides });

  /** One attempt: rate-limit token, timed fetch, error mapping. Resolves with headers in hand. */
  const attempt = async <R>(
    url: string | URL,
    init: HttpRequestInit,
    method: string,
    callerSignal: AbortSignal | undefined,
    readBody: (response: Response) => Promise<R>,
  ): Promise<R> => {
    const operation = `${method} ${redactUrl(url)}`;
    if (limiter !== undefined) await limiter.acquire(rateLimitKey, callerSignal);
    const timeoutMs = init.timeoutMs ?? defaultTimeoutMs;
    const timer = startAttemptTimer(timeoutMs);
    const signal = callerSignal ? AbortSignal.any([callerSignal, timer.signal]) : timer.signal;
    const failure = (error: unknown) => {
      if (callerSignal?.aborted) return abortErrorFromSignal(callerSignal, provider, operation);
      if (timer.fired) return new TimeoutError({ connector: provider, timeoutMs, method, url, cause: error });
      return new ConnectorApiError({
        connector: provider,
        method,
        url,
        message: `${operation} failed before a complete response arrived (network error${codeOf(error)})`,
        // A TypeError that is not a network failure (an invalid URL or header) will not heal.
        isRetryable: !(error instanceof TypeError) || isNetworkError(error),
        cause: error,
      });
    };
    metrics?.apiCalls.count();
    const { timeoutMs: _t, retryNonIdempotent: _r, retries: _n, acceptStatuses, ...fetchInit } = init;
    let response: Response;
    try {
      response = await fetchImplementation(url, {
        ...fetchInit,
        method,
        headers: mergeHeaders(options.headers, init.headers),
        signal,
      });
    } catch (error) {
      timer.clear();
      throw failure(error);
    }
    if (response.status >= 400 && !acceptStatuses?.includes(response.status)) {
      let body: string | undefined;
      try {
        body = await readErrorBody(response, metrics);
      } catch {
        body = undefined;
      } finally {
        timer.clear();
      }
      throw createResponseError({
        provider,
        status: response.status,
        statusText: response.statusText,
        method,
        url,
        headers: response.headers,
        body,
        now: clock.now(),
      });
    }
    try {
      return await readBody(response);
    } catch (error) {
      throw ConnectorApiError.isInstance(error) ? error : failure(error);
    } finally {
      timer.clear();
    }
  };

  const prepare = (init: HttpRequestInit | undefined) => {
    const method = (init?.method ?? 'GET').toUpperCase();
    const idempotent =
      IDEMPOTENT_METHODS.has(method) || (init?.retryNonIdempotent ?? options.retryNonIdempotent ?? false);
    const retries = idempotent ? (init?.retries ?? retryPolicy.retries) : 0;
    return { method, retries, signal: combineSignals(init?.signal) };
  };

  const request: HttpClient['request'] = (url, init = {}) => {
    const { method, retries, signal } = prepare(init);
    return retrying(
      () => attempt(url, init, method, signal, async (response) => countResponseBytes(response, metrics)),
      { retries, signal, operation: `${method} ${redactUrl(url)}` },
    );
  };

  const json = <T>(url: string | URL, init: HttpJsonInit<T> = {}): Promise<T> => {
    const { json: jsonBody, schema, ...rest } = init;
    const requestInit: HttpRequestInit = { ...rest };
    if (jsonBody !== undefined) {
      requestInit.body = JSON.stringify(jsonBody);
      requestInit.method = rest.method ?? 'POST';
      requestInit.headers = mergeHeaders({ 'content-type': 'application/json' }, rest.headers);
    }
    requestInit.headers = mergeHeaders({ accept: 'application/json' }, requestInit.headers);
    const { method, retries, signal } = prepare(requestInit);
    return retrying(
      () =>
        attempt(url, requestInit, method, signal, async (response) => {
          const buffer = new Uint8Array(await response.arrayBuffer());
          metrics?.bytes.count(buffer.byteLength);
          const text = new TextDecoder().decode(buffer);
          let parsed: unknown;
          try {
            parsed = text === '' ? undefined : JSON.parse(text);
          } catch (error) {
            throw new ConnectorApiError({
              connector: provider,
              status: response.status,
              method,
              url,
              isRetryable: false,
              message: `${method} ${redactUrl(url)} returned a body that is not valid JSON`,
              responseBody: text,
              hint: 'Check that the URL points at the API (not a login or error page)',
              cause: error,
            });
          }
          if (schema === undefined) return parsed as T;
          const result = schema.safeParse(parsed);
          if (result.success) return result.data;
          const issue = result.error.issues[0];
          throw new ConnectorApiError({
            connector: provider,
            status: response.status,
            method,
            url,
            isRetryable: false,
            message: `${method} ${redactUrl(url)} returned an unexpected shape${issue ? ` at "${formatFieldPath(issue.path)}": ${issue.message}` : ''}`,
            hint: 'The provider API may have changed; report it with the connector version',
            cause: result.error,
          });
        }),
      { retries, signal, operation: `${method} ${redactUrl(url)}` },
    );
  };

  const withRetriesForClient: HttpClient['withRetries'] = (fn, overrides = {}) => {
    const signal = combineSignals(overrides.signal);
    return retrying(
      async (attemptInfo) => {
        if (limiter !== undefined) await limiter.acquire(rateLimitKey, signal);
        metrics?.apiCalls.count();
        return fn(attemptInfo);
      },
      { ...overrides, signal },
    );
  };

  return Object.freeze({ provider, request, json, withRetries: withRetriesForClient });
}

interface AttemptTimer {
  readonly signal: AbortSignal;
  readonly fired: boolean;
  clear(): void;
}

// Not AbortSignal.timeout(): that cannot be cancelled, and `request()` must stop the clock once
// headers arrive so a long download is not cut off.
function startAttemptTimer(timeoutMs: number): AttemptTimer {
  const controller = new AbortController();
  let fired = false;
  const timer = setTimeout(() => {
    fired = true;
    controller.abort(new DOMException(`attempt timed out after ${timeoutMs}ms`, 'TimeoutError'));
  }, timeoutMs);
  return {
    signal: controller.signal,
    get fired() {
      return fired;
    },
    clear: () => clearTimeout(timer),
  };
}

type HeadersInput = ConstructorParameters<typeof Headers>[0];

function mergeHeaders(base: HeadersInput, override: HeadersInput): Headers {
  const headers = new Headers(base);
  new Headers(override).forEach((value, key) => {
    headers.set(key, value);
  });
  return headers;
}

async function readErrorBody(
  response: Response,
  metrics: SyncMetrics | undefined,
): Promise<string | undefined> {
  if (response.body === null) return undefined;
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    while (total < MAX_ERROR_BODY_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      total += value.byteLength;
    }
  } finally {
    metrics?.bytes.count(total);
    await reader.cancel().catch(() => {});
  }
  const joined = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    joined.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(joined.subarray(0, MAX_ERROR_BODY_BYTES));
}

function countResponseBytes(response: Response, metrics: SyncMetrics | undefined): Response {
  if (metrics === undefined || response.body === null || NULL_BODY_STATUSES.has(response.status))
    return response;
  const counter = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      metrics.bytes.count(chunk.byteLength);
      controller.enqueue(chunk);
    },
  });
  const counted = new Response(response.body.pipeThrough(counter), {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
  Object.defineProperties(counted, {
    url: { value: response.url },
    redirected: { value: response.redirected },
  });
  return counted;
}

function codeOf(error: unknown): string {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return `: ${code}`;
    current = (current as { cause?: unknown }).cause;
  }
  return '';
}
