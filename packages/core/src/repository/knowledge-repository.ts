import type {
  DuplicateLink,
  DuplicateMember,
  LinkDuplicatesInput,
  ListDuplicatesInput,
  SearchAlternative,
} from '../dedup/duplicate-types.js';
import type { JsonObject, JsonValue } from '../spec/v1/json-value.js';
import type { ConnectorAdminRepository } from './connector-admin-repository.js';
import type { ConnectorStateChanges, ConnectorStateEntry, ListStateOptions } from './connector-state.js';

/** Who a repository call runs as. Postgres adapters apply row level security for `authenticated`. */
/**
 * Who repository calls run as. For an `authenticated` user, the identities become the JWT claims
 * that `source`-mode connectors (0018) match against document ACLs: `email` (also gives its
 * domain), `groups` (group ids or emails, claim `tributary_groups`) and `identities` (principal
 * keys such as `user:<provider id>`, claim `tributary_identities`).
 */
export type RepositoryActor =
  | { role: 'service_role' }
  | {
      role: 'authenticated';
      userId: string;
      email?: string | undefined;
      groups?: readonly string[] | undefined;
      identities?: readonly string[] | undefined;
    };

export type SyncType = 'manual' | 'scheduled' | 'webhook' | 'initial';
export type SyncRunMode = 'full' | 'incremental';
export type SyncRunStatus = 'running' | 'success' | 'partial' | 'failed' | 'cancelled';
export type FinishedSyncStatus = Exclude<SyncRunStatus, 'running'>;
export type ProcessingStatus = 'pending' | 'processing' | 'completed' | 'failed';
export type SyncFrequency = 'manual' | 'hourly' | 'daily' | 'weekly';

/** A row of `connector_configs` (secrets are never part of it). */
export interface ConnectorRecord {
  id: string;
  orgId: string;
  connectorType: string;
  name: string;
  description: string | null;
  settings: JsonObject;
  filters: JsonObject;
  metadata: JsonObject;
  isActive: boolean;
  syncFrequency: SyncFrequency;
  /** The last committed cursor (see `commitCheckpoint`); null before the first checkpoint. */
  syncCursor: JsonValue | null;
  lastSyncAt: Date | null;
  lastSyncStatus: SyncRunStatus | null;
  nextSyncAt: Date | null;
  errorCount: number;
  lastError: string | null;
}

export interface ListConnectorsFilter {
  orgId?: string | undefined;
  connectorType?: string | undefined;
  isActive?: boolean | undefined;
}

export interface StartSyncInput {
  connectorId: string;
  syncType?: SyncType | undefined;
  syncMode?: SyncRunMode | undefined;
  /** How long the run holds its lease without a heartbeat; 5 to 86,400 seconds, default 300. */
  leaseSeconds?: number | undefined;
  workerId?: string | undefined;
}

/**
 * `started`: this caller owns the new run. `alreadyRunning`: another run holds the lease; its id
 * and expiry are reported, nothing was started. Both carry the connector's last committed cursor.
 */
export type StartSyncResult =
  | { status: 'started'; syncRunId: string; leaseExpiresAt: Date; cursor: JsonValue | null }
  | { status: 'alreadyRunning'; syncRunId: string; leaseExpiresAt: Date; cursor: JsonValue | null };

/** Counters of a run (every field optional: omitted ones keep their stored value). */
export interface SyncCounts {
  documentsSynced?: number | undefined;
  documentsUpdated?: number | undefined;
  documentsSkipped?: number | undefined;
  documentsFailed?: number | undefined;
  documentsDeleted?: number | undefined;
  apiCallsMade?: number | undefined;
  bytesTransferred?: number | undefined;
}

export interface HeartbeatInput {
  leaseSeconds?: number | undefined;
  progress?: SyncCounts | undefined;
  /** Stored as the run's `metadata.progress` (read back as `SyncRunRecord.progress`). */
  live?: SyncLiveProgress | undefined;
}

/**
 * Where a running sync is, as its heartbeat last stored it (`connector_sync_logs.metadata.progress`):
 * readable on any machine while the source is still listing, before any document is stored.
 */
export interface SyncLiveProgress {
  /** Documents the source listed so far. */
  listed: number;
  /** True while the source is still listing. */
  listing: boolean;
  /** Documents the connector said it will yield (`reportSyncTotal`), when it said. */
  total?: number | undefined;
  /** When the pipeline measured it (ISO 8601). */
  at: string;
}

export interface FinishSyncInput {
  status: FinishedSyncStatus;
  counts?: (SyncCounts & { metadata?: JsonObject | undefined }) | undefined;
  errorMessage?: string | undefined;
  errorDetails?: JsonValue | undefined;
}

/** A row of `connector_sync_logs`. */
export interface SyncRunRecord {
  id: string;
  orgId: string;
  connectorId: string | null;
  syncType: SyncType;
  syncMode: SyncRunMode;
  status: SyncRunStatus;
  startedAt: Date;
  completedAt: Date | null;
  leaseExpiresAt: Date | null;
  workerId: string | null;
  documentsSynced: number;
  documentsUpdated: number;
  documentsSkipped: number;
  documentsFailed: number;
  documentsDeleted: number;
  apiCallsMade: number;
  bytesTransferred: number;
  errorMessage: string | null;
  /** The live progress its heartbeat stored (`metadata.progress`); null before the first one. */
  progress: SyncLiveProgress | null;
}

/** What the pipeline needs to skip an unchanged document without downloading it (dedup layer 2). */
export interface DocumentVersion {
  id: string;
  sourceVersion: string | null;
  contentHash: string | null;
  isDeleted: boolean;
  processingStatus: ProcessingStatus;
}

/** One document to store. `externalId` is its identity within the connector (dedup layer 1). */
export interface DocumentInput {
  externalId: string;
  parentExternalId?: string | null | undefined;
  title?: string | null | undefined;
  mimeType?: string | null | undefined;
  externalUrl?: string | null | undefined;
  sourceVersion?: string | null | undefined;
  sourceModifiedAt?: Date | string | null | undefined;
  content?: string | null | undefined;
  /** sha256 hex of the normalized content (`contentHash()`); drives the unchanged decision. */
  contentHash?: string | null | undefined;
  fileSizeBytes?: number | null | undefined;
  storagePath?: string | null | undefined;
  sourceMetadata?: JsonObject | undefined;
  /** Merged into the stored metadata (keys given win). */
  metadata?: JsonObject | undefined;
  uploadedBy?: string | null | undefined;
  /** Status for inserted or changed documents (default `pending`); unchanged ones keep theirs. */
  processingStatus?: ProcessingStatus | undefined;
}

/**
 * `inserted`: new document. `updated`: content hash changed (or the document was deleted and came
 * back): chunks and embeddings must be redone. `unchanged`: same hash, processing state kept.
 */
export type UpsertAction = 'inserted' | 'updated' | 'unchanged';

export interface UpsertDocumentResult {
  documentId: string;
  externalId: string;
  action: UpsertAction;
  previousContentHash: string | null;
}

export interface SweepResult {
  /** Documents soft-deleted now. */
  swept: number;
  /** Live documents not seen since the run started. */
  unseen: number;
  /** Live documents of the connector. */
  total: number;
  /** True when the coverage guard refused (unseen > maxFraction × total): nothing was deleted. */
  refused: boolean;
}

/** A document that failed to load or extract this run (`recordDocumentFailures`). */
export interface DocumentFailureInput {
  externalId: string;
  /** Why it failed (cut to 4,000 characters). */
  error: string;
  /** Used only when the document is new (stored as a failed placeholder without content). */
  parentExternalId?: string | null | undefined;
  title?: string | null | undefined;
  mimeType?: string | null | undefined;
  externalUrl?: string | null | undefined;
  sourceModifiedAt?: Date | string | null | undefined;
  sourceMetadata?: JsonObject | undefined;
  metadata?: JsonObject | undefined;
}

export interface DocumentFailureResult {
  documentId: string;
  externalId: string;
  /** True when an earlier, completed version stays indexed and searchable, with the error beside it. */
  keptPrevious: boolean;
}

/** The run `releaseSync` ended. */
export interface ReleasedSyncRun {
  syncRunId: string;
  leaseExpiresAt: Date | null;
  workerId: string | null;
  /** True when its lease had already expired (its worker had stopped heartbeating). */
  wasExpired: boolean;
}

export interface ChunkInput {
  /** Position in the document, from 0. Unique within one call. */
  index: number;
  context?: string | null | undefined;
  content: string;
  /** sha256 hex of the chunk text; with the model it keys embedding reuse (dedup layer 4). */
  contentHash: string;
  tokenCount?: number | null | undefined;
  embedding?: readonly number[] | null | undefined;
  /** Required when `embedding` is given or `reuseEmbedding` is true. */
  embeddingModel?: string | null | undefined;
  /**
   * Instead of an `embedding`: copy the vector stored for a chunk of the organisation with the
   * same `contentHash` and `embeddingModel` (found with `findReusableEmbeddingHashes`). The vector
   * never leaves the database. When no such chunk is stored any more, the document is not written
   * and its result lists the hash in `missingEmbeddings`.
   */
  reuseEmbedding?: boolean | undefined;
}

/** One document's complete set of chunks, for `replaceChunksBatch`. */
export interface ReplaceChunksEntry {
  documentId: string;
  chunks: readonly ChunkInput[];
}

export interface ReplaceChunksResult {
  chunkCount: number;
  /** Chunks at positions no longer present, deleted. */
  removed: number;
  /** True when every chunk now has an embedding (vacuously true for zero chunks). */
  embeddingsGenerated: boolean;
  /**
   * Hashes of `reuseEmbedding` chunks whose vector is no longer stored (its last copy was deleted
   * or rewritten since the lookup). When non-empty the document was not written: its chunks and
   * counters are as before, and the caller sends those chunks with their embeddings.
   */
  missingEmbeddings?: readonly string[] | undefined;
}

export interface WebhookEventInput {
  connectorId: string;
  eventSource: string;
  eventId: string;
  eventType: string;
  payload: JsonValue;
  /** Stored without credential-bearing headers (Authorization, cookies, tokens, API keys). */
  headers?: Record<string, string> | undefined;
}

export interface RecordWebhookEventResult {
  id: string;
  /** False when this (connector, source, event id) was recorded before: do not process it again. */
  isNew: boolean;
  processed: boolean;
}

export interface SearchInput {
  orgId: string;
  queryText?: string | undefined;
  queryEmbedding?: readonly number[] | undefined;
  /**
   * The embedder id (`Embedder.id`) that made `queryEmbedding`; required with it. Only chunks
   * stored under the same id are compared: vectors of different models are not comparable.
   */
  embeddingModel?: string | undefined;
  /** 1 to 200, default 20. */
  limit?: number | undefined;
  connectorIds?: readonly string[] | undefined;
  /** Only documents of these MIME types. */
  mimeTypes?: readonly string[] | undefined;
  /** Only documents whose source metadata contains this object (jsonb `@>`). */
  metadata?: Record<string, JsonValue> | undefined;
  weights?: { fullText?: number | undefined; semantic?: number | undefined } | undefined;
  /** Minimum cosine similarity of a vector hit (-1 to 1, default 0). */
  matchThreshold?: number | undefined;
  /** Minimum BM25 score of a full-text hit (>= 0, default 0). */
  minFullTextScore?: number | undefined;
  /** Reciprocal rank fusion constant k (1 to 1000, default 60): each half adds weight / (k + rank). */
  rrfK?: number | undefined;
  /**
   * One result per duplicate group (dedup layer 5): only the best-scoring readable document's
   * chunks are kept, with the group's other readable documents in `alternatives`. Default false.
   */
  collapseDuplicates?: boolean | undefined;
}

/** How the vector half was answered: every chunk of the org compared, or the HNSW index. */
export type SemanticStrategy = 'exact' | 'index' | 'none';

export interface SearchResult {
  chunkId: string;
  documentId: string;
  connectorId: string | null;
  title: string | null;
  externalUrl: string | null;
  mimeType: string | null;
  chunkIndex: number;
  /** Matched terms marked with `**`. */
  snippet: string;
  content: string;
  sourceMetadata: Record<string, JsonValue>;
  /** Reciprocal rank fusion: Σ weight / (60 + rank) = fullTextContribution + semanticContribution. */
  score: number;
  /** 1-based rank in the full-text half, null when the chunk did not match the text. */
  fullTextRank: number | null;
  /** BM25 score of the chunk for the query text, null when it did not match. */
  fullTextScore: number | null;
  fullTextContribution: number;
  /** 1-based rank in the vector half, null when it had no embedding or no query embedding. */
  semanticRank: number | null;
  /** Cosine similarity to the query embedding, null when not a vector hit. */
  similarity: number | null;
  semanticContribution: number;
  /** Null when no query embedding was given. */
  semanticStrategy: SemanticStrategy | null;
  /** With `collapseDuplicates`: the other readable documents of this hit's duplicate group. */
  alternatives?: SearchAlternative[] | undefined;
}

/** How a database stores embeddings (`vector_settings()`, migration 0010_vector_models). */
export interface StoredVectorSettings {
  type: 'vector' | 'halfvec';
  /** Null only for the memory adapter without `vectorDimensions`: any size is stored. */
  dimensions: number | null;
  distance: 'cosine';
}

/**
 * Storage for everything the pipeline reads and writes. Every method is set-based (one query or
 * one transaction for any number of ids, never one round trip per item). Adapters:
 * `createPostgresRepository` (PGlite, node-postgres or any SQL client) and `createMemoryRepository`
 * (unit tests). Errors are `RepositoryError`s with a `reason`. Connector management and secret
 * storage (`ConnectorAdminRepository`) are usually reached through `createConnectorManager`.
 */
export interface KnowledgeRepository extends ConnectorAdminRepository {
  /** The same repository acting as someone else (Postgres adapters: row level security applies). */
  withActor(actor: RepositoryActor): KnowledgeRepository;
  /** Shorthand for `withActor({ role: 'authenticated', userId })`. */
  withUser(userId: string): KnowledgeRepository;

  // connectors
  /**
   * Whether chunk embeddings can be stored (pgvector and `0007_vector_search` present). `runSync`
   * asks before anything is loaded or embedded, so a database without vectors fails the run at
   * once instead of embedding every document and failing each.
   */
  storesEmbeddings(): Promise<boolean>;
  /**
   * The type and size of stored embeddings, or undefined when the database cannot store any. The
   * pipeline and `search()` compare it with the embedder's dimensions before embedding anything.
   */
  vectorSettings(): Promise<StoredVectorSettings | undefined>;
  getConnector(connectorId: string): Promise<ConnectorRecord | undefined>;
  listConnectors(filter?: ListConnectorsFilter): Promise<ConnectorRecord[]>;

  // sync runs
  startSync(input: StartSyncInput): Promise<StartSyncResult>;
  /** Extends the lease and records progress; returns the new expiry. Throws `lease_lost`. */
  heartbeat(syncRunId: string, input?: HeartbeatInput): Promise<Date>;
  /**
   * Stores the connector's cursor, and with it `state` changes (see `ConnectorStateChanges`), in
   * one transaction, only while the run holds its lease: all of it or nothing. Throws `lease_lost`,
   * and `invalid_input` for a cursor over 64 KB (as jsonb) or state over the limits.
   */
  commitCheckpoint(syncRunId: string, cursor: JsonValue, state?: ConnectorStateChanges): Promise<void>;
  /** Ends the run and updates the connector's last-sync fields. Throws `lease_lost`. */
  finishSync(syncRunId: string, input: FinishSyncInput): Promise<SyncRunRecord>;
  getSyncRun(syncRunId: string): Promise<SyncRunRecord | undefined>;
  /**
   * Operator take-over: ends the connector's running run as `cancelled` so a new run can start at
   * once. Returns the released run, or undefined when none was running. A worker that is in fact
   * still alive loses its lease at its next heartbeat or checkpoint and stops; what it committed
   * stays. Service role only.
   */
  releaseSync(connectorId: string, reason?: string): Promise<ReleasedSyncRun | undefined>;

  // connector state (committed with checkpoints)
  /** Stored values of up to 1000 keys of a namespace; missing keys are absent from the map. */
  getState(connectorId: string, namespace: string, keys: readonly string[]): Promise<Map<string, JsonValue>>;
  /** One page of a namespace in byte order of key, after `options.after` (keyset pagination). */
  listState(
    connectorId: string,
    namespace: string,
    options?: ListStateOptions,
  ): Promise<ConnectorStateEntry[]>;

  // documents
  getDocumentVersions(
    connectorId: string,
    externalIds: readonly string[],
  ): Promise<Map<string, DocumentVersion>>;
  upsertDocuments(connectorId: string, documents: readonly DocumentInput[]): Promise<UpsertDocumentResult[]>;
  markDocumentsSeen(connectorId: string, externalIds: readonly string[]): Promise<number>;
  /**
   * Marks documents a running full run listed again unchanged as seen by its listing, by id (the
   * `id` of `getDocumentVersions`), without updating the documents: `sweepUnseenDocuments` counts
   * them as listed, and so does the sweep of a full run that resumes this listing. Their
   * `last_seen_at`, `last_synced_at` and `sync_count` do not move (`markDocumentsSeen` moves them).
   * Returns how many distinct ids it stored: ids are not checked (checking cost 3-5x the write),
   * and one of another connector or of a deleted document never matches in the sweep. An
   * incremental run stores nothing and returns 0. Throws `lease_lost` when the run no longer holds
   * its lease and `invalid_input` for an id that is not a UUID. Service role only.
   */
  markDocumentsSeenById(syncRunId: string, documentIds: readonly string[]): Promise<number>;
  softDeleteDocuments(connectorId: string, externalIds: readonly string[]): Promise<number>;
  sweepUnseenDocuments(syncRunId: string, maxFraction?: number): Promise<SweepResult>;
  setProcessingStatus(
    documentIds: readonly string[],
    status: ProcessingStatus,
    error?: string | null,
  ): Promise<number>;
  /**
   * Records documents that failed to load or extract (up to 1,000 per call, one round trip): a
   * live document whose earlier version completed keeps it (still searchable) with the error
   * beside it (`processing_error`, `metadata.lastFailure`); others are marked `failed`; unknown
   * ones are stored as failed placeholders. Never writes content. All are marked seen.
   */
  recordDocumentFailures(
    connectorId: string,
    failures: readonly DocumentFailureInput[],
  ): Promise<DocumentFailureResult[]>;

  // chunks
  /**
   * Replaces the chunks of several documents in one transaction (one round trip on every
   * transport): results in the order given. All or nothing.
   */
  replaceChunksBatch(batch: readonly ReplaceChunksEntry[]): Promise<ReplaceChunksResult[]>;
  replaceChunks(documentId: string, chunks: readonly ChunkInput[]): Promise<ReplaceChunksResult>;
  /** Stored vectors by chunk hash (one per distinct hash), for callers that need the numbers. */
  findReusableEmbeddings(
    orgId: string,
    embeddingModel: string,
    contentHashes: readonly string[],
  ): Promise<Map<string, number[]>>;
  /**
   * The hashes (of those given) with a stored vector of that model in the organisation, without
   * the vectors: write those chunks with `reuseEmbedding: true` and the database copies them.
   */
  findReusableEmbeddingHashes(
    orgId: string,
    embeddingModel: string,
    contentHashes: readonly string[],
  ): Promise<Set<string>>;

  // duplicates (dedup layer 5)
  /**
   * Stores MinHash signatures and links up to 1,000 stored documents to their duplicate group:
   * exact copies of content stored in the organisation (from any connector) first, else near
   * duplicates over the threshold. An exact copy of a completed document takes its chunks and
   * embeddings and is marked completed (`chunksReused`). Service role.
   */
  linkDuplicates(input: LinkDuplicatesInput): Promise<DuplicateLink[]>;
  /** Duplicate groups of an organisation (or one document's group), canonical first, as far as the actor may read. */
  listDuplicates(input: ListDuplicatesInput): Promise<DuplicateMember[]>;

  // webhook events
  recordWebhookEvent(input: WebhookEventInput): Promise<RecordWebhookEventResult>;
  completeWebhookEvent(webhookEventId: string, error?: string | null): Promise<void>;

  // search
  search(input: SearchInput): Promise<SearchResult[]>;
}
