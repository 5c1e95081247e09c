import { hasErrorMarker, TributaryError } from './tributary-error.js';

const marker = Symbol.for('tributary.error.aborted');

export interface AbortErrorOptions {
  connector?: string | undefined;
  area?: string | undefined;
  /** What was cancelled, e.g. `GET https://...` or `sync`. */
  operation?: string | undefined;
  /** The signal's `reason`. */
  cause?: unknown;
}

/**
 * The caller cancelled the operation through its `AbortSignal`. Never retried and never recorded
 * as a document failure: a cancelled run ends `cancelled`. Its `name` is `AbortError`, like the
 * DOM's, so code that checks `error.name === 'AbortError'` keeps working; prefer `isAbortError`.
 */
export class AbortError extends TributaryError {
  readonly [marker] = true;
  readonly isRetryable = false;

  constructor(options: AbortErrorOptions = {}) {
    super({
      code: 'aborted',
      connector: options.connector,
      area: options.area ?? 'core',
      message: `${options.operation ?? 'the operation'} was cancelled by its abort signal`,
      hint: 'Nothing to fix; start it again when wanted',
      cause: options.cause,
    });
  }

  static override isInstance(error: unknown): error is AbortError {
    return hasErrorMarker(error, marker);
  }
}

/**
 * True for a cancellation: Tributary's `AbortError`, a DOM `AbortError` (from `fetch` or
 * `signal.throwIfAborted()`) or any error named `AbortError`. A `TimeoutError` is not a
 * cancellation.
 */
export function isAbortError(error: unknown): boolean {
  if (AbortError.isInstance(error)) return true;
  return typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'AbortError';
}
