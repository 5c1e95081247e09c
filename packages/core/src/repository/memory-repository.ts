import type { KnowledgeRepository, RepositoryActor } from './knowledge-repository.js';
import { createMemoryAccess } from './memory/access.js';
import { memoryChunks } from './memory/chunks.js';
import { createMemoryConnectorAdmin } from './memory/connector-admin.js';
import { memoryConnectors } from './memory/connectors.js';
import { memoryDocumentSweep } from './memory/document-sweep.js';
import { memoryDocuments } from './memory/documents.js';
import { memoryDuplicates } from './memory/duplicates.js';
import { memorySearch } from './memory/search.js';
import { memorySetup } from './memory/setup.js';
import type { State } from './memory/state.js';
import { memorySyncRuns } from './memory/sync-runs.js';
import type { MemoryKnowledgeRepository, MemoryRepositoryOptions } from './memory/types.js';
import { memoryWebhookEvents } from './memory/webhook-events.js';
import { createMemoryStateStore } from './memory-state-store.js';

// The in-memory repository, composed from its parts in ./memory/ (one file per role, each reading
// and writing the one shared `State`).

export type {
  AddConnectorInput,
  MembershipRole,
  MemoryDocumentSnapshot,
  MemoryKnowledgeRepository,
  MemoryRepositoryOptions,
} from './memory/types.js';

/**
 * A `KnowledgeRepository` in JavaScript memory with the semantics of the Postgres adapter (upsert
 * actions by content hash, leases with expiry, one running sync per connector, webhook dedup per
 * connector, the sweep's coverage guard, org-scoped hybrid search fused by RRF with k = 60), for
 * unit tests of code that uses a repository. Search is a simple token match (any query word; ranked
 * by how many distinct query words a chunk covers; no stemming, no stop words) plus cosine similarity.
 */
export function createMemoryRepository(options: MemoryRepositoryOptions = {}): MemoryKnowledgeRepository {
  const state: State = {
    clock: options.now ?? Date.now,
    lastTick: 0,
    connectors: new Map(),
    memberships: new Map(),
    runs: new Map(),
    listingStarts: new Map(),
    seenMarks: new Map(),
    documents: new Map(),
    documentIds: new Map(),
    chunks: new Map(),
    webhookEvents: new Map(),
    webhookEventIds: new Map(),
    connectorState: createMemoryStateStore(),
    secrets: new Map(),
    vectorDimensions: options.vectorDimensions,
  };
  const service = buildRepository(state, undefined);
  return { ...service, ...memorySetup(state) };
}

/** One actor's repository over the shared state; `withActor` builds another over the same state. */
function buildRepository(state: State, actor: RepositoryActor | undefined): KnowledgeRepository {
  const access = createMemoryAccess(state, actor);
  return {
    ...createMemoryConnectorAdmin(state, access.userId),
    storesEmbeddings: async () => true,
    vectorSettings: async () => ({
      type: 'vector',
      dimensions: state.vectorDimensions ?? null,
      distance: 'cosine',
    }),
    withActor: (next) => buildRepository(state, next),
    withUser: (next) => buildRepository(state, { role: 'authenticated', userId: next }),
    ...memoryConnectors(access),
    ...memorySyncRuns(access),
    ...memoryDocuments(access),
    ...memoryDocumentSweep(access),
    ...memoryChunks(access),
    ...memoryDuplicates(access),
    ...memoryWebhookEvents(access),
    ...memorySearch(access),
  };
}
