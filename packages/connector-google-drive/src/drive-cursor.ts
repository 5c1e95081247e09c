import type { JsonValue } from '@tributary/core';

/** A folder the connector knows to be in scope. `root`: configured (a folder, My Drive, a shared drive). */
export interface KnownFolder {
  parent: string | null;
  name: string;
  driveId?: string | undefined;
  root?: boolean | undefined;
}

export type FolderMap = Record<string, KnownFolder>;

/** One unit of the full listing: a folder's children, or "Shared with me". */
export type ListingTask =
  | { kind: 'folder'; id: string; driveId?: string | undefined }
  | { kind: 'sharedWithMe' };

/**
 * Cursor of a full listing in progress. `changesToken` was taken before the listing started, so
 * the incremental sync that follows also sees what changed while it ran. `tasks[0]` is being
 * listed from `pageToken`; a resumed run continues exactly there.
 */
export interface DriveListingCursor {
  version: 1;
  phase: 'listing';
  changesToken: string;
  tasks: ListingTask[];
  pageToken?: string | undefined;
  folders: FolderMap;
  incomplete: string[];
}

/**
 * Cursor between syncs: a changes page token (a `nextPageToken` inside a change list, the
 * `newStartPageToken` at its end) and the folders in scope, which decide whether a changed file
 * is inside the configured folders (a move out of them becomes a delete).
 */
export interface DriveChangesCursor {
  version: 1;
  phase: 'changes';
  pageToken: string;
  folders: FolderMap;
}

export type DriveCursor = DriveListingCursor | DriveChangesCursor;

/** The cursor if it is one of ours; anything else (another connector's, a corrupt one) is ignored. */
export function parseDriveCursor(value: JsonValue | undefined): DriveCursor | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const candidate = value as Record<string, unknown>;
  if (candidate.version !== 1 || typeof candidate.folders !== 'object' || candidate.folders === null)
    return undefined;
  if (candidate.phase === 'changes' && typeof candidate.pageToken === 'string') {
    return value as unknown as DriveChangesCursor;
  }
  if (
    candidate.phase === 'listing' &&
    typeof candidate.changesToken === 'string' &&
    Array.isArray(candidate.tasks) &&
    Array.isArray(candidate.incomplete)
  ) {
    return value as unknown as DriveListingCursor;
  }
  return undefined;
}

/** A detached JSON copy: the pipeline may keep the object while the connector goes on mutating its state. */
export function toCursorJson(cursor: DriveCursor): JsonValue {
  return JSON.parse(JSON.stringify(cursor)) as JsonValue;
}

/** `My Drive/Projects/2024` for a folder id, from the known folders (names joined up to a root). */
export function folderPath(folders: FolderMap, folderId: string): string | undefined {
  const names: string[] = [];
  let current: string | null = folderId;
  for (let depth = 0; current !== null && depth < 200; depth++) {
    const folder: KnownFolder | undefined = folders[current];
    if (!folder) break;
    names.unshift(folder.name);
    if (folder.root) break;
    current = folder.parent;
  }
  return names.length > 0 ? names.join('/') : undefined;
}

/** The folder and every known folder below it. */
export function folderSubtree(folders: FolderMap, folderId: string): string[] {
  const children = new Map<string, string[]>();
  for (const [id, folder] of Object.entries(folders)) {
    if (folder.parent === null || folder.root) continue;
    const list = children.get(folder.parent) ?? [];
    list.push(id);
    children.set(folder.parent, list);
  }
  const result: string[] = [];
  const queue = [folderId];
  const seen = new Set<string>();
  while (queue.length > 0) {
    const id = queue.shift() as string;
    if (seen.has(id)) continue;
    seen.add(id);
    result.push(id);
    queue.push(...(children.get(id) ?? []));
  }
  return result;
}
