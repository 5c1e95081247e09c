import { TributaryError } from '@tributary/core';

const marker = Symbol.for('tributary.error.upload_batch');

export type UploadBatchErrorReason = 'not_found' | 'not_allowed' | 'invalid_input' | 'ended' | 'database';

export interface UploadBatchErrorOptions {
  reason: UploadBatchErrorReason;
  message: string;
  hint: string;
  cause?: unknown;
}

/** A batch could not be created, read or updated: bad input, a missing batch, or the database. */
export class UploadBatchError extends TributaryError {
  readonly [marker] = true;
  readonly reason: UploadBatchErrorReason;

  constructor(options: UploadBatchErrorOptions) {
    super({
      code: 'upload_batch_error',
      connector: 'upload',
      message: options.message,
      hint: options.hint,
      cause: options.cause,
    });
    this.reason = options.reason;
  }

  static override isInstance(error: unknown): error is UploadBatchError {
    return (
      typeof error === 'object' &&
      error !== null &&
      marker in error &&
      (error as Record<symbol, unknown>)[marker] === true
    );
  }
}
