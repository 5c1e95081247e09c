import { AuthError } from '../errors/auth-error.js';
import { ConnectorApiError } from '../errors/connector-api-error.js';
import { QuotaExceededError } from '../errors/quota-exceeded-error.js';
import { RateLimitError } from '../errors/rate-limit-error.js';
import type { TributaryError } from '../errors/tributary-error.js';
import { getHeader, retryAfterFromHeaders } from './retry-after.js';

export interface ResponseErrorDetails {
  /** Connector type, for the message scope. */
  provider?: string | undefined;
  status: number;
  statusText?: string | undefined;
  method?: string | undefined;
  url?: string | URL | undefined;
  /** `Headers` or a plain record. */
  headers?: unknown;
  /** Response body text (or its start). Only used redacted. */
  body?: string | undefined;
  /** For `Retry-After` dates; default `Date.now()`. */
  now?: number | undefined;
  cause?: unknown;
}

// Google puts the reason in the JSON body of a 403 (`userRateLimitExceeded`), others in prose.
const RATE_LIMIT_REASON = /rate_?limit|ratelimitexceeded|userratelimitexceeded|too many requests|throttl/i;
// Waiting seconds does not help these: a daily/billing quota is used up.
const QUOTA_REASON = /dailylimitexceeded|quotaexceeded|insufficient_quota|billing|daily limit/i;

/**
 * Maps an HTTP error response to the typed error the pipeline acts on: 401 → `AuthError`;
 * 403 → `RateLimitError` when it names a rate limit (Google's `userRateLimitExceeded`, a
 * `Retry-After`, `x-ratelimit-remaining: 0`), `QuotaExceededError` when it names an exhausted
 * quota, else `AuthError`; 429 → `RateLimitError` (or `QuotaExceededError` for OpenAI's
 * `insufficient_quota`); anything else → `ConnectorApiError`. URL and body are redacted.
 */
export function createResponseError(details: ResponseErrorDetails): TributaryError {
  const { status, body = '' } = details;
  const retryAfterMs = retryAfterFromHeaders(details.headers, details.now ?? Date.now());
  const common = {
    connector: details.provider,
    status,
    statusText: details.statusText,
    method: details.method,
    url: details.url,
    responseBody: details.body,
    retryAfterMs,
    cause: details.cause,
  };
  if (status === 401) {
    return new AuthError({ connector: details.provider, status, url: details.url, cause: details.cause });
  }
  if (status === 403) {
    if (QUOTA_REASON.test(body)) {
      return new QuotaExceededError({
        connector: details.provider,
        status,
        url: details.url,
        cause: details.cause,
      });
    }
    const remaining = getHeader(details.headers, 'x-ratelimit-remaining');
    if (RATE_LIMIT_REASON.test(body) || retryAfterMs !== undefined || remaining?.trim() === '0') {
      return new RateLimitError(common);
    }
    return new AuthError({ connector: details.provider, status, url: details.url, cause: details.cause });
  }
  if (status === 429) {
    if (QUOTA_REASON.test(body)) {
      return new QuotaExceededError({
        connector: details.provider,
        status,
        url: details.url,
        cause: details.cause,
      });
    }
    return new RateLimitError(common);
  }
  return new ConnectorApiError(common);
}
