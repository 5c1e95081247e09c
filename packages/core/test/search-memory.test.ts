import { createMemoryRepository } from '../src/testing.js';
import { EMBEDDING_DIMENSIONS } from './repository-contract.js';
import { defineSearchContract } from './search-contract.js';

defineSearchContract('memory', async () => {
  const repository = createMemoryRepository({ vectorDimensions: EMBEDDING_DIMENSIONS });
  return {
    repository,
    capabilities: { vectors: true },
    async createConnector(orgId) {
      return repository.addConnector({ orgId, connectorType: 'google_drive' }).id;
    },
    async addMember(userId, orgId, role) {
      repository.addMembership(userId, orgId, role);
    },
    async expireLease() {},
    async backdateDocuments() {},
    async close() {},
  };
});
