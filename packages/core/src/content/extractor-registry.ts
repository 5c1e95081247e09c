import { CorruptContentError, InvalidConfigError, UnsupportedContentError } from '../errors/index.js';
import type { ContentExtractor, ExtractedContent, ExtractInput } from './content-extractor.js';
import { csvExtractor, tsvExtractor } from './csv-extractor.js';
import { decodeText, detectByteOrderMark } from './decode-text.js';
import { docxExtractor } from './docx-extractor.js';
import { htmlExtractor } from './html-extractor.js';
import { OCR_IMAGE_MIME_TYPES } from './image-extractor.js';
import { jsonExtractor } from './json-extractor.js';
import { markdownExtractor } from './markdown-extractor.js';
import { normalizeText } from './normalize-text.js';
import {
  createPptxExtractor,
  createXlsxExtractor,
  PPTX_MIME_TYPE,
  XLSX_MIME_TYPE,
} from './office-extractors.js';
import { pdfExtractor } from './pdf-extractor.js';
import { plainTextExtractor } from './plain-text-extractor.js';
import { srtExtractor, webVttExtractor } from './transcript-extractor.js';

/** Default `maxInputBytes`: 100 MB. */
export const DEFAULT_MAX_INPUT_BYTES = 100 * 1024 * 1024;
/** Default `maxCharacters` of extracted text: 10 million (about 2.5 million tokens). */
export const DEFAULT_MAX_CHARACTERS = 10_000_000;

export interface ExtractorRegistryOptions {
  /** Inputs larger than this are refused before any parsing. Default 100 MB. */
  maxInputBytes?: number | undefined;
  /** Extracted text longer than this is refused. Default 10,000,000 characters. */
  maxCharacters?: number | undefined;
}

export interface ExtractorRegistry {
  /** Every registered extractor, later ones first (the order lookups use). */
  readonly extractors: readonly ContentExtractor[];
  /**
   * Decides the real content type (sniffing binary formats from the bytes, checking that text is
   * text), runs the matching extractor and returns normalized text. Throws
   * `UnsupportedContentError` (no extractor, a binary type in disguise, too large) or
   * `CorruptContentError` (damaged content of a supported type).
   */
  extract(input: ExtractInput): Promise<ExtractedContent>;
  /** The extractor registered for a MIME type (parameters such as `; charset=` ignored), if any. */
  extractorFor(mimeType: string): ContentExtractor | undefined;
}

/**
 * The built-in extractors: text, Markdown, HTML, CSV/TSV, JSON, WebVTT, SRT, and the document
 * formats PDF, DOCX, XLSX and PPTX (zip-bomb guarded; their parsers are optional peer
 * dependencies loaded on first use, see `@tributary/core/extractors`).
 */
export function builtInExtractors(): ContentExtractor[] {
  return [
    plainTextExtractor,
    markdownExtractor,
    htmlExtractor,
    csvExtractor,
    tsvExtractor,
    jsonExtractor,
    webVttExtractor,
    srtExtractor,
    pdfExtractor,
    docxExtractor,
    createXlsxExtractor(),
    createPptxExtractor(),
  ];
}

/** Claims that say nothing about the format. */
const GENERIC_MIME_TYPES = new Set([
  '',
  'application/octet-stream',
  'binary/octet-stream',
  'application/unknown',
  'text/plain',
]);

/** Non-`text/*` MIME types that are plain text in practice (code, config), read as `text/plain`. */
const TEXTUAL_APPLICATION_TYPES = new Set([
  'application/javascript',
  'application/x-javascript',
  'application/typescript',
  'application/x-typescript',
  'application/x-sh',
  'application/x-shellscript',
  'application/xml',
  'application/yaml',
  'application/x-yaml',
  'application/toml',
  'application/sql',
  'application/graphql',
]);

/** Images OCR can read (see `createImageExtractor`): refused as `needs_ocr` while OCR is off. */
const IMAGE_TYPES_FOR_OCR = new Set<string>(OCR_IMAGE_MIME_TYPES);

/** Formats stored as zip archives (Office Open XML). */
const ZIP_BASED_TYPES = new Set([
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  XLSX_MIME_TYPE,
  PPTX_MIME_TYPE,
]);

/** Formats whose signature file-type recognises: bytes claiming them without that signature are damaged. */
const SIGNATURE_CHECKED_TYPES = new Set([
  'application/pdf',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
]);

/**
 * Creates a registry of content extractors keyed by MIME type and file extension. With no
 * argument it holds the built-ins; pass `[...builtInExtractors(), myExtractor]` to add a format or
 * override one (a later extractor for the same MIME type or extension wins).
 *
 * @example
 * const registry = createExtractorRegistry();
 * const { text, mimeType, title, structure } = await registry.extract({ bytes, fileName: 'report.pdf' });
 */
export function createExtractorRegistry(
  extractors: readonly ContentExtractor[] = builtInExtractors(),
  options: ExtractorRegistryOptions = {},
): ExtractorRegistry {
  const maxInputBytes = positiveLimit(options.maxInputBytes, DEFAULT_MAX_INPUT_BYTES, 'maxInputBytes');
  const maxCharacters = positiveLimit(options.maxCharacters, DEFAULT_MAX_CHARACTERS, 'maxCharacters');

  const ordered = [...extractors].reverse();
  const byMimeType = new Map<string, ContentExtractor>();
  const byExtension = new Map<string, ContentExtractor>();
  for (const extractor of ordered) {
    for (const mimeType of extractor.mimeTypes.map((type) => type.toLowerCase())) {
      if (!byMimeType.has(mimeType)) byMimeType.set(mimeType, extractor);
    }
    for (const extension of (extractor.extensions ?? []).map((name) => name.toLowerCase())) {
      if (!byExtension.has(extension)) byExtension.set(extension, extractor);
    }
  }
  const extractorFor = (mimeType: string) => byMimeType.get(parseMimeType(mimeType).essence);

  async function extract(input: ExtractInput): Promise<ExtractedContent> {
    const claimed = parseMimeType(input.claimedMimeType ?? '');
    const extension = fileExtension(input.fileName);
    const label = input.fileName ?? (claimed.essence || 'the content');
    const errorContext = { fileName: input.fileName, mimeType: claimed.essence || undefined };

    if (input.bytes === undefined && input.text === undefined) {
      throw new UnsupportedContentError({
        ...errorContext,
        message: `no content to extract from ${label}: neither bytes nor text was given`,
        hint: 'Pass `bytes` (file content) or `text` to registry.extract()',
      });
    }
    const size =
      input.bytes !== undefined ? input.bytes.byteLength : Buffer.byteLength(input.text ?? '', 'utf8');
    if (size > maxInputBytes) {
      throw new UnsupportedContentError({
        ...errorContext,
        reason: 'too_large',
        message: `${label} is ${formatBytes(size)}, over the ${formatBytes(maxInputBytes)} input limit`,
        hint: 'Split the file, or raise maxInputBytes in createExtractorRegistry() if this size is expected',
      });
    }

    const claimedExtractor = byMimeType.get(claimed.essence);
    const extensionExtractor = extension ? byExtension.get(extension) : undefined;
    let decided: {
      extractor: ContentExtractor;
      mimeType: string;
      text?: string | undefined;
      encoding?: string | undefined;
    };

    if (input.bytes === undefined) {
      const text = input.text ?? '';
      const binaryClaim = [claimedExtractor, extensionExtractor].find((extractor) => extractor?.binary);
      if (binaryClaim && !(claimedExtractor && !claimedExtractor.binary)) {
        throw new UnsupportedContentError({
          ...errorContext,
          message: `${label} was given as text, but ${binaryClaim.name.toUpperCase()} content can only be read from its bytes`,
          hint: 'Pass the file content as `bytes` instead of `text`',
        });
      }
      decided = { ...decideTextType(text), text };
    } else {
      decided = await decideFromBytes(input.bytes);
    }

    const output = await decided.extractor.extract({
      bytes: input.bytes,
      text: decided.text,
      mimeType: decided.mimeType,
      fileName: input.fileName,
      label,
      maxCharacters,
    });
    const text = normalizeText(output.text);
    if (text.length > maxCharacters) {
      throw new UnsupportedContentError({
        reason: 'too_large',
        fileName: input.fileName,
        mimeType: decided.mimeType,
        message: `${label} holds ${text.length.toLocaleString('en-US')} characters of text, over the ${maxCharacters.toLocaleString('en-US')} limit`,
        hint: 'Split the document, or raise maxCharacters in createExtractorRegistry() if this size is expected',
      });
    }
    const title = output.title?.replace(/\s+/g, ' ').trim();
    return {
      text,
      mimeType: decided.mimeType,
      title: title === '' ? undefined : title,
      metadata: {
        extractor: decided.extractor.name,
        ...(decided.encoding && decided.encoding !== 'utf-8' ? { encoding: decided.encoding } : {}),
        ...output.metadata,
      },
      structure: output.structure,
    };

    /** For text content: the claim if it is specific, then the extension, then a look at the text. */
    function decideTextType(
      text: string,
      sniffedMimeType?: string,
    ): { extractor: ContentExtractor; mimeType: string } {
      // file-type recognises a few text formats by their first line (WebVTT's "WEBVTT").
      const sniffedExtractor = sniffedMimeType ? byMimeType.get(sniffedMimeType) : undefined;
      if (sniffedMimeType && sniffedExtractor && !sniffedExtractor.binary) {
        return { extractor: sniffedExtractor, mimeType: sniffedMimeType };
      }
      if (claimedExtractor && !claimedExtractor.binary && !GENERIC_MIME_TYPES.has(claimed.essence)) {
        return { extractor: claimedExtractor, mimeType: claimed.essence };
      }
      if (extensionExtractor && !extensionExtractor.binary) {
        return { extractor: extensionExtractor, mimeType: extensionExtractor.mimeTypes[0] ?? 'text/plain' };
      }
      const guessed = sniffTextType(text);
      const guessedExtractor = guessed ? byMimeType.get(guessed) : undefined;
      if (guessed && guessedExtractor) return { extractor: guessedExtractor, mimeType: guessed };
      const plain = byMimeType.get('text/plain');
      const textual =
        GENERIC_MIME_TYPES.has(claimed.essence) ||
        claimed.essence.startsWith('text/') ||
        TEXTUAL_APPLICATION_TYPES.has(claimed.essence);
      if (plain && textual) {
        return {
          extractor: plain,
          mimeType:
            claimed.essence && claimed.essence !== 'application/octet-stream'
              ? claimed.essence
              : 'text/plain',
        };
      }
      throw new UnsupportedContentError({
        ...errorContext,
        message: `cannot extract text from ${label}: no extractor handles ${claimed.essence}`,
      });
    }

    async function decideFromBytes(bytes: Uint8Array): Promise<{
      extractor: ContentExtractor;
      mimeType: string;
      text?: string | undefined;
      encoding?: string | undefined;
    }> {
      // A byte-order mark means text; some BOMs (FF FE) look like audio frame headers to a sniffer.
      const sniffed = detectByteOrderMark(bytes) ? undefined : await sniffBinaryType(bytes);
      if (sniffed) {
        const sniffedExtractor = byMimeType.get(sniffed.mime);
        if (sniffedExtractor?.binary) return { extractor: sniffedExtractor, mimeType: sniffed.mime };
        // Office files are zips; file-type names them only when it finds their parts early in the archive.
        const claimedZipFormat = [claimedExtractor, extensionExtractor].find(
          (extractor) =>
            extractor?.binary && extractor.mimeTypes.some((mimeType) => ZIP_BASED_TYPES.has(mimeType)),
        );
        if (sniffed.mime === 'application/zip' && claimedZipFormat) {
          return { extractor: claimedZipFormat, mimeType: claimedZipFormat.mimeTypes[0] ?? sniffed.mime };
        }
        if (!isTextualSniff(sniffed.mime) && !sniffedExtractor) {
          const claim =
            claimed.essence && claimed.essence !== sniffed.mime
              ? `, although it claims to be ${claimed.essence}`
              : '';
          const named =
            extension && extensionExtractor && !extensionExtractor.mimeTypes.includes(sniffed.mime) && !claim
              ? `, although its name ends in .${extension}`
              : '';
          const image = !claim && !named && IMAGE_TYPES_FOR_OCR.has(sniffed.mime);
          throw new UnsupportedContentError({
            ...(image ? { reason: 'needs_ocr' as const } : {}),
            fileName: input.fileName,
            mimeType: sniffed.mime,
            message: `cannot extract text from ${label}: its bytes are ${describeSniffed(sniffed)}${claim}${named}`,
            hint: image
              ? "Its text can only be read by OCR: turn it on with documentExtractors({ ocr: { languages: ['eng'] } }) from @tributary/core/extractors"
              : claim || named
                ? 'The file is not what its name or type says; check its source, and register an extractor for this type if it should be indexed'
                : 'Convert it to a supported type (text, HTML, Markdown, PDF, DOCX, CSV, VTT/SRT) or register an extractor for it',
          });
        }
      }

      const binaryClaim = [claimedExtractor, extensionExtractor].find((extractor) => extractor?.binary);
      if (binaryClaim) {
        const claimedType = binaryClaim.mimeTypes[0] ?? claimed.essence;
        if (claimedType === 'application/pdf' && hasPdfHeaderNearStart(bytes)) {
          return { extractor: binaryClaim, mimeType: claimedType };
        }
        if (!SIGNATURE_CHECKED_TYPES.has(claimedType))
          return { extractor: binaryClaim, mimeType: claimedType };
        throw new CorruptContentError({
          fileName: input.fileName,
          mimeType: claimedType,
          reason: `the bytes do not carry the ${binaryClaim.name.toUpperCase()} signature, so the file is damaged or not a ${binaryClaim.name.toUpperCase()} at all`,
        });
      }

      const charset =
        claimed.parameters.charset ?? (claimedOrNamedHtml() ? htmlMetaCharset(bytes) : undefined);
      const decoded = decodeText(bytes, charset);
      if (!decoded.ok) {
        const claimedText =
          (claimedExtractor !== undefined && !claimedExtractor.binary) ||
          claimed.essence.startsWith('text/') ||
          (extensionExtractor !== undefined && !extensionExtractor.binary);
        if (claimedText) {
          throw new CorruptContentError({
            fileName: input.fileName,
            mimeType: claimed.essence || extensionExtractor?.mimeTypes[0],
            reason: `it should be text, but ${decoded.reason}`,
            hint: 'Check that the file was not damaged in transfer and that its type is right, then re-upload or sync it',
          });
        }
        throw new UnsupportedContentError({
          ...errorContext,
          message: `cannot extract text from ${label}: ${decoded.reason}, and its format is not one Tributary recognises`,
        });
      }
      const text = decoded.text;
      return { ...decideTextType(text, sniffed?.mime), text, encoding: decoded.encoding };
    }

    function claimedOrNamedHtml(): boolean {
      return (claimedExtractor ?? extensionExtractor)?.mimeTypes.includes('text/html') ?? false;
    }
  }

  return { extractors: ordered, extract, extractorFor };
}

/** `Text/HTML; charset=UTF-8` → essence `text/html`, parameters `{ charset: 'utf-8' }`. */
export function parseMimeType(value: string): { essence: string; parameters: Record<string, string> } {
  const [essence = '', ...rest] = value.split(';');
  const parameters: Record<string, string> = {};
  for (const parameter of rest) {
    const [key, ...valueParts] = parameter.split('=');
    if (key && valueParts.length > 0) {
      parameters[key.trim().toLowerCase()] = valueParts
        .join('=')
        .trim()
        .replace(/^"(.*)"$/, '$1')
        .toLowerCase();
    }
  }
  return { essence: essence.trim().toLowerCase(), parameters };
}

function fileExtension(fileName: string | undefined): string | undefined {
  const match = fileName ? /\.([A-Za-z0-9]{1,10})$/.exec(fileName.trim()) : null;
  return match?.[1]?.toLowerCase();
}

/** Recognises formats by their magic bytes (file-type, loaded on first use; ESM-only). */
async function sniffBinaryType(bytes: Uint8Array): Promise<{ mime: string; ext: string } | undefined> {
  const { fileTypeFromBuffer } = await import('file-type');
  try {
    return await fileTypeFromBuffer(bytes);
  } catch {
    return undefined; // A parser choking on odd bytes means "not recognised", never a crash.
  }
}

/** file-type results that are text, decided by the text path (XML, `text/*` it recognises). */
function isTextualSniff(mime: string): boolean {
  return mime.startsWith('text/') || mime === 'application/xml';
}

function describeSniffed(sniffed: { mime: string; ext: string }): string {
  const known: Record<string, string> = {
    'application/zip': 'a ZIP archive',
    'application/x-msdownload': 'a Windows executable',
    'application/x-elf': 'a Linux executable',
    'application/x-cfb': 'a legacy Microsoft Office file (.doc/.xls/.ppt)',
  };
  return `${known[sniffed.mime] ?? `a .${sniffed.ext} file`} (${sniffed.mime})`;
}

/** PDF readers accept `%PDF-` anywhere in the first 1024 bytes; file-type only at offset 0. */
function hasPdfHeaderNearStart(bytes: Uint8Array): boolean {
  return Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, 1024)).includes(
    '%PDF-',
    0,
    'latin1',
  );
}

/** Content-based guesses for text without a useful type or extension. */
function sniffTextType(text: string): string | undefined {
  const start = text.slice(0, 2048).replace(/^\uFEFF/, '');
  if (/^WEBVTT(?:[ \t]|\r?\n|$)/.test(start)) return 'text/vtt';
  if (/^\s*\d+\s*\r?\n\d{1,2}:\d{2}:\d{2}[,.]\d{3}\s*-->\s*\d{1,2}:\d{2}:\d{2}[,.]\d{3}/.test(start))
    return 'application/x-subrip';
  if (/^\s*(?:<!--[\s\S]*?-->\s*)*(?:<!doctype\s+html|<html[\s>])/i.test(start)) return 'text/html';
  const trimmed = start.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      JSON.parse(text);
      return 'application/json';
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** `<meta charset="...">` or the http-equiv form within the first 1024 bytes. */
function htmlMetaCharset(bytes: Uint8Array): string | undefined {
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, 1024)).toString(
    'latin1',
  );
  return /<meta[^>]+charset\s*=\s*["']?([\w-]+)/i.exec(head)?.[1]?.toLowerCase();
}

function positiveLimit(value: number | undefined, fallback: number, field: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) {
    throw new InvalidConfigError({
      subject: 'extractor registry options',
      issues: [{ fieldPath: field, message: 'must be a positive number' }],
    });
  }
  return value;
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${bytes} bytes`;
}
