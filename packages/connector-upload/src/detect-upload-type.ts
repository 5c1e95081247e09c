import { UploadRejectedError } from './upload-rejected-error.js';
import {
  DOCX_MIME_TYPE,
  extensionOf,
  kindOf,
  MIME_TYPE_BY_EXTENSION,
  PPTX_MIME_TYPE,
  type UploadKind,
  XLSX_MIME_TYPE,
} from './upload-types.js';

/** Bytes read from the start of a file to decide its type (OOXML needs a look past the first entry). */
export const SNIFF_BYTES = 64 * 1024;

const TEXT_TYPES = new Set(['text/plain', 'text/markdown', 'text/csv', 'text/html', 'application/json']);
const OOXML_TYPES = new Set([DOCX_MIME_TYPE, XLSX_MIME_TYPE, PPTX_MIME_TYPE]);
// Container formats whose brand a sniffer may name differently from the extension.
const EQUIVALENT: Readonly<Record<string, string>> = {
  'audio/mp4': 'video/mp4',
  'video/x-m4v': 'video/mp4',
  'audio/x-wav': 'audio/wav',
  'audio/vnd.wave': 'audio/wav',
  'audio/opus': 'audio/ogg',
  'video/ogg': 'audio/ogg',
  'audio/webm': 'video/webm',
  'audio/mp3': 'audio/mpeg',
};

export interface DetectedUploadType {
  /** The type decided from the bytes (the extension only picks among text types, which have no signature). */
  mimeType: string;
  kind: UploadKind;
}

export interface DetectUploadTypeInput {
  head: Uint8Array;
  fileName: string;
  claimedMimeType?: string | undefined;
  allowedMimeTypes: ReadonlySet<string>;
}

/**
 * Decides a file's type from its first bytes (file-type) and checks it against the allowlist.
 * The name and the claimed type are trusted only where the bytes cannot speak: a `.pdf` whose bytes
 * are an executable, or a `.docx` that is plain text, is refused; a `.jpg` that is really a PNG is
 * stored as the PNG it is (both are images, nothing is lost).
 */
export async function detectUploadType(input: DetectUploadTypeInput): Promise<DetectedUploadType> {
  const { head, fileName } = input;
  const extension = extensionOf(fileName);
  const named = extension ? MIME_TYPE_BY_EXTENSION[extension] : undefined;
  const claimed = input.claimedMimeType?.split(';')[0]?.trim().toLowerCase() || undefined;
  const sniffed = await sniff(head);
  const sniffedType = sniffed ? (EQUIVALENT[sniffed.mime] ?? sniffed.mime) : undefined;

  const refuseType = (mimeType: string, description: string) =>
    new UploadRejectedError({
      reason: 'type_not_allowed',
      fileName,
      message: `${fileName} is ${description} (${mimeType}), which uploads do not accept`,
      hint: 'Upload PDF, Word, Excel, PowerPoint, text, Markdown, CSV, JSON, HTML, images, audio or video; ask the administrator to add the type to allowedMimeTypes if it is needed',
    });
  const mismatch = (actual: string) =>
    new UploadRejectedError({
      reason: 'type_mismatch',
      fileName,
      message: `${fileName} is named .${extension} but its bytes are ${actual}`,
      hint: 'The file is not what its name says; check where it came from, rename it to its real type or export it again',
    });

  if (sniffed && sniffedType && !isTextualSniff(sniffedType)) {
    if (
      sniffedType === 'application/zip' &&
      (named ? OOXML_TYPES.has(named) : claimed && OOXML_TYPES.has(claimed))
    ) {
      // OOXML is a zip; file-type names it only when Office's parts come early in the archive.
      const type = (named ?? claimed) as string;
      return allowed(type, input.allowedMimeTypes, refuseType);
    }
    if (!input.allowedMimeTypes.has(sniffedType)) {
      if (named && named !== sniffedType) throw mismatch(describe(sniffed.mime, sniffed.ext));
      throw refuseType(sniffedType, describe(sniffed.mime, sniffed.ext));
    }
    if (named && named !== sniffedType && kindOf(named) !== kindOf(sniffedType)) {
      throw mismatch(describe(sniffed.mime, sniffed.ext));
    }
    if (named && named !== sniffedType && (kindOf(named) === 'document' || OOXML_TYPES.has(named))) {
      throw mismatch(describe(sniffed.mime, sniffed.ext));
    }
    return { mimeType: sniffedType, kind: kindOf(sniffedType) };
  }

  // No signature: it must be text, and the name (or the claim) says which text type.
  if (!looksLikeText(head)) {
    if (named && !TEXT_TYPES.has(named)) throw mismatch('binary data of no recognised format');
    throw new UploadRejectedError({
      reason: 'type_not_allowed',
      fileName,
      message: `${fileName} is binary data of no recognised format`,
      hint: 'Upload PDF, Word, Excel, PowerPoint, text, Markdown, CSV, JSON, HTML, images, audio or video',
    });
  }
  if (named && !TEXT_TYPES.has(named)) throw mismatch('plain text');
  const textType = named ?? (claimed && TEXT_TYPES.has(claimed) ? claimed : 'text/plain');
  return allowed(textType, input.allowedMimeTypes, refuseType);
}

function allowed(
  mimeType: string,
  allowedMimeTypes: ReadonlySet<string>,
  refuse: (mimeType: string, description: string) => UploadRejectedError,
): DetectedUploadType {
  if (!allowedMimeTypes.has(mimeType)) throw refuse(mimeType, 'a file type');
  return { mimeType, kind: kindOf(mimeType) };
}

async function sniff(head: Uint8Array): Promise<{ mime: string; ext: string } | undefined> {
  // A byte-order mark means text (FF FE also looks like an audio frame header).
  if (hasByteOrderMark(head)) return undefined;
  const { fileTypeFromBuffer } = await import('file-type');
  try {
    return await fileTypeFromBuffer(head);
  } catch {
    return undefined;
  }
}

function isTextualSniff(mime: string): boolean {
  return mime.startsWith('text/') || mime === 'application/xml';
}

function hasByteOrderMark(bytes: Uint8Array): boolean {
  return (
    (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) ||
    (bytes[0] === 0xff && bytes[1] === 0xfe) ||
    (bytes[0] === 0xfe && bytes[1] === 0xff)
  );
}

/** Text has no NUL bytes (UTF-16 aside) and decodes as UTF-8, allowing a character cut at the end. */
function looksLikeText(head: Uint8Array): boolean {
  if (hasByteOrderMark(head)) return true;
  if (head.includes(0)) return false;
  const decoder = new TextDecoder('utf-8', { fatal: true });
  for (let cut = 0; cut < 4 && cut < head.byteLength; cut += 1) {
    try {
      decoder.decode(head.subarray(0, head.byteLength - cut));
      return true;
    } catch {
      // A multi-byte character may be cut at the end of the sample: try a shorter one.
    }
  }
  // Windows-1252 and Latin-1 text: mostly printable bytes.
  let control = 0;
  for (const byte of head) if (byte < 0x09 || (byte > 0x0d && byte < 0x20)) control += 1;
  return control / Math.max(1, head.byteLength) < 0.01;
}

function describe(mime: string, ext: string): string {
  const known: Record<string, string> = {
    'application/zip': 'a ZIP archive',
    'application/x-msdownload': 'a Windows executable',
    'application/x-elf': 'a Linux executable',
    'application/x-mach-binary': 'a macOS executable',
    'application/x-cfb': 'a legacy Microsoft Office file (.doc/.xls/.ppt)',
    'application/pdf': 'a PDF',
  };
  if (known[mime]) return known[mime];
  if (mime.startsWith('image/')) return `a .${ext} image`;
  if (mime.startsWith('audio/')) return `.${ext} audio`;
  if (mime.startsWith('video/')) return `a .${ext} video`;
  return `a .${ext} file`;
}
