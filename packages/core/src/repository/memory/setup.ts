import { randomUUID } from 'node:crypto';
import { publicConnector, type State, type StoredConnector, tick } from './state.js';
import type { MembershipRole, MemoryKnowledgeRepository } from './types.js';

// The set-up a test needs beyond `KnowledgeRepository` (what a host does with SQL or its admin UI
// against Postgres), and what a test reads back after a sync.

export function memorySetup(
  state: State,
): Pick<MemoryKnowledgeRepository, 'addConnector' | 'addMembership' | 'listDocuments'> {
  return {
    addConnector(input) {
      const id = input.id ?? randomUUID();
      const record: StoredConnector = {
        id,
        orgId: input.orgId,
        connectorType: input.connectorType ?? 'custom',
        name: input.name ?? input.connectorType ?? 'connector',
        description: null,
        settings: input.settings ?? {},
        filters: {},
        metadata: {},
        isActive: input.isActive ?? true,
        syncFrequency: input.syncFrequency ?? 'manual',
        syncCursor: null,
        lastSyncAt: null,
        lastSyncStatus: null,
        nextSyncAt: null,
        errorCount: 0,
        lastError: null,
        createdAt: tick(state),
      };
      state.connectors.set(id, record);
      return publicConnector(record);
    },
    addMembership(userId, orgId, role = 'member') {
      const orgs = state.memberships.get(userId) ?? new Map<string, MembershipRole>();
      orgs.set(orgId, role);
      state.memberships.set(userId, orgs);
    },
    listDocuments(connectorId) {
      return [...state.documents.values()]
        .filter((document) => document.connectorId === connectorId)
        .sort((a, b) => (a.externalId < b.externalId ? -1 : a.externalId > b.externalId ? 1 : 0))
        .map((document) => {
          const chunks = [...(state.chunks.get(document.id)?.values() ?? [])];
          return {
            id: document.id,
            externalId: document.externalId,
            title: document.title,
            sourceVersion: document.sourceVersion,
            contentHash: document.contentHash,
            processingStatus: document.processingStatus,
            processingError: document.processingError,
            isDeleted: document.isDeleted,
            chunkCount: chunks.length,
            embeddedChunks: chunks.filter((chunk) => chunk.embedding !== null).length,
          };
        });
    },
  };
}
