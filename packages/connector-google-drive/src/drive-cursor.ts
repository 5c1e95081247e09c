import type { JsonValue } from '@tributary/core';

/** A folder the connector knows to be in scope. `root`: configured (a folder, My Drive, a shared drive). */
export interface KnownFolder {
  parent: string | null;
  name: string;
  driveId?: string | undefined;
  root?: boolean | undefined;
}

/** Folders by id (the version 1 cursor carried one; version 2 keeps them in `ctx.state`). */
export type FolderMap = Record<string, KnownFolder>;

/** One unit of the full listing: a folder's children, or "Shared with me". */
export type ListingTask =
  | { kind: 'folder'; id: string; driveId?: string | undefined }
  | { kind: 'sharedWithMe' };

/**
 * Cursor of a full listing in progress. `changesToken` was taken before the listing started, so
 * the incremental sync that follows also sees what changed while it ran. The folders still to
 * list are the `queue` namespace of `ctx.state`, keys `queueHead` to `queueTail - 1`; the head is
 * being listed from `pageToken`, so a resumed run continues exactly there. The known folders are
 * the `folders` namespace. Both commit with this cursor, so they always match it.
 */
export interface DriveListingCursor {
  version: 2;
  phase: 'listing';
  changesToken: string;
  pageToken?: string | undefined;
  queueHead: number;
  queueTail: number;
  /** Why the listing is incomplete (at most `MAX_INCOMPLETE_REASONS` kept). */
  incomplete: string[];
}

/**
 * Cursor between syncs: a changes page token (a `nextPageToken` inside a change list, the
 * `newStartPageToken` at its end). The folders in scope, which decide whether a changed file is
 * inside the configured folders, are in `ctx.state`.
 */
export interface DriveChangesCursor {
  version: 2;
  phase: 'changes';
  pageToken: string;
}

export type DriveCursor = DriveListingCursor | DriveChangesCursor;

/** Version 1 cursors (before 0.x of the state store) carried the folder map and the task queue. */
export type LegacyDriveCursor =
  | {
      version: 1;
      phase: 'listing';
      changesToken: string;
      tasks: ListingTask[];
      pageToken?: string | undefined;
      folders: FolderMap;
      incomplete: string[];
    }
  | { version: 1; phase: 'changes'; pageToken: string; folders: FolderMap };

export const MAX_INCOMPLETE_REASONS = 20;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The cursor if it is one of ours (either version); anything else (another connector's, a corrupt one) is ignored. */
export function parseDriveCursor(value: JsonValue | undefined): DriveCursor | LegacyDriveCursor | undefined {
  if (!isObject(value)) return undefined;
  if (value.version === 1) {
    if (!isObject(value.folders)) return undefined;
    if (value.phase === 'changes' && typeof value.pageToken === 'string')
      return value as unknown as LegacyDriveCursor;
    if (
      value.phase === 'listing' &&
      typeof value.changesToken === 'string' &&
      Array.isArray(value.tasks) &&
      Array.isArray(value.incomplete)
    ) {
      return value as unknown as LegacyDriveCursor;
    }
    return undefined;
  }
  if (value.version !== 2) return undefined;
  if (value.phase === 'changes' && typeof value.pageToken === 'string')
    return value as unknown as DriveChangesCursor;
  if (
    value.phase === 'listing' &&
    typeof value.changesToken === 'string' &&
    Number.isInteger(value.queueHead) &&
    Number.isInteger(value.queueTail) &&
    Array.isArray(value.incomplete)
  ) {
    return value as unknown as DriveListingCursor;
  }
  return undefined;
}

/** A detached JSON copy: the pipeline may keep the object while the connector goes on mutating it. */
export function toCursorJson(cursor: DriveCursor): JsonValue {
  return JSON.parse(JSON.stringify(cursor)) as JsonValue;
}

export function addIncomplete(cursor: DriveListingCursor, reason: string): void {
  if (cursor.incomplete.length < MAX_INCOMPLETE_REASONS && !cursor.incomplete.includes(reason)) {
    cursor.incomplete.push(reason);
  }
}
