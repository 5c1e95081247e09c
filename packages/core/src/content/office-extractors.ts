import { CorruptContentError, TributaryError } from '../errors/index.js';
import type { ContentExtractor, ExtractorInput, ExtractorOutput } from './content-extractor.js';
import { importOptionalParser } from './optional-parser.js';
import { assertSafeZip, DEFAULT_ZIP_LIMITS, type ZipLimits } from './zip-guard.js';

export const XLSX_MIME_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
export const PPTX_MIME_TYPE = 'application/vnd.openxmlformats-officedocument.presentationml.presentation';

/** The package the XLSX and PPTX extractors need (an optional peer of @tributary/core). */
export const OFFICE_PARSER_PACKAGES = ['officeparser'] as const;

/**
 * Excel workbooks (`.xlsx`) through officeparser: each sheet's cells, a row per line. The zip is
 * checked against `limits` (zip bombs) before officeparser opens it.
 */
export function createXlsxExtractor(limits: ZipLimits = DEFAULT_ZIP_LIMITS): ContentExtractor {
  return {
    name: 'xlsx',
    mimeTypes: [XLSX_MIME_TYPE],
    extensions: ['xlsx'],
    binary: true,
    extract: (input) => extractOffice(input, XLSX_MIME_TYPE, 'Excel', limits),
  };
}

/** PowerPoint decks (`.pptx`) through officeparser: the text of every slide, in order, zip-guarded. */
export function createPptxExtractor(limits: ZipLimits = DEFAULT_ZIP_LIMITS): ContentExtractor {
  return {
    name: 'pptx',
    mimeTypes: [PPTX_MIME_TYPE],
    extensions: ['pptx'],
    binary: true,
    extract: (input) => extractOffice(input, PPTX_MIME_TYPE, 'PowerPoint', limits),
  };
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
      fileName: input.fileName,
      mimeType,
      reason,
      hint: `Open it in ${application}, save it again and upload or sync it again`,
      cause,
    });
  if (!(bytes[0] === 0x50 && bytes[1] === 0x4b)) {
    throw corrupt(`it is not a valid ${application} file (these bytes are not a zip archive)`);
  }
  assertSafeZip(bytes, { fileName: input.fileName, mimeType }, limits);
  const { parseOffice } = await importOptionalParser(
    OFFICE_PARSER_PACKAGES,
    () => import('officeparser'),
    input,
  );
  let text: string;
  let title: string | undefined;
  try {
    const ast = await parseOffice(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), {
      // Checked again while inflating: the central directory can lie about sizes.
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
  // Stop at the cap: the registry reports the overflow with a clear error.
  if (text.length > input.maxCharacters) text = text.slice(0, input.maxCharacters + 1);
  return { text, title, structure: 'plain', metadata: {} };
}
