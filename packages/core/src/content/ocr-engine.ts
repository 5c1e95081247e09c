/**
 * An OCR engine a host plugs in (opt-in): Tributary ships none, because the well-kept engines
 * (tesseract.js) need language data that is downloaded at run time unless the host provides a
 * copy, and cost seconds per page. Wrap yours in this shape and pass it to
 * `documentExtractors({ ocr })`: image-only DOCX files are then read through it instead of being
 * refused with `reason: 'needs_ocr'`.
 *
 * @example
 * // tesseract.js 7, language data from a folder you ship (no download at run time):
 * const worker = await createWorker('eng', 1, { langPath: '/opt/tessdata', cacheMethod: 'none' });
 * const ocr: OcrEngine = { name: 'tesseract', recognize: async ({ bytes }) => (await worker.recognize(Buffer.from(bytes))).data.text };
 */
export interface OcrEngine {
  /** Short name recorded in the document's metadata (`ocr`). */
  readonly name: string;
  /** The text in one image (PNG, JPEG, GIF, BMP or TIFF bytes, as embedded in the document). */
  recognize(image: { bytes: Uint8Array; contentType: string }): Promise<string>;
}

/** Images read through OCR per document at most: a 500-page scan is a job for a batch tool. */
export const MAX_OCR_IMAGES = 100;
