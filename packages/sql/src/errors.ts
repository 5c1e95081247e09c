const marker = Symbol.for('tributary.error');

/**
 * Base of every error the sql package throws. It carries the same `Symbol.for('tributary.error')`
 * marker as `@tributary/core`'s `TributaryError`, so `TributaryError.isInstance(error)` recognises
 * it even across duplicate package copies. Messages start `[tributary] [sql]` and say what to do.
 */
export class TributarySqlError extends Error {
  readonly [marker] = true;
  /** Stable machine-readable code, e.g. `migration_checksum_mismatch`. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(`[tributary] [sql] ${message}`, options);
    this.name = new.target.name;
    this.code = code;
  }

  static isInstance(error: unknown): error is TributarySqlError {
    return typeof error === 'object' && error !== null && marker in error && 'code' in error;
  }
}
