// `@tributary/core/extractors`: the document-format extractors and their guards. Their parsers
// (unpdf + pdfjs-dist, mammoth, officeparser) are optional peer dependencies, imported on first
// use, so a host that only syncs Notion or web pages installs none of them.
export { type DocumentExtractorsOptions, documentExtractors } from './content/document-extractors.js';
export {
  createDocxExtractor,
  DOCX_MIME_TYPE,
  DOCX_PARSER_PACKAGES,
  docxExtractor,
} from './content/docx-extractor.js';
export { MAX_OCR_IMAGES, type OcrEngine } from './content/ocr-engine.js';
export {
  createPptxExtractor,
  createXlsxExtractor,
  OFFICE_PARSER_PACKAGES,
  PPTX_MIME_TYPE,
  XLSX_MIME_TYPE,
} from './content/office-extractors.js';
export { PAGE_BREAK, PDF_PARSER_PACKAGES, pdfExtractor } from './content/pdf-extractor.js';
export { rejoinHyphenatedWords } from './content/pdf-page-text.js';
export { assertSafeZip, DEFAULT_ZIP_LIMITS, type ZipLimits } from './content/zip-guard.js';
