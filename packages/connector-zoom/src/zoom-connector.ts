import {
  type ConnectorContext,
  type ConnectorV1,
  defineConnector,
  type RateLimiter,
  type SourceDocument,
} from '@tributary/core';
import { mapZoomMeeting } from './map-zoom-meeting.js';
import { createZoomApi, type ZoomApi, type ZoomMeeting } from './zoom-api.js';
import { createTokenProviders } from './zoom-auth.js';
import { syncZoom } from './zoom-listing.js';
import { createZoomRateLimiter } from './zoom-rate-limiter.js';
import {
  MAX_PAGE_SIZE,
  ZOOM_CONNECTOR_TYPE,
  type ZoomConfig,
  type ZoomConnectorSettings,
  type ZoomCredentials,
  zoomConfigSchema,
  zoomCredentialsSchema,
} from './zoom-settings.js';
import { createZoomWebhooks, DownloadTokens } from './zoom-webhooks.js';

/** The Zoom connector (`ConnectorV1`). */
export type ZoomConnector = ConnectorV1<ZoomConfig, ZoomCredentials>;

/** What the listing and `fetchDocument` share: the API of one run and how to map a meeting. */
export interface ZoomRunServices {
  api: ZoomApi;
  settings: ZoomConnectorSettings;
  downloadTokens: DownloadTokens;
  now: () => number;
}

/**
 * Zoom cloud recordings: one document per meeting recording (Zoom's VTT transcript as
 * `[hh:mm:ss] Speaker: text` lines, the in-meeting chat, meeting facts), listed per user in
 * 28-day windows; incremental syncs re-list from the last synced day with an overlap and find
 * deletes; meetings without a transcript go to the `transcriber`, or wait
 * (`metadata.transcription.status: 'awaiting_transcription'`) and are loaded again when Zoom's
 * transcript appears. Webhooks refetch or delete single meetings. Host and participants become
 * `permissions`.
 *
 * @example
 * const zoom = createZoomConnector();
 * const summary = await runSync({
 *   connector: zoom, connectorId, repository, embedder: createLexicalEmbedder(),
 *   config: { users: 'all', startDate: '2026-01-01' },
 *   credentials: { type: 'server_to_server', accountId, clientId, clientSecret },
 * });
 */
export function createZoomConnector(settings: ZoomConnectorSettings = {}): ZoomConnector {
  if (
    settings.pageSize !== undefined &&
    (!Number.isInteger(settings.pageSize) || settings.pageSize < 1 || settings.pageSize > MAX_PAGE_SIZE)
  ) {
    throw new RangeError(
      `[tributary] [zoom] pageSize must be an integer from 1 to ${MAX_PAGE_SIZE}, got ${settings.pageSize}.`,
    );
  }
  if (settings.timeoutMs !== undefined && (!Number.isFinite(settings.timeoutMs) || settings.timeoutMs < 1)) {
    throw new RangeError(
      `[tributary] [zoom] timeoutMs must be a positive number of milliseconds, got ${settings.timeoutMs}.`,
    );
  }
  const now = settings.now ?? Date.now;
  // Shared by every run of this connector object: tokens are reused until they expire, and the
  // default limiter's buckets hold the account's budget across runs.
  const tokenProviders = createTokenProviders(settings);
  const limiter: RateLimiter = settings.rateLimiter ?? createZoomRateLimiter(settings);
  const downloadTokens = new DownloadTokens(now);

  const services = (ctx: ConnectorContext<ZoomConfig, ZoomCredentials>): ZoomRunServices => ({
    api: createZoomApi({
      settings,
      tokens: tokenProviders(ctx.credentials, ctx.signal),
      limiter,
      signal: ctx.signal,
      logger: ctx.logger,
      metrics: ctx.metrics,
    }),
    settings,
    downloadTokens,
    now,
  });

  return defineConnector<ZoomConfig, ZoomCredentials>({
    type: ZOOM_CONNECTOR_TYPE,
    displayName: 'Zoom',
    capabilities: {
      incremental: true,
      deletions: true,
      permissions: true,
      binaryContent: false,
      webhooks: true,
    },
    configSchema: zoomConfigSchema,
    credentialsSchema: zoomCredentialsSchema,
    webhooks: createZoomWebhooks({ now, downloadTokens }),

    // GET /users/me (Light): one call that needs a valid token.
    async check(ctx) {
      await services(ctx).api.me();
    },

    sync: (ctx) => syncZoom(ctx, services(ctx)),

    async fetchDocument(ctx, externalId): Promise<SourceDocument | null> {
      const run = services(ctx);
      const meeting = await run.api.getMeetingRecordings(externalId);
      if (!meeting || !hostInScope(meeting, ctx.config)) return null;
      const participants = ctx.config.includeParticipants
        ? await run.api.participants(meeting.uuid)
        : undefined;
      return mapZoomMeeting(meeting, {
        api: run.api,
        config: ctx.config,
        transcriber: settings.transcriber,
        participants,
        downloadToken: downloadTokens.get(meeting.uuid),
      });
    },
  });
}

/** A webhook for a meeting of a user outside `config.users` imports nothing. */
export function hostInScope(meeting: ZoomMeeting, config: ZoomConfig): boolean {
  if (!Array.isArray(config.users)) return true;
  const wanted = new Set(config.users.map((user) => user.toLowerCase()));
  return (
    (meeting.host_id !== undefined && wanted.has(meeting.host_id.toLowerCase())) ||
    (meeting.host_email !== undefined && wanted.has(meeting.host_email.toLowerCase()))
  );
}
