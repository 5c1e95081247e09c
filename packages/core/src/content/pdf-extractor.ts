import { CorruptContentError, UnsupportedContentError } from '../errors/index.js';
import type { ContentExtractor, ExtractorInput, ExtractorOutput } from './content-extractor.js';
import { MAX_OCR_IMAGES, type OcrEngine } from './ocr-engine.js';
import { importOptionalParser, resolvePdfAssets } from './optional-parser.js';
import {
  DEFAULT_OCR_DPI,
  loadPdfCanvasFactory,
  type PdfCanvasFactory,
  type RenderablePdfPage,
  renderPageForOcr,
} from './pdf-page-image.js';
import { type PdfPageLike, readPageAnnotations, readPageText } from './pdf-page-text.js';

/**
 * Separator put between PDF pages: a form feed on its own line. `normalizeText` keeps it, the
 * chunker treats it as a paragraph break, and a reader can still tell where each page began.
 */
export const PAGE_BREAK = '\n\f\n';

/** The packages the PDF extractor needs (optional peers of @tributary/core). */
export const PDF_PARSER_PACKAGES = ['unpdf', 'pdfjs-dist'] as const;

/**
 * PDF text through unpdf (a serverless build of PDF.js), page by page, pages separated by
 * {@link PAGE_BREAK}. PDF.js gets the character maps and standard fonts from `pdfjs-dist`, so
 * Chinese, Japanese and Korean text in non-embedded fonts comes out as text. Lines are rebuilt
 * from PDF.js's text items, a word hyphenated across a line end is rejoined, and each page's
 * filled-in form fields (`Label: value`) and free-text / note annotations follow its text. The
 * title comes from the document info. A file PDF.js cannot open, or that lacks the `%%EOF`
 * trailer (a truncated download), is a `CorruptContentError`; a password-protected one
 * (`reason: 'password_protected'`) or one without any text (a scan: `reason: 'needs_ocr'`) is an
 * `UnsupportedContentError`, so it is recorded as failed, never stored as an empty document.
 */
export const pdfExtractor: ContentExtractor = createPdfExtractor();

export interface PdfExtractorOptions {
  /**
   * Opt-in OCR: pages without a text layer (scans) are rendered to images (PDF.js on
   * `@napi-rs/canvas`) and read through this engine, up to {@link MAX_OCR_IMAGES} pages per file.
   */
  ocr?: OcrEngine | undefined;
  /** Resolution scanned pages are rendered at for OCR. Default {@link DEFAULT_OCR_DPI} (200). */
  ocrDpi?: number | undefined;
}

/** The PDF extractor, optionally reading scanned pages through an OCR engine. */
export function createPdfExtractor(options: PdfExtractorOptions = {}): ContentExtractor {
  return {
    name: 'pdf',
    mimeTypes: ['application/pdf'],
    extensions: ['pdf'],
    binary: true,
    extract: (input) => extractPdf(input, options),
  };
}

type PdfDocument = Awaited<ReturnType<typeof import('unpdf').getDocumentProxy>>;

async function extractPdf(input: ExtractorInput, options: PdfExtractorOptions): Promise<ExtractorOutput> {
  const { ocr } = options;
  const bytes = input.bytes ?? new Uint8Array();
  if (!hasEndOfFileMarker(bytes)) {
    throw corrupt(input, 'the file is truncated (no %%EOF marker at its end)');
  }
  const { getDocumentProxy, getMeta } = await importOptionalParser(
    PDF_PARSER_PACKAGES,
    () => import('unpdf'),
    input,
  );
  const assets = resolvePdfAssets();
  // Drawing pages needs a canvas, loaded only when OCR is on (and before opening: PDF.js takes it then).
  const CanvasFactory: PdfCanvasFactory | undefined = ocr ? await loadPdfCanvasFactory(input) : undefined;
  let document: PdfDocument;
  try {
    // PDF.js may take ownership of (detach) the buffer it is given: hand it a copy.
    document = await getDocumentProxy(new Uint8Array(bytes), {
      verbosity: 0,
      ...(assets ? { ...assets, cMapPacked: true } : {}),
      ...(CanvasFactory ? { CanvasFactory } : {}),
    });
  } catch (error) {
    if (errorName(error) === 'PasswordException') {
      throw new UnsupportedContentError({
        reason: 'password_protected',
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
    const pages: string[] = [];
    let length = 0;
    let formFields = 0;
    let annotations = 0;
    let ocrPages = 0;
    for (let pageNumber = 1; pageNumber <= document.numPages; pageNumber += 1) {
      let pageText: string;
      try {
        const page = (await document.getPage(pageNumber)) as unknown as PdfPageLike & RenderablePdfPage;
        let text = await readPageText(page);
        if (ocr && CanvasFactory && text === '' && ocrPages < MAX_OCR_IMAGES) {
          // A page without a text layer: a scan. Draw it and read it.
          const image = await renderPageForOcr(page, CanvasFactory, options.ocrDpi ?? DEFAULT_OCR_DPI);
          text = (await ocr.recognize(image)).trim();
          ocrPages += 1;
        }
        const extra = await readPageAnnotations(page);
        formFields += extra.formFields;
        annotations += extra.annotations;
        pageText = [text, ...extra.lines].filter((part) => part !== '').join('\n\n');
      } catch (error) {
        if (UnsupportedContentError.isInstance(error)) throw error; // e.g. OCR language data missing.
        throw corrupt(input, `reading the text of page ${pageNumber} failed (${errorMessage(error)})`, error);
      }
      pages.push(pageText);
      length += pageText.length + PAGE_BREAK.length;
      // Stop reading past the cap: the registry reports the overflow with a clear error.
      if (length > input.maxCharacters) break;
    }
    const text = pages.join(PAGE_BREAK);
    if (document.numPages > 0 && text.replace(/\s/g, '') === '' && ocrPages > 0) {
      throw new UnsupportedContentError({
        reason: 'no_text_found',
        fileName: input.fileName,
        mimeType: input.mimeType,
        message: `cannot extract text from ${input.label}: OCR (${ocr?.name}) found no text on its ${ocrPages} scanned page(s)`,
        hint: 'Check the scan (blank, upside down or too small?), or set ocr.languages to the language it is written in',
      });
    }
    if (document.numPages > 0 && text.replace(/\s/g, '') === '') {
      throw new UnsupportedContentError({
        reason: 'needs_ocr',
        fileName: input.fileName,
        mimeType: input.mimeType,
        message: `cannot extract text from ${input.label}: its ${document.numPages} page(s) hold no text layer, only images (a scan?)`,
        hint: 'Turn OCR on (documentExtractors({ ocr: { languages: [\'eng\'] } }) from @tributary/core/extractors, see its README, "Scans and OCR"), or run ocrmypdf on it and upload the result',
      });
    }
    const title = await readTitle(getMeta, document);
    return {
      text,
      title,
      structure: 'plain',
      metadata: {
        pageCount: document.numPages,
        ...(formFields > 0 ? { formFields } : {}),
        ...(annotations > 0 ? { annotations } : {}),
        ...(ocrPages > 0 ? { ocr: ocr?.name, ocrPages } : {}),
        ...(assets
          ? {}
          : { warnings: ['pdfjs-dist is not installed: CJK text in non-embedded fonts is lost'] }),
      },
    };
  } finally {
    // Frees PDF.js's parsed objects; the document proxy has no destroy() of its own.
    await document.loadingTask.destroy().catch(() => undefined);
  }
}

async function readTitle(
  getMeta: typeof import('unpdf').getMeta,
  document: PdfDocument,
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
