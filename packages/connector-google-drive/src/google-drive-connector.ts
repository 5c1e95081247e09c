import { type ConnectorV1, defineConnector } from '@tributary/core';
import { syncChanges } from './drive-changes.js';
import { parseDriveCursor } from './drive-cursor.js';
import { countWrites, DriveFolders, migrateLegacyCursor } from './drive-folder-state.js';
import { syncFull, syncListing } from './drive-listing.js';
import type { Run } from './drive-sync-run.js';
import { createDriveApi } from './google-drive-api.js';
import { googleDriveWebhooks } from './google-drive-push.js';
import {
  DEFAULT_RATE_LIMIT,
  GOOGLE_DRIVE_CONNECTOR_TYPE,
  type GoogleDriveConfig,
  type GoogleDriveConnectorSettings,
  type GoogleDriveCredentials,
  googleDriveConfigSchema,
  googleDriveCredentialsSchema,
  MAX_PAGE_SIZE,
  resolveCheckpointCadence,
} from './google-drive-settings.js';

// The connector itself; a sync picks its mode here: the changes feed (drive-changes.ts), a listing
// to continue, or a full listing (drive-listing.ts).

export { listingQuery } from './drive-listing.js';

/** The Google Drive connector (`ConnectorV1`). */
export type GoogleDriveConnector = ConnectorV1<GoogleDriveConfig, GoogleDriveCredentials>;

/**
 * Google Drive: folders (recursive), My Drive, shared drives and "Shared with me"; Docs as
 * Markdown, Sheets as CSV tables (every sheet), Slides as text, binaries streamed; incremental
 * syncs from the changes feed; push notifications through `webhooks`; file ACLs as `permissions`.
 *
 * @example
 * const drive = createGoogleDriveConnector();
 * const summary = await runSync({
 *   connector: drive, connectorId, repository, embedder: createLexicalEmbedder(),
 *   config: { folderIds: ['1AbC...'] },
 *   credentials: { type: 'oauth2', clientId, clientSecret, refreshToken },
 * });
 */
export function createGoogleDriveConnector(
  settings: GoogleDriveConnectorSettings = {},
): GoogleDriveConnector {
  if (
    settings.pageSize !== undefined &&
    (!Number.isInteger(settings.pageSize) || settings.pageSize < 1 || settings.pageSize > MAX_PAGE_SIZE)
  ) {
    throw new RangeError(
      `[tributary] [google_drive] pageSize must be an integer from 1 to ${MAX_PAGE_SIZE}, got ${settings.pageSize}`,
    );
  }
  const cadence = resolveCheckpointCadence(settings);

  return defineConnector<GoogleDriveConfig, GoogleDriveCredentials>({
    type: GOOGLE_DRIVE_CONNECTOR_TYPE,
    displayName: 'Google Drive',
    capabilities: {
      incremental: true,
      deletions: true,
      permissions: true,
      binaryContent: true,
      webhooks: true,
    },
    configSchema: googleDriveConfigSchema,
    credentialsSchema: googleDriveCredentialsSchema,
    rateLimit: settings.rateLimit ?? DEFAULT_RATE_LIMIT,
    webhooks: googleDriveWebhooks,

    // about.get with one field: the cheapest call that needs a valid token.
    async check(ctx) {
      const api = createDriveApi({ http: ctx.http, credentials: ctx.credentials, settings });
      await api.about();
    },

    async *sync(ctx) {
      const api = createDriveApi({
        http: ctx.http,
        metrics: ctx.metrics,
        credentials: ctx.credentials,
        settings,
      });
      const state = countWrites(ctx.state);
      const folders = new DriveFolders(state);
      const run: Run = { ctx, api, folders, state, cadence };
      const parsed = parseDriveCursor(ctx.cursor);
      // A version 1 cursor (folders inside it) is moved into ctx.state; written with the first checkpoint.
      const cursor = parsed?.version === 1 ? migrateLegacyCursor(parsed, folders, state) : parsed;
      if (ctx.mode === 'incremental' && cursor?.phase === 'changes') {
        yield* syncChanges(ctx, api, cursor, folders);
        return;
      }
      // An incremental run over a listing that a crash interrupted continues it where it stopped.
      // A full run always lists everything: the delete sweep needs every document seen in this run.
      if (ctx.mode === 'incremental' && cursor?.phase === 'listing') {
        yield* syncListing(run, cursor);
        return;
      }
      yield* syncFull(run);
    },
  });
}
