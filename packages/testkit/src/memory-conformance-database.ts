import { randomUUID } from 'node:crypto';
import { createMemoryRepository } from '@tributary/core/testing';
import type { ConformanceDatabase, ConformanceStore, DatabaseSettings } from './conformance-database.js';

/** Core's in-memory repository, one per store, with a clock the suite can move past a lease. */
export function createMemoryConformanceDatabase(settings: DatabaseSettings): ConformanceDatabase {
  return {
    async createStore(connectorType): Promise<ConformanceStore> {
      let offsetMs = 0;
      const repository = createMemoryRepository({ now: () => Date.now() + offsetMs });
      const connectorId = randomUUID();
      repository.addConnector({ id: connectorId, orgId: randomUUID(), connectorType });
      return {
        repository,
        connectorId,
        async listDocuments() {
          return repository.listDocuments(connectorId).map((document) => ({
            externalId: document.externalId,
            title: document.title,
            contentHash: document.contentHash,
            processingStatus: document.processingStatus,
            isDeleted: document.isDeleted,
            chunkCount: document.chunkCount,
          }));
        },
        async expireLeases() {
          offsetMs += (settings.leaseSeconds + 1) * 1000;
        },
      };
    },
    async close() {},
  };
}
