// Public API of @tributary/connector-notion.

export { createNotionApi, type NotionApi, rateLimitKeyOf } from './notion-api.js';
export type {
  NotionBlock,
  NotionDataSource,
  NotionPage,
  NotionRichText,
} from './notion-api-types.js';
export { createNotionConnector, type NotionConnector } from './notion-connector.js';
export type { NotionChangesCursor, NotionCursor, NotionListingCursor } from './notion-cursor.js';
export { RECONNECT_HINT } from './notion-errors.js';
export {
  connectNotionWorkspace,
  exchangeNotionCode,
  type NotionOAuthClient,
  type NotionOAuthCredentials,
  notionAuthorizationUrl,
  storeRefreshedNotionCredentials,
} from './notion-oauth.js';
export { type NotionPermissionContext, permissionsOf } from './notion-permissions.js';
export {
  DEFAULT_BURST,
  DEFAULT_DELETE_SWEEP_HOURS,
  DEFAULT_MAX_DEPTH,
  DEFAULT_REQUESTS_PER_SECOND,
  DEFAULT_TIMEOUT_MS,
  MAX_PAGE_SIZE,
  NOTION_CONNECTOR_TYPE,
  NOTION_VERSION,
  type NotionConfig,
  type NotionConnectorSettings,
  type NotionCredentials,
  type NotionOAuthClientCredentials,
  notionConfigSchema,
  notionCredentialsSchema,
} from './notion-settings.js';
export { NOTION_SIGNATURE_HEADER, notionWebhooks, signNotionWebhook } from './notion-webhooks.js';
export {
  type RenderOptions,
  type RenderStats,
  renderBlocksToMarkdown,
} from './render/blocks-to-markdown.js';
export { notionUrl, renderRichText } from './render/rich-text.js';
