import { TributaryError } from '@tributary/core';

const marker = Symbol.for('tributary.error.worker');

/**
 * Why the worker refused or failed: `invalid_options` (createWorker / requestSync input),
 * `unknown_connector` (no connector row, or no plugin for its type), `not_started` (used before
 * `start()` or after `stop()`), `job_failed` (an awaited job ended failed or cancelled),
 * `timeout` (an awaited job did not finish in time).
 */
export type WorkerErrorReason =
  | 'invalid_options'
  | 'unknown_connector'
  | 'not_started'
  | 'job_failed'
  | 'timeout';

export class WorkerError extends TributaryError {
  readonly [marker] = true;
  readonly reason: WorkerErrorReason;

  constructor(options: { reason: WorkerErrorReason; message: string; hint?: string; cause?: unknown }) {
    super({
      code: `worker_${options.reason}`,
      area: 'worker',
      message: options.message,
      hint: options.hint,
      cause: options.cause,
    });
    this.reason = options.reason;
  }

  static override isInstance(error: unknown): error is WorkerError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[marker] === true;
  }
}
