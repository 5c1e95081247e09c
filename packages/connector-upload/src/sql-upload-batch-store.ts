import type { SqlDatabase, SqlQueryable } from '@tributary/core';
import { UploadBatchError } from './upload-batch-error.js';
import {
  type CreateBatchRecordInput,
  encodeOutcome,
  isFailedOutcome,
  mapBatchRow,
  parseSettledBatch,
  type UploadBatchActor,
  type UploadBatchStatus,
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
      // One connector per organisation however many processes ask at once: see the SQL function.
      return run(async (tx) => {
        const { rows } = await tx.query<{ id: string }>('select public.ensure_upload_connector($1) as id', [
          orgId,
        ]);
        return (rows[0] as { id: string }).id;
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
      // Entry and count in one SQL function (compact or no entry when the row's 64 KB is full).
      try {
        return await run(async (tx) => {
          const { rows } = await tx.query<Record<string, unknown>>(
            'select * from public.record_batch_file($1, $2, $3::jsonb, $4)',
            [batchId, index, JSON.stringify(encodeOutcome(outcome)), isFailedOutcome(outcome)],
          );
          return mapBatchRow(rows[0] as Record<string, unknown>);
        });
      } catch (error) {
        if (UploadBatchError.isInstance(error) && error.reason === 'ended') return undefined;
        throw error;
      }
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

    async getBatchStatus(batchId) {
      return run(async (tx) => {
        const { rows } = await tx.query<{ status: UploadBatchStatus }>(
          'select status from public.file_upload_batches where id = $1',
          [batchId],
        );
        return rows[0]?.status;
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
      // Locked, counted and settled once in SQL (public.settle_interrupted_batch).
      return run(async (tx) => {
        const { rows } = await tx.query<{ settled: unknown }>(
          'select public.settle_interrupted_batch($1, $2::timestamptz, $3) as settled',
          [batchId, options.updatedBefore.toISOString(), options.message],
        );
        return parseSettledBatch(rows[0]?.settled);
      });
    },
  };
  return store;
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
