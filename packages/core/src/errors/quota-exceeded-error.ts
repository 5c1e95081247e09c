import { redactUrl } from './redact-secrets.js';
import { hasErrorMarker, TributaryError } from './tributary-error.js';

const marker = Symbol.for('tributary.error.quota_exceeded');

export interface QuotaExceededErrorOptions {
  connector?: string | undefined;
  status?: number | undefined;
  url?: string | URL | undefined;
  message?: string | undefined;
  hint?: string | undefined;
  cause?: unknown;
}

/**
 * A quota is used up (a daily API limit, an embedding provider's billing quota): unlike a rate
 * limit, waiting seconds does not help. Fatal: the run ends `failed`.
 */
export class QuotaExceededError extends TributaryError {
  readonly [marker] = true;
  readonly status: number | undefined;
  readonly url: string | undefined;
  readonly isRetryable = false;

  constructor(options: QuotaExceededErrorOptions = {}) {
    const url = options.url === undefined ? undefined : redactUrl(options.url);
    super({
      code: 'quota_exceeded',
      connector: options.connector,
      area: 'quota',
      message:
        options.message ?? `the provider reports that a usage quota is exhausted${url ? ` (${url})` : ''}`,
      hint: options.hint ?? 'Raise the quota or wait for it to reset, then run the sync again',
      cause: options.cause,
    });
    this.status = options.status;
    this.url = url;
  }

  static override isInstance(error: unknown): error is QuotaExceededError {
    return hasErrorMarker(error, marker);
  }
}
