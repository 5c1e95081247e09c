import { hasErrorMarker, TributaryError } from './tributary-error.js';

const marker = Symbol.for('tributary.error.unsupported_content');

/**
 * Why content was refused, for hosts that act on it: `needs_ocr` (a scan or image-only document:
 * enable OCR or run it elsewhere), `no_text_found` (OCR ran and read nothing), `password_protected`, `missing_parser` (an optional peer
 * package such as `unpdf` is not installed), `too_large`, `unsafe_archive` (a zip bomb), or
 * `unsupported_type` (the default).
 */
export type UnsupportedContentReason =
  | 'unsupported_type'
  | 'needs_ocr'
  | 'no_text_found'
  | 'password_protected'
  | 'missing_parser'
  | 'too_large'
  | 'unsafe_archive';

export interface UnsupportedContentErrorOptions {
  reason?: UnsupportedContentReason | undefined;
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
  readonly reason: UnsupportedContentReason;

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
    this.reason = options.reason ?? 'unsupported_type';
  }

  static override isInstance(error: unknown): error is UnsupportedContentError {
    return hasErrorMarker(error, marker);
  }
}
