import { CorruptContentError, UnsupportedContentError } from '../errors/index.js';
import type { ContentExtractor, ExtractorInput, ExtractorOutput } from './content-extractor.js';
import { htmlToMarkdownText } from './html-to-markdown-text.js';
import { MAX_OCR_IMAGES, type OcrEngine } from './ocr-engine.js';
import { importOptionalParser } from './optional-parser.js';
import { assertSafeZip, DEFAULT_ZIP_LIMITS, type ZipLimits } from './zip-guard.js';

export const DOCX_MIME_TYPE = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';

/** The package the DOCX extractor needs (an optional peer of @tributary/core). */
export const DOCX_PARSER_PACKAGES = ['mammoth'] as const;

/**
 * Word documents (`.docx`) through mammoth: the document becomes semantic HTML (Word's heading
 * styles → `<h1>`..., lists, tables), then the same HTML-to-text step as web pages, so headings
 * come out as Markdown `#` lines and tables as Markdown tables. Images are dropped (their alt
 * text kept) and linked external files are never fetched. The zip is checked against zip bombs
 * first. The title is the first heading. Bytes that are not a zip, or a zip without a Word
 * document inside, are a `CorruptContentError`; a document holding only images (a scan pasted
 * into Word) is an `UnsupportedContentError` with `reason: 'needs_ocr'`, never an empty document.
 */
export const docxExtractor: ContentExtractor = createDocxExtractor();

/**
 * The DOCX extractor with other zip-bomb limits than {@link DEFAULT_ZIP_LIMITS}, and optionally an
 * OCR engine that reads a document holding only images (instead of refusing it as `needs_ocr`).
 */
export function createDocxExtractor(
  limits: ZipLimits = DEFAULT_ZIP_LIMITS,
  options: { ocr?: OcrEngine | undefined } = {},
): ContentExtractor {
  return {
    name: 'docx',
    mimeTypes: [DOCX_MIME_TYPE],
    extensions: ['docx'],
    binary: true,
    extract: (input) => extractDocx(input, limits, options.ocr),
  };
}

async function extractDocx(
  input: ExtractorInput,
  limits: ZipLimits,
  ocr: OcrEngine | undefined,
): Promise<ExtractorOutput> {
  const bytes = input.bytes ?? new Uint8Array();
  if (!(bytes[0] === 0x50 && bytes[1] === 0x4b)) {
    throw corrupt(
      input,
      'it is not a valid DOCX file (a DOCX is a zip archive, and these bytes are not one)',
    );
  }
  assertSafeZip(bytes, { fileName: input.fileName, mimeType: DOCX_MIME_TYPE }, limits);
  const mammothModule = await importOptionalParser(DOCX_PARSER_PACKAGES, () => import('mammoth'), input);
  // CJS package: the API is on `default` when imported from ESM.
  const mammoth = (mammothModule as unknown as { default?: typeof mammothModule }).default ?? mammothModule;
  let result: { value: string; messages: Array<{ type: string; message: string }> };
  let images = 0;
  // Kept only when OCR may need them; read lazily (mammoth has already checked the zip).
  const imageReaders: Array<{ read: () => Promise<Buffer>; contentType: string }> = [];
  try {
    result = await mammoth.convertToHtml(
      { buffer: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) },
      {
        externalFileAccess: false,
        // Images are not text; an empty <img> keeps mammoth from inlining them as base64.
        convertImage: mammoth.images.imgElement(async (image) => {
          images += 1;
          if (ocr && imageReaders.length < MAX_OCR_IMAGES) {
            imageReaders.push({ read: () => image.read(), contentType: image.contentType });
          }
          return { src: '' };
        }),
      },
    );
  } catch (error) {
    throw corrupt(
      input,
      `it is not a valid DOCX file (${error instanceof Error ? error.message : String(error)})`,
      error,
    );
  }
  let text = await htmlToMarkdownText(result.value);
  let recognized = false;
  if (ocr && images > 0 && text.replace(/\s/g, '') === '') {
    const pages: string[] = [];
    for (const image of imageReaders) {
      const bytes = new Uint8Array(await image.read());
      pages.push((await ocr.recognize({ bytes, contentType: image.contentType })).trim());
    }
    text = pages.filter((page) => page !== '').join('\n\n');
    recognized = true;
  }
  if (images > 0 && text.replace(/\s/g, '') === '') {
    throw new UnsupportedContentError({
      reason: 'needs_ocr',
      fileName: input.fileName,
      mimeType: input.mimeType,
      message: `cannot extract text from ${input.label}: it holds ${images} image(s) and no text (a scanned page pasted into Word?)`,
      hint: 'Run OCR on the images (or save the scan as a searchable PDF) and upload or sync the result',
    });
  }
  const title = /^#{1,6} (.+)$/m.exec(text)?.[1]?.trim();
  const warnings = result.messages.filter(
    (message) => message.type === 'error' || message.type === 'warning',
  );
  return {
    text,
    title,
    structure: 'markdown',
    metadata: {
      ...(images > 0 ? { images } : {}),
      ...(recognized && ocr ? { ocr: ocr.name } : {}),
      ...(warnings.length > 0 ? { warnings: warnings.slice(0, 20).map((message) => message.message) } : {}),
    },
  };
}

function corrupt(input: ExtractorInput, reason: string, cause?: unknown): CorruptContentError {
  return new CorruptContentError({
    fileName: input.fileName,
    mimeType: input.mimeType,
    reason,
    hint: 'Open it in Word or Google Docs, save it again as .docx, and re-upload or sync it',
    cause,
  });
}
