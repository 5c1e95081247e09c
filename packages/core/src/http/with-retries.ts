import { AbortError, isAbortError } from '../errors/abort-error.js';
import { ConnectorApiError } from '../errors/connector-api-error.js';
import { RateLimitError } from '../errors/rate-limit-error.js';
import { TimeoutError } from '../errors/timeout-error.js';
import { TributaryError } from '../errors/tributary-error.js';
import { type Logger, silentLogger } from '../spec/logger.js';
import { type Clock, systemClock } from './clock.js';
import { createResponseError } from './response-error.js';
import { retryAfterFromHeaders } from './retry-after.js';

/** How failed calls are retried. */
export interface RetryPolicy {
  /** Retries after the first attempt (so `retries + 1` attempts at most). Default 5. */
  retries: number;
  /** Backoff base: the cap of the first delay. Default 500 ms. */
  minDelayMs: number;
  /** Backoff ceiling. Default 30 s. */
  maxDelayMs: number;
  /** Backoff growth per retry. Default 2. */
  factor: number;
  /** `full`: each delay is uniform in [0, cap] (AWS "full jitter"); `none`: exactly the cap. Default `full`. */
  jitter: 'full' | 'none';
  /**
   * The longest `Retry-After` honoured by sleeping. A provider asking for longer gets a
   * `RateLimitError` (with `retryAfterMs`) at once instead of a worker asleep for an hour:
   * the run can be rescheduled. Default 5 minutes.
   */
  maxRetryAfterMs: number;
}

export const defaultRetryPolicy: Readonly<RetryPolicy> = Object.freeze({
  retries: 5,
  minDelayMs: 500,
  maxDelayMs: 30_000,
  factor: 2,
  jitter: 'full',
  maxRetryAfterMs: 5 * 60_000,
});

export interface RetryAttempt {
  /** 1 for the first attempt. */
  readonly attemptNumber: number;
  readonly signal: AbortSignal | undefined;
}

export interface RetryNotice {
  readonly error: unknown;
  /** The attempt that failed (1-based). */
  readonly attemptNumber: number;
  readonly delayMs: number;
}

export interface WithRetriesOptions extends Partial<RetryPolicy> {
  /** Connector type, used in error messages and logs. */
  provider?: string | undefined;
  /** What is being retried, for logs (`GET https://...`, `drive.files.list`). */
  operation?: string | undefined;
  /** Stops retrying (and waiting) at once; the call rejects with `AbortError`. */
  signal?: AbortSignal | undefined;
  logger?: Logger | undefined;
  /** Injectable time source (tests). */
  clock?: Clock | undefined;
  /** Injectable randomness for jitter, in [0, 1). */
  random?: (() => number) | undefined;
  /** Overrides the retry classification for an error (after abort checks). */
  shouldRetry?: ((error: unknown) => boolean) | undefined;
  /** Called before each wait. */
  onRetry?: ((notice: RetryNotice) => void) | undefined;
}

// p-retry is ESM-only; a dynamic import keeps the CommonJS build loadable.
let pRetryModule: Promise<typeof import('p-retry')> | undefined;
function loadPRetry() {
  pRetryModule ??= import('p-retry');
  return pRetryModule;
}

/** Delay before retry number `retryNumber` (1-based) by exponential backoff with optional full jitter. */
export function computeBackoffDelay(
  retryNumber: number,
  policy: Pick<RetryPolicy, 'minDelayMs' | 'maxDelayMs' | 'factor' | 'jitter'>,
  random: () => number = Math.random,
): number {
  const cap = Math.min(policy.maxDelayMs, policy.minDelayMs * policy.factor ** Math.max(0, retryNumber - 1));
  return policy.jitter === 'full' ? Math.floor(random() * cap) : cap;
}

const RETRY_STATUSES = new Set([408, 425, 429]);
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);

/** Statuses the kit retries on its own: 408, 425, 429 and 5xx (409 is left to the caller). */
export function isRetryableHttpStatus(status: number): boolean {
  return RETRY_STATUSES.has(status) || (status >= 500 && status <= 599);
}

/** HTTP status carried by an error: ours, fetch-style, gaxios (`response.status`), Notion, OpenAI. */
export function getErrorStatus(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const candidate = error as { status?: unknown; statusCode?: unknown; response?: { status?: unknown } };
  for (const value of [candidate.status, candidate.statusCode, candidate.response?.status]) {
    if (typeof value === 'number' && value >= 100 && value <= 599) return value;
    if (typeof value === 'string' && /^\d{3}$/.test(value)) return Number(value);
  }
  return undefined;
}

/** Response headers carried by an error (`headers` or `response.headers`), if any. */
export function getErrorHeaders(error: unknown): unknown {
  if (typeof error !== 'object' || error === null) return undefined;
  const candidate = error as { headers?: unknown; response?: { headers?: unknown } };
  return candidate.headers ?? candidate.response?.headers;
}

/** True for failures before any response: connection refused/reset, DNS, socket closed. */
export function isNetworkError(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
    const message = (current as { message?: unknown }).message;
    if (
      current instanceof TypeError &&
      typeof message === 'string' &&
      /fetch failed|network|terminated|socket/i.test(message)
    ) {
      return true;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * Whether the retry policy retries `error`: cancellations and timeouts-of-the-caller never;
 * `RateLimitError`, `TimeoutError` and network errors yes; otherwise by HTTP status
 * (408/425/429/5xx), read from our errors or from a vendor SDK's error.
 */
export function isRetryableFailure(failure: unknown): boolean {
  // Classify what the error means, not just its status: a 429 naming an exhausted quota is final.
  const error = toTributaryError(failure);
  if (isAbortError(error)) return false;
  if (RateLimitError.isInstance(error) || TimeoutError.isInstance(error)) return true;
  if (ConnectorApiError.isInstance(error)) {
    return error.status === undefined ? error.isRetryable : isRetryableHttpStatus(error.status);
  }
  if (TributaryError.isInstance(error)) return false;
  const status = getErrorStatus(error);
  if (status !== undefined) return isRetryableHttpStatus(status);
  return isNetworkError(error);
}

function retryAfterOf(error: unknown, now: number): number | undefined {
  if (ConnectorApiError.isInstance(error)) return error.retryAfterMs;
  if (TributaryError.isInstance(error)) return undefined;
  return retryAfterFromHeaders(getErrorHeaders(error), now);
}

/**
 * Converts a final failure into the Tributary hierarchy: our errors pass through; an SDK error
 * with an HTTP status becomes `AuthError`/`RateLimitError`/`QuotaExceededError`/
 * `ConnectorApiError` (the original kept as `cause`); a network error becomes a
 * `ConnectorApiError` without status. Anything else (a bug) is rethrown unchanged.
 */
export function toTributaryError(error: unknown, provider?: string, now: number = Date.now()): unknown {
  if (TributaryError.isInstance(error) || isAbortError(error)) return error;
  const status = getErrorStatus(error);
  if (status !== undefined) {
    const message = error instanceof Error ? error.message : undefined;
    return createResponseError({
      provider,
      status,
      headers: getErrorHeaders(error),
      body: message,
      now,
      cause: error,
    });
  }
  if (isNetworkError(error)) {
    return new ConnectorApiError({
      connector: provider,
      message: `API call failed before any response arrived (network error${networkCode(error)})`,
      cause: error,
    });
  }
  return error;
}

function networkCode(error: unknown): string {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return `: ${code}`;
    current = (current as { cause?: unknown }).cause;
  }
  return '';
}

/** Our `AbortError` for a cancelled signal, unless its reason already is a Tributary error. */
export function abortErrorFromSignal(signal: AbortSignal, provider?: string, operation?: string): unknown {
  const reason: unknown = signal.reason;
  if (TributaryError.isInstance(reason)) return reason;
  return new AbortError({ connector: provider, area: 'http', operation, cause: reason });
}

/**
 * Runs `fn`, retrying failures the policy deems transient, with exponential backoff and full
 * jitter, honouring `Retry-After` (up to `maxRetryAfterMs`), stopping at once on `signal`.
 *
 * **One retry owner.** Exactly one layer retries a call. When a connector uses a vendor SDK that
 * retries on its own (googleapis, @notionhq/client, openai, the Graph client), turn the SDK's
 * retries off (`retry: false`, `maxRetries: 0`, no RetryHandler) and wrap each call in
 * `withRetries` (or `ctx.http.withRetries`). Stacked retry layers multiply attempts
 * (6 × 3 = 18 requests into a throttled API), ignore each other's `Retry-After` and hide the real
 * number of calls from metrics. The final error is converted to the Tributary hierarchy
 * (`toTributaryError`), so a 401 from any SDK ends the run as an `AuthError`.
 */
export async function withRetries<T>(
  fn: (attempt: RetryAttempt) => Promise<T>,
  options: WithRetriesOptions = {},
): Promise<T> {
  const policy: RetryPolicy = {
    retries: options.retries ?? defaultRetryPolicy.retries,
    minDelayMs: options.minDelayMs ?? defaultRetryPolicy.minDelayMs,
    maxDelayMs: options.maxDelayMs ?? defaultRetryPolicy.maxDelayMs,
    factor: options.factor ?? defaultRetryPolicy.factor,
    jitter: options.jitter ?? defaultRetryPolicy.jitter,
    maxRetryAfterMs: options.maxRetryAfterMs ?? defaultRetryPolicy.maxRetryAfterMs,
  };
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const random = options.random ?? Math.random;
  const { signal, provider, operation } = options;
  if (signal?.aborted) throw abortErrorFromSignal(signal, provider, operation);

  const { default: pRetry } = await loadPRetry();
  try {
    const attempt = async (attemptNumber: number) => {
      try {
        return await fn({ attemptNumber, signal });
      } catch (error) {
        // Typed at once, so every retry decision sees what the failure means (quota vs rate limit).
        throw toTributaryError(error, provider, clock.now());
      }
    };
    return await pRetry(attempt, {
      retries: policy.retries,
      // p-retry counts attempts and stops on abort; the waiting is ours, so it can honour
      // Retry-After and use an injected clock. A zero p-retry delay schedules no timer.
      minTimeout: 0,
      signal,
      shouldRetry: async ({ error, attemptNumber }) => {
        if (isAbortError(error)) return false;
        const retryable = options.shouldRetry ? options.shouldRetry(error) : isRetryableFailure(error);
        if (!retryable) return false;
        const retryAfterMs = retryAfterOf(error, clock.now());
        if (retryAfterMs !== undefined && retryAfterMs > policy.maxRetryAfterMs) {
          throw tooLongRetryAfter(error, retryAfterMs, policy.maxRetryAfterMs, provider);
        }
        const delayMs = retryAfterMs ?? computeBackoffDelay(attemptNumber, policy, random);
        logger.warn('retrying a failed call', {
          provider,
          operation,
          attempt: attemptNumber,
          delayMs,
          status: getErrorStatus(error),
          error: error instanceof Error ? error.message : String(error),
        });
        options.onRetry?.({ error, attemptNumber, delayMs });
        await clock.sleep(delayMs, signal);
        return true;
      },
    });
  } catch (error) {
    if (signal?.aborted) throw abortErrorFromSignal(signal, provider, operation);
    throw toTributaryError(error, provider, clock.now());
  }
}

function tooLongRetryAfter(
  error: unknown,
  retryAfterMs: number,
  maxRetryAfterMs: number,
  provider: string | undefined,
) {
  const api = ConnectorApiError.isInstance(error) ? error : undefined;
  return new RateLimitError({
    connector: provider,
    status: api?.status ?? getErrorStatus(error),
    method: api?.method,
    url: api?.url,
    retryAfterMs,
    message: `the provider asked to wait ${Math.ceil(retryAfterMs / 1000)}s before retrying${api?.url ? ` ${api.method ?? ''} ${api.url}`.replace(/\s+/g, ' ') : ''}, longer than maxRetryAfterMs (${Math.ceil(maxRetryAfterMs / 1000)}s)`,
    hint: 'Run the sync again after that time (the runner reschedules it), or raise maxRetryAfterMs',
    cause: error,
  });
}
