import { randomUUID } from 'node:crypto';
import type {
  DuplicateLink,
  DuplicateMember,
  LinkDuplicatesInput,
  ListDuplicatesInput,
} from '../dedup/duplicate-types.js';
import type { JsonObject, JsonValue } from '../spec/v1/json-value.js';
import type { StoredConnectorSecrets } from './connector-admin-repository.js';
import {
  assertCursorSize,
  assertGetStateKeys,
  assertNamespace,
  assertStateChanges,
  type ConnectorStateChanges,
  type ListStateOptions,
  stateListLimit,
} from './connector-state.js';
import type {
  ChunkInput,
  ConnectorRecord,
  DocumentFailureInput,
  DocumentFailureResult,
  DocumentInput,
  DocumentVersion,
  FinishSyncInput,
  HeartbeatInput,
  KnowledgeRepository,
  ListConnectorsFilter,
  ProcessingStatus,
  ReplaceChunksEntry,
  ReplaceChunksResult,
  RepositoryActor,
  SearchInput,
  SearchResult,
  StartSyncInput,
  SyncCounts,
  SyncFrequency,
  SyncRunRecord,
  UpsertDocumentResult,
  WebhookEventInput,
} from './knowledge-repository.js';
import { createMemoryConnectorAdmin } from './memory-connector-admin.js';
import { createMemoryStateStore, type MemoryStateStore } from './memory-state-store.js';
import { RepositoryError } from './repository-error.js';
import { liveProgress } from './schema-rows.js';
import {
  assertChunks,
  assertDocumentIds,
  assertDocuments,
  assertLeaseSeconds,
  assertMaxFraction,
  invalidInput,
  normalizeSearch,
} from './validate-input.js';

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

interface DocumentState {
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

interface ChunkState {
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

interface WebhookEventState {
  id: string;
  connectorId: string;
  processed: boolean;
  processingError: string | null;
  retryCount: number;
}

export interface State {
  clock: () => number;
  lastTick: number;
  connectors: Map<string, ConnectorRecord & { createdAt: number }>;
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
 * A `KnowledgeRepository` in JavaScript memory with the semantics of the Postgres adapter (upsert
 * actions by content hash, leases with expiry, one running sync per connector, webhook dedup per
 * connector, the sweep's coverage guard, org-scoped hybrid search fused by RRF with k = 60), for
 * unit tests of code that uses a repository. Search is a simple token match (every query word must
 * occur; no stemming, no stop words) plus cosine similarity.
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
  return {
    ...service,
    addConnector(input) {
      const id = input.id ?? randomUUID();
      const record: ConnectorRecord & { createdAt: number } = {
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

/**
 * Every event gets a distinct, increasing timestamp, as separate transactions do in Postgres
 * (the sweep compares "seen" times with the run's start strictly).
 */
export function tick(state: State): number {
  state.lastTick = Math.max(state.clock(), state.lastTick + 1);
  return state.lastTick;
}

export function publicConnector(record: ConnectorRecord & { createdAt: number }): ConnectorRecord {
  const { createdAt: _createdAt, ...connector } = record;
  return structuredClone(connector);
}

function notFound(message: string): RepositoryError {
  return new RepositoryError({ reason: 'not_found', message });
}

function buildRepository(state: State, actor: RepositoryActor | undefined): KnowledgeRepository {
  const userId = actor?.role === 'authenticated' ? actor.userId : undefined;

  /** Organisations the actor may read; undefined means every one (service). */
  const readableOrgs = (): Set<string> | undefined =>
    userId === undefined ? undefined : new Set(state.memberships.get(userId)?.keys() ?? []);
  const canRead = (orgId: string) => readableOrgs()?.has(orgId) ?? true;

  /** Writes are the server's: members get what Postgres gives them (42501, permission denied). */
  const assertWriter = (what: string) => {
    if (userId !== undefined) {
      throw new RepositoryError({
        reason: 'not_allowed',
        message: `permission denied: ${what} is for the server (service role), not for signed-in users`,
        sqlState: '42501',
      });
    }
  };

  const connectorOrThrow = (connectorId: string) => {
    const connector = state.connectors.get(connectorId);
    if (!connector) throw notFound(`connector ${connectorId} not found`);
    return connector;
  };

  /** The running run that still holds its lease, or an error saying why not. */
  const lockRunning = (syncRunId: string) => {
    const run = state.runs.get(syncRunId);
    if (!run) throw notFound(`sync run ${syncRunId} not found`);
    if (run.status !== 'running' || (run.leaseExpiresAt?.getTime() ?? 0) < tick(state)) {
      throw new RepositoryError({
        reason: 'lease_lost',
        message: `sync run ${syncRunId} lost its lease (status ${run.status})`,
        hint: 'Another worker may have taken over; stop this run without committing anything more',
        sqlState: '55000',
      });
    }
    return run;
  };

  const applyCounts = (run: SyncRunRecord, counts: SyncCounts) => {
    for (const key of [
      'documentsSynced',
      'documentsUpdated',
      'documentsSkipped',
      'documentsFailed',
      'documentsDeleted',
      'apiCallsMade',
      'bytesTransferred',
    ] as const) {
      const value = counts[key];
      if (value !== undefined) run[key] = value;
    }
  };

  const liveDocumentsOf = (connectorId: string) =>
    [...state.documents.values()].filter((d) => d.connectorId === connectorId && !d.isDeleted);

  const repository: KnowledgeRepository = {
    ...createMemoryConnectorAdmin(state, userId),
    storesEmbeddings: async () => true,
    vectorSettings: async () => ({
      type: 'vector',
      dimensions: state.vectorDimensions ?? null,
      distance: 'cosine',
    }),
    withActor: (next) => buildRepository(state, next),
    withUser: (next) => buildRepository(state, { role: 'authenticated', userId: next }),

    async getConnector(connectorId) {
      const connector = state.connectors.get(connectorId);
      return connector && canRead(connector.orgId) ? publicConnector(connector) : undefined;
    },

    async listConnectors(filter: ListConnectorsFilter = {}) {
      return [...state.connectors.values()]
        .filter(
          (c) =>
            canRead(c.orgId) &&
            (filter.orgId === undefined || c.orgId === filter.orgId) &&
            (filter.connectorType === undefined || c.connectorType === filter.connectorType) &&
            (filter.isActive === undefined || c.isActive === filter.isActive),
        )
        .sort(
          (a, b) => a.orgId.localeCompare(b.orgId) || a.createdAt - b.createdAt || a.id.localeCompare(b.id),
        )
        .map(publicConnector);
    },

    async startSync(input: StartSyncInput) {
      const leaseSeconds = input.leaseSeconds ?? 300;
      assertLeaseSeconds(leaseSeconds);
      // As start_connector_sync (0012): refused, not truncated.
      // Counted in code points, as Postgres's char_length does.
      const workerIdLength = input.workerId === undefined ? 0 : [...input.workerId].length;
      if (workerIdLength > 200) {
        throw invalidInput(`workerId is ${workerIdLength} characters long; at most 200 are allowed`);
      }
      assertWriter('startSync');
      const connector = connectorOrThrow(input.connectorId);
      if (!connector.isActive) {
        throw new RepositoryError({
          reason: 'wrong_state',
          message: `connector ${connector.id} is inactive`,
          hint: 'Set is_active = true on the connector to sync it again',
          sqlState: '55000',
        });
      }
      const now = tick(state);
      for (const run of state.runs.values()) {
        if (
          run.connectorId === connector.id &&
          run.status === 'running' &&
          (run.leaseExpiresAt?.getTime() ?? 0) < now
        ) {
          run.status = 'failed';
          run.completedAt = new Date(now);
          run.errorMessage = '[tributary] lease expired: the worker stopped heartbeating';
        }
      }
      const running = [...state.runs.values()].find(
        (r) => r.connectorId === connector.id && r.status === 'running',
      );
      const cursor = structuredClone(connector.syncCursor);
      if (running) {
        return {
          status: 'alreadyRunning',
          syncRunId: running.id,
          leaseExpiresAt: new Date(running.leaseExpiresAt?.getTime() ?? now),
          cursor,
        };
      }
      const id = randomUUID();
      const leaseExpiresAt = new Date(now + leaseSeconds * 1000);
      if ((input.syncMode ?? 'full') === 'full') {
        // After a full run that did not finish, this run continues its listing: what it listed
        // counts as seen (as 0008_resumable_listing does in Postgres).
        const previous = [...state.runs.values()]
          .filter((r) => r.connectorId === connector.id)
          .sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime())[0];
        const resumes =
          previous?.syncMode === 'full' && (previous.status === 'failed' || previous.status === 'cancelled');
        state.listingStarts.set(
          id,
          resumes ? (state.listingStarts.get(previous.id) ?? previous.startedAt.getTime()) : now,
        );
      }
      state.runs.set(id, {
        id,
        orgId: connector.orgId,
        connectorId: connector.id,
        syncType: input.syncType ?? 'manual',
        syncMode: input.syncMode ?? 'full',
        status: 'running',
        startedAt: new Date(now),
        completedAt: null,
        leaseExpiresAt,
        workerId: input.workerId ?? null,
        documentsSynced: 0,
        documentsUpdated: 0,
        documentsSkipped: 0,
        documentsFailed: 0,
        documentsDeleted: 0,
        apiCallsMade: 0,
        bytesTransferred: 0,
        errorMessage: null,
        progress: null,
      });
      connector.lastSyncStatus = 'running';
      return { status: 'started', syncRunId: id, leaseExpiresAt: new Date(leaseExpiresAt), cursor };
    },

    async heartbeat(syncRunId: string, input: HeartbeatInput = {}) {
      const leaseSeconds = input.leaseSeconds ?? 300;
      assertLeaseSeconds(leaseSeconds);
      assertWriter('heartbeat');
      const run = lockRunning(syncRunId);
      run.leaseExpiresAt = new Date(tick(state) + leaseSeconds * 1000);
      if (input.progress) applyCounts(run, input.progress);
      if (input.live) run.progress = liveProgress(structuredClone(input.live));
      return new Date(run.leaseExpiresAt);
    },

    async commitCheckpoint(syncRunId: string, cursor: JsonValue, changes?: ConnectorStateChanges) {
      assertWriter('commitCheckpoint');
      if (cursor === undefined) throw invalidInput('commitCheckpoint needs a cursor (any JSON value)');
      // Everything is checked before anything changes: the commit is all or nothing, as in SQL.
      assertCursorSize(cursor);
      if (changes) assertStateChanges(changes);
      const run = lockRunning(syncRunId);
      const connector = run.connectorId ? state.connectors.get(run.connectorId) : undefined;
      if (!connector) return;
      if (changes) state.connectorState.apply(connector.id, changes);
      connector.syncCursor = structuredClone(cursor);
    },

    async getState(connectorId: string, namespace: string, keys: readonly string[]) {
      assertNamespace(namespace);
      assertGetStateKeys(keys);
      const connector = state.connectors.get(connectorId);
      if (!connector || !canRead(connector.orgId)) return new Map<string, JsonValue>();
      return state.connectorState.get(connectorId, namespace, keys);
    },

    async listState(connectorId: string, namespace: string, options: ListStateOptions = {}) {
      assertNamespace(namespace);
      const limit = stateListLimit(options);
      const connector = state.connectors.get(connectorId);
      if (!connector || !canRead(connector.orgId)) return [];
      return state.connectorState.list(connectorId, namespace, options, limit);
    },

    async finishSync(syncRunId: string, input: FinishSyncInput) {
      assertWriter('finishSync');
      if (!['success', 'partial', 'failed', 'cancelled'].includes(input.status)) {
        throw invalidInput(
          `status must be success, partial, failed or cancelled, got ${String(input.status)}`,
        );
      }
      const run = lockRunning(syncRunId);
      const now = tick(state);
      run.status = input.status;
      run.completedAt = new Date(now);
      run.leaseExpiresAt = null;
      if (input.counts) applyCounts(run, input.counts);
      // As in SQL, finish merges its metadata over the stored one: a progress given wins.
      if (input.counts?.metadata && 'progress' in input.counts.metadata) {
        run.progress = liveProgress(structuredClone(input.counts.metadata.progress));
      }
      run.errorMessage = input.errorMessage?.slice(0, 4000) ?? null;
      const connector = run.connectorId ? state.connectors.get(run.connectorId) : undefined;
      if (connector) {
        connector.lastSyncAt = new Date(now);
        connector.lastSyncStatus = input.status;
        if (input.status === 'failed') connector.errorCount += 1;
        if (input.status === 'success') connector.errorCount = 0;
        if ((input.status === 'failed' || input.status === 'partial') && input.errorMessage) {
          connector.lastError = input.errorMessage.slice(0, 4000);
        }
        const hours = { manual: 0, hourly: 1, daily: 24, weekly: 168 }[connector.syncFrequency];
        connector.nextSyncAt = hours ? new Date(now + hours * 3_600_000) : null;
      }
      return publicRun(run);
    },

    async releaseSync(connectorId: string, reason?: string) {
      assertWriter('releaseSync');
      const connector = connectorOrThrow(connectorId);
      const now = tick(state);
      const running = [...state.runs.values()].find(
        (r) => r.connectorId === connector.id && r.status === 'running',
      );
      if (!running) return undefined;
      running.status = 'cancelled';
      running.completedAt = new Date(now);
      running.errorMessage =
        `[tributary] released by an operator (take-over)${reason ? `: ${reason}` : ''}; the next run resumes from the last committed checkpoint`.slice(
          0,
          4000,
        );
      return {
        syncRunId: running.id,
        leaseExpiresAt: running.leaseExpiresAt ? new Date(running.leaseExpiresAt.getTime()) : null,
        workerId: running.workerId,
        wasExpired: (running.leaseExpiresAt?.getTime() ?? 0) < now,
      };
    },

    async recordDocumentFailures(connectorId: string, failures: readonly DocumentFailureInput[]) {
      assertWriter('recordDocumentFailures');
      const connector = connectorOrThrow(connectorId);
      if (new Set(failures.map((f) => f.externalId)).size !== failures.length) {
        throw invalidInput('external_id values must be unique within one call');
      }
      const now = tick(state);
      return failures.map((failure): DocumentFailureResult => {
        const error = failure.error.slice(0, 4000);
        const lastFailure = { error, at: new Date(now).toISOString() };
        const key = documentKey(connectorId, failure.externalId);
        const existingId = state.documentIds.get(key);
        const existing = existingId ? state.documents.get(existingId) : undefined;
        if (existing) {
          const kept = existing.processingStatus === 'completed' && !existing.isDeleted;
          existing.processingStatus = kept ? 'completed' : 'failed';
          existing.processingError = error;
          existing.metadata = { ...existing.metadata, lastFailure };
          existing.lastSeenAt = now;
          return { documentId: existing.id, externalId: failure.externalId, keptPrevious: kept };
        }
        const id = randomUUID();
        state.documentIds.set(key, id);
        state.documents.set(id, {
          id,
          orgId: connector.orgId,
          connectorId,
          externalId: failure.externalId,
          title: failure.title ?? null,
          externalUrl: failure.externalUrl ?? null,
          sourceVersion: null,
          contentHash: null,
          storagePath: null,
          metadata: { ...structuredClone(failure.metadata ?? {}), lastFailure },
          mimeType: failure.mimeType ?? null,
          sourceMetadata: structuredClone(failure.sourceMetadata ?? {}),
          uploadedBy: null,
          processingStatus: 'failed',
          processingError: error,
          chunksGenerated: false,
          embeddingsGenerated: false,
          chunkCount: 0,
          syncCount: 1,
          lastSeenAt: now,
          isDeleted: false,
          deletedAt: null,
        });
        return { documentId: id, externalId: failure.externalId, keptPrevious: false };
      });
    },

    async getSyncRun(syncRunId: string) {
      const run = state.runs.get(syncRunId);
      return run && canRead(run.orgId) ? publicRun(run) : undefined;
    },

    async getDocumentVersions(connectorId: string, externalIds: readonly string[]) {
      const versions = new Map<string, DocumentVersion>();
      if (externalIds.length === 0) return versions;
      const connector = state.connectors.get(connectorId);
      // As get_document_versions: an unknown (or invisible) connector is an error, not an empty answer.
      if (!connector || !canRead(connector.orgId)) throw notFound(`connector ${connectorId} not found`);
      for (const externalId of externalIds) {
        const id = state.documentIds.get(documentKey(connectorId, externalId));
        const document = id ? state.documents.get(id) : undefined;
        if (!document) continue;
        versions.set(externalId, {
          id: document.id,
          sourceVersion: document.sourceVersion,
          contentHash: document.contentHash,
          isDeleted: document.isDeleted,
          processingStatus: document.processingStatus,
        });
      }
      return versions;
    },

    async upsertDocuments(connectorId: string, documents: readonly DocumentInput[]) {
      assertDocuments(documents);
      assertWriter('upsertDocuments');
      const connector = connectorOrThrow(connectorId);
      const now = tick(state);
      return documents.map((input): UpsertDocumentResult => {
        const key = documentKey(connectorId, input.externalId);
        const existingId = state.documentIds.get(key);
        const existing = existingId ? state.documents.get(existingId) : undefined;
        const contentHash = input.contentHash ?? null;
        if (!existing) {
          const id = randomUUID();
          state.documentIds.set(key, id);
          state.documents.set(id, {
            id,
            orgId: connector.orgId,
            connectorId,
            externalId: input.externalId,
            title: input.title ?? null,
            externalUrl: input.externalUrl ?? null,
            sourceVersion: input.sourceVersion ?? null,
            contentHash,
            storagePath: input.storagePath ?? null,
            metadata: structuredClone(input.metadata ?? {}),
            mimeType: input.mimeType ?? null,
            sourceMetadata: structuredClone(input.sourceMetadata ?? {}),
            uploadedBy: input.uploadedBy ?? null,
            processingStatus: input.processingStatus ?? 'pending',
            processingError: null,
            chunksGenerated: false,
            embeddingsGenerated: false,
            chunkCount: 0,
            syncCount: 1,
            lastSeenAt: now,
            isDeleted: false,
            deletedAt: null,
          });
          return {
            documentId: id,
            externalId: input.externalId,
            action: 'inserted',
            previousContentHash: null,
          };
        }
        const previousContentHash = existing.contentHash;
        // Same rule as upsert_documents: NULL hashes never compare equal.
        const unchanged =
          previousContentHash !== null && previousContentHash === contentHash && !existing.isDeleted;
        Object.assign(existing, {
          title: input.title ?? null,
          externalUrl: input.externalUrl ?? null,
          sourceVersion: input.sourceVersion ?? null,
          contentHash,
          storagePath: input.storagePath ?? existing.storagePath,
          metadata: { ...existing.metadata, ...structuredClone(input.metadata ?? {}) },
          mimeType: input.mimeType ?? null,
          sourceMetadata: structuredClone(input.sourceMetadata ?? {}),
          uploadedBy: existing.uploadedBy ?? input.uploadedBy ?? null,
          processingStatus: unchanged ? existing.processingStatus : (input.processingStatus ?? 'pending'),
          processingError: unchanged ? existing.processingError : null,
          chunksGenerated: existing.chunksGenerated && unchanged,
          embeddingsGenerated: existing.embeddingsGenerated && unchanged,
          syncCount: existing.syncCount + 1,
          lastSeenAt: now,
          isDeleted: false,
          deletedAt: null,
        });
        return {
          documentId: existing.id,
          externalId: input.externalId,
          action: unchanged ? 'unchanged' : 'updated',
          previousContentHash,
        };
      });
    },

    async markDocumentsSeen(connectorId: string, externalIds: readonly string[]) {
      assertWriter('markDocumentsSeen');
      // An unknown connector is an error, not a count of 0 (as mark_documents_seen since 0012).
      connectorOrThrow(connectorId);
      const now = tick(state);
      let count = 0;
      for (const externalId of new Set(externalIds)) {
        const id = state.documentIds.get(documentKey(connectorId, externalId));
        const document = id ? state.documents.get(id) : undefined;
        if (!document || document.isDeleted) continue;
        document.lastSeenAt = now;
        document.syncCount += 1;
        count += 1;
      }
      return count;
    },

    async markDocumentsSeenById(syncRunId: string, documentIds: readonly string[]) {
      assertDocumentIds(documentIds);
      assertWriter('markDocumentsSeenById');
      if (documentIds.length === 0) return 0;
      const run = lockRunning(syncRunId);
      const listingStart = state.listingStarts.get(run.id);
      // As 0023_listing_seen_marks: only full listings are swept, so only they keep marks.
      if (run.syncMode !== 'full' || listingStart === undefined || !run.connectorId) return 0;
      const connectorId = run.connectorId;
      connectorOrThrow(connectorId);
      // Stored unchecked, as in SQL: the sweep only reads marks for the connector's live documents.
      const distinct = new Set(documentIds);
      const marks = state.seenMarks.get(connectorId) ?? new Map<number, Set<string>>();
      const ids = marks.get(listingStart) ?? new Set<string>();
      for (const id of distinct) ids.add(id);
      marks.set(listingStart, ids);
      state.seenMarks.set(connectorId, marks);
      return distinct.size;
    },

    async softDeleteDocuments(connectorId: string, externalIds: readonly string[]) {
      assertWriter('softDeleteDocuments');
      connectorOrThrow(connectorId);
      const now = tick(state);
      let count = 0;
      for (const externalId of new Set(externalIds)) {
        const id = state.documentIds.get(documentKey(connectorId, externalId));
        const document = id ? state.documents.get(id) : undefined;
        if (!document || document.isDeleted) continue;
        document.isDeleted = true;
        document.deletedAt = now;
        count += 1;
      }
      return count;
    },

    async sweepUnseenDocuments(syncRunId: string, maxFraction = 0.5) {
      assertMaxFraction(maxFraction);
      assertWriter('sweepUnseenDocuments');
      const run = lockRunning(syncRunId);
      const live = run.connectorId ? liveDocumentsOf(run.connectorId) : [];
      const seenSince = state.listingStarts.get(run.id) ?? run.startedAt.getTime();
      const marks = run.connectorId ? state.seenMarks.get(run.connectorId) : undefined;
      const marked = marks?.get(seenSince);
      const unseen = live.filter((d) => d.lastSeenAt < seenSince && !marked?.has(d.id));
      if (live.length > 0 && unseen.length > maxFraction * live.length) {
        return { swept: 0, unseen: unseen.length, total: live.length, refused: true };
      }
      const now = tick(state);
      for (const document of unseen) {
        document.isDeleted = true;
        document.deletedAt = now;
      }
      // Older listings are over; this listing's marks stay until the next completed sweep.
      for (const listingStart of [...(marks?.keys() ?? [])]) {
        if (listingStart < seenSince) marks?.delete(listingStart);
      }
      return { swept: unseen.length, unseen: unseen.length, total: live.length, refused: false };
    },

    async setProcessingStatus(
      documentIds: readonly string[],
      status: ProcessingStatus,
      error?: string | null,
    ) {
      if (!['pending', 'processing', 'completed', 'failed'].includes(status)) {
        throw invalidInput(
          `status must be one of pending, processing, completed, failed, got ${String(status)}`,
        );
      }
      assertWriter('setProcessingStatus');
      let count = 0;
      for (const id of new Set(documentIds)) {
        const document = state.documents.get(id);
        if (!document) continue;
        document.processingStatus = status;
        document.processingError = error?.slice(0, 4000) ?? null;
        if (status === 'completed' && 'lastFailure' in document.metadata) {
          const { lastFailure: _cleared, ...rest } = document.metadata;
          document.metadata = rest;
        }
        count += 1;
      }
      return count;
    },

    async replaceChunks(documentId: string, chunks: readonly ChunkInput[]) {
      assertChunks(chunks);
      assertWriter('replaceChunks');
      const document = state.documents.get(documentId);
      if (!document) throw notFound(`document ${documentId} not found`);
      const previous = state.chunks.get(documentId) ?? new Map<number, ChunkState>();
      const next = new Map<number, ChunkState>();
      const now = tick(state);
      for (const chunk of chunks) {
        const kept = previous.get(chunk.index);
        next.set(chunk.index, {
          id: kept?.id ?? randomUUID(),
          orgId: document.orgId,
          documentId,
          index: chunk.index,
          context: chunk.context ?? null,
          content: chunk.content,
          contentHash: chunk.contentHash,
          embedding: chunk.embedding == null ? null : [...chunk.embedding],
          embeddingModel: chunk.embedding == null ? null : (chunk.embeddingModel ?? null),
          createdAt: kept?.createdAt ?? now,
        });
      }
      const removed = [...previous.keys()].filter((index) => !next.has(index)).length;
      state.chunks.set(documentId, next);
      const embeddingsGenerated = chunks.every((chunk) => chunk.embedding != null);
      document.chunkCount = chunks.length;
      document.chunksGenerated = true;
      document.embeddingsGenerated = embeddingsGenerated;
      return { chunkCount: chunks.length, removed, embeddingsGenerated };
    },

    async replaceChunksBatch(batch: readonly ReplaceChunksEntry[]) {
      // All or nothing, like the SQL function: everything is checked before anything changes.
      assertWriter('replaceChunks');
      for (const entry of batch) {
        assertChunks(entry.chunks);
        if (!state.documents.has(entry.documentId)) throw notFound(`document ${entry.documentId} not found`);
      }
      const results: ReplaceChunksResult[] = [];
      for (const entry of batch) results.push(await repository.replaceChunks(entry.documentId, entry.chunks));
      return results;
    },

    async findReusableEmbeddings(orgId: string, embeddingModel: string, contentHashes: readonly string[]) {
      const wanted = new Set(contentHashes);
      const found = new Map<string, number[]>();
      if (!canRead(orgId)) return found;
      for (const chunks of state.chunks.values()) {
        for (const chunk of chunks.values()) {
          if (
            chunk.orgId === orgId &&
            chunk.embeddingModel === embeddingModel &&
            chunk.embedding !== null &&
            wanted.has(chunk.contentHash)
          ) {
            found.set(chunk.contentHash, [...chunk.embedding]);
          }
        }
      }
      return found;
    },

    // Duplicate detection lives in SQL (0020); this adapter for unit tests links nothing, so the
    // pipeline indexes every document itself here.
    async linkDuplicates(input: LinkDuplicatesInput): Promise<DuplicateLink[]> {
      assertWriter('linkDuplicates');
      for (const entry of input.documents) {
        if (!state.documents.has(entry.documentId)) throw notFound(`document ${entry.documentId} not found`);
      }
      return input.documents.map((entry) => ({
        documentId: entry.documentId,
        duplicateOf: null,
        kind: null,
        similarity: null,
        chunksReused: false,
      }));
    },

    async listDuplicates(_input: ListDuplicatesInput): Promise<DuplicateMember[]> {
      return [];
    },

    async recordWebhookEvent(input: WebhookEventInput) {
      assertWriter('recordWebhookEvent');
      if (!input.eventSource || !input.eventId || !input.eventType || input.payload === undefined) {
        throw invalidInput('eventSource, eventId, eventType and payload are required');
      }
      connectorOrThrow(input.connectorId);
      const key = `${input.connectorId}\u0000${input.eventSource}\u0000${input.eventId}`;
      const existingId = state.webhookEventIds.get(key);
      const existing = existingId ? state.webhookEvents.get(existingId) : undefined;
      if (existing) return { id: existing.id, isNew: false, processed: existing.processed };
      const id = randomUUID();
      state.webhookEventIds.set(key, id);
      state.webhookEvents.set(id, {
        id,
        connectorId: input.connectorId,
        processed: false,
        processingError: null,
        retryCount: 0,
      });
      return { id, isNew: true, processed: false };
    },

    async completeWebhookEvent(webhookEventId: string, error?: string | null) {
      assertWriter('completeWebhookEvent');
      const event = state.webhookEvents.get(webhookEventId);
      if (!event) throw notFound(`webhook event ${webhookEventId} not found`);
      event.processed = error == null;
      event.processingError = error?.slice(0, 4000) ?? null;
      if (error != null) event.retryCount = Math.min(event.retryCount + 1, 1000);
    },

    async search(input: SearchInput): Promise<SearchResult[]> {
      const search = normalizeSearch(input);
      if (!canRead(input.orgId)) {
        throw new RepositoryError({
          reason: 'not_allowed',
          message: `not a member of organisation ${input.orgId}`,
          sqlState: '42501',
        });
      }
      const connectorIds = input.connectorIds ? new Set(input.connectorIds) : undefined;
      const candidates: Array<{ chunk: ChunkState; document: DocumentState }> = [];
      for (const [documentId, chunks] of state.chunks) {
        const document = state.documents.get(documentId);
        if (
          !document ||
          document.orgId !== input.orgId ||
          document.isDeleted ||
          document.processingStatus !== 'completed' ||
          (connectorIds && !connectorIds.has(document.connectorId)) ||
          (input.mimeTypes && !input.mimeTypes.includes(document.mimeType ?? '')) ||
          (input.metadata && !containsJson(document.sourceMetadata, input.metadata))
        ) {
          continue;
        }
        for (const chunk of chunks.values()) candidates.push({ chunk, document });
      }
      const candidateCount = Math.min(search.limit * 4, 400);
      const byId = (a: { chunk: ChunkState }, b: { chunk: ChunkState }) =>
        a.chunk.id.localeCompare(b.chunk.id);

      const queryTokens = search.queryText ? [...new Set(tokenize(search.queryText))] : [];
      // Any query word matches, as in SQL (0015). A stand-in for BM25: rank by how many distinct
      // query words the chunk covers, then how often they occur; the score is the share of the
      // chunk's words that are query words. No stemming, stop words or statistics.
      const fullText = new Map<string, { rank: number; score: number }>();
      if (queryTokens.length > 0) {
        const scored = candidates
          .map((candidate) => {
            const tokens = tokenize(`${candidate.chunk.context ?? ''} ${candidate.chunk.content}`);
            const covered = queryTokens.filter((token) => tokens.includes(token)).length;
            const hits = tokens.filter((token) => queryTokens.includes(token)).length;
            return { ...candidate, covered, hits, score: hits / Math.max(tokens.length, 1) };
          })
          .filter((candidate) => candidate.covered > 0)
          .sort((a, b) => b.covered - a.covered || b.hits - a.hits || byId(a, b))
          .slice(0, candidateCount)
          .filter((candidate) => candidate.score >= search.minFullTextScore);
        for (const [position, candidate] of scored.entries()) {
          fullText.set(candidate.chunk.id, { rank: position + 1, score: candidate.score });
        }
      }

      const semantic = new Map<string, { rank: number; similarity: number }>();
      if (search.queryEmbedding) {
        const query = search.queryEmbedding;
        if (state.vectorDimensions !== undefined && query.length !== state.vectorDimensions) {
          throw invalidInput(
            `queryEmbedding has ${query.length} dimensions; this repository stores ${state.vectorDimensions}`,
          );
        }
        const scored = candidates
          .filter(
            (candidate) =>
              candidate.chunk.embedding !== null && candidate.chunk.embeddingModel === search.embeddingModel,
          )
          .map((candidate) => ({ ...candidate, similarity: cosine(candidate.chunk.embedding ?? [], query) }))
          .sort((a, b) => b.similarity - a.similarity || byId(a, b))
          .slice(0, candidateCount)
          .filter((candidate) => candidate.similarity >= search.matchThreshold);
        for (const [position, candidate] of scored.entries()) {
          semantic.set(candidate.chunk.id, { rank: position + 1, similarity: candidate.similarity });
        }
      }

      const k = search.rrfK;
      return candidates
        .filter(({ chunk }) => fullText.has(chunk.id) || semantic.has(chunk.id))
        .map(({ chunk, document }): SearchResult => {
          const fullTextHit = fullText.get(chunk.id);
          const semanticHit = semantic.get(chunk.id);
          const fullTextContribution = fullTextHit ? search.fullTextWeight / (k + fullTextHit.rank) : 0;
          const semanticContribution = semanticHit ? search.semanticWeight / (k + semanticHit.rank) : 0;
          return {
            chunkId: chunk.id,
            documentId: document.id,
            connectorId: document.connectorId,
            title: document.title,
            externalUrl: document.externalUrl,
            mimeType: document.mimeType,
            chunkIndex: chunk.index,
            snippet:
              queryTokens.length > 0 ? highlight(chunk.content, queryTokens) : chunk.content.slice(0, 240),
            content: chunk.content,
            sourceMetadata: structuredClone(document.sourceMetadata),
            score: fullTextContribution + semanticContribution,
            fullTextRank: fullTextHit?.rank ?? null,
            fullTextScore: fullTextHit?.score ?? null,
            fullTextContribution,
            semanticRank: semanticHit?.rank ?? null,
            similarity: semanticHit?.similarity ?? null,
            semanticContribution,
            semanticStrategy: search.queryEmbedding ? 'exact' : null,
          };
        })
        .sort((a, b) => b.score - a.score || a.chunkId.localeCompare(b.chunkId))
        .slice(0, search.limit);
    },
  };
  return repository;
}

function documentKey(connectorId: string, externalId: string): string {
  return `${connectorId}\u0000${externalId}`;
}

function publicRun(run: SyncRunRecord): SyncRunRecord {
  return structuredClone(run);
}

/** jsonb `@>` for plain JSON values: objects by key, arrays by element, scalars by value. */
function containsJson(container: JsonValue | undefined, wanted: JsonValue): boolean {
  if (Array.isArray(wanted)) {
    return (
      Array.isArray(container) && wanted.every((item) => container.some((has) => containsJson(has, item)))
    );
  }
  if (wanted !== null && typeof wanted === 'object') {
    if (container === null || typeof container !== 'object' || Array.isArray(container)) return false;
    return Object.entries(wanted).every(
      ([key, value]) => value !== undefined && containsJson(container[key], value),
    );
  }
  return container === wanted;
}

function tokenize(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

function cosine(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) {
    throw invalidInput(`queryEmbedding has ${b.length} dimensions, stored embeddings have ${a.length}`);
  }
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (let i = 0; i < a.length; i += 1) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    dot += x * y;
    normA += x * x;
    normB += y * y;
  }
  return normA === 0 || normB === 0 ? 0 : dot / Math.sqrt(normA * normB);
}

/** Marks query words with `**` in the first 240 characters, like the SQL snippet's StartSel/StopSel. */
function highlight(content: string, tokens: readonly string[]): string {
  return content
    .slice(0, 240)
    .replace(/[\p{L}\p{N}]+/gu, (word) => (tokens.includes(word.toLowerCase()) ? `**${word}**` : word));
}
