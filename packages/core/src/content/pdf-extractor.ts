import { CorruptContentError, UnsupportedContentError } from '../errors/index.js';
import type { ContentExtractor, ExtractorInput, ExtractorOutput } from './content-extractor.js';

/**
 * Separator put between PDF pages: a form feed on its own line. `normalizeText` keeps it, the
 * chunker treats it as a paragraph break, and a reader can still tell where each page began.
 */
export const PAGE_BREAK = '\n\f\n';

/**
 * PDF text through unpdf (a serverless build of PDF.js), page by page, pages separated by
 * {@link PAGE_BREAK}. The title comes from the document info. A file that PDF.js cannot open, or
 * that lacks the `%%EOF` trailer (a truncated download), is a `CorruptContentError`; a
 * password-protected one or one without any text layer (a scan: needs OCR) is an
 * `UnsupportedContentError`.
 */
export const pdfExtractor: ContentExtractor = {
  name: 'pdf',
  mimeTypes: ['application/pdf'],
  extensions: ['pdf'],
  binary: true,
  extract: (input) => extractPdf(input),
};

async function extractPdf(input: ExtractorInput): Promise<ExtractorOutput> {
  const bytes = input.bytes ?? new Uint8Array();
  if (!hasEndOfFileMarker(bytes)) {
    throw corrupt(input, 'the file is truncated (no %%EOF marker at its end)');
  }
  const { getDocumentProxy, extractText, getMeta } = await import('unpdf');
  let document: Awaited<ReturnType<typeof getDocumentProxy>>;
  try {
    // PDF.js may take ownership of (detach) the buffer it is given: hand it a copy.
    document = await getDocumentProxy(new Uint8Array(bytes), { verbosity: 0 });
  } catch (error) {
    if (errorName(error) === 'PasswordException') {
      throw new UnsupportedContentError({
        fileName: input.fileName,
        mimeType: input.mimeType,
        message: `cannot extract text from ${input.label}: the PDF is password-protected`,
        hint: 'Remove the password (save an unprotected copy) and upload or sync it again',
        cause: error,
      });
    }
    throw corrupt(input, `PDF.js cannot open it (${errorMessage(error)})`, error);
  }

  try {
    let pages: string[];
    try {
      pages = (await extractText(document, { mergePages: false })).text;
    } catch (error) {
      throw corrupt(input, `reading its text failed (${errorMessage(error)})`, error);
    }
    const text = pages.map((page) => page.trim()).join(PAGE_BREAK);
    if (document.numPages > 0 && text.replace(/\s/g, '') === '') {
      throw new UnsupportedContentError({
        fileName: input.fileName,
        mimeType: input.mimeType,
        message: `cannot extract text from ${input.label}: its ${document.numPages} page(s) contain no text layer (a scanned document?)`,
        hint: 'Run OCR on it (e.g. ocrmypdf, or "Recognize text" in a PDF editor) and upload the result',
      });
    }
    const title = await readTitle(getMeta, document);
    return { text, title, structure: 'plain', metadata: { pageCount: document.numPages } };
  } finally {
    // Frees PDF.js's parsed objects; the document proxy has no destroy() of its own.
    await document.loadingTask.destroy().catch(() => undefined);
  }
}

async function readTitle(
  getMeta: typeof import('unpdf').getMeta,
  document: Parameters<typeof import('unpdf').getMeta>[0],
): Promise<string | undefined> {
  try {
    const { info } = await getMeta(document);
    const title = typeof info?.Title === 'string' ? info.Title.trim() : '';
    return title === '' ? undefined : title;
  } catch {
    return undefined; // A broken info dictionary is no reason to lose the text.
  }
}

/** True when `%%EOF` appears in the last 4 KB (after it only whitespace or junk some writers add). */
function hasEndOfFileMarker(bytes: Uint8Array): boolean {
  const tail = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).subarray(
    Math.max(0, bytes.byteLength - 4096),
  );
  return tail.includes('%%EOF', 0, 'latin1');
}

function corrupt(input: ExtractorInput, reason: string, cause?: unknown): CorruptContentError {
  return new CorruptContentError({
    fileName: input.fileName,
    mimeType: input.mimeType,
    reason,
    hint: 'Open the PDF at its source to check it, download or export it again, and re-upload or sync it',
    cause,
  });
}

function errorName(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null ? String((error as { name?: unknown }).name) : undefined;
}

function errorMessage(error: unknown): string {
  return error instanceof Error || (typeof error === 'object' && error !== null && 'message' in error)
    ? String((error as { message: unknown }).message)
    : String(error);
}
