// Public API of @tributary/connector-url.
export { unsafeAddressReason } from './address-policy.js';
export { canonicalizeUrl } from './canonical-url.js';
export type { LookupFunction } from './safe-fetcher.js';
export { URL_CONNECTOR_TYPE } from './safe-fetcher.js';
export {
  DEFAULT_USER_AGENT,
  type UrlConfig,
  type UrlConfigInput,
  type UrlSourceKind,
  urlConfigSchema,
} from './url-config.js';
export {
  createUrlConnector,
  DEFAULT_CHECKPOINT_EVERY,
  type UrlConnectorSettings,
} from './url-connector.js';
export type { PageState, UrlCursor, UrlCursorPage } from './url-cursor.js';
