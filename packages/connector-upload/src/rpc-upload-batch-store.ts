// The one UploadBatchStore: every method is a `@tributary/sql` function (0013_upload_batch_functions,
// 0019_repository_functions) called through core's RPC transport, so the SQL-client and supabase-js
// stores are the same code and nothing that must be atomic is done in TypeScript.
import { RepositoryError, type RpcTransport, rpcJson } from '@tributary/core';
import { mapSqlError } from './map-batch-error.js';
import { UploadBatchError } from './upload-batch-error.js';
import {
  encodeOutcome,
  isFailedOutcome,
  mapBatchRow,
  parseSettledBatch,
  type UploadBatchActor,
  type UploadBatchStatus,
  type UploadBatchStore,
} from './upload-batch-store.js';

type BatchRow = Record<string, unknown>;

/** The transport's `RepositoryError` as an `UploadBatchError`, by the SQLSTATE the function raised. */
function uploadError(error: unknown): unknown {
  if (!RepositoryError.isInstance(error)) return mapSqlError(error);
  const cause = error.cause as { message?: unknown } | undefined;
  const message = typeof cause?.message === 'string' ? cause.message : error.message;
  return mapSqlError(Object.assign(new Error(message), { code: error.sqlState, cause: error }));
}

export function createRpcUploadBatchStore(
  transport: RpcTransport,
  withActor: (actor: UploadBatchActor) => UploadBatchStore = (actor) =>
    createRpcUploadBatchStore(transport.withActor(actor)),
): UploadBatchStore {
  async function call<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw uploadError(error);
    }
  }
  const rows = (name: string, args: Parameters<RpcTransport['rpc']>[1]) =>
    call(() => transport.rpc<BatchRow>(name, args));

  const store: UploadBatchStore = {
    withActor,

    // One connector per organisation however many processes ask at once: see the SQL function.
    ensureUploadConnector: (orgId) =>
      call(() => transport.rpcValue<string>('ensure_upload_connector', { p_org_id: orgId })),

    async createBatch(input) {
      const [row] = await rows('create_upload_batch', {
        p_org_id: input.orgId,
        p_user_id: input.userId,
        p_connector_id: input.connectorId,
        p_batch_name: input.batchName ?? null,
        p_total_files: input.totalFiles,
        p_metadata: rpcJson(input.metadata ?? {}),
      });
      return mapBatchRow(row as BatchRow);
    },

    async attachConnector(batchId, connectorId) {
      const [row] = await rows('attach_upload_batch_connector', {
        p_batch_id: batchId,
        p_connector_id: connectorId,
      });
      return mapBatchRow(row as BatchRow);
    },

    async recordFile(batchId, index, outcome) {
      // Entry and count in one SQL function (compact or no entry when the row's 64 KB is full).
      try {
        const [row] = await rows('record_batch_file', {
          p_batch_id: batchId,
          p_file_index: index,
          p_entry: rpcJson(encodeOutcome(outcome)),
          p_failed: isFailedOutcome(outcome),
        });
        return mapBatchRow(row as BatchRow);
      } catch (error) {
        if (UploadBatchError.isInstance(error) && error.reason === 'ended') return undefined;
        throw error;
      }
    },

    async getBatch(batchId) {
      const [row] = await rows('get_upload_batch', { p_batch_id: batchId });
      return row ? mapBatchRow(row) : undefined;
    },

    getBatchStatus: (batchId) =>
      call(async () => {
        const status = await transport.rpcValue<string | null>('get_upload_batch_status', {
          p_batch_id: batchId,
        });
        return (status ?? undefined) as UploadBatchStatus | undefined;
      }),

    async cancelBatch(batchId) {
      const [row] = await rows('cancel_upload_batch', { p_batch_id: batchId });
      return row ? mapBatchRow(row) : undefined;
    },

    async findStaleBatches(query) {
      const found = await rows('find_stale_upload_batches', {
        p_updated_before: query.updatedBefore.toISOString(),
        p_org_id: query.orgId ?? null,
        p_limit: query.limit ?? 100,
      });
      return found.map((row) => mapBatchRow(row));
    },

    // Locked, counted and settled once in SQL (public.settle_interrupted_batch).
    settleInterruptedBatch: async (batchId, options) =>
      parseSettledBatch(
        await call(() =>
          transport.rpcValue<unknown>('settle_interrupted_batch', {
            p_batch_id: batchId,
            p_updated_before: options.updatedBefore.toISOString(),
            p_message: options.message,
          }),
        ),
      ),
  };
  return store;
}
