import type { SyncContext } from '@tributary/core';
import type { CountedState, DriveFolders } from './drive-folder-state.js';
import type { DriveApi } from './google-drive-api.js';
import type {
  CheckpointCadence,
  GoogleDriveConfig,
  GoogleDriveCredentials,
} from './google-drive-settings.js';

// What one sync of the Drive connector passes around: its context and, for listings, the API
// client, the folder map and the checkpoint cadence.

export type Ctx = SyncContext<GoogleDriveConfig, GoogleDriveCredentials>;

/** What the listing functions share: ctx, the API, the folder map, `ctx.state` with its write count. */
export interface Run {
  ctx: Ctx;
  api: DriveApi;
  folders: DriveFolders;
  state: CountedState;
  cadence: CheckpointCadence;
}
