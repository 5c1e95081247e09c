import { redactUrl } from './redact-secrets.js';
import { hasErrorMarker, TributaryError } from './tributary-error.js';

const marker = Symbol.for('tributary.error.timeout');

export interface TimeoutErrorOptions {
  connector?: string | undefined;
  area?: string | undefined;
  /** The limit that was hit, in milliseconds. */
  timeoutMs: number;
  /** What timed out, e.g. `GET https://...` (a URL in it is redacted). */
  operation?: string | undefined;
  method?: string | undefined;
  url?: string | URL | undefined;
  hint?: string | undefined;
  cause?: unknown;
}

/**
 * An operation took longer than its time limit (for HTTP: one attempt, until the response
 * headers for `request()`, until the body is read for `json()`). Retryable.
 */
export class TimeoutError extends TributaryError {
  readonly [marker] = true;
  readonly timeoutMs: number;
  readonly method: string | undefined;
  readonly url: string | undefined;
  readonly isRetryable = true;

  constructor(options: TimeoutErrorOptions) {
    const url = options.url === undefined ? undefined : redactUrl(options.url);
    const operation =
      options.operation ??
      ([options.method?.toUpperCase(), url].filter(Boolean).join(' ') || 'the operation');
    super({
      code: 'timeout',
      connector: options.connector,
      area: options.area ?? 'http',
      message: `${operation} timed out after ${options.timeoutMs}ms`,
      hint:
        options.hint ??
        'It is retried automatically; if it keeps timing out, raise timeoutMs or check the provider status',
      cause: options.cause,
    });
    this.timeoutMs = options.timeoutMs;
    this.method = options.method;
    this.url = url;
  }

  static override isInstance(error: unknown): error is TimeoutError {
    return hasErrorMarker(error, marker);
  }
}
