import { randomUUID } from 'node:crypto';
import type {
  DocumentFailureInput,
  DocumentFailureResult,
  DocumentInput,
  DocumentVersion,
  KnowledgeRepository,
  ProcessingStatus,
  UpsertDocumentResult,
} from '../knowledge-repository.js';
import { assertDocuments, invalidInput } from '../validate-input.js';
import type { MemoryAccess } from './access.js';
import { documentKey, notFound, tick } from './state.js';

// Documents: upserts by content hash, recorded failures, stored versions and processing status.

export function memoryDocuments(
  access: MemoryAccess,
): Pick<
  KnowledgeRepository,
  'recordDocumentFailures' | 'getDocumentVersions' | 'upsertDocuments' | 'setProcessingStatus'
> {
  const { state, canRead, assertWriter, connectorOrThrow } = access;
  return {
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
  };
}
