// Test helpers, behind their own entry so production bundles never pull them in: the in-memory
// repository (it passes the same repository contract suite as the database adapters, so code
// tested against it behaves the same on Postgres; state lives in the process and is lost with it).
export type {
  MemoryDocumentSnapshot,
  MemoryKnowledgeRepository,
  MemoryRepositoryOptions,
} from './repository/memory-repository.js';
export { createMemoryRepository } from './repository/memory-repository.js';
