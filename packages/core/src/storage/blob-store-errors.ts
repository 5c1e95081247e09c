import { hasErrorMarker, TributaryError } from '../errors/tributary-error.js';

const invalidPathMarker = Symbol.for('tributary.error.invalid_blob_path');
const notFoundMarker = Symbol.for('tributary.error.blob_not_found');

export interface InvalidBlobPathErrorOptions {
  /** What is wrong: `contains a ".." segment`. Never the full path when it may hold secrets. */
  reason: string;
  /** The offending path, JSON-quoted in the message (control characters show escaped). */
  path?: string | undefined;
  hint?: string | undefined;
}

/**
 * A blob path (or an object path part) was refused because it could escape the store or is not a
 * portable key: `..` or `.` segments, an absolute path, backslashes, NUL or other control
 * characters, empty segments. Nothing was read or written.
 */
export class InvalidBlobPathError extends TributaryError {
  readonly [invalidPathMarker] = true;
  readonly path: string | undefined;
  readonly reason: string;
  readonly isRetryable = false;

  constructor(options: InvalidBlobPathErrorOptions) {
    super({
      code: 'invalid_blob_path',
      area: 'storage',
      message: `refused blob path${options.path === undefined ? '' : ` ${quote(options.path)}`}: ${options.reason}`,
      hint:
        options.hint ??
        'Use a relative key of "/"-separated segments without "." or ".." (build one with buildObjectPath)',
    });
    this.path = options.path;
    this.reason = options.reason;
  }

  static override isInstance(error: unknown): error is InvalidBlobPathError {
    return hasErrorMarker(error, invalidPathMarker);
  }
}

/** `get` asked for an object that does not exist. */
export class BlobNotFoundError extends TributaryError {
  readonly [notFoundMarker] = true;
  readonly path: string;
  readonly isRetryable = false;

  constructor(options: { path: string; cause?: unknown }) {
    super({
      code: 'blob_not_found',
      area: 'storage',
      message: `no stored object at ${quote(options.path)}`,
      hint: 'Check the path (list the prefix to see what is stored), or import the file again',
      cause: options.cause,
    });
    this.path = options.path;
  }

  static override isInstance(error: unknown): error is BlobNotFoundError {
    return hasErrorMarker(error, notFoundMarker);
  }
}

function quote(path: string): string {
  const shown = path.length > 200 ? `${path.slice(0, 200)}…` : path;
  return JSON.stringify(shown);
}
