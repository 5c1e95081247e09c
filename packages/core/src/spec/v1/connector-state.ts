import type { JsonValue } from './json-value.js';

/** One entry of a state namespace. */
export interface ConnectorStateEntry {
  readonly key: string;
  readonly value: JsonValue;
}

export interface IterateStateOptions {
  /** Only keys starting with this (e.g. `children/<folderId>/`). */
  readonly prefix?: string | undefined;
  /** Start after this key (byte order), to continue an earlier iteration. */
  readonly after?: string | undefined;
  /** Entries fetched per round trip (1 to 1000, default 500). */
  readonly pageSize?: number | undefined;
}

/**
 * `ctx.state`: a connector's own key/value store, for what grows with the source (a folder map, a
 * queue of folders still to list, per-file versions) and so must not live in the cursor (capped at
 * 64 KB). Values are JSON (at most 64 KB each); namespaces have 1 to 200 characters, keys 1 to 1024.
 *
 * Writes (`set`, `delete`, `clear`) are buffered and committed atomically with the next
 * `checkpoint` the connector yields, in the same transaction as its cursor: a resumed run always
 * sees the state that belongs to the cursor it resumes from. Writes after the last checkpoint of
 * a run, or of a run that dies, are discarded. Reads see the run's own pending writes. At most
 * 50,000 writes may be pending between two checkpoints; the next write past that throws
 * `RepositoryError` (`invalid_input`): checkpoint more often.
 */
export interface ConnectorState {
  /** Values of `keys` in `namespace` (any number of keys; fetched 1000 per round trip). Missing keys are absent. */
  get(namespace: string, keys: readonly string[]): Promise<Map<string, JsonValue>>;
  /** Every entry of `namespace` in byte order of key, fetched page by page (memory stays flat). */
  iterate(namespace: string, options?: IterateStateOptions): AsyncIterable<ConnectorStateEntry>;
  set(namespace: string, key: string, value: JsonValue): void;
  delete(namespace: string, key: string): void;
  /** Empties `namespace` (e.g. a full re-sync that starts from scratch). Later writes apply after it. */
  clear(namespace: string): void;
}
