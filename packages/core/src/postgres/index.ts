export { mapDatabaseError } from './map-database-error.js';
export {
  createPostgresRepository,
  type PostgresRepositoryOptions,
  UPSERT_BATCH_SIZE,
} from './postgres-repository.js';
export {
  nodePostgresDatabase,
  type PgClientLike,
  type PgliteLike,
  type PgliteTransactionLike,
  type PgPoolLike,
  pgliteDatabase,
  type SqlDatabase,
  type SqlQueryable,
} from './sql-database.js';
export { actorClaims, createSqlTransport } from './sql-transport.js';
