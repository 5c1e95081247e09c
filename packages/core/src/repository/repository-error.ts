import { hasErrorMarker, TributaryError } from '../errors/tributary-error.js';

const marker = Symbol.for('tributary.error.repository');

/**
 * Why a repository call failed, so callers can branch without parsing messages:
 * - `not_found`: the connector, document, run or event does not exist (or is not visible to the actor);
 * - `not_allowed`: the actor may not do this (a member writing, a user reading another organisation);
 * - `lease_lost`: the sync run no longer holds its lease (it expired or the run already finished);
 * - `wrong_state`: e.g. starting a sync on an inactive connector;
 * - `conflict`: a concurrent write got there first (SQLSTATE 40001); read again and retry;
 * - `invalid_input`: bad arguments (caught before anything is written);
 * - `unavailable`: the database lacks a feature (pgvector not installed, 0007_vector_search deferred);
 * - `database`: any other database error (see `cause`).
 */
export type RepositoryErrorReason =
  | 'not_found'
  | 'not_allowed'
  | 'lease_lost'
  | 'wrong_state'
  | 'conflict'
  | 'invalid_input'
  | 'unavailable'
  | 'database';

export interface RepositoryErrorOptions {
  reason: RepositoryErrorReason;
  message: string;
  hint?: string | undefined;
  /** The SQLSTATE when the database raised it. */
  sqlState?: string | undefined;
  cause?: unknown;
}

/**
 * A repository operation failed. Not retryable except for `database` errors, which may be
 * transient (connection loss, serialization failure).
 */
export class RepositoryError extends TributaryError {
  readonly [marker] = true;
  readonly reason: RepositoryErrorReason;
  readonly sqlState: string | undefined;
  readonly isRetryable: boolean;

  constructor(options: RepositoryErrorOptions) {
    super({
      code: `repository_${options.reason}`,
      area: 'repository',
      message: options.message,
      hint: options.hint,
      cause: options.cause,
    });
    this.reason = options.reason;
    this.sqlState = options.sqlState;
    this.isRetryable = options.reason === 'database';
  }

  static override isInstance(error: unknown): error is RepositoryError {
    return hasErrorMarker(error, marker);
  }
}
