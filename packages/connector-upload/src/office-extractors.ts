import {
  type ContentExtractor,
  CorruptContentError,
  docxExtractor,
  type ExtractorInput,
  type ExtractorOutput,
  TributaryError,
} from '@tributary/core';
import { DOCX_MIME_TYPE, PPTX_MIME_TYPE, XLSX_MIME_TYPE } from './upload-types.js';
import { assertSafeZip, DEFAULT_ZIP_LIMITS, type ZipLimits } from './zip-guard.js';

/**
 * Core's DOCX extractor behind the zip-bomb check (mammoth inflates every part it needs without
 * a size limit). Register it after the built-ins so it replaces the plain one.
 */
export function createGuardedDocxExtractor(limits: ZipLimits = DEFAULT_ZIP_LIMITS): ContentExtractor {
  return {
    name: 'docx',
    mimeTypes: [DOCX_MIME_TYPE],
    extensions: ['docx'],
    binary: true,
    async extract(input) {
      assertSafeZip(
        input.bytes ?? new Uint8Array(),
        { fileName: input.fileName, mimeType: DOCX_MIME_TYPE },
        limits,
      );
      return docxExtractor.extract(input);
    },
  };
}

/** Excel workbooks (`.xlsx`) through officeparser: each sheet's cells, a row per line, tab-separated. */
export function createXlsxExtractor(limits: ZipLimits = DEFAULT_ZIP_LIMITS): ContentExtractor {
  return {
    name: 'xlsx',
    mimeTypes: [XLSX_MIME_TYPE],
    extensions: ['xlsx'],
    binary: true,
    extract: (input) => extractOffice(input, XLSX_MIME_TYPE, 'Excel', limits),
  };
}

/** PowerPoint decks (`.pptx`) through officeparser: the text of every slide, in order. */
export function createPptxExtractor(limits: ZipLimits = DEFAULT_ZIP_LIMITS): ContentExtractor {
  return {
    name: 'pptx',
    mimeTypes: [PPTX_MIME_TYPE],
    extensions: ['pptx'],
    binary: true,
    extract: (input) => extractOffice(input, PPTX_MIME_TYPE, 'PowerPoint', limits),
  };
}

/** The extractors this package adds to core's built-ins: XLSX, PPTX and the guarded DOCX. */
export function uploadExtractors(limits: ZipLimits = DEFAULT_ZIP_LIMITS): ContentExtractor[] {
  return [createGuardedDocxExtractor(limits), createXlsxExtractor(limits), createPptxExtractor(limits)];
}

async function extractOffice(
  input: ExtractorInput,
  mimeType: string,
  application: string,
  limits: ZipLimits,
): Promise<ExtractorOutput> {
  const bytes = input.bytes ?? new Uint8Array();
  const corrupt = (reason: string, cause?: unknown) =>
    new CorruptContentError({
      connector: 'upload',
      fileName: input.fileName,
      mimeType,
      reason,
      hint: `Open it in ${application}, save it again and re-upload it`,
      cause,
    });
  if (!(bytes[0] === 0x50 && bytes[1] === 0x4b)) {
    throw corrupt(`it is not a valid ${application} file (these bytes are not a zip archive)`);
  }
  assertSafeZip(bytes, { fileName: input.fileName, mimeType }, limits);
  const { parseOffice } = await import('officeparser');
  let text: string;
  let title: string | undefined;
  try {
    const ast = await parseOffice(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), {
      decompressionLimits: {
        maxUncompressedBytes: limits.maxUncompressedBytes,
        maxZipEntries: limits.maxEntries,
      },
      onWarning: () => {},
    });
    const result = await ast.to('text');
    text = String((result as { value: unknown }).value ?? '');
    title = typeof ast.metadata?.title === 'string' ? ast.metadata.title : undefined;
  } catch (error) {
    if (TributaryError.isInstance(error)) throw error;
    throw corrupt(
      `it is not a valid ${application} file (${error instanceof Error ? error.message : String(error)})`,
      error,
    );
  }
  if (text.length > input.maxCharacters) text = text.slice(0, input.maxCharacters + 1);
  return {
    text,
    title,
    structure: 'plain',
    metadata: { extractor: mimeType === XLSX_MIME_TYPE ? 'xlsx' : 'pptx' },
  };
}
