import { redactUrl } from './redact-secrets.js';
import { hasErrorMarker, TributaryError } from './tributary-error.js';

const marker = Symbol.for('tributary.error.unsafe_url');

export interface UnsafeUrlErrorOptions {
  connector?: string | undefined;
  /** The refused URL (stored redacted). */
  url: string | URL;
  /** Why it was refused: `resolves to a private address (10.0.0.5)`, `scheme file: is not allowed`. */
  reason: string;
  hint?: string | undefined;
  cause?: unknown;
}

/**
 * A URL was refused before fetching it: a non-http(s) scheme, a private, loopback or link-local
 * address (SSRF guard), a redirect to one, or a host outside an allow-list.
 */
export class UnsafeUrlError extends TributaryError {
  readonly [marker] = true;
  readonly url: string;
  readonly reason: string;

  constructor(options: UnsafeUrlErrorOptions) {
    const url = redactUrl(options.url);
    super({
      code: 'unsafe_url',
      connector: options.connector,
      area: 'url',
      message: `refused to fetch ${url}: ${options.reason}`,
      hint:
        options.hint ??
        'Use a public http(s) URL, or allow this host explicitly in the connector settings if it is trusted',
      cause: options.cause,
    });
    this.url = url;
    this.reason = options.reason;
  }

  static override isInstance(error: unknown): error is UnsafeUrlError {
    return hasErrorMarker(error, marker);
  }
}
