import { createMemoryRepository } from '../src/testing.js';
import { defineRepositoryContract } from './repository-contract.js';

defineRepositoryContract('memory', async () => {
  let offsetMs = 0;
  const repository = createMemoryRepository({ now: () => Date.now() + offsetMs });
  return {
    repository,
    capabilities: { vectors: true },
    async createConnector(orgId, options = {}) {
      return repository.addConnector({
        orgId,
        connectorType: 'google_drive',
        isActive: options.isActive ?? true,
      }).id;
    },
    async addMember(userId, orgId, role) {
      repository.addMembership(userId, orgId, role);
    },
    async expireLease() {
      // Moving the clock past every lease is what a stalled worker looks like in memory.
      offsetMs += 2 * 86_400_000;
    },
    async backdateDocuments() {
      // The memory clock already gives every write a later timestamp than the one before.
    },
    async close() {},
  };
});
