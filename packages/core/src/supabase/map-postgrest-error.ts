import { mapDatabaseError } from '../postgres/map-database-error.js';
import { RepositoryError } from '../repository/repository-error.js';

/** The error supabase-js (postgrest-js) returns: PostgREST's JSON body `{ code, message, details, hint }`. */
export interface PostgrestErrorLike {
  code?: unknown;
  message?: unknown;
  details?: unknown;
  hint?: unknown;
}

const sqlStatePattern = /^[0-9A-Z]{5}$/;

/**
 * Turns a supabase-js error into a `RepositoryError`.
 * - A PostgreSQL error (PostgREST passes the SQLSTATE through as `code`) maps exactly like
 *   `mapDatabaseError`: 22xxx/23xxx `invalid_input`, P0002 `not_found`, 42501 `not_allowed`, 55000
 *   `wrong_state` (`lease_lost` in lease-guarded calls), 42883/42P01/42703 `unavailable`, else `database`.
 * - PostgREST's own codes: PGRST3xx (JWT missing, badly signed, expired) and any 401/403 are
 *   `not_allowed`; PGRST202/PGRST204/PGRST205 (function, column or table not in the schema cache) are
 *   `unavailable`; everything else is `database`.
 * - A request that never got an answer (status 0: DNS, refused connection, abort) is `database`,
 *   so it stays retryable.
 */
export function mapPostgrestError(
  error: unknown,
  options: { leaseGuarded?: boolean; status?: number | undefined } = {},
): RepositoryError {
  if (RepositoryError.isInstance(error)) return error;
  const details = (typeof error === 'object' && error !== null ? error : {}) as PostgrestErrorLike;
  const code = typeof details.code === 'string' ? details.code : '';
  const rawMessage = typeof details.message === 'string' ? details.message : String(error);
  const hint = typeof details.hint === 'string' && details.hint !== '' ? details.hint : undefined;
  const status = options.status;

  if (sqlStatePattern.test(code) && !code.startsWith('PGRST')) {
    return mapDatabaseError(error, { leaseGuarded: options.leaseGuarded ?? false });
  }
  if (code.startsWith('PGRST3') || status === 401) {
    return new RepositoryError({
      reason: 'not_allowed',
      message: `Supabase refused the credentials: ${rawMessage}${code ? ` (${code})` : ''}`,
      hint:
        hint ??
        'Check the key the supabase-js client was created with (a service role key for sync workers) or refresh the user access token',
      cause: error,
    });
  }
  if (code === 'PGRST202' || code === 'PGRST204' || code === 'PGRST205') {
    return new RepositoryError({
      reason: 'unavailable',
      message: `${rawMessage} (${code})`,
      hint:
        hint ??
        "Apply the @tributary/sql migrations to this project, then reload PostgREST's schema cache (notify pgrst, 'reload schema')",
      cause: error,
    });
  }
  if (status === 403) {
    return new RepositoryError({ reason: 'not_allowed', message: rawMessage, hint, cause: error });
  }
  if (status === 0) {
    return new RepositoryError({
      reason: 'database',
      message: `could not reach the Supabase API: ${rawMessage}`,
      hint: hint ?? 'Check the project URL and the network; the call may be retried',
      cause: error,
    });
  }
  return new RepositoryError({
    reason: 'database',
    message: `${rawMessage}${code ? ` (${code})` : ''}${status ? ` [HTTP ${status}]` : ''}`,
    hint,
    cause: error,
  });
}
