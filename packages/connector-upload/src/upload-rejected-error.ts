import { TributaryError } from '@tributary/core';

const marker = Symbol.for('tributary.error.upload_rejected');

/** Why a file was refused before it was stored. */
export type UploadRejectionReason =
  | 'empty_file'
  | 'too_large'
  | 'type_not_allowed'
  | 'type_mismatch'
  | 'invalid_name'
  | 'unreadable';

export interface UploadRejectedErrorOptions {
  reason: UploadRejectionReason;
  fileName?: string | undefined;
  message: string;
  hint: string;
  cause?: unknown;
}

/**
 * A file refused before it was stored: empty, over the size limit, a type outside the allowlist,
 * bytes that contradict the name, or a name that is not a file name. It fails that file only;
 * the batch goes on.
 */
export class UploadRejectedError extends TributaryError {
  readonly [marker] = true;
  readonly reason: UploadRejectionReason;
  readonly fileName: string | undefined;

  constructor(options: UploadRejectedErrorOptions) {
    super({
      code: 'upload_rejected',
      connector: 'upload',
      message: options.message,
      hint: options.hint,
      cause: options.cause,
    });
    this.reason = options.reason;
    this.fileName = options.fileName;
  }

  static override isInstance(error: unknown): error is UploadRejectedError {
    return (
      typeof error === 'object' &&
      error !== null &&
      marker in error &&
      (error as Record<symbol, unknown>)[marker] === true
    );
  }
}
