// `@tributary/core/extractors`: the document-format extractors and their guards. Their parsers
// (unpdf + pdfjs-dist, mammoth, officeparser; tesseract.js + @napi-rs/canvas for OCR) are optional peer dependencies, imported on first
// use, so a host that only syncs Notion or web pages installs none of them.
export {
  type DocumentExtractorsOptions,
  documentExtractors,
  type OcrOptions,
} from './content/document-extractors.js';
export {
  createDocxExtractor,
  DOCX_MIME_TYPE,
  DOCX_PARSER_PACKAGES,
  docxExtractor,
} from './content/docx-extractor.js';
export { createImageExtractor, OCR_IMAGE_MIME_TYPES } from './content/image-extractor.js';
export { MAX_OCR_IMAGES, type OcrEngine } from './content/ocr-engine.js';
export {
  createPptxExtractor,
  createXlsxExtractor,
  OFFICE_PARSER_PACKAGES,
  PPTX_MIME_TYPE,
  XLSX_MIME_TYPE,
} from './content/office-extractors.js';
export {
  createPdfExtractor,
  PAGE_BREAK,
  PDF_PARSER_PACKAGES,
  type PdfExtractorOptions,
  pdfExtractor,
} from './content/pdf-extractor.js';
export { DEFAULT_OCR_DPI, PDF_RENDER_PACKAGES } from './content/pdf-page-image.js';
export { rejoinHyphenatedWords } from './content/pdf-page-text.js';
export {
  type ClosableOcrEngine,
  createTesseractOcr,
  OCR_PACKAGES,
  type TesseractOcrOptions,
} from './content/tesseract-ocr.js';
export { assertSafeZip, DEFAULT_ZIP_LIMITS, type ZipLimits } from './content/zip-guard.js';
