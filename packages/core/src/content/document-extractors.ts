import type { ContentExtractor } from './content-extractor.js';
import { createDocxExtractor } from './docx-extractor.js';
import { createImageExtractor } from './image-extractor.js';
import type { OcrEngine } from './ocr-engine.js';
import { createPptxExtractor, createXlsxExtractor } from './office-extractors.js';
import { createPdfExtractor } from './pdf-extractor.js';
import { createTesseractOcr, type TesseractOcrOptions } from './tesseract-ocr.js';
import { DEFAULT_ZIP_LIMITS, type ZipLimits } from './zip-guard.js';

/** Built-in OCR (tesseract.js, offline) settings, or your own engine. */
export interface OcrOptions extends TesseractOcrOptions {
  /** Your own engine (a cloud OCR service...) instead of tesseract.js; `languages` is then ignored. */
  engine?: OcrEngine | undefined;
  /** Resolution scanned PDF pages are rendered at. Default 200 dpi. */
  pdfDpi?: number | undefined;
}

export interface DocumentExtractorsOptions {
  /** Zip-bomb limits for DOCX, XLSX and PPTX. Default {@link DEFAULT_ZIP_LIMITS}. */
  zipLimits?: Partial<ZipLimits> | undefined;
  /**
   * Opt-in OCR for scanned PDF pages, image-only DOCX files and images (PNG, JPEG, BMP, TIFF,
   * WebP): `{ languages: ['eng'] }` runs tesseract.js offline (install `tesseract.js`,
   * `@tesseract.js-data/eng` and, for PDFs, `@napi-rs/canvas`); an `OcrEngine` (or
   * `{ engine }`) uses yours. Default none: such documents are refused as `needs_ocr`.
   */
  ocr?: OcrOptions | OcrEngine | undefined;
}

/**
 * The document-format extractors (PDF, DOCX, XLSX, PPTX, and images when OCR is on), configured.
 * They are part of `builtInExtractors()` with default limits and no OCR; register these after
 * the built-ins to change that. Each parser is an optional peer dependency loaded on first use:
 * install `unpdf` + `pdfjs-dist` for PDF, `mammoth` for DOCX, `officeparser` for XLSX/PPTX.
 *
 * @example
 * createExtractorRegistry([...builtInExtractors(), ...documentExtractors({ ocr: { languages: ['eng'] } })]);
 */
export function documentExtractors(options: DocumentExtractorsOptions = {}): ContentExtractor[] {
  const limits: ZipLimits = { ...DEFAULT_ZIP_LIMITS, ...options.zipLimits };
  const ocr = resolveOcr(options.ocr);
  const pdfDpi = options.ocr && !isEngine(options.ocr) ? options.ocr.pdfDpi : undefined;
  return [
    createPdfExtractor({ ocr, ocrDpi: pdfDpi }),
    createDocxExtractor(limits, { ocr }),
    createXlsxExtractor(limits),
    createPptxExtractor(limits),
    ...(ocr ? [createImageExtractor(ocr)] : []),
  ];
}

function resolveOcr(ocr: DocumentExtractorsOptions['ocr']): OcrEngine | undefined {
  if (!ocr) return undefined;
  if (isEngine(ocr)) return ocr;
  return ocr.engine ?? createTesseractOcr(ocr);
}

function isEngine(ocr: OcrOptions | OcrEngine): ocr is OcrEngine {
  return typeof (ocr as Partial<OcrEngine>).recognize === 'function';
}
