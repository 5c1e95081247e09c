import type { SqlDatabase, SqlQueryable } from '@tributary/core';
import { UploadBatchError } from './upload-batch-error.js';
import {
  type CreateBatchRecordInput,
  encodeOutcome,
  isFailedOutcome,
  mapBatchRow,
  outcomeOfUploadDocument,
  type RecordedFileOutcome,
  type UncountedUploadDocument,
  type UploadBatchActor,
  type UploadBatchStore,
} from './upload-batch-store.js';

export interface SqlUploadBatchStoreOptions {
  /** Default: the connection's own role (a server connection). */
  actor?: UploadBatchActor | undefined;
}

/**
 * The batch store over any SQL client adapted to `{ query, exec, transaction }` (`fromPg` /
 * `fromPglite` of `@tributary/sql`, the same handle core's Postgres repository takes).
 */
export function createSqlUploadBatchStore(
  db: SqlDatabase,
  options: SqlUploadBatchStoreOptions = {},
): UploadBatchStore {
  const actor = options.actor;
  // Batches whose metadata row is full (this process has seen it refuse a status-only entry).
  const fullBatches = new Set<string>();

  async function run<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T> {
    try {
      return await db.transaction(async (tx) => {
        if (actor) {
          const claims =
            actor.role === 'authenticated'
              ? { sub: actor.userId, role: 'authenticated' }
              : { role: 'service_role' };
          await tx.query(`select set_config('role', $1, true), set_config('request.jwt.claims', $2, true)`, [
            actor.role,
            JSON.stringify(claims),
          ]);
        }
        return await fn(tx);
      });
    } catch (error) {
      throw mapSqlError(error);
    }
  }

  const store: UploadBatchStore = {
    withActor(next) {
      return createSqlUploadBatchStore(db, { actor: next });
    },

    async ensureUploadConnector(orgId) {
      return run(async (tx) => {
        // One upload connector per organisation; the advisory lock keeps two first uploads from
        // creating two.
        await tx.query(`select pg_advisory_xact_lock(hashtext('tributary.upload-connector:' || $1))`, [
          orgId,
        ]);
        const found = await tx.query<{ id: string }>(
          `select id from public.connector_configs where org_id = $1 and connector_type = 'upload'
           order by created_at limit 1`,
          [orgId],
        );
        if (found.rows[0]) return found.rows[0].id;
        const created = await tx.query<{ id: string }>(
          `insert into public.connector_configs (org_id, connector_type, name) values ($1, 'upload', 'Uploads')
           returning id`,
          [orgId],
        );
        return (created.rows[0] as { id: string }).id;
      });
    },

    async createBatch(input: CreateBatchRecordInput) {
      return run(async (tx) => {
        const { rows } = await tx.query<Record<string, unknown>>(
          `insert into public.file_upload_batches (org_id, user_id, connector_id, batch_name, total_files, metadata)
           values ($1, $2, $3, $4, $5, $6::jsonb) returning *`,
          [
            input.orgId,
            input.userId,
            input.connectorId,
            input.batchName ?? null,
            input.totalFiles,
            JSON.stringify(input.metadata ?? {}),
          ],
        );
        return mapBatchRow(rows[0] as Record<string, unknown>);
      });
    },

    async attachConnector(batchId, connectorId) {
      return run(async (tx) => {
        const { rows } = await tx.query<Record<string, unknown>>(
          'update public.file_upload_batches set connector_id = $2 where id = $1 returning *',
          [batchId, connectorId],
        );
        if (!rows[0]) {
          throw new UploadBatchError({
            reason: 'not_found',
            message: `upload batch ${batchId} not found`,
            hint: 'Check the batch id',
          });
        }
        return mapBatchRow(rows[0]);
      });
    },

    async recordFile(batchId, index, outcome) {
      // The row's metadata is capped at 64 KB: entries shrink to the status alone when the full
      // one does not fit, and a file is still counted when not even that fits (a very large batch).
      const attempt = (entry: 'full' | 'compact' | 'none') =>
        run(async (tx) => {
          if (entry !== 'none') {
            await tx.query(
              `update public.file_upload_batches
               set metadata = jsonb_set(metadata, '{files}',
                 coalesce(metadata -> 'files', '{}'::jsonb) || jsonb_build_object($2::text, $3::jsonb))
               where id = $1 and status in ('uploading', 'processing')`,
              [batchId, String(index), JSON.stringify(encodeOutcome(outcome, entry === 'compact'))],
            );
          }
          const fn = isFailedOutcome(outcome) ? 'increment_batch_failed' : 'increment_batch_processed';
          const { rows } = await tx.query<Record<string, unknown>>(`select * from public.${fn}($1)`, [
            batchId,
          ]);
          return mapBatchRow(rows[0] as Record<string, unknown>);
        });
      const entries = fullBatches.has(batchId) ? (['none'] as const) : (['full', 'compact', 'none'] as const);
      for (const entry of entries) {
        try {
          return await attempt(entry);
        } catch (error) {
          if (UploadBatchError.isInstance(error) && error.reason === 'ended') return undefined;
          if (entry === 'none' || !isCheckViolation(error)) throw error;
          // Not even a status-only entry fits: later files of this batch skip the attempts.
          if (entry === 'compact') fullBatches.add(batchId);
        }
      }
      return undefined;
    },

    async getBatch(batchId) {
      return run(async (tx) => {
        const { rows } = await tx.query<Record<string, unknown>>(
          'select * from public.file_upload_batches where id = $1',
          [batchId],
        );
        return rows[0] ? mapBatchRow(rows[0]) : undefined;
      });
    },

    async cancelBatch(batchId) {
      return run(async (tx) => {
        const { rows } = await tx.query<Record<string, unknown>>(
          `update public.file_upload_batches set status = 'cancelled', completed_at = now()
           where id = $1 and status in ('uploading', 'processing') returning *`,
          [batchId],
        );
        if (rows[0]) return mapBatchRow(rows[0]);
        const current = await tx.query<Record<string, unknown>>(
          'select * from public.file_upload_batches where id = $1',
          [batchId],
        );
        return current.rows[0] ? mapBatchRow(current.rows[0]) : undefined;
      });
    },

    async findStaleBatches(query) {
      return run(async (tx) => {
        const { rows } = await tx.query<Record<string, unknown>>(
          `select * from public.file_upload_batches
           where status in ('uploading', 'processing') and updated_at < $1::timestamptz
             and ($2::uuid is null or org_id = $2::uuid)
           order by updated_at limit $3`,
          [query.updatedBefore.toISOString(), query.orgId ?? null, query.limit ?? 100],
        );
        return rows.map((row) => mapBatchRow(row));
      });
    },

    async settleInterruptedBatch(batchId, options) {
      return run(async (tx) => {
        // The row lock serialises recoverers: a second one waits here, then re-checks the WHERE
        // clause against the committed row (now ended, or updated since) and finds nothing.
        // A live uploader's recordFile waits on the same lock, and any file it counts moves
        // updated_at past the threshold, so a batch still making progress is never settled.
        // (Later in @tributary/sql: one settle_interrupted_batch function doing the same.)
        const locked = await tx.query<Record<string, unknown>>(
          `select * from public.file_upload_batches
           where id = $1 and status in ('uploading', 'processing') and updated_at < $2::timestamptz
           for update`,
          [batchId, options.updatedBefore.toISOString()],
        );
        if (!locked.rows[0]) return undefined;
        const batch = mapBatchRow(locked.rows[0]);
        const remaining = batch.totalFiles - batch.processedFiles;
        const missing: number[] = [];
        for (let index = 0; index < batch.totalFiles; index += 1) {
          if (!batch.files.has(index)) missing.push(index);
        }
        // Files that became documents of this batch but were never counted (the process died
        // between the document and the count).
        const documents = new Map<number, UncountedUploadDocument>();
        if (batch.connectorId) {
          const found = await tx.query<{
            id: string;
            title: string | null;
            file_index: string;
            processing_status: string;
            kind: string;
            transcription: string | null;
          }>(
            `select id, title, upload ->> 'fileIndex' as file_index, processing_status, upload ->> 'kind' as kind,
               metadata -> 'transcription' ->> 'status' as transcription
             from (select d.*, coalesce(d.metadata -> 'upload', d.source_metadata -> 'upload') as upload
                   from public.imported_documents d
                   where d.org_id = $1 and d.connector_id = $2 and not d.is_deleted) docs
             where upload ->> 'batchId' = $3::text`,
            [batch.orgId, batch.connectorId, batchId],
          );
          for (const row of found.rows) {
            documents.set(Number(row.file_index), {
              id: row.id,
              name: row.title ?? undefined,
              status: row.processing_status,
              kind: row.kind ?? undefined,
              transcription: row.transcription ?? undefined,
            });
          }
          // Documents whose indexing the dead process never finished: failed, so uploading the
          // same bytes again imports them again instead of linking to a document with no chunks.
          await tx.query(
            `update public.imported_documents set processing_status = 'failed', processing_error = $4
             where org_id = $1 and connector_id = $2 and not is_deleted and processing_status = 'processing'
               and coalesce(metadata -> 'upload', source_metadata -> 'upload') ->> 'batchId' = $3::text`,
            [batch.orgId, batch.connectorId, batchId, options.message],
          );
        }
        const interrupted = (index: number): RecordedFileOutcome => ({
          status: 'failed',
          documentId: documents.get(index)?.id,
          name: documents.get(index)?.name,
          message: options.message,
        });
        let outcomes: { index: number; outcome: RecordedFileOutcome }[];
        if (missing.length === remaining) {
          outcomes = missing.map((index) => ({
            index,
            outcome:
              (documents.has(index)
                ? outcomeOfUploadDocument(documents.get(index) as UncountedUploadDocument)
                : undefined) ?? interrupted(index),
          }));
        } else {
          // Some files were counted without an entry (the row's metadata was full): which files
          // are unaccounted for is unknown, so the rest are counted failed without entries.
          outcomes = Array.from({ length: Math.max(remaining, 0) }, () => ({
            index: -1,
            outcome: interrupted(-1),
          }));
        }
        const withEntries = outcomes.filter((item) => item.index >= 0);
        if (withEntries.length > 0 && !fullBatches.has(batchId)) {
          for (const compact of [false, true]) {
            const entries: Record<string, unknown> = {};
            for (const { index, outcome } of withEntries)
              entries[String(index)] = encodeOutcome(outcome, compact);
            await tx.query('savepoint tributary_entries');
            try {
              await tx.query(
                `update public.file_upload_batches
                 set metadata = jsonb_set(metadata, '{files}', coalesce(metadata -> 'files', '{}'::jsonb) || $2::jsonb)
                 where id = $1`,
                [batchId, JSON.stringify(entries)],
              );
              await tx.query('release savepoint tributary_entries');
              break;
            } catch (error) {
              await tx.query('rollback to savepoint tributary_entries');
              if ((error as { code?: string })?.code !== '23514') throw error;
            }
          }
        }
        let record = batch;
        let interruptedFiles = 0;
        for (const { outcome } of outcomes) {
          const fn = isFailedOutcome(outcome) ? 'increment_batch_failed' : 'increment_batch_processed';
          const { rows } = await tx.query<Record<string, unknown>>(`select * from public.${fn}($1)`, [
            batchId,
          ]);
          record = mapBatchRow(rows[0] as Record<string, unknown>);
          if (isFailedOutcome(outcome)) interruptedFiles += 1;
        }
        return { record, interruptedFiles, recoveredFiles: outcomes.length - interruptedFiles };
      });
    },
  };
  return store;
}

function isCheckViolation(error: unknown): boolean {
  const cause = UploadBatchError.isInstance(error)
    ? (error.cause as { code?: string } | undefined)
    : undefined;
  return cause?.code === '23514';
}

/** SQLSTATEs of the batch RPCs (see `@tributary/sql` 0004_functions) as `UploadBatchError`s. */
export function mapSqlError(error: unknown): unknown {
  if (UploadBatchError.isInstance(error)) return error;
  const code = (error as { code?: unknown })?.code;
  const message = error instanceof Error ? error.message.replace(/^\[tributary\]\s*/, '') : String(error);
  if (code === '42501') {
    return new UploadBatchError({
      reason: 'not_allowed',
      message: `not allowed: ${message}`,
      hint: 'A user may only create batches in an organisation they belong to, and only the server records progress; use a server connection (service role) for the uploader',
      cause: error,
    });
  }
  if (code === 'P0002') {
    return new UploadBatchError({
      reason: 'not_found',
      message,
      hint: 'Check the batch id; batches of another organisation are not visible',
      cause: error,
    });
  }
  if (code === '55000') {
    return new UploadBatchError({
      reason: 'ended',
      message,
      hint: 'The batch has ended; start a new batch for more files',
      cause: error,
    });
  }
  if (typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'))) {
    return new UploadBatchError({
      reason: 'invalid_input',
      message: `the database refused the batch data: ${message}`,
      hint: 'Check the ids (UUIDs) and the number of files (1 to 100,000)',
      cause: error,
    });
  }
  return new UploadBatchError({
    reason: 'database',
    message: `batch storage failed: ${message}`,
    hint: 'Check the database connection and that the @tributary/sql migrations are applied, then retry',
    cause: error,
  });
}
