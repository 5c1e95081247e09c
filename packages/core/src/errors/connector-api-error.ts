import { redactSecrets, redactUrl } from './redact-secrets.js';
import { hasErrorMarker, TributaryError } from './tributary-error.js';

const marker = Symbol.for('tributary.error.connector_api_error');

/** Longest response excerpt kept on an error (after redaction). */
const MAX_EXCERPT_LENGTH = 500;

/**
 * True for HTTP statuses where trying again later can succeed: 408 Request Timeout, 409 Conflict,
 * 425 Too Early, 429 Too Many Requests and every 5xx. (The HTTP kit retries 408/425/429/5xx on
 * its own; a 409 is left to the caller, who knows whether the conflicting write may be redone.)
 */
export function isRetryableStatus(status: number): boolean {
  return (
    status === 408 || status === 409 || status === 425 || status === 429 || (status >= 500 && status <= 599)
  );
}

export interface ConnectorApiErrorOptions {
  connector?: string | undefined;
  /** Area when no connector is named (defaults to `http`). */
  area?: string | undefined;
  /** HTTP status, or `undefined` for a network failure (no response). */
  status?: number | undefined;
  statusText?: string | undefined;
  method?: string | undefined;
  /** Request URL. Stored and shown redacted: secret query values and tokens are masked. */
  url?: string | URL | undefined;
  /** Raw response body text; a redacted, truncated excerpt is kept. */
  responseBody?: string | undefined;
  /** How long the provider asked to wait before retrying (from `Retry-After`). */
  retryAfterMs?: number | undefined;
  /** Overrides the status-based default. Network errors default to retryable. */
  isRetryable?: boolean | undefined;
  /** Replaces the generated "what happened" sentence. */
  message?: string | undefined;
  /** Replaces the generated "what to do next" sentence. */
  hint?: string | undefined;
  cause?: unknown;
  /** Subclasses pass their own code. */
  code?: string | undefined;
}

/**
 * A call to a provider API failed: an HTTP error status, or a network failure before any
 * response (`status` undefined). The URL and response excerpt are redacted before they are
 * stored, so the error is safe to log and to put in `connector_sync_logs`.
 */
export class ConnectorApiError extends TributaryError {
  readonly [marker] = true;
  /** HTTP status; `undefined` when the request never got a response (network error). */
  readonly status: number | undefined;
  readonly method: string | undefined;
  /** Redacted request URL. */
  readonly url: string | undefined;
  /** Redacted, truncated start of the response body. */
  readonly responseExcerpt: string | undefined;
  /** Whether trying again later can succeed (408/409/425/429/5xx, network errors). */
  readonly isRetryable: boolean;
  /** How long the provider asked to wait (`Retry-After`), in milliseconds. */
  readonly retryAfterMs: number | undefined;

  constructor(options: ConnectorApiErrorOptions) {
    const url = options.url === undefined ? undefined : redactUrl(options.url);
    const excerpt = toExcerpt(options.responseBody);
    const isRetryable =
      options.isRetryable ?? (options.status === undefined || isRetryableStatus(options.status));
    super({
      code: options.code ?? 'connector_api_error',
      connector: options.connector,
      area: options.area ?? 'http',
      message:
        options.message ?? describeFailure(options.method, url, options.status, options.statusText, excerpt),
      hint: options.hint ?? defaultHint(options.status, isRetryable),
      cause: options.cause,
    });
    this.status = options.status;
    this.method = options.method;
    this.url = url;
    this.responseExcerpt = excerpt;
    this.isRetryable = isRetryable;
    this.retryAfterMs = options.retryAfterMs;
  }

  static override isInstance(error: unknown): error is ConnectorApiError {
    return hasErrorMarker(error, marker);
  }
}

function toExcerpt(body: string | undefined): string | undefined {
  if (body === undefined) return undefined;
  const compact = redactSecrets(body).replace(/\s+/g, ' ').trim();
  if (compact === '') return undefined;
  return compact.length > MAX_EXCERPT_LENGTH ? `${compact.slice(0, MAX_EXCERPT_LENGTH)}…` : compact;
}

function describeFailure(
  method: string | undefined,
  url: string | undefined,
  status: number | undefined,
  statusText: string | undefined,
  excerpt: string | undefined,
): string {
  const target = [method?.toUpperCase(), url].filter(Boolean).join(' ') || 'API request';
  if (status === undefined) return `${target} failed before any response arrived (network error)`;
  const statusPart = `HTTP ${status}${statusText ? ` ${statusText}` : ''}`;
  return `${target} failed with ${statusPart}${excerpt ? `: ${excerpt}` : ''}`;
}

function defaultHint(status: number | undefined, isRetryable: boolean): string {
  if (status === undefined)
    return 'Check network access to the provider; the call is retried automatically and the next sync resumes from the last checkpoint';
  if (status === 404)
    return 'The item may have been deleted or the credentials cannot see it; check the id and the sharing settings';
  if (status === 400 || status === 422)
    return 'The provider rejected the request; check the connector config, and report a bug if the config is right';
  if (isRetryable)
    return 'This is usually temporary: it was retried automatically, and the next sync resumes from the last checkpoint';
  return 'Check the connector config and the provider status page';
}
