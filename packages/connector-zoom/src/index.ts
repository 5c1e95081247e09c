// Public API of @tributary/connector-zoom.
export {
  MAX_PARTICIPANTS,
  mapZoomMeeting,
  meetingPermissions,
  meetingVersion,
  type TranscriptionStatus,
} from './map-zoom-meeting.js';
export { chatToText, planTranscript, type TranscriptPlan, vttToText } from './recording-files.js';
export {
  encodeMeetingUuid,
  type ZoomMeeting,
  type ZoomParticipant,
  type ZoomRecordingFile,
  type ZoomUser,
  zoomMeetingSchema,
} from './zoom-api.js';
export { createZoomConnector, hostInScope, type ZoomConnector } from './zoom-connector.js';
export type { ZoomCursor, ZoomListing } from './zoom-cursor.js';
export {
  type ExchangeZoomCodeInput,
  exchangeZoomAuthorizationCode,
  type ZoomAuthorizationUrlInput,
  zoomAuthorizationUrl,
} from './zoom-oauth.js';
export { createZoomRateLimiter, effectiveLimits, rateLimitKey } from './zoom-rate-limiter.js';
export {
  DEFAULT_API_URL,
  DEFAULT_AWAIT_TRANSCRIPT_DAYS,
  DEFAULT_MAX_TEXT_FILE_BYTES,
  DEFAULT_OAUTH_URL,
  DEFAULT_OVERLAP_DAYS,
  DEFAULT_RATE_LIMIT_FRACTION,
  MAX_PAGE_SIZE,
  PAGE_TOKEN_LIFETIME_MS,
  WINDOW_DAYS,
  ZOOM_CONNECTOR_TYPE,
  ZOOM_PLAN_LIMITS,
  type ZoomCategoryLimits,
  type ZoomConfig,
  type ZoomConnectorSettings,
  type ZoomCredentials,
  type ZoomRateCategory,
  type ZoomServerToServerCredentials,
  type ZoomUserOAuthCredentials,
  zoomConfigSchema,
  zoomCredentialsSchema,
} from './zoom-settings.js';
export type { ZoomTranscribeInput, ZoomTranscriber, ZoomTranscriptionResult } from './zoom-transcriber.js';
export {
  createZoomWebhooks,
  DEFAULT_WEBHOOK_TOLERANCE_MS,
  DownloadTokens,
  type ZoomWebhooksOptions,
  zoomSignature,
} from './zoom-webhooks.js';
