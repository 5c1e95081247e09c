import type { KnowledgeRepository, RepositoryActor } from '../repository/knowledge-repository.js';
import { createRpcRepository } from '../store/rpc-repository.js';
import type { SqlDatabase } from './sql-database.js';
import { createSqlTransport } from './sql-transport.js';

export { UPSERT_BATCH_SIZE } from '../store/rpc-documents.js';

export interface PostgresRepositoryOptions {
  /** Any SQL client adapted to `SqlDatabase` (`fromPg`/`fromPglite` of @tributary/sql fit too). */
  db: SqlDatabase;
  /**
   * Who the calls run as. Omitted: the connection's own role (typically a server connection that
   * bypasses RLS). Given: each call runs in a transaction with `role` and `request.jwt.claims` set
   * as PostgREST does, so row level security applies to `authenticated` users.
   */
  actor?: RepositoryActor | undefined;
}

/**
 * A `KnowledgeRepository` over the Tributary schema (`@tributary/sql` migrations) on any Postgres
 * client: PGlite, node-postgres, or anything adapted to `SqlDatabase`. Every method is one of the
 * schema's RPCs (`select * from public.fn(...)`), the same ones the supabase-js adapter calls.
 */
export function createPostgresRepository(options: PostgresRepositoryOptions): KnowledgeRepository {
  return createRpcRepository(createSqlTransport(options.db, options.actor));
}
