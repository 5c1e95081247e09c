import { CorruptContentError, UnsupportedContentError } from '../errors/index.js';

export interface ZipLimits {
  /** Total uncompressed size the archive may declare. Default 200 MB. */
  maxUncompressedBytes: number;
  /** Largest uncompressed/compressed ratio of one entry above 1 MB. Default 200. */
  maxCompressionRatio: number;
  /** Entries an archive may hold. Default 10,000. */
  maxEntries: number;
}

export const DEFAULT_ZIP_LIMITS: ZipLimits = {
  maxUncompressedBytes: 200 * 1024 * 1024,
  maxCompressionRatio: 200,
  maxEntries: 10_000,
};

/**
 * Reads a zip's central directory (no inflating) and refuses archives that would expand beyond
 * the limits: the classic zip bomb is a few hundred kilobytes that inflate to gigabytes, which
 * would take the extractor (and the worker) down. Office files are zips, so every DOCX, XLSX and
 * PPTX, whichever connector brought it, goes through this before any parser sees it.
 */
export function assertSafeZip(
  bytes: Uint8Array,
  context: { fileName?: string | undefined; mimeType: string },
  limits: ZipLimits = DEFAULT_ZIP_LIMITS,
): void {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const corrupt = (reason: string) =>
    new CorruptContentError({
      fileName: context.fileName,
      mimeType: context.mimeType,
      reason,
      hint: 'Open the file in its application, save it again and upload or sync it again',
    });
  // End of central directory: 22 bytes plus a comment of up to 65,535 bytes, at the end.
  const searchFrom = Math.max(0, view.byteLength - 22 - 0xffff);
  let end = -1;
  for (let index = view.byteLength - 22; index >= searchFrom; index -= 1) {
    if (view.readUInt32LE(index) === 0x06054b50) {
      end = index;
      break;
    }
  }
  if (end < 0) throw corrupt('the zip archive is truncated (no central directory)');
  const entries = view.readUInt16LE(end + 10);
  const directorySize = view.readUInt32LE(end + 12);
  const directoryOffset = view.readUInt32LE(end + 16);
  if (entries === 0xffff || directoryOffset === 0xffffffff) {
    throw new UnsupportedContentError({
      reason: 'unsafe_archive',
      fileName: context.fileName,
      mimeType: context.mimeType,
      message: `${context.fileName ?? 'the file'} is a ZIP64 archive, which office documents never need`,
      hint: 'Save the document again in its application and re-upload it',
    });
  }
  if (entries > limits.maxEntries) {
    throw bomb(`it holds ${entries} entries (limit ${limits.maxEntries})`);
  }
  if (directoryOffset + directorySize > end) throw corrupt('the zip central directory is damaged');
  let offset = directoryOffset;
  let total = 0;
  for (let entry = 0; entry < entries; entry += 1) {
    if (offset + 46 > end || view.readUInt32LE(offset) !== 0x02014b50) {
      throw corrupt('the zip central directory is damaged');
    }
    const compressed = view.readUInt32LE(offset + 20);
    const uncompressed = view.readUInt32LE(offset + 24);
    const nameLength = view.readUInt16LE(offset + 28);
    const extraLength = view.readUInt16LE(offset + 30);
    const commentLength = view.readUInt16LE(offset + 32);
    total += uncompressed;
    if (total > limits.maxUncompressedBytes) {
      throw bomb(
        `it would expand to more than ${formatMegabytes(limits.maxUncompressedBytes)} (a zip bomb, or far larger than any office document)`,
      );
    }
    if (uncompressed > 1024 * 1024 && uncompressed / Math.max(1, compressed) > limits.maxCompressionRatio) {
      throw bomb(
        `one part expands ${Math.round(uncompressed / Math.max(1, compressed))}-fold (${formatMegabytes(uncompressed)}), the signature of a zip bomb`,
      );
    }
    offset += 46 + nameLength + extraLength + commentLength;
  }

  function bomb(reason: string) {
    return new UnsupportedContentError({
      reason: 'unsafe_archive',
      fileName: context.fileName,
      mimeType: context.mimeType,
      message: `${context.fileName ?? 'the file'} was not opened: ${reason}`,
      hint: 'Use the original document; if it really is this large, split it or raise zipLimits (see documentExtractors)',
    });
  }
}

function formatMegabytes(bytes: number): string {
  return `${Math.round(bytes / (1024 * 1024))} MB`;
}
