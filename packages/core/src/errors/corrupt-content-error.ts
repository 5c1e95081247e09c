import { hasErrorMarker, TributaryError } from './tributary-error.js';

const marker = Symbol.for('tributary.error.corrupt_content');

export interface CorruptContentErrorOptions {
  connector?: string | undefined;
  mimeType?: string | undefined;
  fileName?: string | undefined;
  /** What is wrong: `not a valid PDF (missing %PDF header)`, `zip archive truncated`. */
  reason: string;
  hint?: string | undefined;
  cause?: unknown;
}

/**
 * The content claims a supported type but cannot be read (truncated, encrypted, malformed). The
 * document is recorded as failed; the run goes on.
 */
export class CorruptContentError extends TributaryError {
  readonly [marker] = true;
  readonly mimeType: string | undefined;
  readonly fileName: string | undefined;
  readonly reason: string;

  constructor(options: CorruptContentErrorOptions) {
    const what = [options.fileName, options.mimeType ? `(${options.mimeType})` : undefined]
      .filter(Boolean)
      .join(' ');
    super({
      code: 'corrupt_content',
      connector: options.connector,
      area: 'content',
      message: `cannot read ${what || 'the content'}: ${options.reason}`,
      hint:
        options.hint ?? 'Open the file at its source to check it, re-export or re-upload it, and sync again',
      cause: options.cause,
    });
    this.mimeType = options.mimeType;
    this.fileName = options.fileName;
    this.reason = options.reason;
  }

  static override isInstance(error: unknown): error is CorruptContentError {
    return hasErrorMarker(error, marker);
  }
}
