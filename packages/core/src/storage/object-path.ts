import { InvalidBlobPathError } from './blob-store-errors.js';

/** The Supabase Storage bucket imported files go to. */
export const CONNECTOR_IMPORTS_BUCKET = 'connector-imports';

/** Default `maxBytes` of `sanitizeFileName`: 120 bytes of UTF-8. */
export const MAX_FILE_NAME_BYTES = 120;

export interface ObjectPathParts {
  /** The tenant. */
  orgId: string;
  /** `google_drive`, `upload`, `local_folder`... */
  connectorType: string;
  /** The connector config's id. */
  connectorId: string;
  /** Import day, as a Date (its UTC day is used) or a `YYYY-MM-DD` string. */
  date: Date | string;
  /** A coarse type folder: `pdf`, `docx`, `transcripts`... */
  fileType: string;
  /** A unique id for this file (document id, upload id): keeps equal names apart. */
  fileId: string;
  /** The original file name; sanitised with `sanitizeFileName`. */
  fileName: string;
}

// Ids and type names: portable, case-preserving, no separators, never "." or "..".
const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

/**
 * The object path of an imported file, as every storage adapter lays it out:
 * `{orgId}/connectors/{connectorType}/{connectorId}/{YYYY-MM-DD}/{fileType}/{fileId}-{filename}`.
 * The id parts must be plain segments (letters, digits, `.`, `_`, `-`; `InvalidBlobPathError`
 * otherwise); the file name is made safe with `sanitizeFileName(name, { ascii: true })`, so a
 * hostile name cannot move the object out of its folder and every adapter (Supabase Storage
 * refuses non-ASCII keys) accepts the path. Keep the original name in the document's metadata.
 *
 * @example
 * buildObjectPath({ orgId: 'org-1', connectorType: 'upload', connectorId: 'c-9', date: new Date(),
 *   fileType: 'pdf', fileId: 'f-42', fileName: 'Q3 report.pdf' });
 * // 'org-1/connectors/upload/c-9/2025-01-31/pdf/f-42-Q3 report.pdf'
 */
export function buildObjectPath(parts: ObjectPathParts): string {
  const segment = (name: keyof ObjectPathParts) => {
    const value = parts[name];
    if (typeof value !== 'string' || !SEGMENT.test(value)) {
      throw new InvalidBlobPathError({
        reason: `${name} must be 1-128 letters, digits, ".", "_" or "-" and not start with "." or "-"`,
        path: typeof value === 'string' ? value : undefined,
        hint: `Pass an id as ${name} (a UUID, a slug), not a name or a path`,
      });
    }
    return value;
  };
  return [
    segment('orgId'),
    'connectors',
    segment('connectorType'),
    segment('connectorId'),
    formatDay(parts.date),
    segment('fileType'),
    `${segment('fileId')}-${sanitizeFileName(parts.fileName, { ascii: true })}`,
  ].join('/');
}

function formatDay(date: Date | string): string {
  if (typeof date === 'string') {
    if (/^\d{4}-\d{2}-\d{2}$/.test(date) && !Number.isNaN(Date.parse(`${date}T00:00:00Z`))) {
      const parsed = new Date(`${date}T00:00:00Z`);
      if (parsed.toISOString().startsWith(date)) return date;
    }
  } else if (date instanceof Date && !Number.isNaN(date.getTime())) {
    return date.toISOString().slice(0, 10);
  }
  throw new InvalidBlobPathError({
    reason: 'date must be a valid Date or a YYYY-MM-DD string',
    path: typeof date === 'string' ? date : undefined,
  });
}

export interface SanitizeFileNameOptions {
  /** Upper bound in UTF-8 bytes. Default 120. */
  maxBytes?: number | undefined;
  /** Name used when nothing usable is left. Default `file`. */
  fallback?: string | undefined;
  /**
   * Keep only the characters Supabase Storage accepts in object keys (ASCII letters, digits, space
   * and `!-_.*'()&$@=;+,`): accents are folded (`résumé` is `resume`), anything else becomes `_`.
   * `buildObjectPath` sets it, so one path works with every storage adapter. Default `false`.
   */
  ascii?: boolean | undefined;
}

// Characters Supabase Storage accepts in a key (after `<>:"|?*` were replaced above).
const NOT_STORAGE_SAFE = /[^A-Za-z0-9 !\-_.*'()&$@=;+,]+/g;

// C0/C1 controls and DEL; bidi embeddings, overrides and isolates (they make "evil\u202Efdp.exe"
// display as "evilexe.pdf"); zero-width space, LRM/RLM and the BOM (ZWJ/ZWNJ stay: emoji and
// Persian need them).
const INVISIBLE_CHARACTERS =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
  /[\u0000-\u001f\u007f-\u009f\u061c\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;
// Reserved on Windows or special in URLs and shells; replaced rather than dropped to keep word breaks.
const RESERVED_CHARACTERS = /[<>:"|?*]/g;
const MAX_EXTENSION_BYTES = 16;

/**
 * Turns any user- or provider-supplied name into one safe object-path segment: keeps only the last
 * path component (so `../../etc/passwd` is `passwd`, `C:\\x\\a.pdf` is `a.pdf`), normalises to
 * Unicode NFC, drops control, bidi-override and zero-width characters, replaces `<>:"|?*` with
 * `_`, collapses whitespace, trims leading dots and trailing dots/spaces, and bounds the result to
 * `maxBytes` (120) bytes of UTF-8, cutting the stem between whole characters (grapheme clusters,
 * so an emoji is never split) and keeping the extension. An empty result becomes `fallback`
 * (`file`, keeping the extension when there was one).
 */
export function sanitizeFileName(name: string, options: SanitizeFileNameOptions = {}): string {
  const maxBytes = options.maxBytes ?? MAX_FILE_NAME_BYTES;
  const fallback = options.fallback ?? 'file';
  let text = typeof name === 'string' ? name : '';
  // Drop lone surrogates (invalid UTF-16 cannot be encoded as UTF-8), then normalise.
  text = text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '');
  text = text.normalize('NFC').replace(INVISIBLE_CHARACTERS, '');
  const components = text.split(/[/\\]/).filter((component) => component.trim() !== '');
  text = components.at(-1) ?? '';
  text = text
    .replace(RESERVED_CHARACTERS, '_')
    .replace(/\s+/gu, ' ')
    .replace(/^[\s.]+/u, '')
    .replace(/[\s.]+$/u, '');
  if (options.ascii) {
    const folded = text
      .normalize('NFKD')
      .replace(/\p{M}/gu, '')
      .replace(NOT_STORAGE_SAFE, '_')
      .replace(/_{2,}/g, '_');
    const extension = /\.[A-Za-z0-9]{1,15}$/.exec(folded)?.[0] ?? '';
    const base = folded
      .slice(0, folded.length - extension.length)
      .replace(/^[\s._]+/u, '')
      .replace(/[\s._]+$/u, '');
    // Nothing readable left (a name entirely in another script): the fallback says so honestly.
    text = `${/[A-Za-z0-9]/.test(base) ? base : fallback}${extension}`;
  }

  let stem = text;
  let extension = '';
  const dot = text.lastIndexOf('.');
  if (dot > 0) {
    const candidate = text.slice(dot);
    if (
      Buffer.byteLength(candidate, 'utf8') <= MAX_EXTENSION_BYTES &&
      !/\s/.test(candidate) &&
      candidate.length > 1
    ) {
      stem = text.slice(0, dot).replace(/[\s.]+$/u, '');
      extension = candidate;
    }
  }
  if (stem === '') stem = fallback;
  const budget = Math.max(1, maxBytes - Buffer.byteLength(extension, 'utf8'));
  if (Buffer.byteLength(stem, 'utf8') > budget) {
    stem = truncateUtf8(stem, budget).replace(/[\s.]+$/u, '') || truncateUtf8(fallback, budget);
  }
  return truncateUtf8(`${stem}${extension}`, maxBytes);
}

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** The longest prefix of `text` made of whole grapheme clusters that fits in `maxBytes` of UTF-8. */
function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  let result = '';
  let used = 0;
  for (const { segment } of graphemes.segment(text)) {
    const size = Buffer.byteLength(segment, 'utf8');
    if (used + size > maxBytes) break;
    result += segment;
    used += size;
  }
  return result;
}
