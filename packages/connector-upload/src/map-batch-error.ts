import { UploadBatchError } from './upload-batch-error.js';

/** SQLSTATEs of the batch RPCs (see `@tributary/sql` 0004_functions) as `UploadBatchError`s. */
export function mapSqlError(error: unknown): unknown {
  if (UploadBatchError.isInstance(error)) return error;
  const code = (error as { code?: unknown })?.code;
  const message = error instanceof Error ? error.message.replace(/^\[tributary\]\s*/, '') : String(error);
  if (code === '42501') {
    return new UploadBatchError({
      reason: 'not_allowed',
      message: `not allowed: ${message}`,
      hint: 'A user may only create batches in an organisation they belong to, and only the server records progress; use a server connection (service role) for the uploader',
      cause: error,
    });
  }
  if (code === 'P0002') {
    return new UploadBatchError({
      reason: 'not_found',
      message,
      hint: 'Check the batch id; batches of another organisation are not visible',
      cause: error,
    });
  }
  if (code === '55000') {
    return new UploadBatchError({
      reason: 'ended',
      message,
      hint: 'The batch has ended; start a new batch for more files',
      cause: error,
    });
  }
  if (typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'))) {
    return new UploadBatchError({
      reason: 'invalid_input',
      message: `the database refused the batch data: ${message}`,
      hint: 'Check the ids (UUIDs) and the number of files (1 to 100,000)',
      cause: error,
    });
  }
  return new UploadBatchError({
    reason: 'database',
    message: `batch storage failed: ${message}`,
    hint: 'Check the database connection and that the @tributary/sql migrations are applied, then retry',
    cause: error,
  });
}
