import { ConnectorApiError, type ConnectorChange, reportSyncTotal } from '@tributary/core';
import {
  addIncomplete,
  type DriveChangesCursor,
  type DriveListingCursor,
  type KnownFolder,
  type ListingTask,
  toCursorJson,
} from './drive-cursor.js';
import { ListingQueue } from './drive-folder-state.js';
import type { Run } from './drive-sync-run.js';
import { toUpserts } from './drive-upserts.js';
import type { DriveFile } from './google-drive-api.js';
import type { GoogleDriveConfig } from './google-drive-settings.js';
import { FOLDER_MIME_TYPE, isFolder, passesFilters } from './map-drive-file.js';

// Full and resumed listings: the configured roots, then their folders breadth first, with
// checkpoints a crashed run resumes from.

const INCOMPLETE_SEARCH = 'Drive reported incompleteSearch: some results may be missing';

export async function* syncFull(run: Run): AsyncGenerator<ConnectorChange> {
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
export async function* syncListing(run: Run, cursor: DriveListingCursor): AsyncGenerator<ConnectorChange> {
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

export function quote(value: string): string {
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
