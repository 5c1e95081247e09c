import { CorruptContentError } from '../errors/index.js';
import type { ContentExtractor, ExtractorInput, ExtractorOutput } from './content-extractor.js';
import { htmlToMarkdownText } from './html-to-markdown-text.js';

export const DOCX_MIME_TYPE = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';

/**
 * Word documents (`.docx`) through mammoth: the document becomes semantic HTML (Word's heading
 * styles → `<h1>`..., lists, tables), then the same HTML-to-text step as web pages, so headings
 * come out as Markdown `#` lines and tables as Markdown tables. Images are dropped and linked
 * external files are never fetched. The title is the first heading. Bytes that are not a zip, or
 * a zip without a Word document inside, are a `CorruptContentError`.
 */
export const docxExtractor: ContentExtractor = {
  name: 'docx',
  mimeTypes: [DOCX_MIME_TYPE],
  extensions: ['docx'],
  binary: true,
  extract: (input) => extractDocx(input),
};

async function extractDocx(input: ExtractorInput): Promise<ExtractorOutput> {
  const bytes = input.bytes ?? new Uint8Array();
  if (!(bytes[0] === 0x50 && bytes[1] === 0x4b)) {
    throw corrupt(
      input,
      'it is not a valid DOCX file (a DOCX is a zip archive, and these bytes are not one)',
    );
  }
  const mammothModule = await import('mammoth');
  // CJS package: the API is on `default` when imported from ESM.
  const mammoth = (mammothModule as unknown as { default?: typeof mammothModule }).default ?? mammothModule;
  let result: { value: string; messages: Array<{ type: string; message: string }> };
  try {
    result = await mammoth.convertToHtml(
      { buffer: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) },
      {
        externalFileAccess: false,
        // Images are not text; an empty <img> keeps mammoth from inlining them as base64.
        convertImage: mammoth.images.imgElement(async () => ({ src: '' })),
      },
    );
  } catch (error) {
    throw corrupt(
      input,
      `it is not a valid DOCX file (${error instanceof Error ? error.message : String(error)})`,
      error,
    );
  }
  const text = await htmlToMarkdownText(result.value);
  const title = /^#{1,6} (.+)$/m.exec(text)?.[1]?.trim();
  const warnings = result.messages.filter(
    (message) => message.type === 'error' || message.type === 'warning',
  );
  return {
    text,
    title,
    structure: 'markdown',
    metadata:
      warnings.length > 0 ? { warnings: warnings.slice(0, 20).map((message) => message.message) } : {},
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
