import type { SupabaseClient } from '@supabase/supabase-js';
import { mapSqlError } from './sql-upload-batch-store.js';
import { UploadBatchError } from './upload-batch-error.js';
import {
  encodeOutcome,
  isFailedOutcome,
  mapBatchRow,
  type UploadBatchRecord,
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
 * PostgREST runs each request in its own transaction, so a file's per-file entry and its count
 * are two requests (entry first: a crash in between leaves an entry without its count, never a
 * count without its entry). Entries of one batch are written one at a time by the process that
 * runs the batch.
 */
export function createSupabaseUploadBatchStore(
  client: SupabaseClient,
  options: SupabaseUploadBatchStoreOptions = {},
): UploadBatchStore {
  const locks = new Map<string, Promise<unknown>>();
  const connectors = new Map<string, Promise<string>>();

  const unwrap = <T>(result: PostgrestResult<T>): T => {
    if (result.error)
      throw mapSqlError(Object.assign(new Error(result.error.message), { code: result.error.code }));
    return result.data as T;
  };

  const serialised = <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    const previous = locks.get(key) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(fn);
    locks.set(key, next);
    void next.finally(() => {
      if (locks.get(key) === next) locks.delete(key);
    });
    return next;
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
        cancelBatch: forward('cancelBatch'),
      } as UploadBatchStore;
    },

    ensureUploadConnector(orgId) {
      let pending = connectors.get(orgId);
      if (!pending) {
        pending = (async () => {
          const found = unwrap(
            (await client
              .from('connector_configs')
              .select('id')
              .eq('org_id', orgId)
              .eq('connector_type', 'upload')
              .order('created_at', { ascending: true })
              .limit(1)) as PostgrestResult<{ id: string }[]>,
          );
          if (found[0]) return found[0].id;
          const created = unwrap(
            (await client
              .from('connector_configs')
              .insert({ org_id: orgId, connector_type: 'upload', name: 'Uploads' })
              .select('id')
              .single()) as PostgrestResult<{ id: string }>,
          );
          return created.id;
        })();
        connectors.set(orgId, pending);
        pending.catch(() => connectors.delete(orgId));
      }
      return pending;
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

    recordFile(batchId, index, outcome) {
      return serialised(batchId, async (): Promise<UploadBatchRecord | undefined> => {
        const current = unwrap(
          (await client
            .from('file_upload_batches')
            .select('metadata, status')
            .eq('id', batchId)
            .maybeSingle()) as PostgrestResult<{
            metadata: Record<string, unknown>;
            status: string;
          } | null>,
        );
        if (current && (current.status === 'uploading' || current.status === 'processing')) {
          const metadata = { ...(current.metadata ?? {}) };
          const files = { ...((metadata.files as Record<string, unknown> | undefined) ?? {}) };
          files[String(index)] = encodeOutcome(outcome);
          let update = await client
            .from('file_upload_batches')
            .update({ metadata: { ...metadata, files } })
            .eq('id', batchId)
            .in('status', ['uploading', 'processing']);
          if (update.error?.code === '23514') {
            files[String(index)] = encodeOutcome(outcome, true);
            update = await client
              .from('file_upload_batches')
              .update({ metadata: { ...metadata, files } })
              .eq('id', batchId)
              .in('status', ['uploading', 'processing']);
          }
          // Not even the status fits in the row's 64 KB of metadata: count the file without its entry.
          // A user client has no UPDATE policy: zero rows, no error; the RPC below says why.
          if (update.error && update.error.code !== '23514') unwrap(update as PostgrestResult<unknown>);
        }
        const fn = isFailedOutcome(outcome) ? 'increment_batch_failed' : 'increment_batch_processed';
        const result = (await client.rpc(fn, { batch_id_param: batchId })) as PostgrestResult<
          Record<string, unknown>
        >;
        if (result.error?.code === '55000') return undefined;
        const row = unwrap(result);
        return mapBatchRow(Array.isArray(row) ? (row[0] as Record<string, unknown>) : row);
      });
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
  };
  return store;
}
