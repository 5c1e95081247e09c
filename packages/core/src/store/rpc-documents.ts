// Documents: identity, versions, failures, seen marks, deletes and sweeps, one RPC each
// (0004_functions, 0014_document_functions, 0016_pipeline_failures_and_leases, 0023_listing_seen_marks).
import type {
  DocumentFailureInput,
  DocumentFailureResult,
  DocumentInput,
  DocumentVersion,
  KnowledgeRepository,
  ProcessingStatus,
  SweepResult,
  UpsertDocumentResult,
} from '../repository/knowledge-repository.js';
import { RepositoryError } from '../repository/repository-error.js';
import { type RpcTransport, rpcJson } from '../repository/rpc-transport.js';
import { documentJson, failureJson } from '../repository/schema-rows.js';
import {
  assertDocumentIds,
  assertDocuments,
  assertMaxFraction,
  invalidInput,
  slices,
} from '../repository/validate-input.js';
import { single } from './single-row.js';

/** The largest batch `upsert_documents` and `record_document_failures` accept per call. */
export const UPSERT_BATCH_SIZE = 1000;

/** Ids or hashes per lookup call (the SQL functions accept up to 5,000). */
export const LOOKUP_PAGE_SIZE = 5000;

const processingStatuses: readonly ProcessingStatus[] = ['pending', 'processing', 'completed', 'failed'];

export type DocumentMethods = Pick<
  KnowledgeRepository,
  | 'getDocumentVersions'
  | 'upsertDocuments'
  | 'markDocumentsSeen'
  | 'markDocumentsSeenById'
  | 'softDeleteDocuments'
  | 'sweepUnseenDocuments'
  | 'setProcessingStatus'
  | 'recordDocumentFailures'
>;

export function rpcDocuments(transport: RpcTransport): DocumentMethods {
  return {
    getDocumentVersions: async (connectorId: string, externalIds: readonly string[]) => {
      const versions = new Map<string, DocumentVersion>();
      // One call per 5,000 ids (a POST body over supabase-js, so no URL limit).
      for (const page of slices([...new Set(externalIds)], LOOKUP_PAGE_SIZE)) {
        const rows = await transport.rpc<{
          external_id: string;
          id: string;
          source_version: string | null;
          content_hash: string | null;
          is_deleted: boolean;
          processing_status: ProcessingStatus;
        }>('get_document_versions', { p_connector_id: connectorId, p_external_ids: page });
        for (const row of rows) {
          versions.set(row.external_id, {
            id: row.id,
            sourceVersion: row.source_version,
            contentHash: row.content_hash,
            isDeleted: row.is_deleted,
            processingStatus: row.processing_status,
          });
        }
      }
      return versions;
    },

    /**
     * Batches of 1,000 in one transaction over a SQL client (all or nothing). Over supabase-js each
     * batch is atomic and a retry of the whole call is safe: stored documents report `unchanged`.
     */
    upsertDocuments: async (connectorId: string, documents: readonly DocumentInput[]) => {
      assertDocuments(documents);
      const batches = slices(documents, UPSERT_BATCH_SIZE);
      const byExternalId = new Map<string, UpsertDocumentResult>();
      const upsertAll = async (on: RpcTransport) => {
        for (const batch of batches) {
          const rows = await on.rpc<{
            document_id: string;
            external_id: string;
            action: UpsertDocumentResult['action'];
            previous_content_hash: string | null;
          }>('upsert_documents', {
            p_connector_id: connectorId,
            p_documents: rpcJson(batch.map(documentJson)),
          });
          for (const row of rows) {
            byExternalId.set(row.external_id, {
              documentId: row.document_id,
              externalId: row.external_id,
              action: row.action,
              previousContentHash: row.previous_content_hash,
            });
          }
        }
      };
      if (batches.length > 1) await transport.atomic(upsertAll);
      else await upsertAll(transport);
      return documents.map((document) => {
        const result = byExternalId.get(document.externalId);
        if (!result) {
          throw new RepositoryError({
            reason: 'database',
            message: `upsert_documents returned no row for "${document.externalId}"`,
          });
        }
        return result;
      });
    },

    markDocumentsSeen: async (connectorId: string, externalIds: readonly string[]) => {
      if (externalIds.length === 0) return 0;
      return Number(
        await transport.rpcValue<number>('mark_documents_seen', {
          p_connector_id: connectorId,
          p_external_ids: [...externalIds],
        }),
      );
    },

    /** One array row per 5,000 ids (0023_listing_seen_marks); no document row is updated. */
    markDocumentsSeenById: async (syncRunId: string, documentIds: readonly string[]) => {
      assertDocumentIds(documentIds);
      let marked = 0;
      for (const page of slices([...new Set(documentIds)], LOOKUP_PAGE_SIZE)) {
        marked += Number(
          await transport.rpcValue<number>(
            'mark_documents_seen_by_id',
            { p_sync_log_id: syncRunId, p_document_ids: page },
            { leaseGuarded: true },
          ),
        );
      }
      return marked;
    },

    softDeleteDocuments: async (connectorId: string, externalIds: readonly string[]) => {
      if (externalIds.length === 0) return 0;
      return Number(
        await transport.rpcValue<number>('soft_delete_documents', {
          p_connector_id: connectorId,
          p_external_ids: [...externalIds],
        }),
      );
    },

    sweepUnseenDocuments: async (syncRunId: string, maxFraction = 0.5) => {
      assertMaxFraction(maxFraction);
      const rows = await transport.rpc<SweepResult>(
        'sweep_unseen_documents',
        { p_sync_log_id: syncRunId, p_max_fraction: maxFraction },
        { leaseGuarded: true },
      );
      const row = single(rows, 'sweep_unseen_documents');
      return {
        swept: Number(row.swept),
        unseen: Number(row.unseen),
        total: Number(row.total),
        refused: row.refused,
      };
    },

    setProcessingStatus: async (
      documentIds: readonly string[],
      status: ProcessingStatus,
      error?: string | null,
    ) => {
      if (!processingStatuses.includes(status)) {
        throw invalidInput(`status must be one of ${processingStatuses.join(', ')}, got ${String(status)}`);
      }
      if (documentIds.length === 0) return 0;
      return Number(
        await transport.rpcValue<number>('set_documents_processing_status', {
          p_document_ids: [...new Set(documentIds)],
          p_status: status,
          p_error: error ?? null,
        }),
      );
    },

    recordDocumentFailures: async (connectorId: string, failures: readonly DocumentFailureInput[]) => {
      const batches = slices(failures, UPSERT_BATCH_SIZE);
      const results: DocumentFailureResult[] = [];
      const recordAll = async (on: RpcTransport) => {
        for (const batch of batches) {
          const rows = await on.rpc<{ document_id: string; external_id: string; kept_previous: boolean }>(
            'record_document_failures',
            { p_connector_id: connectorId, p_documents: rpcJson(batch.map(failureJson)) },
          );
          for (const row of rows) {
            results.push({
              documentId: row.document_id,
              externalId: row.external_id,
              keptPrevious: row.kept_previous,
            });
          }
        }
      };
      if (batches.length > 1) await transport.atomic(recordAll);
      else await recordAll(transport);
      return results;
    },
  };
}
