/** The result of turning bytes into text, or the reason they are not text. */
export type DecodedText =
  | { readonly ok: true; readonly text: string; readonly encoding: string }
  | { readonly ok: false; readonly reason: string };

/** How many leading bytes the binary check looks at (the rest is validated by decoding). */
const SAMPLE_BYTES = 64 * 1024;

/**
 * Decodes bytes that should be text. A byte-order mark decides the encoding (UTF-8, UTF-16 LE/BE);
 * without one the bytes must be valid UTF-8, or, failing that, look like a legacy single-byte text
 * (no NULs, almost no control characters), which is read as Windows-1252, the superset of
 * Latin-1 that old Windows editors write. `fallbackEncoding` (e.g. from an HTML `<meta charset>`)
 * is tried before Windows-1252. Anything else (NULs, many control bytes, broken UTF-8 with
 * control bytes) is reported as not text.
 */
export function decodeText(bytes: Uint8Array, fallbackEncoding?: string): DecodedText {
  const bom = detectByteOrderMark(bytes);
  if (bom) {
    try {
      const text = new TextDecoder(bom.encoding, { fatal: true, ignoreBOM: false }).decode(bytes);
      return { ok: true, text, encoding: bom.encoding };
    } catch {
      return {
        ok: false,
        reason: `it starts with a ${bom.encoding} byte-order mark but is not valid ${bom.encoding}`,
      };
    }
  }

  const sample = bytes.subarray(0, SAMPLE_BYTES);
  if (sample.includes(0)) {
    return { ok: false, reason: 'it contains NUL bytes, so it is binary, not text' };
  }

  try {
    return { ok: true, text: new TextDecoder('utf-8', { fatal: true }).decode(bytes), encoding: 'utf-8' };
  } catch {
    // Not UTF-8: a legacy encoding, or binary. Decide by the share of control bytes.
  }

  const controlShare = controlByteShare(sample);
  if (controlShare > 0.01) {
    return {
      ok: false,
      reason: `it is not valid UTF-8 and ${(controlShare * 100).toFixed(0)}% of its bytes are control characters, so it looks binary`,
    };
  }
  // Mostly valid UTF-8 with a few damaged sequences (a truncated download, a bad copy): keep it
  // as UTF-8 with U+FFFD for the damage rather than turning every accent into mojibake.
  const lenient = new TextDecoder('utf-8').decode(bytes);
  const replaced = countOf(lenient, '\uFFFD');
  const multiByte = countMatches(lenient, /[^\p{ASCII}\uFFFD]/gu);
  if (multiByte > 0 && replaced <= Math.max(1, multiByte / 100)) {
    return { ok: true, text: lenient, encoding: 'utf-8' };
  }
  for (const encoding of [fallbackEncoding, 'windows-1252']) {
    if (!encoding) continue;
    try {
      return { ok: true, text: new TextDecoder(encoding, { fatal: true }).decode(bytes), encoding };
    } catch {
      // Unknown label or invalid bytes for it: try the next one.
    }
  }
  return { ok: false, reason: 'it is neither valid UTF-8 nor a recognisable single-byte text encoding' };
}

/** The encoding named by a leading byte-order mark, if any. */
export function detectByteOrderMark(
  bytes: Uint8Array,
): { encoding: 'utf-8' | 'utf-16le' | 'utf-16be' } | undefined {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return { encoding: 'utf-8' };
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return { encoding: 'utf-16le' };
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return { encoding: 'utf-16be' };
  return undefined;
}

function countOf(text: string, character: string): number {
  let count = 0;
  for (let index = text.indexOf(character); index !== -1; index = text.indexOf(character, index + 1))
    count += 1;
  return count;
}

function countMatches(text: string, pattern: RegExp): number {
  return text.match(pattern)?.length ?? 0;
}

/** Share of bytes that are C0 control characters other than tab, LF, FF and CR (or DEL). */
function controlByteShare(bytes: Uint8Array): number {
  if (bytes.length === 0) return 0;
  let controls = 0;
  for (const byte of bytes) {
    if ((byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0c && byte !== 0x0d) || byte === 0x7f) {
      controls += 1;
    }
  }
  return controls / bytes.length;
}
