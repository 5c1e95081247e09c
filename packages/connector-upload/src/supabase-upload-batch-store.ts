import type { SupabaseClient } from '@supabase/supabase-js';
import { mapSqlError } from './sql-upload-batch-store.js';
import { UploadBatchError } from './upload-batch-error.js';
import {
  encodeOutcome,
  isFailedOutcome,
  mapBatchRow,
  parseSettledBatch,
  type UploadBatchStatus,
  type UploadBatchStore,
} from './upload-batch-store.js';

export interface SupabaseUploadBatchStoreOptions {
  /** Builds a client carrying a user's access token (for `withActor({ role: 'authenticated' })`). */
  clientForUser?: ((userId: string) => SupabaseClient | Promise<SupabaseClient>) | undefined;
}

interface PostgrestResult<T> {
  data: T | null;
  error: { code?: string; message: string; details?: string | null; hint?: string | null } | null;
  status?: number;
}

/**
 * The batch store over supabase-js (the project's Data API): `file_upload_batches` through
 * PostgREST and the `increment_batch_processed/_failed` RPCs. Create it with the service role
 * client for the uploader; a client with a user's token is held to row level security.
 *
 * What must be atomic is one RPC each (`ensure_upload_connector`, `record_batch_file`,
 * `settle_interrupted_batch` of `@tributary/sql`): PostgREST runs each request in its own
 * transaction, so a file's entry and its count land together, and concurrent writers, in this
 * process or another, never lose each other's entries.
 */
export function createSupabaseUploadBatchStore(
  client: SupabaseClient,
  options: SupabaseUploadBatchStoreOptions = {},
): UploadBatchStore {
  const unwrap = <T>(result: PostgrestResult<T>): T => {
    if (result.error)
      throw mapSqlError(Object.assign(new Error(result.error.message), { code: result.error.code }));
    return result.data as T;
  };

  const store: UploadBatchStore = {
    withActor(actor) {
      if (actor.role === 'service_role') return store;
      const factory = options.clientForUser;
      if (!factory) {
        throw new UploadBatchError({
          reason: 'not_allowed',
          message: 'acting as a user needs a supabase-js client for that user',
          hint: 'Pass clientForUser to createSupabaseUploadBatchStore (a client with the anon key and the user access token)',
        });
      }
      const lazy = (async () => createSupabaseUploadBatchStore(await factory(actor.userId), options))();
      const forward =
        <K extends keyof UploadBatchStore>(name: K) =>
        // biome-ignore lint/suspicious/noExplicitAny: forwards any method's arguments
        async (...args: any[]) =>
          // biome-ignore lint/suspicious/noExplicitAny: forwards any method's arguments
          ((await lazy)[name] as (...a: any[]) => unknown)(...args);
      return {
        withActor: (next) => store.withActor(next),
        ensureUploadConnector: forward('ensureUploadConnector'),
        createBatch: forward('createBatch'),
        attachConnector: forward('attachConnector'),
        recordFile: forward('recordFile'),
        getBatch: forward('getBatch'),
        getBatchStatus: forward('getBatchStatus'),
        cancelBatch: forward('cancelBatch'),
        findStaleBatches: forward('findStaleBatches'),
        settleInterruptedBatch: forward('settleInterruptedBatch'),
      } as UploadBatchStore;
    },

    async ensureUploadConnector(orgId) {
      const id = unwrap(
        (await client.rpc('ensure_upload_connector', { p_org_id: orgId })) as PostgrestResult<string>,
      );
      return id;
    },

    async createBatch(input) {
      const row = unwrap(
        (await client
          .from('file_upload_batches')
          .insert({
            org_id: input.orgId,
            user_id: input.userId,
            connector_id: input.connectorId,
            batch_name: input.batchName ?? null,
            total_files: input.totalFiles,
            metadata: input.metadata ?? {},
          })
          .select('*')
          .single()) as PostgrestResult<Record<string, unknown>>,
      );
      return mapBatchRow(row);
    },

    async attachConnector(batchId, connectorId) {
      const row = unwrap(
        (await client
          .from('file_upload_batches')
          .update({ connector_id: connectorId })
          .eq('id', batchId)
          .select('*')
          .single()) as PostgrestResult<Record<string, unknown>>,
      );
      return mapBatchRow(row);
    },

    async recordFile(batchId, index, outcome) {
      const result = (await client.rpc('record_batch_file', {
        p_batch_id: batchId,
        p_file_index: index,
        p_entry: encodeOutcome(outcome),
        p_failed: isFailedOutcome(outcome),
      })) as PostgrestResult<Record<string, unknown> | Record<string, unknown>[]>;
      if (result.error?.code === '55000') return undefined;
      const row = unwrap(result);
      return mapBatchRow(Array.isArray(row) ? (row[0] as Record<string, unknown>) : row);
    },

    async getBatch(batchId) {
      const row = unwrap(
        (await client
          .from('file_upload_batches')
          .select('*')
          .eq('id', batchId)
          .maybeSingle()) as PostgrestResult<Record<string, unknown> | null>,
      );
      return row ? mapBatchRow(row) : undefined;
    },

    async getBatchStatus(batchId) {
      const row = unwrap(
        (await client
          .from('file_upload_batches')
          .select('status')
          .eq('id', batchId)
          .maybeSingle()) as PostgrestResult<{ status: UploadBatchStatus } | null>,
      );
      return row?.status;
    },

    async cancelBatch(batchId) {
      const rows = unwrap(
        (await client
          .from('file_upload_batches')
          .update({ status: 'cancelled', completed_at: new Date().toISOString() })
          .eq('id', batchId)
          .in('status', ['uploading', 'processing'])
          .select('*')) as PostgrestResult<Record<string, unknown>[]>,
      );
      if (rows[0]) return mapBatchRow(rows[0]);
      return store.getBatch(batchId);
    },

    async findStaleBatches(query) {
      let request = client
        .from('file_upload_batches')
        .select('*')
        .in('status', ['uploading', 'processing'])
        .lt('updated_at', query.updatedBefore.toISOString());
      if (query.orgId) request = request.eq('org_id', query.orgId);
      const rows = unwrap(
        (await request.order('updated_at', { ascending: true }).limit(query.limit ?? 100)) as PostgrestResult<
          Record<string, unknown>[]
        >,
      );
      return rows.map((row) => mapBatchRow(row));
    },

    async settleInterruptedBatch(batchId, options) {
      const settled = unwrap(
        (await client.rpc('settle_interrupted_batch', {
          p_batch_id: batchId,
          p_updated_before: options.updatedBefore.toISOString(),
          p_message: options.message,
        })) as PostgrestResult<unknown>,
      );
      return parseSettledBatch(settled);
    },
  };
  return store;
}
