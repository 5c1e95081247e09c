// `ctx.state` as the pipeline (and `instance.sync`) give it to connectors: writes are buffered
// until the next checkpoint and then handed over whole (`take`), to be committed with the cursor;
// reads merge the committed store with the pending writes.
import {
  assertNamespace,
  assertStateChanges,
  assertStateKey,
  CONNECTOR_STATE_LIMITS,
  type ConnectorStateChanges,
  compareStateKeys,
  type ListStateOptions,
} from '../repository/connector-state.js';
import { jsonbSize } from '../repository/jsonb-size.js';
import { createMemoryStateStore } from '../repository/memory-state-store.js';
import { invalidInput } from '../repository/validate-input.js';
import type { ConnectorState, ConnectorStateEntry, IterateStateOptions } from './v1/connector-state.js';
import type { JsonValue } from './v1/json-value.js';

/** Where committed state is read from: a repository bound to one connector, or memory. */
export interface CommittedStateReader {
  get(namespace: string, keys: readonly string[]): Promise<Map<string, JsonValue>>;
  list(namespace: string, options: ListStateOptions): Promise<ConnectorStateEntry[]>;
}

interface PendingNamespace {
  cleared: boolean;
  /** A value to upsert, or `null` for a delete. */
  writes: Map<string, { value: JsonValue } | null>;
}

export interface BufferedConnectorState extends ConnectorState {
  /** The pending changes (undefined when there are none), and an empty buffer. */
  take(): ConnectorStateChanges | undefined;
  /** Pending writes (upserts + deletes). */
  readonly pendingCount: number;
}

export function createBufferedConnectorState(
  committed: CommittedStateReader,
  maxPending = CONNECTOR_STATE_LIMITS.maxChangesPerCheckpoint,
): BufferedConnectorState {
  let pending = new Map<string, PendingNamespace>();
  let count = 0;

  const namespaceOf = (namespace: string) => {
    let entry = pending.get(namespace);
    if (!entry) {
      entry = { cleared: false, writes: new Map() };
      pending.set(namespace, entry);
    }
    return entry;
  };
  const write = (namespace: string, key: string, change: { value: JsonValue } | null) => {
    assertNamespace(namespace);
    assertStateKey(key);
    const writes = namespaceOf(namespace).writes;
    if (!writes.has(key)) {
      if (count >= maxPending) {
        throw invalidInput(
          `ctx.state holds ${count} changes since the last checkpoint, the most one checkpoint can commit`,
          'Yield a checkpoint more often (state is committed with each checkpoint)',
        );
      }
      count += 1;
    }
    writes.set(key, change);
  };

  return {
    get pendingCount() {
      return count;
    },

    set(namespace, key, value) {
      if (value === undefined) throw invalidInput(`ctx.state.set(${namespace}, ${key}) needs a JSON value`);
      // A detached copy: the connector may go on mutating its object before the checkpoint.
      const copy = JSON.parse(JSON.stringify(value)) as JsonValue;
      if (jsonbSize(copy) > CONNECTOR_STATE_LIMITS.maxValueBytes) {
        throw invalidInput(`ctx.state value ${namespace}/${key} is over 64 KB`, 'Split it over several keys');
      }
      write(namespace, key, { value: copy });
    },

    delete(namespace, key) {
      write(namespace, key, null);
    },

    clear(namespace) {
      assertNamespace(namespace);
      count -= pending.get(namespace)?.writes.size ?? 0;
      pending.set(namespace, { cleared: true, writes: new Map() });
    },

    async get(namespace, keys) {
      assertNamespace(namespace);
      const entry = pending.get(namespace);
      const found = new Map<string, JsonValue>();
      const missing: string[] = [];
      for (const key of new Set(keys)) {
        const change = entry?.writes.get(key);
        if (change) found.set(key, structuredClone(change.value));
        else if (change === undefined && !entry?.cleared) missing.push(key);
      }
      for (let start = 0; start < missing.length; start += CONNECTOR_STATE_LIMITS.maxKeysPerGet) {
        const slice = missing.slice(start, start + CONNECTOR_STATE_LIMITS.maxKeysPerGet);
        for (const [key, value] of await committed.get(namespace, slice)) found.set(key, value);
      }
      return found;
    },

    async *iterate(namespace: string, options: IterateStateOptions = {}) {
      assertNamespace(namespace);
      const pageSize = options.pageSize ?? 500;
      const entry = pending.get(namespace);
      const inRange = (key: string) =>
        (options.prefix === undefined || key.startsWith(options.prefix)) &&
        (options.after === undefined || compareStateKeys(key, options.after) > 0);
      // Pending upserts, merged in key order with the committed pages.
      const local: ConnectorStateEntry[] = [];
      for (const [key, change] of entry?.writes ?? []) {
        if (change && inRange(key)) local.push({ key, value: change.value });
      }
      local.sort((a, b) => compareStateKeys(a.key, b.key));
      let next = 0;
      if (!entry?.cleared) {
        let after = options.after;
        for (;;) {
          const page = await committed.list(namespace, { after, prefix: options.prefix, limit: pageSize });
          for (const stored of page) {
            while (
              next < local.length &&
              compareStateKeys((local[next] as ConnectorStateEntry).key, stored.key) < 0
            ) {
              const item = local[next++] as ConnectorStateEntry;
              yield { key: item.key, value: structuredClone(item.value) };
            }
            // Written (or deleted) in this run: the pending value is what counts.
            if (entry?.writes.has(stored.key)) continue;
            yield stored;
          }
          if (page.length < pageSize) break;
          after = page[page.length - 1]?.key;
        }
      }
      while (next < local.length) {
        const item = local[next++] as ConnectorStateEntry;
        yield { key: item.key, value: structuredClone(item.value) };
      }
    },

    take() {
      if (pending.size === 0) return undefined;
      const changes: Required<ConnectorStateChanges> = { clear: [], deletes: [], upserts: [] };
      for (const [namespace, entry] of pending) {
        if (entry.cleared) (changes.clear as string[]).push(namespace);
        for (const [key, change] of entry.writes) {
          if (change)
            (changes.upserts as { namespace: string; key: string; value: JsonValue }[]).push({
              namespace,
              key,
              value: change.value,
            });
          else (changes.deletes as { namespace: string; key: string }[]).push({ namespace, key });
        }
      }
      pending = new Map();
      count = 0;
      return changes;
    },
  };
}

/** Committed state outside a repository: what `instance.sync` uses (and tests can keep between runs). */
export interface ConnectorStateStore extends CommittedStateReader {
  commit(changes: ConnectorStateChanges): void | Promise<void>;
}

/**
 * A state store in memory, for `instance.sync({ stateStore })` outside the pipeline: pass the
 * same store to the next `instance.sync` to resume with the state of the last checkpoint.
 */
export function createMemoryConnectorStateStore(): ConnectorStateStore {
  const store = createMemoryStateStore();
  const id = 'instance';
  return {
    get: async (namespace, keys) => store.get(id, namespace, keys),
    list: async (namespace, options) => store.list(id, namespace, options, options.limit ?? 500),
    commit(changes) {
      assertStateChanges(changes);
      store.apply(id, changes);
    },
  };
}
