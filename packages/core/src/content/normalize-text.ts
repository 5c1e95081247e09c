import { createHash } from 'node:crypto';

/**
 * Control characters that carry no text: C0 controls except tab (\t), line feed (\n) and form
 * feed (\f, kept as the page-break marker extractors put between PDF pages), DEL, and C1 controls.
 * The byte-order mark and the Unicode "noncharacter" U+FFFE/U+FFFF are dropped too.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point.
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000B\u000E-\u001F\u007F-\u009F\uFEFF\uFFFE\uFFFF]/g;

/** A UTF-16 surrogate without its pair (from a broken encoder or a cut string). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Puts text in the one canonical form every later stage (content hash, chunking, embedding,
 * full-text search) relies on, so that the same document arriving twice, from an editor that
 * saves CRLF or with trailing spaces, hashes the same:
 *
 * - Unicode NFC (a precomposed `é` and `e` + combining accent become the same string);
 * - CRLF, lone CR and the Unicode line/paragraph separators become `\n`;
 * - NUL and other control characters are removed (tab, newline and form feed are kept);
 * - lone UTF-16 surrogates become U+FFFD;
 * - trailing spaces and tabs at the end of each line are removed;
 * - three or more consecutive line breaks collapse to one blank line;
 * - leading and trailing blank space of the whole text is trimmed.
 *
 * Idempotent: `normalizeText(normalizeText(x)) === normalizeText(x)`.
 */
export function normalizeText(text: string): string {
  return text
    .replace(LONE_SURROGATE, '\uFFFD')
    .normalize('NFC')
    .replace(/\r\n?|[\u2028\u2029\u0085]/g, '\n')
    .replace(CONTROL_CHARACTERS, '')
    .replace(/[ \t\u00A0]+$/gm, '')
    .replace(/\n{3,}/g, '\n\n')
    .replace(/^\s+|\s+$/g, '');
}

/**
 * SHA-256 (hex) of the normalized text: the content-level dedup key. Two texts that differ only
 * in what `normalizeText` removes have the same hash, so an unchanged document is not re-chunked
 * or re-embedded.
 */
export function contentHash(text: string): string {
  return sha256Hex(normalizeText(text));
}

/** SHA-256 of a UTF-8 string, as 64 lowercase hex characters. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
