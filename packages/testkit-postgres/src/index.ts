export type { PgliteDatabaseOptions } from './pglite-database.js';
export { createPgliteDatabase } from './pglite-database.js';
export type { PostgresServer, PostgresServerOptions } from './postgres-server.js';
export { findPgvectorBinDir, PgvectorServerMissingError, startPostgresServer } from './postgres-server.js';
export type { PostgrestServer, PostgrestServerOptions } from './postgrest-server.js';
export { httpStatusForSqlState, startPostgrestServer } from './postgrest-server.js';
export type { StorageApiOptions } from './storage-api.js';
