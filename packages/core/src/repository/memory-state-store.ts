// The in-memory adapter's state store: what public.connector_state and its three functions do,
// for one process. Callers validate first and apply after, so a refused commit changes nothing.
import type { JsonValue } from '../spec/v1/json-value.js';
import {
  type ConnectorStateChanges,
  type ConnectorStateEntry,
  compareStateKeys,
  type ListStateOptions,
} from './connector-state.js';

interface Namespace {
  values: Map<string, JsonValue>;
  /** Keys in byte order, rebuilt lazily after a key is added or removed (not on value updates). */
  sorted: string[] | undefined;
}

export interface MemoryStateStore {
  apply(connectorId: string, changes: ConnectorStateChanges): void;
  get(connectorId: string, namespace: string, keys: readonly string[]): Map<string, JsonValue>;
  list(
    connectorId: string,
    namespace: string,
    options: ListStateOptions,
    limit: number,
  ): ConnectorStateEntry[];
  /** The connector is gone: so is its state (the foreign key cascades in Postgres). */
  drop(connectorId: string): void;
}

export function createMemoryStateStore(): MemoryStateStore {
  const connectors = new Map<string, Map<string, Namespace>>();

  const namespaceOf = (connectorId: string, name: string, create: boolean): Namespace | undefined => {
    let namespaces = connectors.get(connectorId);
    if (!namespaces) {
      if (!create) return undefined;
      namespaces = new Map();
      connectors.set(connectorId, namespaces);
    }
    let namespace = namespaces.get(name);
    if (!namespace && create) {
      namespace = { values: new Map(), sorted: undefined };
      namespaces.set(name, namespace);
    }
    return namespace;
  };

  return {
    apply(connectorId, changes) {
      for (const name of changes.clear ?? []) connectors.get(connectorId)?.delete(name);
      for (const { namespace: name, key } of changes.deletes ?? []) {
        const namespace = namespaceOf(connectorId, name, false);
        if (namespace?.values.delete(key)) namespace.sorted = undefined;
      }
      for (const { namespace: name, key, value } of changes.upserts ?? []) {
        const namespace = namespaceOf(connectorId, name, true) as Namespace;
        if (!namespace.values.has(key)) namespace.sorted = undefined;
        namespace.values.set(key, structuredClone(value));
      }
    },

    get(connectorId, name, keys) {
      const found = new Map<string, JsonValue>();
      const namespace = namespaceOf(connectorId, name, false);
      if (!namespace) return found;
      for (const key of keys) {
        if (namespace.values.has(key))
          found.set(key, structuredClone(namespace.values.get(key) as JsonValue));
      }
      return found;
    },

    list(connectorId, name, options, limit) {
      const namespace = namespaceOf(connectorId, name, false);
      if (!namespace) return [];
      namespace.sorted ??= [...namespace.values.keys()].sort(compareStateKeys);
      const sorted = namespace.sorted;
      let start = options.after === undefined ? 0 : search(sorted, options.after, true);
      if (options.prefix !== undefined) start = Math.max(start, search(sorted, options.prefix, false));
      const entries: ConnectorStateEntry[] = [];
      for (let index = start; index < sorted.length && entries.length < limit; index++) {
        const key = sorted[index] as string;
        if (options.prefix !== undefined && !key.startsWith(options.prefix)) {
          // Keys with the prefix are contiguous in byte order: once past them, nothing follows.
          if (compareStateKeys(key, options.prefix) > 0) break;
          continue;
        }
        entries.push({ key, value: structuredClone(namespace.values.get(key) as JsonValue) });
      }
      return entries;
    },

    drop(connectorId) {
      connectors.delete(connectorId);
    },
  };
}

/** Index of the first key after `key` (`strict`) or at or after it (binary search). */
function search(sorted: readonly string[], key: string, strict: boolean): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    const order = compareStateKeys(sorted[middle] as string, key);
    if (order < 0 || (strict && order === 0)) low = middle + 1;
    else high = middle;
  }
  return low;
}
