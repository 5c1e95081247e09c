import { hasErrorMarker, TributaryError } from './tributary-error.js';

const marker = Symbol.for('tributary.error.unsupported_content');

export interface UnsupportedContentErrorOptions {
  connector?: string | undefined;
  mimeType?: string | undefined;
  fileName?: string | undefined;
  message?: string | undefined;
  hint?: string | undefined;
  cause?: unknown;
}

/** No extractor handles this content type. The document is recorded as failed; the run goes on. */
export class UnsupportedContentError extends TributaryError {
  readonly [marker] = true;
  readonly mimeType: string | undefined;
  readonly fileName: string | undefined;

  constructor(options: UnsupportedContentErrorOptions = {}) {
    const what = [options.fileName, options.mimeType ? `(${options.mimeType})` : undefined]
      .filter(Boolean)
      .join(' ');
    super({
      code: 'unsupported_content',
      connector: options.connector,
      area: 'content',
      message:
        options.message ?? `cannot extract text from ${what || 'this content'}: the type is not supported`,
      hint:
        options.hint ??
        'Convert the file to a supported type (text, HTML, Markdown, PDF, DOCX, CSV, VTT/SRT) or register an extractor for it',
      cause: options.cause,
    });
    this.mimeType = options.mimeType;
    this.fileName = options.fileName;
  }

  static override isInstance(error: unknown): error is UnsupportedContentError {
    return hasErrorMarker(error, marker);
  }
}
