import type { JsonObject } from '../../spec/v1/json-value.js';
import type {
  ConnectorRecord,
  KnowledgeRepository,
  ProcessingStatus,
  SyncFrequency,
} from '../knowledge-repository.js';

// The public types of the in-memory repository (exported through `@tributary/core/testing`).

export type MembershipRole = 'owner' | 'admin' | 'member';

export interface MemoryRepositoryOptions {
  /** Milliseconds since the epoch; default `Date.now`. Tests pass their own to expire leases. */
  now?: (() => number) | undefined;
  /**
   * Size of every stored embedding, as a database fixes it with 0010_vector_models; reported by
   * `vectorSettings()`. Default: not fixed (any size, `dimensions: null`).
   */
  vectorDimensions?: number | undefined;
}

export interface AddConnectorInput {
  orgId: string;
  id?: string | undefined;
  connectorType?: string | undefined;
  name?: string | undefined;
  isActive?: boolean | undefined;
  syncFrequency?: SyncFrequency | undefined;
  settings?: JsonObject | undefined;
}

/**
 * The in-memory adapter, plus the set-up a test needs (what a host does with SQL or its admin UI
 * against Postgres).
 */
export interface MemoryKnowledgeRepository extends KnowledgeRepository {
  addConnector(input: AddConnectorInput): ConnectorRecord;
  /** Makes `userId` a member of `orgId` (what `tributary_private.memberships` holds in Postgres). */
  addMembership(userId: string, orgId: string, role?: MembershipRole): void;
  /**
   * Every stored document of `connectorId` (soft-deleted ones included), ordered by external id:
   * what tests compare after a sync. Not part of `KnowledgeRepository`.
   */
  listDocuments(connectorId: string): MemoryDocumentSnapshot[];
}

/** A stored document as `listDocuments` reports it. */
export interface MemoryDocumentSnapshot {
  id: string;
  externalId: string;
  title: string | null;
  sourceVersion: string | null;
  contentHash: string | null;
  processingStatus: ProcessingStatus;
  processingError: string | null;
  isDeleted: boolean;
  chunkCount: number;
  /** Chunks stored for the document that carry an embedding. */
  embeddedChunks: number;
}
