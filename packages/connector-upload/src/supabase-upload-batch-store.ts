import type { SupabaseClient } from '@supabase/supabase-js';
import { mapSqlError } from './sql-upload-batch-store.js';
import { UploadBatchError } from './upload-batch-error.js';
import {
  encodeOutcome,
  isFailedOutcome,
  mapBatchRow,
  outcomeOfUploadDocument,
  type RecordedFileOutcome,
  type UploadBatchRecord,
  type UploadBatchStore,
} from './upload-batch-store.js';

export interface SupabaseUploadBatchStoreOptions {
  /** Builds a client carrying a user's access token (for `withActor({ role: 'authenticated' })`). */
  clientForUser?: ((userId: string) => SupabaseClient | Promise<SupabaseClient>) | undefined;
}

interface DocumentMetadata {
  upload?: { batchId?: string; fileIndex?: number; kind?: string };
  transcription?: { status?: string };
}

interface DocumentRow {
  id: string;
  title: string | null;
  processing_status: string;
  metadata: DocumentMetadata | null;
  source_metadata: DocumentMetadata | null;
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
        findStaleBatches: forward('findStaleBatches'),
        settleInterruptedBatch: forward('settleInterruptedBatch'),
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
      const cutoff = options.updatedBefore.toISOString();
      const row = unwrap(
        (await client
          .from('file_upload_batches')
          .select('*')
          .eq('id', batchId)
          .in('status', ['uploading', 'processing'])
          .lt('updated_at', cutoff)
          .maybeSingle()) as PostgrestResult<Record<string, unknown> | null>,
      );
      if (!row) return undefined;
      const batch = mapBatchRow(row);
      const remaining = batch.totalFiles - batch.processedFiles;
      const missing: number[] = [];
      for (let index = 0; index < batch.totalFiles; index += 1)
        if (!batch.files.has(index)) missing.push(index);
      // This batch's documents (written since it started; filtered here by metadata.upload.batchId).
      const documents = new Map<
        number,
        { id: string; title: string | null; status: string; metadata: DocumentMetadata }
      >();
      if (batch.connectorId) {
        const found = unwrap(
          (await client
            .from('imported_documents')
            .select('id, title, processing_status, metadata, source_metadata')
            .eq('org_id', batch.orgId)
            .eq('connector_id', batch.connectorId)
            .eq('is_deleted', false)
            .gte('updated_at', batch.createdAt.toISOString())) as PostgrestResult<DocumentRow[]>,
        );
        for (const document of found) {
          const upload = document.metadata?.upload ?? document.source_metadata?.upload;
          if (!upload || upload.batchId !== batchId) continue;
          documents.set(Number(upload.fileIndex), {
            id: document.id,
            title: document.title,
            status: document.processing_status,
            metadata: { ...(document.metadata ?? {}), upload },
          });
        }
      }
      const interrupted = (index: number): RecordedFileOutcome => ({
        status: 'failed',
        documentId: documents.get(index)?.id,
        name: documents.get(index)?.title ?? undefined,
        message: options.message,
      });
      const outcomes =
        missing.length === remaining
          ? missing.map((index) => {
              const document = documents.get(index);
              return {
                index,
                outcome:
                  (document &&
                    outcomeOfUploadDocument({
                      id: document.id,
                      name: document.title ?? undefined,
                      status: document.status,
                      kind: document.metadata.upload?.kind,
                      transcription: document.metadata.transcription?.status,
                    })) ??
                  interrupted(index),
              };
            })
          : Array.from({ length: Math.max(remaining, 0) }, () => ({ index: -1, outcome: interrupted(-1) }));
      // The claim: one conditional update that writes the entries and succeeds only while the row
      // is unfinished and still older than the threshold. It moves updated_at (the trigger), so a
      // second recoverer's claim matches no row; the counts below are this process's alone.
      const claim = async (compact: boolean | 'none') => {
        const metadata = { ...batch.metadata } as Record<string, unknown>;
        if (compact !== 'none') {
          const files = { ...((metadata.files as Record<string, unknown> | undefined) ?? {}) };
          for (const { index, outcome } of outcomes)
            if (index >= 0) files[String(index)] = encodeOutcome(outcome, compact);
          metadata.files = files;
        }
        return client
          .from('file_upload_batches')
          .update({ metadata })
          .eq('id', batchId)
          .in('status', ['uploading', 'processing'])
          .lt('updated_at', cutoff)
          .select('id');
      };
      let claimed: PostgrestResult<{ id: string }[]> | undefined;
      for (const compact of [false, true, 'none'] as const) {
        claimed = (await claim(compact)) as PostgrestResult<{ id: string }[]>;
        if (claimed.error?.code !== '23514') break;
      }
      if (unwrap(claimed as PostgrestResult<{ id: string }[]>).length === 0) return undefined;
      const unfinished = [...documents.values()].filter((document) => document.status === 'processing');
      if (unfinished.length > 0) {
        unwrap(
          (await client
            .from('imported_documents')
            .update({ processing_status: 'failed', processing_error: options.message })
            .in(
              'id',
              unfinished.map((document) => document.id),
            )
            .eq('processing_status', 'processing')) as PostgrestResult<unknown>,
        );
      }
      let record = batch;
      let interruptedFiles = 0;
      for (const { outcome } of outcomes) {
        const fn = isFailedOutcome(outcome) ? 'increment_batch_failed' : 'increment_batch_processed';
        const result = (await client.rpc(fn, { batch_id_param: batchId })) as PostgrestResult<
          Record<string, unknown>
        >;
        const counted = unwrap(result);
        record = mapBatchRow(Array.isArray(counted) ? (counted[0] as Record<string, unknown>) : counted);
        if (isFailedOutcome(outcome)) interruptedFiles += 1;
      }
      return { record, interruptedFiles, recoveredFiles: outcomes.length - interruptedFiles };
    },
  };
  return store;
}
