import type { JsonValue } from '../../spec/v1/json-value.js';
import {
  assertGetStateKeys,
  assertNamespace,
  type ListStateOptions,
  stateListLimit,
} from '../connector-state.js';
import type { KnowledgeRepository, ListConnectorsFilter } from '../knowledge-repository.js';
import type { MemoryAccess } from './access.js';
import { publicConnector } from './state.js';

// Reading connectors and their committed state (`ctx.state`), as the actor may see them.

export function memoryConnectors(
  access: MemoryAccess,
): Pick<KnowledgeRepository, 'getConnector' | 'listConnectors' | 'getState' | 'listState'> {
  const { state, canRead } = access;
  return {
    async getConnector(connectorId) {
      const connector = state.connectors.get(connectorId);
      return connector && canRead(connector.orgId) ? publicConnector(connector) : undefined;
    },

    async listConnectors(filter: ListConnectorsFilter = {}) {
      return [...state.connectors.values()]
        .filter(
          (c) =>
            canRead(c.orgId) &&
            (filter.orgId === undefined || c.orgId === filter.orgId) &&
            (filter.connectorType === undefined || c.connectorType === filter.connectorType) &&
            (filter.isActive === undefined || c.isActive === filter.isActive),
        )
        .sort(
          (a, b) => a.orgId.localeCompare(b.orgId) || a.createdAt - b.createdAt || a.id.localeCompare(b.id),
        )
        .map(publicConnector);
    },

    async getState(connectorId: string, namespace: string, keys: readonly string[]) {
      assertNamespace(namespace);
      assertGetStateKeys(keys);
      const connector = state.connectors.get(connectorId);
      if (!connector || !canRead(connector.orgId)) return new Map<string, JsonValue>();
      return state.connectorState.get(connectorId, namespace, keys);
    },

    async listState(connectorId: string, namespace: string, options: ListStateOptions = {}) {
      assertNamespace(namespace);
      const limit = stateListLimit(options);
      const connector = state.connectors.get(connectorId);
      if (!connector || !canRead(connector.orgId)) return [];
      return state.connectorState.list(connectorId, namespace, options, limit);
    },
  };
}
