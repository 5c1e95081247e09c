import type { JsonObject } from '../../spec/v1/json-value.js';
import type { StoredConnectorSecrets } from '../connector-admin-repository.js';
import type { ConnectorRecord, ProcessingStatus, SyncRunRecord } from '../knowledge-repository.js';
import type { MemoryStateStore } from '../memory-state-store.js';
import { RepositoryError } from '../repository-error.js';
import type { MembershipRole } from './types.js';

// What the in-memory repository holds (one `State` per `createMemoryRepository()`, shared by every
// actor's view of it) and the small helpers every part of it uses.

export interface DocumentState {
  id: string;
  orgId: string;
  connectorId: string;
  externalId: string;
  title: string | null;
  externalUrl: string | null;
  sourceVersion: string | null;
  contentHash: string | null;
  storagePath: string | null;
  metadata: JsonObject;
  mimeType: string | null;
  sourceMetadata: JsonObject;
  uploadedBy: string | null;
  processingStatus: ProcessingStatus;
  processingError: string | null;
  chunksGenerated: boolean;
  embeddingsGenerated: boolean;
  chunkCount: number;
  syncCount: number;
  lastSeenAt: number;
  isDeleted: boolean;
  deletedAt: number | null;
}

export interface ChunkState {
  id: string;
  orgId: string;
  documentId: string;
  index: number;
  context: string | null;
  content: string;
  contentHash: string;
  embedding: number[] | null;
  embeddingModel: string | null;
  createdAt: number;
}

/** A connector as stored: its record plus when it was added (the order `listConnectors` keeps). */
export type StoredConnector = ConnectorRecord & { createdAt: number };

export interface WebhookEventState {
  id: string;
  connectorId: string;
  processed: boolean;
  processingError: string | null;
  retryCount: number;
}

export interface State {
  clock: () => number;
  lastTick: number;
  connectors: Map<string, StoredConnector>;
  memberships: Map<string, Map<string, MembershipRole>>;
  runs: Map<string, SyncRunRecord>;
  /** Full runs: when the listing the run completes began (see `sweepUnseenDocuments`). */
  listingStarts: Map<string, number>;
  /** Ids marked seen by a listing (`markDocumentsSeenById`): connector -> listing start -> ids. */
  seenMarks: Map<string, Map<number, Set<string>>>;
  documents: Map<string, DocumentState>;
  documentIds: Map<string, string>;
  chunks: Map<string, Map<number, ChunkState>>;
  webhookEvents: Map<string, WebhookEventState>;
  webhookEventIds: Map<string, string>;
  connectorState: MemoryStateStore;
  secrets: Map<string, StoredConnectorSecrets>;
  vectorDimensions: number | undefined;
}

/**
 * Every event gets a distinct, increasing timestamp, as separate transactions do in Postgres
 * (the sweep compares "seen" times with the run's start strictly).
 */
export function tick(state: State): number {
  state.lastTick = Math.max(state.clock(), state.lastTick + 1);
  return state.lastTick;
}

export function publicConnector(record: StoredConnector): ConnectorRecord {
  const { createdAt: _createdAt, ...connector } = record;
  return structuredClone(connector);
}

export function notFound(message: string): RepositoryError {
  return new RepositoryError({ reason: 'not_found', message });
}

export function documentKey(connectorId: string, externalId: string): string {
  return `${connectorId}\u0000${externalId}`;
}

export function publicRun(run: SyncRunRecord): SyncRunRecord {
  return structuredClone(run);
}
