import { createSqlTransport, type SqlDatabase } from '@tributary/core';
import { createRpcUploadBatchStore } from './rpc-upload-batch-store.js';
import type { UploadBatchActor, UploadBatchStore } from './upload-batch-store.js';

export interface SqlUploadBatchStoreOptions {
  /** Default: the connection's own role (a server connection). */
  actor?: UploadBatchActor | undefined;
}

/**
 * The batch store over any SQL client adapted to `{ query, transaction }` (`fromPg` / `fromPglite`
 * of `@tributary/sql`, the same handle core's Postgres repository takes).
 */
export function createSqlUploadBatchStore(
  db: SqlDatabase,
  options: SqlUploadBatchStoreOptions = {},
): UploadBatchStore {
  return createRpcUploadBatchStore(createSqlTransport(db, options.actor));
}
