// Public API of @tributary/connector-teams.
export { DeltaExpiredError, isDeltaExpired } from './graph-transport.js';
export type {
  GraphChannel,
  GraphChatMessage,
  GraphMeetingArtifact,
  GraphOnlineMeeting,
  GraphSubscription,
  GraphTeam,
} from './graph-types.js';
export { participantPermissions } from './map-meeting.js';
export { memberPermissions, messageMarkdown, teamPermissions, threadVersion } from './map-thread.js';
export { createTeamsConnector, type TeamsConnector } from './teams-connector.js';
export type { TeamsCursor } from './teams-cursor.js';
export {
  GROUP_MEMBER_PERMISSION,
  listTeamsGroupMemberships,
  type TeamsGroupMembershipsOptions,
} from './teams-groups.js';
export {
  channelExternalId,
  type ParsedExternalId,
  parseExternalId,
  recordingExternalId,
  threadExternalId,
  transcriptExternalId,
} from './teams-ids.js';
export {
  createTeamsOAuth,
  DEFAULT_DELEGATED_SCOPES,
  type TeamsOAuth,
  type TeamsOAuthOptions,
  type TeamsOAuthTokens,
} from './teams-oauth.js';
export {
  DEFAULT_AUTHORITY_HOST,
  DEFAULT_GRAPH_BASE_URL,
  DEFAULT_RATE_LIMIT,
  GRAPH_DEFAULT_SCOPE,
  MAX_PAGE_SIZE,
  TEAMS_CONNECTOR_TYPE,
  type TeamsConfig,
  type TeamsConnectorSettings,
  type TeamsCredentials,
  teamsConfigSchema,
  teamsCredentialsSchema,
} from './teams-settings.js';
export {
  type CreateSubscriptionInput,
  createTeamsSubscriptions,
  DEFAULT_RENEW_MARGIN_MS,
  DEFAULT_SUBSCRIPTION_MINUTES,
  type LifecycleOutcome,
  type TeamsSubscriptions,
  type TeamsSubscriptionsOptions,
  teamsResources,
} from './teams-subscriptions.js';
export type { TeamsTranscriber, TranscriptionInput } from './teams-transcriber.js';
export {
  type GraphNotification,
  type HandleTeamsWebhookResult,
  handleTeamsWebhook,
  notificationAction,
  readLifecycleNotifications,
  type TeamsLifecycleEvent,
  type TeamsLifecycleNotification,
  teamsWebhooks,
} from './teams-webhooks.js';
