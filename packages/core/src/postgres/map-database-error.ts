import { RepositoryError, type RepositoryErrorReason } from '../repository/repository-error.js';

interface DatabaseErrorLike {
  code?: unknown;
  message?: unknown;
  hint?: unknown;
}

/**
 * Turns a database error (node-postgres and PGlite both expose `code` = SQLSTATE) into a
 * `RepositoryError`. The sql package's RPCs use 22004/22023 bad input, P0002 not found, 42501 not
 * allowed, 55000 wrong state; inside lease-guarded calls 55000 means the lease was lost.
 */
export function mapDatabaseError(error: unknown, options: { leaseGuarded?: boolean } = {}): RepositoryError {
  if (RepositoryError.isInstance(error)) return error;
  const details = (typeof error === 'object' && error !== null ? error : {}) as DatabaseErrorLike;
  const sqlState = typeof details.code === 'string' ? details.code : undefined;
  const raw = typeof details.message === 'string' ? details.message : String(error);
  const message = raw.replace(/^\[tributary\]\s*/, '');
  const reason = reasonFor(sqlState, options);
  // A missing function, table or column: the database is behind this version of core. Postgres's
  // own hint for 42883 ("add explicit type casts") points the wrong way.
  const hint =
    reason === 'unavailable'
      ? missingSchemaHint
      : typeof details.hint === 'string'
        ? details.hint
        : undefined;
  return new RepositoryError({ reason, message, hint, sqlState, cause: error });
}

const missingSchemaHint =
  'This database lacks part of the schema this version of @tributary/core calls: apply the migrations bundled with the matching @tributary/sql (`npx tributary migrate`, `migrate(db)`, or `tributary migrate export` for the Supabase CLI). Search and embeddings also need the vector extension: their migrations wait until it is installed';

function reasonFor(sqlState: string | undefined, options: { leaseGuarded?: boolean }): RepositoryErrorReason {
  if (sqlState === undefined) return 'database';
  if (sqlState === 'P0002') return 'not_found';
  if (sqlState === '42501') return 'not_allowed';
  if (sqlState === '40001') return 'conflict';
  if (sqlState === '55000') return options.leaseGuarded ? 'lease_lost' : 'wrong_state';
  // Data exceptions (bad uuid text, wrong vector dimensions, ...) and constraint violations.
  if (sqlState.startsWith('22') || sqlState.startsWith('23')) return 'invalid_input';
  if (sqlState === '42883' || sqlState === '42P01' || sqlState === '42703') return 'unavailable';
  return 'database';
}
