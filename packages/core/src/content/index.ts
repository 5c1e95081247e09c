export type {
  ContentExtractor,
  ContentStructure,
  ExtractedContent,
  ExtractInput,
  ExtractorInput,
  ExtractorOutput,
} from './content-extractor.js';
export { csvExtractor, tsvExtractor } from './csv-extractor.js';
export { docxExtractor } from './docx-extractor.js';
export {
  builtInExtractors,
  createExtractorRegistry,
  DEFAULT_MAX_CHARACTERS,
  DEFAULT_MAX_INPUT_BYTES,
  type ExtractorRegistry,
  type ExtractorRegistryOptions,
} from './extractor-registry.js';
export { htmlExtractor } from './html-extractor.js';
export { jsonExtractor } from './json-extractor.js';
export { markdownExtractor } from './markdown-extractor.js';
export { contentHash, normalizeText } from './normalize-text.js';
export { PAGE_BREAK, pdfExtractor } from './pdf-extractor.js';
export { plainTextExtractor } from './plain-text-extractor.js';
export { MAX_IMAGE_LINK_LENGTH, stripInlineImages } from './strip-inline-images.js';
export { srtExtractor, webVttExtractor } from './transcript-extractor.js';
