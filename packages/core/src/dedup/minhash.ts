import { InvalidConfigError } from '../errors/index.js';

/** How signatures are made. Every document of an organisation must use the same settings. */
export interface MinHashOptions {
  /** Hash functions (signature length): a multiple of 4 (the database bands 4 values), 4 to 1,024. Default 128. */
  permutations?: number | undefined;
  /** Words per shingle. Default 3. */
  shingleSize?: number | undefined;
  /** Fewer distinct shingles than this: no signature (too short to compare reliably). Default 8. */
  minShingles?: number | undefined;
}

export const DEFAULT_MINHASH_PERMUTATIONS = 128;
export const DEFAULT_SHINGLE_SIZE = 3;
export const DEFAULT_MIN_SHINGLES = 8;

/**
 * Words of the text for shingling: lower case, letters and digits only (accents folded), and no
 * token made only of digits, so timestamps (`[00:01:02]`, `00:01:02.000 --> ...`), cue numbers,
 * page numbers and list numbering do not make two renderings of the same words look different.
 */
export function shingleWords(text: string): string[] {
  const words = text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u);
  return words.filter((word) => word !== '' && !/^\p{N}+$/u.test(word));
}

/** 32-bit FNV-1a of a string's UTF-16 code units: fast, and enough to spread shingles. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** MurmurHash3's 32-bit finaliser: a bijection that mixes every input bit into every output bit. */
function mix32(value: number): number {
  let h = value;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const seedCache = new Map<number, Uint32Array>();

/** Fixed per-permutation seeds (the same on every machine and run: signatures are stored). */
function seeds(count: number): Uint32Array {
  let cached = seedCache.get(count);
  if (!cached) {
    cached = new Uint32Array(count);
    for (let i = 0; i < count; i += 1) cached[i] = mix32(0x9e3779b9 + Math.imul(i + 1, 0x632be5ab));
    seedCache.set(count, cached);
  }
  return cached;
}

function invalid(fieldPath: string, message: string): InvalidConfigError {
  return new InvalidConfigError({
    subject: 'duplicates option',
    issues: [{ fieldPath, message }],
    hint: 'Leave the MinHash settings at their defaults unless bench/dedup.ts shows better figures for your content',
  });
}

/** Validates MinHash settings (InvalidConfigError naming the field) and fills the defaults. */
export function checkMinHashOptions(options: MinHashOptions): Required<MinHashOptions> {
  const permutations = options.permutations ?? DEFAULT_MINHASH_PERMUTATIONS;
  const shingleSize = options.shingleSize ?? DEFAULT_SHINGLE_SIZE;
  const minShingles = options.minShingles ?? DEFAULT_MIN_SHINGLES;
  if (!Number.isInteger(permutations) || permutations < 4 || permutations > 1024 || permutations % 4 !== 0) {
    throw invalid('permutations', `must be a multiple of 4 from 4 to 1024, got ${permutations}`);
  }
  if (!Number.isInteger(shingleSize) || shingleSize < 1 || shingleSize > 16) {
    throw invalid('shingleSize', `must be an integer from 1 to 16, got ${shingleSize}`);
  }
  if (!Number.isInteger(minShingles) || minShingles < 1) {
    throw invalid('minShingles', `must be a positive integer, got ${minShingles}`);
  }
  return { permutations, shingleSize, minShingles };
}

/**
 * The MinHash signature of a text's word shingles, as signed 32-bit integers (what Postgres'
 * `integer[]` stores): position i holds the least value of hash function i over the distinct
 * shingles, so two signatures agree at a position with probability equal to the Jaccard
 * similarity of the two shingle sets. Undefined when the text has fewer than `minShingles`
 * distinct shingles. A text shorter than one shingle is one shingle of all its words.
 */
export function minHashSignature(text: string, options: MinHashOptions = {}): number[] | undefined {
  const { permutations, shingleSize, minShingles } = checkMinHashOptions(options);
  const words = shingleWords(text);
  const hashes = new Set<number>();
  const last = Math.max(0, words.length - shingleSize);
  if (words.length > 0) {
    for (let start = 0; start <= last; start += 1) {
      hashes.add(fnv1a(words.slice(start, start + shingleSize).join(' ')));
    }
  }
  if (hashes.size < minShingles) return undefined;
  const seed = seeds(permutations);
  const minimum = new Uint32Array(permutations).fill(0xffffffff);
  for (const hash of hashes) {
    for (let i = 0; i < permutations; i += 1) {
      const value = mix32(hash ^ (seed[i] as number));
      if (value < (minimum[i] as number)) minimum[i] = value;
    }
  }
  return Array.from(minimum, (value) => value | 0);
}

/** Estimated Jaccard similarity of two signatures (the database computes the same). */
export function signatureSimilarity(a: readonly number[], b: readonly number[]): number {
  if (a.length === 0 || a.length !== b.length) return 0;
  let same = 0;
  for (let i = 0; i < a.length; i += 1) if (a[i] === b[i]) same += 1;
  return same / a.length;
}
