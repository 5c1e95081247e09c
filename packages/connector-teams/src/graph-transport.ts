import type { Context, Middleware, MiddlewareOptions } from '@microsoft/microsoft-graph-client';
import {
  AbortError,
  ConnectorApiError,
  createResponseError,
  isNetworkError,
  type SyncMetrics,
  TimeoutError,
} from '@tributary/core';
import { TEAMS_CONNECTOR_TYPE } from './teams-settings.js';

const PROVIDER = TEAMS_CONNECTOR_TYPE;
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);
const MAX_ERROR_BODY_CHARS = 16 * 1024;
/** Graph error codes meaning "this delta link's sync state is gone: start again". */
const RESYNC_CODES = /^(?:syncStateNotFound|syncStateInvalid|resyncRequired)$/i;

/**
 * Graph no longer knows a delta link's sync state: 410 Gone (the state expired or was reset), or
 * an error whose code says so (`syncStateNotFound`, `syncStateInvalid`, `resyncRequired`, which
 * some resources send with 400). The scope must be read again from a fresh delta query. Not
 * retryable.
 */
export class DeltaExpiredError extends ConnectorApiError {
  readonly deltaExpired = true;
}

export function isDeltaExpired(error: unknown): boolean {
  return ConnectorApiError.isInstance(error) && (error as { deltaExpired?: unknown }).deltaExpired === true;
}

/**
 * Per-request settings handed to the transport through the Graph client's documented middleware
 * options (`request.middlewareOptions([...])`), and the typed failure handed back: the Graph client
 * wraps whatever a middleware throws into its own `GraphError`, which loses the type and the
 * `Retry-After` the retry owner needs, so the caller rethrows `failure` instead.
 */
export class TransportOptions implements MiddlewareOptions {
  failure: unknown;
  constructor(
    readonly timeoutMs: number,
    readonly signal: AbortSignal | undefined,
    /** Keep the body as a stream (downloads): the timeout then covers the headers only. */
    readonly stream: boolean,
  ) {}
}

/**
 * The last middleware of the Graph client's chain, replacing its `HTTPMessageHandler` (which calls
 * the global fetch) and, by its absence, its `RetryHandler` and `RedirectHandler`: retries belong
 * to the connector's one retry owner (core's `withRetries`, honouring Retry-After), and fetch
 * follows redirects itself. It sends the request with the injected fetch under a per-attempt
 * timeout, counts response bytes and turns error statuses into Tributary's typed errors.
 */
export class TimedFetchHandler implements Middleware {
  constructor(
    private readonly fetchImplementation: typeof fetch,
    private readonly defaultTimeoutMs: number,
    private readonly metrics: SyncMetrics | undefined,
  ) {}

  async execute(context: Context): Promise<void> {
    const options = context.middlewareControl?.getMiddlewareOptions(TransportOptions) as
      | TransportOptions
      | undefined;
    const timeoutMs = options?.timeoutMs ?? this.defaultTimeoutMs;
    const url = typeof context.request === 'string' ? context.request : context.request.url;
    const method = (context.options?.method ?? 'GET').toUpperCase();
    const timer = new AbortController();
    let timedOut = false;
    const handle = setTimeout(() => {
      timedOut = true;
      timer.abort(new DOMException(`attempt timed out after ${timeoutMs}ms`, 'TimeoutError'));
    }, timeoutMs);
    const signal = options?.signal ? AbortSignal.any([options.signal, timer.signal]) : timer.signal;
    const fail = (error: unknown): never => {
      clearTimeout(handle);
      if (options) options.failure = error;
      throw error;
    };
    let response: Response;
    try {
      response = await this.fetchImplementation(url, { ...(context.options as RequestInit), signal });
    } catch (error) {
      if (options?.signal?.aborted) return fail(new AbortError({ connector: PROVIDER, cause: error }));
      if (timedOut)
        return fail(new TimeoutError({ connector: PROVIDER, timeoutMs, method, url, cause: error }));
      return fail(
        new ConnectorApiError({
          connector: PROVIDER,
          method,
          url,
          isRetryable: !(error instanceof TypeError) || isNetworkError(error),
          message: `${method} Graph failed before a response arrived (network error)`,
          cause: error,
        }),
      );
    }
    try {
      if (response.status >= 400) {
        const body = (await response.text()).slice(0, MAX_ERROR_BODY_CHARS);
        this.metrics?.bytes.count(body.length);
        return fail(graphResponseError(response, body, method, url));
      }
      if (options?.stream) {
        // A download: the body is read later under the caller's signal only.
        clearTimeout(handle);
        context.response = response;
        return;
      }
      const buffer = await response.arrayBuffer();
      this.metrics?.bytes.count(buffer.byteLength);
      clearTimeout(handle);
      context.response = new Response(NULL_BODY_STATUSES.has(response.status) ? null : buffer, {
        status: response.status,
        statusText: response.statusText,
        headers: response.headers,
      });
    } catch (error) {
      if (options?.failure) throw error;
      if (timedOut)
        return fail(new TimeoutError({ connector: PROVIDER, timeoutMs, method, url, cause: error }));
      return fail(error);
    }
  }
}

/** Graph's error body `{ error: { code, message } }` read into the typed error the pipeline acts on. */
export function graphResponseError(response: Response, body: string, method: string, url: string): unknown {
  let code: string | undefined;
  let message: string | undefined;
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown; message?: unknown } };
    code = typeof parsed.error?.code === 'string' ? parsed.error.code : undefined;
    message = typeof parsed.error?.message === 'string' ? parsed.error.message : undefined;
  } catch {
    // Not JSON (a proxy's page): the status decides.
  }
  const detail = [code, message].filter(Boolean).join(': ');
  if (response.status === 410 || (response.status < 500 && code !== undefined && RESYNC_CODES.test(code))) {
    return new DeltaExpiredError({
      connector: PROVIDER,
      status: response.status,
      method,
      url,
      responseBody: detail,
      isRetryable: false,
      message: `the delta link expired (HTTP ${response.status}${code ? ` ${code}` : ''})`,
      hint: 'The scope is read again from a fresh delta query',
    });
  }
  if (response.status === 403 && !/throttl|rate/i.test(detail) && !response.headers.get('retry-after')) {
    // A missing permission or an application access policy: one channel or meeting, not the run.
    return new ConnectorApiError({
      connector: PROVIDER,
      status: 403,
      method,
      url,
      responseBody: detail,
      isRetryable: false,
      message: `Graph refused access (HTTP 403${code ? ` ${code}` : ''})`,
      hint: 'Grant the app the Graph permission this resource needs (ChannelMessage.Read.All, OnlineMeetingTranscript.Read.All with an application access policy) and admin consent',
    });
  }
  return createResponseError({
    provider: PROVIDER,
    status: response.status,
    statusText: response.statusText,
    method,
    url,
    headers: response.headers,
    body: detail,
  });
}
