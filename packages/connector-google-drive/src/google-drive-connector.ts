import {
  ConnectorApiError,
  type ConnectorChange,
  type ConnectorV1,
  type DocumentPermission,
  defineConnector,
  type Logger,
  reportSyncTotal,
  type SyncContext,
} from '@tributary/core';
import {
  addIncomplete,
  type DriveChangesCursor,
  type DriveListingCursor,
  type KnownFolder,
  type ListingTask,
  parseDriveCursor,
  toCursorJson,
} from './drive-cursor.js';
import {
  type CountedState,
  countWrites,
  DriveFolders,
  ListingQueue,
  migrateLegacyCursor,
} from './drive-folder-state.js';
import { createDriveApi, type DriveApi, type DriveChange, type DriveFile } from './google-drive-api.js';
import { googleDriveWebhooks } from './google-drive-push.js';
import {
  type CheckpointCadence,
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

/** What the listing functions share: ctx, the API, the folder map, `ctx.state` with its write count. */
interface Run {
  ctx: Ctx;
  api: DriveApi;
  folders: DriveFolders;
  state: CountedState;
  cadence: CheckpointCadence;
}

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

// ---- full listing ---------------------------------------------------------------------------

async function* syncFull(run: Run): AsyncGenerator<ConnectorChange> {
  const { ctx, api, folders } = run;
  const { config } = ctx;
  // Taken first: whatever changes while the listing runs is in the next incremental sync.
  const changesToken = await api.getStartPageToken();
  const cursor: DriveListingCursor = {
    version: 2,
    phase: 'listing',
    changesToken,
    queueHead: 0,
    queueTail: 0,
    incomplete: [],
  };
  // From scratch: the folder map and queue of earlier runs go (committed with the first checkpoint).
  folders.clear();
  const queue = new ListingQueue(run.state, cursor);
  queue.clear();
  const addRoot = (id: string, name: string, driveId: string | undefined) => {
    folders.set(id, { parent: null, name, root: true, ...(driveId ? { driveId } : {}) });
    queue.push({ kind: 'folder', id, ...(driveId ? { driveId } : {}) });
  };
  const roots = new Set<string>();
  const addRootOnce = (id: string, name: string, driveId: string | undefined) => {
    if (roots.has(id)) return;
    roots.add(id);
    addRoot(id, name, driveId);
  };
  for (const folderId of config.folderIds ?? []) {
    try {
      const folder = await api.getFile(folderId, 'id,name,mimeType,driveId,trashed', true);
      if (folder.mimeType !== FOLDER_MIME_TYPE || folder.trashed) {
        addIncomplete(cursor, `${folderId} is not a folder, or is in the trash`);
        continue;
      }
      addRootOnce(folderId, folder.name ?? folderId, folder.driveId ?? undefined);
    } catch (error) {
      if (!ConnectorApiError.isInstance(error) || error.isRetryable) throw error;
      addIncomplete(cursor, `folder ${folderId} cannot be read (HTTP ${error.status ?? 'error'})`);
    }
  }
  if (config.myDrive) {
    const root = await api.getFile('root', 'id,name', false);
    if (root.id) addRootOnce(root.id, 'My Drive', undefined);
  }
  if (config.sharedDrives !== undefined) {
    const drives = await api.listDrives();
    const wanted = config.sharedDrives === 'all' ? undefined : new Set(config.sharedDrives);
    for (const drive of drives) {
      if (!drive.id || (wanted && !wanted.has(drive.id))) continue;
      wanted?.delete(drive.id);
      addRootOnce(drive.id, drive.name ?? drive.id, drive.id);
    }
    for (const missing of wanted ?? [])
      addIncomplete(cursor, `shared drive ${missing} is not visible to the account`);
  }
  if (config.sharedWithMe) queue.push({ kind: 'sharedWithMe' });
  yield* syncListing(run, cursor);
}

/**
 * Lists the queue breadth first. A checkpoint (cursor: queue position and page token; with it
 * commit the folders and queue entries written since the last one) follows a page when
 * `everyFolders` folders were listed since the last one (a page of a folder of several pages
 * counts as one), or `intervalMs` passed, or the next page
 * could take the pending state writes past `maxStateWrites`. A crashed run resumes at the last
 * checkpoint: it makes at most `everyFolders` listing calls again, and their files come again with
 * the same versions (the pipeline skips them).
 */
async function* syncListing(run: Run, cursor: DriveListingCursor): AsyncGenerator<ConnectorChange> {
  const { ctx, api, folders, state, cadence } = run;
  const queue = new ListingQueue(state, cursor);
  // One page adds at most: a folder, its parent index entry and a queue entry per subfolder, plus
  // the shift of the listed folder (and a hole skipped).
  const writesPerPage = 3 * api.pageSize + 2;
  let listedSince = 0;
  let checkpointedAt = Date.now();
  const seen = new Set<string>();
  // Drive gives no count up front: the total is the files listed so far, exact once the listing ends.
  let listed = 0;
  for (let task = await queue.head(); task; task = await queue.head()) {
    const page = await api.listFiles({
      q: listingQuery(task, ctx.config),
      pageToken: cursor.pageToken,
      driveId: task.kind === 'folder' ? task.driveId : undefined,
    });
    if (page.incompleteSearch) addIncomplete(cursor, INCOMPLETE_SEARCH);
    const subfolders = page.files.filter((file) => file.id && !file.trashed && isFolder(file));
    const known = await folders.getMany(subfolders.map((file) => file.id as string));
    const files: DriveFile[] = [];
    for (const file of page.files) {
      if (!file.id || file.trashed) continue;
      if (isFolder(file)) {
        if (!known.has(file.id)) {
          const folder: KnownFolder = {
            parent: task.kind === 'folder' ? task.id : (file.parents?.[0] ?? null),
            name: file.name ?? file.id,
            ...(file.driveId ? { driveId: file.driveId } : {}),
            // "Shared with me" folders start their own path.
            ...(task.kind === 'sharedWithMe' ? { root: true } : {}),
          };
          folders.set(file.id, folder);
          known.set(file.id, folder);
          queue.push({ kind: 'folder', id: file.id, ...(file.driveId ? { driveId: file.driveId } : {}) });
        }
        continue;
      }
      if (seen.has(file.id) || !passesFilters(file, ctx.config)) continue;
      seen.add(file.id);
      files.push(file);
    }
    listed += files.length;
    reportSyncTotal(ctx, listed);
    for (const change of await toUpserts(ctx, api, files, folders)) yield change;
    cursor.pageToken = page.nextPageToken ?? undefined;
    if (!cursor.pageToken) queue.shift();
    // A folder, or one page of a folder of several pages: what a resumed run may list again.
    listedSince += 1;
    // Everything of this page is yielded: a resumed run starts at the next page, with the folders
    // and queue added so far (ctx.state commits with this checkpoint).
    if (
      queue.length > 0 &&
      (listedSince >= cadence.everyFolders ||
        Date.now() - checkpointedAt >= cadence.intervalMs ||
        state.writes + writesPerPage > cadence.maxStateWrites)
    ) {
      yield { kind: 'checkpoint', cursor: toCursorJson(cursor) };
      state.resetWrites();
      listedSince = 0;
      checkpointedAt = Date.now();
    }
  }
  const complete = cursor.incomplete.length === 0;
  yield {
    kind: 'listing-complete',
    complete,
    ...(complete ? {} : { reason: cursor.incomplete.join('; ') }),
  };
  const next: DriveChangesCursor = { version: 2, phase: 'changes', pageToken: cursor.changesToken };
  yield { kind: 'checkpoint', cursor: toCursorJson(next) };
  state.resetWrites();
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

async function toUpserts(
  ctx: Ctx,
  api: DriveApi,
  files: DriveFile[],
  folders: DriveFolders,
): Promise<ConnectorChange[]> {
  const withPermissions = ctx.config.includePermissions !== false;
  // Paths first, one folder lookup per distinct parent (cached, or one batched state read).
  const parentPaths = new Map<string, string | undefined>();
  for (const file of files) {
    const parent = file.parents?.[0];
    if (parent && !parentPaths.has(parent)) parentPaths.set(parent, await folders.path(parent));
  }
  return mapLimit(files, PERMISSION_CONCURRENCY, async (file) => {
    let permissions: DocumentPermission[] | undefined;
    if (withPermissions) permissions = await permissionsOf(api, file, ctx.logger);
    const parent = file.parents?.[0];
    const prefix = parent ? parentPaths.get(parent) : undefined;
    const path = prefix ? `${prefix}/${file.name ?? ''}` : (file.name ?? '');
    return {
      kind: 'upsert',
      document: mapDriveFile(file, { api, path, permissions, logger: ctx.logger }),
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
  folders: DriveFolders,
): AsyncGenerator<ConnectorChange> {
  let pageToken = cursor.pageToken;
  for (;;) {
    const page = await api.listChanges(pageToken);
    for (const change of page.changes) {
      // Shared drive changes (renamed, hidden, removed) do not name a file.
      if (change.changeType === 'drive') {
        if (change.removed && change.driveId && (await folders.get(change.driveId))) {
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
    // Mid-list: resume from the next page. newStartPageToken only comes with the last page.
    const next = page.nextPageToken ?? page.newStartPageToken ?? pageToken;
    pageToken = next;
    yield { kind: 'checkpoint', cursor: toCursorJson({ version: 2, phase: 'changes', pageToken }) };
    if (!page.nextPageToken) return;
  }
}

async function inScope(file: DriveFile, folders: DriveFolders, config: GoogleDriveConfig): Promise<boolean> {
  const parent = file.parents?.[0];
  if (parent && (await folders.get(parent))) return true;
  if (config.sharedWithMe && file.sharedWithMeTime) return true;
  if (config.sharedDrives === 'all' && file.driveId) return true;
  return false;
}

async function* applyChange(
  ctx: Ctx,
  api: DriveApi,
  change: DriveChange,
  folders: DriveFolders,
): AsyncGenerator<ConnectorChange> {
  const fileId = change.fileId ?? change.file?.id;
  if (!fileId) return;
  const file = change.file;
  // removed: deleted for good, or the account lost access. No file resource comes with it.
  if (change.removed || !file) {
    if (await folders.get(fileId)) yield* leaveFolder(ctx, api, fileId, folders);
    else yield { kind: 'delete', externalId: fileId };
    return;
  }
  if (isFolder(file)) {
    yield* folderChanged(ctx, api, file, folders);
    return;
  }
  if (file.trashed || !(await inScope(file, folders, ctx.config)) || !passesFilters(file, ctx.config)) {
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
  folders: DriveFolders,
): AsyncGenerator<ConnectorChange> {
  const id = file.id as string;
  const known = await folders.get(id);
  const stays = !file.trashed && (known?.root === true || (await inScope(file, folders, ctx.config)));
  if (!stays) {
    if (known) yield* leaveFolder(ctx, api, id, folders);
    return;
  }
  if (known) {
    // Renamed or moved within scope: paths below it follow, since they are computed from the map.
    const updated: KnownFolder = {
      ...known,
      name: file.name ?? known.name,
      parent: known.root ? known.parent : (file.parents?.[0] ?? known.parent),
    };
    folders.set(id, updated, known);
    return;
  }
  // A folder entered the scope (moved in, untrashed, shared): everything below it is new to us.
  folders.set(id, {
    parent: file.parents?.[0] ?? null,
    name: file.name ?? id,
    ...(file.driveId ? { driveId: file.driveId } : {}),
  });
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
          if (!(await folders.get(child.id))) {
            folders.set(child.id, {
              parent: task.id,
              name: child.name ?? child.id,
              ...(child.driveId ? { driveId: child.driveId } : {}),
            });
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
      pageToken = page.nextPageToken ?? undefined;
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
  folders: DriveFolders,
): AsyncGenerator<ConnectorChange> {
  const subtree = await folders.subtree(folderId);
  for (const id of subtree) {
    const driveId = (await folders.get(id))?.driveId;
    let pageToken: string | undefined;
    try {
      do {
        const page = await api.listFiles({ q: `${quote(id)} in parents`, pageToken, driveId });
        for (const child of page.files) {
          if (child.id && !isFolder(child)) yield { kind: 'delete', externalId: child.id };
        }
        pageToken = page.nextPageToken ?? undefined;
      } while (pageToken);
    } catch (error) {
      if (!ConnectorApiError.isInstance(error) || error.isRetryable) throw error;
      ctx.logger.debug('folder no longer listable; its files leave with their own changes', { folderId: id });
    }
  }
  for (const id of subtree) folders.remove(id, await folders.get(id));
}
