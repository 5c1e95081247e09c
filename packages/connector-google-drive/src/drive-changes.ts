import { ConnectorApiError, type ConnectorChange } from '@tributary/core';
import { type DriveChangesCursor, type KnownFolder, type ListingTask, toCursorJson } from './drive-cursor.js';
import type { DriveFolders } from './drive-folder-state.js';
import { listingQuery, quote } from './drive-listing.js';
import type { Ctx } from './drive-sync-run.js';
import { toUpserts } from './drive-upserts.js';
import type { DriveApi, DriveChange, DriveFile } from './google-drive-api.js';
import type { GoogleDriveConfig } from './google-drive-settings.js';
import { isFolder, passesFilters } from './map-drive-file.js';

// Incremental syncs from the changes feed: files changed, moved, trashed or removed, and folders
// entering or leaving the scope (listed, or their files deleted).

export async function* syncChanges(
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
