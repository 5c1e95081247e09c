/** How the extracted text is laid out, so the chunker can split it along its natural seams. */
export type ContentStructure = 'markdown' | 'plain' | 'transcript';

/** What `registry.extract()` takes: raw bytes (files, downloads) or text a connector already has. */
export interface ExtractInput {
  /** Raw file content. Give either `bytes` or `text`. */
  bytes?: Uint8Array | undefined;
  /** Already-decoded text (e.g. a Notion page rendered to Markdown). Give either `bytes` or `text`. */
  text?: string | undefined;
  /**
   * The MIME type the source claims (`Content-Type`, Drive's `mimeType`). Trusted only as far as
   * the bytes agree: binary formats are sniffed, and a claim the bytes contradict is refused.
   */
  claimedMimeType?: string | undefined;
  /** File name, used for its extension and in error messages. */
  fileName?: string | undefined;
}

/** What `registry.extract()` returns. */
export interface ExtractedContent {
  /** Normalized text (see `normalizeText`), ready for `contentHash` and the chunker. */
  text: string;
  /** The MIME type the registry decided on (sniffed from the bytes where possible), not the claim. */
  mimeType: string;
  /** A title found in the content itself (`<title>`, PDF info, first Markdown `#` heading). */
  title?: string | undefined;
  /** Facts found while extracting: page count, encoding, speakers, row count, warnings... */
  metadata: Record<string, unknown>;
  structure: ContentStructure;
}

/** What an extractor gets. Text extractors receive `text` (decoded by the registry); binary ones `bytes`. */
export interface ExtractorInput {
  /** The raw bytes, when the content came as bytes. */
  bytes: Uint8Array | undefined;
  /** Decoded text (always set for extractors with `binary: false`). */
  text: string | undefined;
  /** The MIME type the registry decided on. */
  mimeType: string;
  fileName: string | undefined;
  /** A label for messages: the file name, or the MIME type when there is no name. */
  label: string;
  /** Character cap for the extracted text (the registry checks it too; big formats stop early). */
  maxCharacters: number;
}

/** What an extractor returns; the registry normalizes `text` and fills `mimeType`. */
export interface ExtractorOutput {
  text: string;
  title?: string | undefined;
  metadata?: Record<string, unknown> | undefined;
  structure: ContentStructure;
}

/**
 * Turns one family of formats into text. Register your own with `createExtractorRegistry` to
 * support another format or to replace a built-in one (a later extractor for the same MIME type
 * wins). Throw `CorruptContentError` for damaged input and `UnsupportedContentError` for input
 * you cannot handle.
 */
export interface ContentExtractor {
  /** Short name used in messages and metadata (`pdf`, `html`). */
  readonly name: string;
  /** MIME types handled; the first is the canonical one reported in `ExtractedContent.mimeType`. */
  readonly mimeTypes: readonly string[];
  /** File extensions (lowercase, no dot) that imply this format when the MIME claim is missing or generic. */
  readonly extensions?: readonly string[] | undefined;
  /**
   * `true` for formats read from bytes (PDF, DOCX): the registry hands over the raw bytes and never
   * decodes them as text. `false` for text formats: the registry decodes (BOM and encoding aware)
   * and checks that the bytes really are text.
   */
  readonly binary: boolean;
  extract(input: ExtractorInput): Promise<ExtractorOutput> | ExtractorOutput;
}
