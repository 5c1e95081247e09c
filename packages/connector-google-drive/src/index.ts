// Public API of @tributary/connector-google-drive.
export type {
  DriveChangesCursor,
  DriveCursor,
  DriveListingCursor,
  FolderMap,
  KnownFolder,
  LegacyDriveCursor,
  ListingTask,
} from './drive-cursor.js';
export {
  createGoogleDriveConnector,
  type GoogleDriveConnector,
  listingQuery,
} from './google-drive-connector.js';
export {
  createChannelId,
  createGoogleDriveChannels,
  createSyncDebouncer,
  DEFAULT_RENEW_MARGIN_MS,
  type DriveWatchChannel,
  type GoogleDriveChannels,
  type GoogleDriveChannelsOptions,
  googleDriveWebhooks,
  isOwnChannelId,
  MAX_CHANGES_CHANNEL_TTL_MS,
  type SyncDebouncer,
  type SyncDebouncerOptions,
  type WatchInput,
} from './google-drive-push.js';
export {
  DEFAULT_RATE_LIMIT,
  DRIVE_READONLY_SCOPE,
  GOOGLE_DRIVE_CONNECTOR_TYPE,
  type GoogleDriveConfig,
  type GoogleDriveConnectorSettings,
  type GoogleDriveCredentials,
  googleDriveConfigSchema,
  googleDriveCredentialsSchema,
  MAX_PAGE_SIZE,
} from './google-drive-settings.js';
export {
  DIRECTORY_GROUP_READONLY_SCOPE,
  type GoogleGroupMembershipsOptions,
  listGoogleGroupMemberships,
} from './google-groups.js';
export { EXPORT_SIZE_LIMIT_BYTES, fileVersion, normalizePermissions } from './map-drive-file.js';
