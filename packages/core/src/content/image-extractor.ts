import { UnsupportedContentError } from '../errors/index.js';
import type { ContentExtractor, ExtractorInput, ExtractorOutput } from './content-extractor.js';
import type { OcrEngine } from './ocr-engine.js';

/** Image formats Tesseract reads (through Leptonica); file-type sniffs each of them. */
export const OCR_IMAGE_MIME_TYPES = [
  'image/png',
  'image/jpeg',
  'image/bmp',
  'image/tiff',
  'image/webp',
] as const;

/**
 * Images (a photographed receipt, a screenshot, a scanned page saved as PNG) read through the
 * host's OCR engine. Registered only when OCR is on: without it an image is refused with
 * `reason: 'needs_ocr'`. An image in which OCR reads nothing is refused with
 * `reason: 'no_text_found'`, never stored as an empty document.
 */
export function createImageExtractor(ocr: OcrEngine): ContentExtractor {
  return {
    name: 'image-ocr',
    mimeTypes: OCR_IMAGE_MIME_TYPES,
    extensions: ['png', 'jpg', 'jpeg', 'bmp', 'tif', 'tiff', 'webp'],
    binary: true,
    extract: (input) => extractImage(input, ocr),
  };
}

async function extractImage(input: ExtractorInput, ocr: OcrEngine): Promise<ExtractorOutput> {
  const bytes = input.bytes ?? new Uint8Array();
  const text = (await ocr.recognize({ bytes, contentType: input.mimeType })).trim();
  if (text.replace(/\s/g, '') === '') {
    throw new UnsupportedContentError({
      reason: 'no_text_found',
      fileName: input.fileName,
      mimeType: input.mimeType,
      message: `cannot extract text from ${input.label}: OCR (${ocr.name}) found no text in the image`,
      hint: 'Check the image (blank, rotated or too small?), or set ocr.languages to the language it is written in',
    });
  }
  return { text, structure: 'plain', metadata: { ocr: ocr.name } };
}
