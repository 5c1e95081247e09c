// The error hierarchy, for imports inside the package (`../errors/index.js`). The public API
// re-exports these from src/index.ts.
export { AbortError, type AbortErrorOptions, isAbortError } from './abort-error.js';
export { AuthError, type AuthErrorOptions } from './auth-error.js';
export {
  ConnectorApiError,
  type ConnectorApiErrorOptions,
  isRetryableStatus,
} from './connector-api-error.js';
export { CorruptContentError, type CorruptContentErrorOptions } from './corrupt-content-error.js';
export {
  type ConfigIssue,
  formatFieldPath,
  InvalidConfigError,
  type InvalidConfigErrorOptions,
  type SchemaIssuesLike,
} from './invalid-config-error.js';
export { isFatalError } from './is-fatal-error.js';
export { QuotaExceededError, type QuotaExceededErrorOptions } from './quota-exceeded-error.js';
export { RateLimitError } from './rate-limit-error.js';
export { REDACTED, redactSecrets, redactUrl } from './redact-secrets.js';
export { TimeoutError, type TimeoutErrorOptions } from './timeout-error.js';
export { hasErrorMarker, TributaryError, type TributaryErrorOptions } from './tributary-error.js';
export { UnsafeUrlError, type UnsafeUrlErrorOptions } from './unsafe-url-error.js';
export {
  UnsupportedConnectorError,
  type UnsupportedConnectorErrorOptions,
} from './unsupported-connector-error.js';
export {
  UnsupportedContentError,
  type UnsupportedContentErrorOptions,
  type UnsupportedContentReason,
} from './unsupported-content-error.js';
export {
  WebhookVerificationError,
  type WebhookVerificationErrorOptions,
} from './webhook-verification-error.js';
