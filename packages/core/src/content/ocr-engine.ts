/**
 * An OCR engine: the built-in one (`createTesseractOcr`, what `documentExtractors({ ocr: {
 * languages } })` uses) or your own (a cloud OCR service) in this shape, passed as
 * `documentExtractors({ ocr: engine })`. Scanned PDF pages, image-only DOCX files and images are
 * then read through it instead of being refused with `reason: 'needs_ocr'`.
 *
 * @example
 * const ocr: OcrEngine = { name: 'my-ocr', recognize: async ({ bytes, contentType }) => callMyOcrService(bytes, contentType) };
 */
export interface OcrEngine {
  /** Short name recorded in the document's metadata (`ocr`). */
  readonly name: string;
  /**
   * The text in one image: PNG, JPEG, GIF, BMP or TIFF bytes as embedded in a document or
   * uploaded, or `image/x-portable-graymap` (8-bit PGM) for a scanned PDF page drawn for OCR.
   */
  recognize(image: { bytes: Uint8Array; contentType: string }): Promise<string>;
}

/** Images read through OCR per document at most: a 500-page scan is a job for a batch tool. */
export const MAX_OCR_IMAGES = 100;
