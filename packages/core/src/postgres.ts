// `@tributary/core/postgres`: the Postgres repository on node-postgres (`pg`). `pg` is an optional
// peer dependency; this entry only uses its shape, the host passes its own Pool or Client.

import { createPostgresRepository } from './postgres/postgres-repository.js';
import { nodePostgresDatabase, type PgClientLike, type PgPoolLike } from './postgres/sql-database.js';
import type { KnowledgeRepository, RepositoryActor } from './repository/knowledge-repository.js';

export interface NodePostgresRepositoryOptions {
  /**
   * Who calls run as; omitted: the connection's own role. Use a server connection (service role or
   * the table owner) for sync workers, and `repository.withUser(id)` for calls on a user's behalf.
   */
  actor?: RepositoryActor | undefined;
}

/**
 * A `KnowledgeRepository` over a node-postgres `Pool` (recommended: each call takes a connection
 * for its transaction) or a single `Client` (do not share it between concurrent callers).
 */
export function createNodePostgresRepository(
  poolOrClient: PgPoolLike | PgClientLike,
  options: NodePostgresRepositoryOptions = {},
): KnowledgeRepository {
  return createPostgresRepository({ db: nodePostgresDatabase(poolOrClient), actor: options.actor });
}

export { createPostgresGroupMembershipStore } from './postgres/postgres-group-memberships.js';
export { createPostgresRepository, type PostgresRepositoryOptions } from './postgres/postgres-repository.js';
export {
  nodePostgresDatabase,
  type PgClientLike,
  type PgPoolLike,
  type SqlDatabase,
  type SqlQueryable,
} from './postgres/sql-database.js';
