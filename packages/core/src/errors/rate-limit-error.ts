import { ConnectorApiError, type ConnectorApiErrorOptions } from './connector-api-error.js';
import { hasErrorMarker } from './tributary-error.js';

const marker = Symbol.for('tributary.error.rate_limit');

/**
 * The provider throttled us (429, or a 403 whose body names a rate limit) and retries did not get
 * through, or it asked to wait longer than the HTTP kit's `maxRetryAfterMs`. Retryable: the run
 * can be rescheduled after `retryAfterMs`. Not fatal (a quota that is used up is
 * `QuotaExceededError`).
 */
export class RateLimitError extends ConnectorApiError {
  readonly [marker] = true;

  constructor(options: Omit<ConnectorApiErrorOptions, 'code' | 'isRetryable'>) {
    const wait =
      options.retryAfterMs === undefined
        ? ''
        : ` (the provider asked to wait ${formatWait(options.retryAfterMs)})`;
    super({
      ...options,
      code: 'rate_limited',
      status: options.status ?? 429,
      isRetryable: true,
      hint:
        options.hint ??
        `The provider is throttling requests${wait}; lower the connector's requestsPerSecond or run the sync later`,
    });
  }

  static override isInstance(error: unknown): error is RateLimitError {
    return hasErrorMarker(error, marker);
  }
}

function formatWait(ms: number): string {
  return ms >= 1000 ? `${Math.ceil(ms / 1000)}s` : `${ms}ms`;
}
