// The Drive connector's large state, in `ctx.state` rather than the cursor (capped at 64 KB):
//   folders   folder id -> KnownFolder (scope checks and paths)
//   children  "<parent id>/<child id>" -> 1 (a folder's subtree, by prefix, when it leaves scope)
//   queue     12-digit sequence -> ListingTask (folders still to list; head and tail in the cursor)
import type { ConnectorState } from '@tributary/core';
import type {
  DriveChangesCursor,
  DriveCursor,
  DriveListingCursor,
  KnownFolder,
  LegacyDriveCursor,
  ListingTask,
} from './drive-cursor.js';

export const FOLDERS = 'folders';
export const CHILDREN = 'children';
export const QUEUE = 'queue';

/** Folders kept in memory during a run; past this the cache starts over (the store has them all). */
const CACHE_LIMIT = 20_000;

/** Queue entries read per state call: the listing reads its queue in pages, not one task at a time. */
export const QUEUE_PAGE = 500;

/** `ctx.state` that counts its writes since the last checkpoint (the listing bounds them). */
export interface CountedState extends ConnectorState {
  /** `set`, `delete` and `clear` calls since `resetWrites` (an upper bound of the pending rows). */
  readonly writes: number;
  resetWrites(): void;
}

export function countWrites(state: ConnectorState): CountedState {
  let writes = 0;
  return {
    get writes() {
      return writes;
    },
    resetWrites() {
      writes = 0;
    },
    get: (namespace, keys) => state.get(namespace, keys),
    iterate: (namespace, options) => state.iterate(namespace, options),
    set(namespace, key, value) {
      writes += 1;
      state.set(namespace, key, value);
    },
    delete(namespace, key) {
      writes += 1;
      state.delete(namespace, key);
    },
    clear(namespace) {
      writes += 1;
      state.clear(namespace);
    },
  };
}

const childKey = (parent: string, child: string) => `${parent}/${child}`;
const queueKey = (position: number) => String(position).padStart(12, '0');

/**
 * The known folders of one run. Every write goes through here, so the cache never goes stale;
 * reads that miss it go to `ctx.state` (which sees this run's pending writes too).
 */
export class DriveFolders {
  private readonly cache = new Map<string, KnownFolder | null>();

  constructor(private readonly state: ConnectorState) {}

  async get(id: string): Promise<KnownFolder | undefined> {
    return (await this.getMany([id])).get(id);
  }

  async getMany(ids: readonly string[]): Promise<Map<string, KnownFolder>> {
    const found = new Map<string, KnownFolder>();
    const missing: string[] = [];
    for (const id of new Set(ids)) {
      const cached = this.cache.get(id);
      if (cached) found.set(id, cached);
      else if (cached === undefined) missing.push(id);
    }
    if (missing.length > 0) {
      const stored = await this.state.get(FOLDERS, missing);
      for (const id of missing) {
        const folder = (stored.get(id) as KnownFolder | undefined) ?? null;
        this.remember(id, folder);
        if (folder) found.set(id, folder);
      }
    }
    return found;
  }

  set(id: string, folder: KnownFolder, previous?: KnownFolder): void {
    if (previous && !previous.root && previous.parent && previous.parent !== folder.parent) {
      this.state.delete(CHILDREN, childKey(previous.parent, id));
    }
    this.state.set(FOLDERS, id, { ...folder });
    if (!folder.root && folder.parent) this.state.set(CHILDREN, childKey(folder.parent, id), 1);
    this.remember(id, { ...folder });
  }

  remove(id: string, folder: KnownFolder | undefined): void {
    this.state.delete(FOLDERS, id);
    if (folder?.parent && !folder.root) this.state.delete(CHILDREN, childKey(folder.parent, id));
    this.remember(id, null);
  }

  /** `My Drive/Projects/2024` for a folder id (names joined up to a root). */
  async path(folderId: string): Promise<string | undefined> {
    const names: string[] = [];
    let current: string | null = folderId;
    for (let depth = 0; current !== null && depth < 200; depth++) {
      const folder: KnownFolder | undefined = await this.get(current);
      if (!folder) break;
      names.unshift(folder.name);
      if (folder.root) break;
      current = folder.parent;
    }
    return names.length > 0 ? names.join('/') : undefined;
  }

  /** The folder and every known folder below it, read from the children index page by page. */
  async subtree(folderId: string): Promise<string[]> {
    const result: string[] = [];
    const seen = new Set<string>();
    const pending = [folderId];
    while (pending.length > 0) {
      const id = pending.shift() as string;
      if (seen.has(id)) continue;
      seen.add(id);
      result.push(id);
      const prefix = `${id}/`;
      for await (const entry of this.state.iterate(CHILDREN, { prefix }))
        pending.push(entry.key.slice(prefix.length));
    }
    return result;
  }

  /** Forgets every folder (a full listing from scratch), in the store and here. */
  clear(): void {
    this.state.clear(FOLDERS);
    this.state.clear(CHILDREN);
    this.cache.clear();
  }

  private remember(id: string, folder: KnownFolder | null): void {
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(id, folder);
  }
}

/**
 * The listing queue: positions `queueHead` to `queueTail - 1` of the `queue` namespace. Read
 * `QUEUE_PAGE` positions per state call; a position is written once (by `push`) and only deleted
 * after it was listed, so a page read ahead never goes stale.
 */
export class ListingQueue {
  /** Tasks read ahead, from position `pageStart` (undefined: a hole). */
  private page: (ListingTask | undefined)[] = [];
  private pageStart = 0;

  constructor(
    private readonly state: ConnectorState,
    private readonly cursor: DriveListingCursor,
  ) {}

  get length(): number {
    return this.cursor.queueTail - this.cursor.queueHead;
  }

  push(task: ListingTask): void {
    this.state.set(QUEUE, queueKey(this.cursor.queueTail), task);
    this.cursor.queueTail += 1;
  }

  /** The task being listed, or undefined when the queue is empty. */
  async head(): Promise<ListingTask | undefined> {
    while (this.length > 0) {
      const offset = this.cursor.queueHead - this.pageStart;
      if (offset < 0 || offset >= this.page.length) {
        await this.readPage();
        continue;
      }
      const task = this.page[offset];
      if (task) return task;
      // A hole cannot happen with commits tied to the cursor; skip one rather than loop forever.
      this.cursor.queueHead += 1;
    }
    return undefined;
  }

  private async readPage(): Promise<void> {
    const start = this.cursor.queueHead;
    const end = Math.min(this.cursor.queueTail, start + QUEUE_PAGE);
    const keys: string[] = [];
    for (let position = start; position < end; position++) keys.push(queueKey(position));
    const stored = await this.state.get(QUEUE, keys);
    this.pageStart = start;
    this.page = keys.map((key) => stored.get(key) as ListingTask | undefined);
  }

  shift(): void {
    this.state.delete(QUEUE, queueKey(this.cursor.queueHead));
    this.cursor.queueHead += 1;
  }

  clear(): void {
    this.state.clear(QUEUE);
    this.page = [];
    this.pageStart = 0;
    this.cursor.queueHead = 0;
    this.cursor.queueTail = 0;
  }
}

/**
 * A version 1 cursor (folders and tasks inside it) becomes a version 2 cursor plus state writes,
 * committed with the run's first checkpoint. Until then the old cursor stays stored, so a run
 * that dies first simply migrates again.
 */
export function migrateLegacyCursor(
  legacy: LegacyDriveCursor,
  folders: DriveFolders,
  state: ConnectorState,
): DriveCursor {
  folders.clear();
  for (const [id, folder] of Object.entries(legacy.folders)) folders.set(id, folder);
  if (legacy.phase === 'changes') {
    const cursor: DriveChangesCursor = { version: 2, phase: 'changes', pageToken: legacy.pageToken };
    return cursor;
  }
  const cursor: DriveListingCursor = {
    version: 2,
    phase: 'listing',
    changesToken: legacy.changesToken,
    ...(legacy.pageToken ? { pageToken: legacy.pageToken } : {}),
    queueHead: 0,
    queueTail: 0,
    incomplete: legacy.incomplete.slice(0, 20),
  };
  const queue = new ListingQueue(state, cursor);
  queue.clear();
  for (const task of legacy.tasks) queue.push(task);
  return cursor;
}
