import type { ContentExtractor } from './content-extractor.js';
import { createDocxExtractor } from './docx-extractor.js';
import type { OcrEngine } from './ocr-engine.js';
import { createPptxExtractor, createXlsxExtractor } from './office-extractors.js';
import { pdfExtractor } from './pdf-extractor.js';
import { DEFAULT_ZIP_LIMITS, type ZipLimits } from './zip-guard.js';

export interface DocumentExtractorsOptions {
  /** Zip-bomb limits for DOCX, XLSX and PPTX. Default {@link DEFAULT_ZIP_LIMITS}. */
  zipLimits?: Partial<ZipLimits> | undefined;
  /** Opt-in OCR for DOCX files holding only images (see `OcrEngine`). Default none: they are refused as `needs_ocr`. */
  ocr?: OcrEngine | undefined;
}

/**
 * The document-format extractors (PDF, DOCX, XLSX, PPTX), configured. They are part of
 * `builtInExtractors()` with default limits; register these after the built-ins to change the
 * zip limits. Each parser is an optional peer dependency loaded on first use: install `unpdf` +
 * `pdfjs-dist` for PDF, `mammoth` for DOCX, `officeparser` for XLSX/PPTX.
 *
 * @example
 * createExtractorRegistry([...builtInExtractors(), ...documentExtractors({ zipLimits: { maxEntries: 2000 } })]);
 */
export function documentExtractors(options: DocumentExtractorsOptions = {}): ContentExtractor[] {
  const limits: ZipLimits = { ...DEFAULT_ZIP_LIMITS, ...options.zipLimits };
  return [
    pdfExtractor,
    createDocxExtractor(limits, { ocr: options.ocr }),
    createXlsxExtractor(limits),
    createPptxExtractor(limits),
  ];
}
