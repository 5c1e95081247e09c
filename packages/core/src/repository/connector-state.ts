// Connector state in the repository: types, limits and the argument checks every adapter runs
// before anything is written (the limits are the ones 0009_connector_state.sql enforces).
import type { ConnectorStateEntry } from '../spec/v1/connector-state.js';
import type { JsonValue } from '../spec/v1/json-value.js';
import { jsonbSize } from './jsonb-size.js';
import { invalidInput } from './validate-input.js';

/** Limits of the state store, the same in every adapter. */
export const CONNECTOR_STATE_LIMITS = Object.freeze({
  /** Upserts + deletes committed with one checkpoint. */
  maxChangesPerCheckpoint: 50_000,
  /** Namespaces cleared with one checkpoint. */
  maxClearsPerCheckpoint: 1000,
  /** Keys per `getState` call. */
  maxKeysPerGet: 1000,
  /** Entries per `listState` page. */
  maxPageSize: 1000,
  maxNamespaceLength: 200,
  maxKeyLength: 1024,
  /** Bytes of one value as jsonb. */
  maxValueBytes: 65_536,
  /** Bytes of a cursor as jsonb (`commit_sync_checkpoint`). */
  maxCursorBytes: 65_536,
});

export type { ConnectorStateEntry };

/**
 * State changes committed with a checkpoint, applied in this order: `clear` empties whole
 * namespaces, then `deletes`, then `upserts`. A (namespace, key) appears at most once in `upserts`.
 */
export interface ConnectorStateChanges {
  clear?: readonly string[] | undefined;
  deletes?: readonly { namespace: string; key: string }[] | undefined;
  upserts?: readonly { namespace: string; key: string; value: JsonValue }[] | undefined;
}

export interface ListStateOptions {
  /** Keyset pagination: only keys after this one (byte order). */
  after?: string | undefined;
  /** Only keys starting with this. */
  prefix?: string | undefined;
  /** 1 to 1000, default 500. */
  limit?: number | undefined;
}

// UTF-16 code unit order equals UTF-8 byte order except between surrogate pairs and U+E000-U+FFFF.
const beyondSurrogates = /[\uD800-\uFFFF]/;

/** Byte order of UTF-8, the order of the `"C"` collation the table uses. */
export function compareStateKeys(a: string, b: string): number {
  if (a === b) return 0;
  if (!beyondSurrogates.test(a) && !beyondSurrogates.test(b)) return a < b ? -1 : 1;
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

export function isEmptyStateChanges(changes: ConnectorStateChanges | undefined): boolean {
  return (
    !changes ||
    ((changes.clear?.length ?? 0) === 0 &&
      (changes.deletes?.length ?? 0) === 0 &&
      (changes.upserts?.length ?? 0) === 0)
  );
}

export function assertNamespace(namespace: string, what = 'namespace'): void {
  if (
    typeof namespace !== 'string' ||
    namespace.length === 0 ||
    namespace.length > CONNECTOR_STATE_LIMITS.maxNamespaceLength
  ) {
    throw invalidInput(
      `${what} must be a string of 1 to ${CONNECTOR_STATE_LIMITS.maxNamespaceLength} characters`,
    );
  }
}

export function assertStateKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0 || key.length > CONNECTOR_STATE_LIMITS.maxKeyLength) {
    throw invalidInput(
      `a state key must be a string of 1 to ${CONNECTOR_STATE_LIMITS.maxKeyLength} characters`,
    );
  }
}

export function assertCursorSize(cursor: JsonValue): void {
  if (cursor === undefined || cursor === null) return;
  if (jsonbSize(cursor) > CONNECTOR_STATE_LIMITS.maxCursorBytes) {
    // The database's own words (commit_sync_checkpoint), so every adapter fails the same way.
    throw invalidInput(
      'p_cursor must be a JSON value of at most 64 KB',
      'Keep large connector state (folder maps, per-file versions) in the state store, not the cursor.',
    );
  }
}

export function assertStateChanges(changes: ConnectorStateChanges): void {
  const clear = changes.clear ?? [];
  const deletes = changes.deletes ?? [];
  const upserts = changes.upserts ?? [];
  if (deletes.length + upserts.length > CONNECTOR_STATE_LIMITS.maxChangesPerCheckpoint) {
    throw invalidInput(
      `a checkpoint carries at most ${CONNECTOR_STATE_LIMITS.maxChangesPerCheckpoint} state changes, got ${deletes.length + upserts.length}`,
      'Checkpoint more often.',
    );
  }
  if (clear.length > CONNECTOR_STATE_LIMITS.maxClearsPerCheckpoint) {
    throw invalidInput(
      `a checkpoint clears at most ${CONNECTOR_STATE_LIMITS.maxClearsPerCheckpoint} namespaces`,
    );
  }
  for (const namespace of clear) assertNamespace(namespace, 'a cleared namespace');
  for (const change of deletes) {
    assertNamespace(change.namespace);
    assertStateKey(change.key);
  }
  const seen = new Set<string>();
  for (const change of upserts) {
    assertNamespace(change.namespace);
    assertStateKey(change.key);
    if (change.value === undefined)
      throw invalidInput(`state upsert ${change.namespace}/${change.key} needs a value`);
    if (jsonbSize(change.value) > CONNECTOR_STATE_LIMITS.maxValueBytes) {
      throw invalidInput(`state value ${change.namespace}/${change.key} is over 64 KB`);
    }
    const id = `${change.namespace}\u0000${change.key}`;
    if (seen.has(id))
      throw invalidInput(`state key ${change.namespace}/${change.key} is upserted twice in one call`);
    seen.add(id);
  }
}

export function assertGetStateKeys(keys: readonly string[]): void {
  if (keys.length > CONNECTOR_STATE_LIMITS.maxKeysPerGet) {
    throw invalidInput(
      `getState reads at most ${CONNECTOR_STATE_LIMITS.maxKeysPerGet} keys per call, got ${keys.length}`,
    );
  }
  for (const key of keys) if (typeof key !== 'string') throw invalidInput('state keys must be strings');
}

export function stateListLimit(options: ListStateOptions): number {
  const limit = options.limit ?? 500;
  if (!Number.isInteger(limit) || limit < 1 || limit > CONNECTOR_STATE_LIMITS.maxPageSize) {
    throw invalidInput(
      `limit must be an integer between 1 and ${CONNECTOR_STATE_LIMITS.maxPageSize}, got ${limit}`,
    );
  }
  return limit;
}
