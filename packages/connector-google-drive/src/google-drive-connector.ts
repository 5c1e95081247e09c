import {
  ConnectorApiError,
  type ConnectorChange,
  type ConnectorV1,
  type DocumentPermission,
  defineConnector,
  type Logger,
  type SyncContext,
} from '@tributary/core';
import {
  type DriveChangesCursor,
  type DriveListingCursor,
  type FolderMap,
  folderPath,
  folderSubtree,
  type ListingTask,
  parseDriveCursor,
  toCursorJson,
} from './drive-cursor.js';
import { createDriveApi, type DriveApi, type DriveChange, type DriveFile } from './google-drive-api.js';
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
} from './google-drive-settings.js';
import {
  FOLDER_MIME_TYPE,
  isFolder,
  mapDriveFile,
  normalizePermissions,
  passesFilters,
} from './map-drive-file.js';

/** The Google Drive connector (`ConnectorV1`). */
export type GoogleDriveConnector = ConnectorV1<GoogleDriveConfig, GoogleDriveCredentials>;

type Ctx = SyncContext<GoogleDriveConfig, GoogleDriveCredentials>;

const INCOMPLETE_SEARCH = 'Drive reported incompleteSearch: some results may be missing';

/** Concurrent permissions.list calls while mapping one page. */
const PERMISSION_CONCURRENCY = 4;

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

    sync(ctx) {
      const api = createDriveApi({
        http: ctx.http,
        metrics: ctx.metrics,
        credentials: ctx.credentials,
        settings,
      });
      const cursor = parseDriveCursor(ctx.cursor);
      if (ctx.mode === 'incremental' && cursor?.phase === 'changes') return syncChanges(ctx, api, cursor);
      // An incremental run over a listing that a crash interrupted continues it where it stopped.
      // A full run always lists everything: the delete sweep needs every document seen in this run.
      if (ctx.mode === 'incremental' && cursor?.phase === 'listing') return syncListing(ctx, api, cursor);
      return syncFull(ctx, api);
    },
  });
}

// ---- full listing ---------------------------------------------------------------------------

async function* syncFull(ctx: Ctx, api: DriveApi): AsyncGenerator<ConnectorChange> {
  const { config } = ctx;
  // Taken first: whatever changes while the listing runs is in the next incremental sync.
  const changesToken = await api.getStartPageToken();
  const state: DriveListingCursor = {
    version: 1,
    phase: 'listing',
    changesToken,
    tasks: [],
    folders: {},
    incomplete: [],
  };
  for (const folderId of config.folderIds ?? []) {
    try {
      const folder = await api.getFile(folderId, 'id,name,mimeType,driveId,trashed', true);
      if (folder.mimeType !== FOLDER_MIME_TYPE || folder.trashed) {
        state.incomplete.push(`${folderId} is not a folder, or is in the trash`);
        continue;
      }
      addRoot(state, folderId, folder.name ?? folderId, folder.driveId ?? undefined);
    } catch (error) {
      if (!ConnectorApiError.isInstance(error) || error.isRetryable) throw error;
      state.incomplete.push(`folder ${folderId} cannot be read (HTTP ${error.status ?? 'error'})`);
    }
  }
  if (config.myDrive) {
    const root = await api.getFile('root', 'id,name', false);
    if (root.id) addRoot(state, root.id, 'My Drive', undefined);
  }
  if (config.sharedDrives !== undefined) {
    const drives = await api.listDrives();
    const wanted = config.sharedDrives === 'all' ? undefined : new Set(config.sharedDrives);
    for (const drive of drives) {
      if (!drive.id || (wanted && !wanted.has(drive.id))) continue;
      wanted?.delete(drive.id);
      addRoot(state, drive.id, drive.name ?? drive.id, drive.id);
    }
    for (const missing of wanted ?? [])
      state.incomplete.push(`shared drive ${missing} is not visible to the account`);
  }
  if (config.sharedWithMe) state.tasks.push({ kind: 'sharedWithMe' });
  yield* syncListing(ctx, api, state);
}

function addRoot(state: DriveListingCursor, id: string, name: string, driveId: string | undefined) {
  if (state.folders[id]) return;
  state.folders[id] = { parent: null, name, root: true, ...(driveId ? { driveId } : {}) };
  state.tasks.push({ kind: 'folder', id, ...(driveId ? { driveId } : {}) });
}

async function* syncListing(
  ctx: Ctx,
  api: DriveApi,
  state: DriveListingCursor,
): AsyncGenerator<ConnectorChange> {
  const seen = new Set<string>();
  while (state.tasks.length > 0) {
    const task = state.tasks[0] as ListingTask;
    const page = await api.listFiles({
      q: listingQuery(task, ctx.config),
      pageToken: state.pageToken,
      driveId: task.kind === 'folder' ? task.driveId : undefined,
    });
    if (page.incompleteSearch && !state.incomplete.includes(INCOMPLETE_SEARCH)) {
      state.incomplete.push(INCOMPLETE_SEARCH);
    }
    const files: DriveFile[] = [];
    for (const file of page.files) {
      if (!file.id || file.trashed) continue;
      if (isFolder(file)) {
        if (!state.folders[file.id]) {
          const parent = task.kind === 'folder' ? task.id : (file.parents?.[0] ?? null);
          state.folders[file.id] = {
            parent,
            name: file.name ?? file.id,
            ...(file.driveId ? { driveId: file.driveId } : {}),
            // "Shared with me" folders start their own path.
            ...(task.kind === 'sharedWithMe' ? { root: true } : {}),
          };
          state.tasks.push({
            kind: 'folder',
            id: file.id,
            ...(file.driveId ? { driveId: file.driveId } : {}),
          });
        }
        continue;
      }
      if (seen.has(file.id) || !passesFilters(file, ctx.config)) continue;
      seen.add(file.id);
      files.push(file);
    }
    for (const change of await toUpserts(ctx, api, files, state.folders)) yield change;
    state.pageToken = page.nextPageToken;
    if (!state.pageToken) state.tasks.shift();
    // Everything of this page is yielded: a resumed run starts at the next page.
    if (state.tasks.length > 0) yield { kind: 'checkpoint', cursor: toCursorJson(state) };
  }
  const complete = state.incomplete.length === 0;
  yield {
    kind: 'listing-complete',
    complete,
    ...(complete ? {} : { reason: state.incomplete.join('; ') }),
  };
  const next: DriveChangesCursor = {
    version: 1,
    phase: 'changes',
    pageToken: state.changesToken,
    folders: state.folders,
  };
  yield { kind: 'checkpoint', cursor: toCursorJson(next) };
}

function quote(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** The q of one listing task. Only folders bypass `modifiedAfter` (their children may be newer). */
export function listingQuery(task: ListingTask, config: GoogleDriveConfig): string {
  const clauses = [
    task.kind === 'folder' ? `${quote(task.id)} in parents` : 'sharedWithMe = true',
    'trashed = false',
  ];
  if (config.modifiedAfter) {
    clauses.push(`(mimeType = ${quote(FOLDER_MIME_TYPE)} or modifiedTime > ${quote(config.modifiedAfter)})`);
  }
  return clauses.join(' and ');
}

function pathOfFile(file: DriveFile, folders: FolderMap): string {
  const parent = file.parents?.[0];
  const prefix = parent ? folderPath(folders, parent) : undefined;
  return prefix ? `${prefix}/${file.name ?? ''}` : (file.name ?? '');
}

async function toUpserts(
  ctx: Ctx,
  api: DriveApi,
  files: DriveFile[],
  folders: FolderMap,
): Promise<ConnectorChange[]> {
  const withPermissions = ctx.config.includePermissions !== false;
  return mapLimit(files, PERMISSION_CONCURRENCY, async (file) => {
    let permissions: DocumentPermission[] | undefined;
    if (withPermissions) permissions = await permissionsOf(api, file, ctx.logger);
    return {
      kind: 'upsert',
      document: mapDriveFile(file, { api, path: pathOfFile(file, folders), permissions, logger: ctx.logger }),
    } satisfies ConnectorChange;
  });
}

/**
 * ACLs from the listing when Drive filled them (My Drive files), else one permissions.list call
 * (shared drive files, whose listing has no `permissions`). A file whose ACL the account may not
 * read keeps no permissions (and a warning), rather than failing.
 */
async function permissionsOf(
  api: DriveApi,
  file: DriveFile,
  logger: Logger,
): Promise<DocumentPermission[] | undefined> {
  if (file.permissions) return normalizePermissions(file.permissions);
  try {
    return normalizePermissions(await api.listPermissions(file.id ?? ''));
  } catch (error) {
    if (!ConnectorApiError.isInstance(error) || error.isRetryable) throw error;
    logger.warn('file permissions not readable; stored without permissions', {
      fileId: file.id,
      status: error.status,
    });
    return undefined;
  }
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

// ---- incremental: the changes feed ----------------------------------------------------------

async function* syncChanges(
  ctx: Ctx,
  api: DriveApi,
  cursor: DriveChangesCursor,
): AsyncGenerator<ConnectorChange> {
  const folders: FolderMap = structuredClone(cursor.folders);
  let pageToken = cursor.pageToken;
  for (;;) {
    const page = await api.listChanges(pageToken);
    for (const change of page.changes) {
      // Shared drive changes (renamed, hidden, removed) do not name a file.
      if (change.changeType === 'drive') {
        if (change.removed && change.driveId && folders[change.driveId]) {
          ctx.logger.warn(
            'a configured shared drive was removed or the account lost access to it; run a full sync to remove its documents',
            {
              driveId: change.driveId,
            },
          );
        }
        continue;
      }
      yield* applyChange(ctx, api, change, folders);
    }
    if (page.nextPageToken) {
      // Mid-list: resume from the next page. newStartPageToken only comes with the last page.
      pageToken = page.nextPageToken;
      yield {
        kind: 'checkpoint',
        cursor: toCursorJson({ version: 1, phase: 'changes', pageToken, folders }),
      };
      continue;
    }
    const finalToken = page.newStartPageToken ?? pageToken;
    yield {
      kind: 'checkpoint',
      cursor: toCursorJson({ version: 1, phase: 'changes', pageToken: finalToken, folders }),
    };
    return;
  }
}

function inScope(file: DriveFile, folders: FolderMap, config: GoogleDriveConfig): boolean {
  const parent = file.parents?.[0];
  if (parent && folders[parent]) return true;
  if (config.sharedWithMe && file.sharedWithMeTime) return true;
  if (config.sharedDrives === 'all' && file.driveId) return true;
  return false;
}

async function* applyChange(
  ctx: Ctx,
  api: DriveApi,
  change: DriveChange,
  folders: FolderMap,
): AsyncGenerator<ConnectorChange> {
  const fileId = change.fileId ?? change.file?.id;
  if (!fileId) return;
  const file = change.file;
  // removed: deleted for good, or the account lost access. No file resource comes with it.
  if (change.removed || !file) {
    if (folders[fileId]) yield* leaveFolder(ctx, api, fileId, folders);
    else yield { kind: 'delete', externalId: fileId };
    return;
  }
  if (isFolder(file)) {
    yield* folderChanged(ctx, api, file, folders);
    return;
  }
  if (file.trashed || !inScope(file, folders, ctx.config) || !passesFilters(file, ctx.config)) {
    // Trashed, moved out of the configured folders, or filtered out now: gone from the knowledge base.
    yield { kind: 'delete', externalId: fileId };
    return;
  }
  for (const upsert of await toUpserts(ctx, api, [file], folders)) yield upsert;
}

async function* folderChanged(
  ctx: Ctx,
  api: DriveApi,
  file: DriveFile,
  folders: FolderMap,
): AsyncGenerator<ConnectorChange> {
  const id = file.id as string;
  const known = folders[id];
  const stays = !file.trashed && (known?.root === true || inScope(file, folders, ctx.config));
  if (!stays) {
    if (known) yield* leaveFolder(ctx, api, id, folders);
    return;
  }
  if (known) {
    // Renamed or moved within scope: paths below it follow, since they are computed from the map.
    known.name = file.name ?? known.name;
    if (!known.root) known.parent = file.parents?.[0] ?? known.parent;
    return;
  }
  // A folder entered the scope (moved in, untrashed, shared): everything below it is new to us.
  folders[id] = {
    parent: file.parents?.[0] ?? null,
    name: file.name ?? id,
    ...(file.driveId ? { driveId: file.driveId } : {}),
  };
  const tasks: ListingTask[] = [{ kind: 'folder', id, ...(file.driveId ? { driveId: file.driveId } : {}) }];
  while (tasks.length > 0) {
    const task = tasks.shift() as ListingTask & { kind: 'folder' };
    let pageToken: string | undefined;
    do {
      const page = await api.listFiles({
        q: listingQuery(task, ctx.config),
        pageToken,
        driveId: task.driveId,
      });
      const files: DriveFile[] = [];
      for (const child of page.files) {
        if (!child.id || child.trashed) continue;
        if (isFolder(child)) {
          if (!folders[child.id]) {
            folders[child.id] = {
              parent: task.id,
              name: child.name ?? child.id,
              ...(child.driveId ? { driveId: child.driveId } : {}),
            };
            tasks.push({
              kind: 'folder',
              id: child.id,
              ...(child.driveId ? { driveId: child.driveId } : {}),
            });
          }
        } else if (passesFilters(child, ctx.config)) {
          files.push(child);
        }
      }
      for (const upsert of await toUpserts(ctx, api, files, folders)) yield upsert;
      pageToken = page.nextPageToken;
    } while (pageToken);
  }
}

/**
 * A folder left the scope (moved out, trashed, deleted, unshared): every file below it is
 * deleted. Its children are listed without the `trashed = false` clause (a trashed folder's
 * children are trashed with it); a folder deleted for good lists nothing, but its files then
 * arrive as removals of their own.
 */
async function* leaveFolder(
  ctx: Ctx,
  api: DriveApi,
  folderId: string,
  folders: FolderMap,
): AsyncGenerator<ConnectorChange> {
  const subtree = folderSubtree(folders, folderId);
  for (const id of subtree) {
    const driveId = folders[id]?.driveId;
    let pageToken: string | undefined;
    try {
      do {
        const page = await api.listFiles({ q: `${quote(id)} in parents`, pageToken, driveId });
        for (const child of page.files) {
          if (child.id && !isFolder(child)) yield { kind: 'delete', externalId: child.id };
        }
        pageToken = page.nextPageToken;
      } while (pageToken);
    } catch (error) {
      if (!ConnectorApiError.isInstance(error) || error.isRetryable) throw error;
      ctx.logger.debug('folder no longer listable; its files leave with their own changes', { folderId: id });
    }
  }
  for (const id of subtree) delete folders[id];
}
