import { InvalidBlobPathError } from './blob-store-errors.js';

/** Longest key accepted, in UTF-8 bytes (S3 and Supabase Storage allow 1,024). */
export const MAX_BLOB_PATH_BYTES = 1024;

/** Prefix of the temporary files the local store writes before renaming; such names are reserved. */
export const TEMPORARY_NAME_PREFIX = '.tributary-upload-';

// C0 controls, DEL and C1 controls: never meaningful in a key, and NUL truncates paths in C APIs.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Checks that `path` is a safe relative key: `/`-separated segments, none empty, `.` or `..`, no
 * leading `/`, no backslash, no drive letter, no control characters, at most 1,024 bytes. Throws
 * `InvalidBlobPathError`. With `{ prefix: true }` an empty string and a trailing `/` are allowed
 * (list prefixes).
 */
export function assertSafeBlobPath(
  path: unknown,
  options: { prefix?: boolean } = {},
): asserts path is string {
  const refuse = (reason: string) =>
    new InvalidBlobPathError({ reason, path: typeof path === 'string' ? path : undefined });
  if (typeof path !== 'string')
    throw refuse(`expected a string, got ${path === null ? 'null' : typeof path}`);
  if (path === '') {
    if (options.prefix) return;
    throw refuse('the path is empty');
  }
  if (CONTROL_CHARACTERS.test(path)) throw refuse('it contains a NUL or other control character');
  if (path.includes('\\')) throw refuse('it contains a backslash (use "/" between segments)');
  if (path.startsWith('/')) throw refuse('it is absolute (keys are relative to the store)');
  if (/^[A-Za-z]:/.test(path)) throw refuse('it starts with a drive letter');
  if (Buffer.byteLength(path, 'utf8') > MAX_BLOB_PATH_BYTES) {
    throw refuse(`it is longer than ${MAX_BLOB_PATH_BYTES} bytes`);
  }
  if (LONE_SURROGATE.test(path)) throw refuse('it contains a lone UTF-16 surrogate');
  const segments = path.split('/');
  if (options.prefix && segments.at(-1) === '') segments.pop();
  for (const segment of segments) {
    if (segment === '') throw refuse('it has an empty segment ("//" or a trailing "/")');
    if (segment === '.' || segment === '..') throw refuse(`it has a "${segment}" segment`);
    if (segment.startsWith(TEMPORARY_NAME_PREFIX)) {
      throw refuse(`segments starting with "${TEMPORARY_NAME_PREFIX}" are reserved for uploads in progress`);
    }
  }
}
