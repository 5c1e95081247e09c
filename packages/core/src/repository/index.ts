// Repository types and the in-memory adapter, for imports inside the package. The public API
// re-exports these from src/index.ts.

export {
  CONNECTOR_STATE_LIMITS,
  type ConnectorStateChanges,
  type ConnectorStateEntry,
  type ListStateOptions,
} from './connector-state.js';
export type {
  ChunkInput,
  ConnectorRecord,
  DocumentFailureInput,
  DocumentFailureResult,
  DocumentInput,
  DocumentVersion,
  FinishedSyncStatus,
  FinishSyncInput,
  HeartbeatInput,
  KnowledgeRepository,
  ListConnectorsFilter,
  ProcessingStatus,
  RecordWebhookEventResult,
  ReleasedSyncRun,
  ReplaceChunksEntry,
  ReplaceChunksResult,
  RepositoryActor,
  SearchInput,
  SearchResult,
  SemanticStrategy,
  StartSyncInput,
  StartSyncResult,
  StoredVectorSettings,
  SweepResult,
  SyncCounts,
  SyncFrequency,
  SyncLiveProgress,
  SyncRunMode,
  SyncRunRecord,
  SyncRunStatus,
  SyncType,
  UpsertAction,
  UpsertDocumentResult,
  WebhookEventInput,
} from './knowledge-repository.js';
export {
  type AddConnectorInput,
  createMemoryRepository,
  type MembershipRole,
  type MemoryDocumentSnapshot,
  type MemoryKnowledgeRepository,
  type MemoryRepositoryOptions,
} from './memory-repository.js';
export {
  RepositoryError,
  type RepositoryErrorOptions,
  type RepositoryErrorReason,
} from './repository-error.js';
