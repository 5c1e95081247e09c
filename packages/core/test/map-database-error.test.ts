// The SQLSTATEs the sql package's RPCs raise (its README's error table, 0012_input_guards included)
// map to the same RepositoryError reasons whether they come from node-postgres/PGlite or through
// PostgREST (supabase-js), with one `[tributary]` prefix and the hint kept.
import { describe, expect, it } from 'vitest';
import { mapDatabaseError } from '../src/postgres/map-database-error.js';
import { mapPostgrestError } from '../src/supabase.js';

const cases: [sqlState: string, leaseGuarded: boolean, reason: string][] = [
  ['22004', false, 'invalid_input'], // p_connector_id is null
  ['22023', false, 'invalid_input'], // worker id too long, a size or range rule broken
  ['22P02', false, 'invalid_input'], // bad uuid text
  ['23514', false, 'invalid_input'], // a table CHECK reached directly (not through an RPC)
  ['P0002', false, 'not_found'], // unknown connector, run, batch or event
  ['42501', false, 'not_allowed'],
  ['55000', false, 'wrong_state'],
  ['55000', true, 'lease_lost'],
  ['42883', false, 'unavailable'],
  // A stale write (put_connector_secrets with an old revision): retry after reading again.
  ['40001', false, 'conflict'],
];

describe('mapping the RPCs’ SQLSTATEs to RepositoryError reasons', () => {
  for (const [sqlState, leaseGuarded, reason] of cases) {
    it(`${sqlState}${leaseGuarded ? ' (lease-guarded)' : ''} is ${reason}, from Postgres and from PostgREST`, () => {
      const raised = {
        code: sqlState,
        message: '[tributary] connector 6f1c not found',
        hint: 'Check the id.',
        severity: 'ERROR',
      };
      const direct = mapDatabaseError(raised, { leaseGuarded });
      const viaPostgrest = mapPostgrestError(
        { code: sqlState, message: raised.message, hint: raised.hint, details: null },
        { leaseGuarded, status: 400 },
      );
      for (const error of [direct, viaPostgrest]) {
        expect(error).toMatchObject({ reason, sqlState });
        // One prefix (the RPC's own `[tributary]` is dropped), the message, then the hint; a
        // missing function says to apply the migrations instead of Postgres's cast advice.
        if (reason === 'unavailable') {
          expect(error.message).toMatch(
            /^\[tributary\] \[repository\] connector 6f1c not found\. This database lacks/,
          );
          expect(error.message).toContain('apply the migrations bundled with the matching @tributary/sql');
          expect(error.message).not.toContain('Check the id.');
        } else {
          expect(error.message).toBe('[tributary] [repository] connector 6f1c not found. Check the id.');
        }
        expect(error.isRetryable).toBe(reason === 'database');
      }
    });
  }
});
