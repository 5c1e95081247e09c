// `@tributary/core/pglite`: the Postgres repository on an embedded PGlite database. PGlite is an
// optional peer dependency; this entry only uses its shape, the host passes its own instance.

import { createPostgresRepository } from './postgres/postgres-repository.js';
import { type PgliteLike, pgliteDatabase } from './postgres/sql-database.js';
import type { KnowledgeRepository, RepositoryActor } from './repository/knowledge-repository.js';

export interface PgliteRepositoryOptions {
  /** Who calls run as; omitted: PGlite's own superuser (no row level security). */
  actor?: RepositoryActor | undefined;
}

/**
 * A `KnowledgeRepository` over a PGlite instance that has the `@tributary/sql` migrations applied
 * (create it with the pgvector extension: `PGlite.create({ extensions: { vector } })`).
 */
export function createPgliteRepository(
  pglite: PgliteLike,
  options: PgliteRepositoryOptions = {},
): KnowledgeRepository {
  return createPostgresRepository({ db: pgliteDatabase(pglite), actor: options.actor });
}

export { createPostgresGroupMembershipStore } from './postgres/postgres-group-memberships.js';
export { createPostgresRepository, type PostgresRepositoryOptions } from './postgres/postgres-repository.js';
export {
  type PgliteLike,
  type PgliteTransactionLike,
  pgliteDatabase,
  type SqlDatabase,
  type SqlQueryable,
} from './postgres/sql-database.js';
