import { stemmer } from 'stemmer';
import { InvalidConfigError } from '../errors/index.js';
import type { Embedder, EmbedResult } from './embedder.js';
import { isStopWord } from './stop-words.js';

/**
 * The hashing schemes. `stemmed-v2` (default): stop words dropped, Porter stems, stem bigrams
 * and character trigrams. `hashed-ngrams-v1`: every word as written plus word bigrams, the only
 * scheme before 0.x; keep it to go on searching vectors stored with it without re-embedding.
 */
export type LexicalScheme = 'stemmed-v2' | 'hashed-ngrams-v1';

export interface LexicalEmbedderOptions {
  /** Vector length. Default 1536, so it fits the same `vector(1536)` column as OpenAI's default. */
  dimensions?: number | undefined;
  /** Default `stemmed-v2`. The scheme is part of the embedder id: vectors of two schemes never mix. */
  scheme?: LexicalScheme | undefined;
}

const SCHEMES: readonly LexicalScheme[] = ['stemmed-v2', 'hashed-ngrams-v1'];

interface SchemeWeights {
  stem: boolean;
  bigram: number;
  trigram: number;
}

// Measured on CISI (bench/search-quality.ts, vector-only nDCG@10, fused with BM25 by RRF): v1
// 0.193 / 0.279; stop words + stems 0.287 / 0.316; + character trigrams at 0.3 and bigrams at
// 0.25 0.310 / 0.339. Variants within 0.01 of each other were not told apart: the weights are
// round numbers, not fitted. Trigrams carry morphology the stemmer misses and typos; bigrams some
// word order.
const WEIGHTS: Record<LexicalScheme, SchemeWeights> = {
  'stemmed-v2': { stem: true, bigram: 0.25, trigram: 0.3 },
  'hashed-ngrams-v1': { stem: false, bigram: 0.5, trigram: 0 },
};
/** Scripts written without spaces: split into overlapping character pairs instead of words. */
const UNSPACED_SCRIPT =
  /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}]/u;

/**
 * An offline embedder that needs no key and no network: **lexical, not semantic**. Each text
 * becomes a signed feature-hashed bag of its normalized words (lowercased, accents folded,
 * English stop words dropped, Porter stems), stem bigrams and character trigrams, with sublinear
 * term frequency, L2-normalized. Texts that share wording land close
 * together, so search over it behaves like fuzzy keyword search; synonyms and paraphrases do
 * not ("car" is no closer to "automobile" than to "banana"). Deterministic: the same text gives
 * the same vector on every machine. Its id (`lexical:stemmed-v2@1536`) keeps its vectors
 * apart from a semantic model's. Use it for demos, tests and air-gapped installs; use
 * `createOpenAIEmbedder()` (or your own `Embedder`) for semantic search.
 */
export function createLexicalEmbedder(options: LexicalEmbedderOptions = {}): Embedder {
  const dimensions = options.dimensions ?? 1536;
  const scheme = options.scheme ?? 'stemmed-v2';
  if (!Number.isInteger(dimensions) || dimensions < 8 || dimensions > 16_000) {
    throw new InvalidConfigError({
      subject: 'lexical embedder options',
      issues: [{ fieldPath: 'dimensions', message: 'must be an integer from 8 to 16000' }],
    });
  }
  if (!SCHEMES.includes(scheme)) {
    throw new InvalidConfigError({
      subject: 'lexical embedder options',
      issues: [{ fieldPath: 'scheme', message: `must be one of ${SCHEMES.join(', ')}` }],
    });
  }
  return {
    id: `lexical:${scheme}@${dimensions}`,
    model: scheme,
    dimensions,
    kind: 'lexical',
    maxInputsPerRequest: 10_000,
    maxTokensPerRequest: Number.MAX_SAFE_INTEGER,
    async embed(texts, embedOptions = {}): Promise<EmbedResult> {
      const vectors: number[][] = [];
      for (const text of texts) {
        embedOptions.signal?.throwIfAborted();
        vectors.push(lexicalVector(text, dimensions, scheme));
      }
      return { vectors, usage: { requests: 0, inputs: texts.length, tokens: 0, costUsd: 0 } };
    },
  };
}

/** The lexical vector of one text (see {@link createLexicalEmbedder}). */
export function lexicalVector(
  text: string,
  dimensions: number,
  scheme: LexicalScheme = 'stemmed-v2',
): number[] {
  const weights = WEIGHTS[scheme];
  const features = new Map<string, number>();
  const add = (feature: string, weight: number) =>
    features.set(feature, (features.get(feature) ?? 0) + weight);

  const words = lexicalTerms(text);
  // v2: stop words leave a gap (no bigram across it); every other word is stemmed.
  const terms = weights.stem
    ? words.map((word) => (isStopWord(word) ? undefined : UNSPACED_SCRIPT.test(word) ? word : stemmer(word)))
    : words;
  for (const [index, term] of terms.entries()) {
    if (term === undefined) continue;
    add(`w:${term}`, 1);
    const next = terms[index + 1];
    if (next !== undefined && weights.bigram > 0) add(`b:${term} ${next}`, weights.bigram);
    const word = words[index] ?? '';
    if (weights.trigram > 0 && !UNSPACED_SCRIPT.test(word)) {
      const padded = `<${word}>`;
      for (let start = 0; start + 3 <= padded.length; start += 1)
        add(`c:${padded.slice(start, start + 3)}`, weights.trigram);
    }
  }
  // No word at all (punctuation, symbols, empty): hash the characters, so the vector is still a
  // unit vector and identical inputs still match.
  if (features.size === 0) add(`c:${text.trim()}`, 1);

  const vector = new Array<number>(dimensions).fill(0);
  for (const [feature, weight] of features) {
    const hash = featureHash(feature);
    const bucket = hash % dimensions;
    const sign = mix32(hash ^ 0x9e3779b9) >>> 31 ? 1 : -1;
    // Sublinear frequency: a word said ten times is not ten times as telling.
    const scaled = weight >= 1 ? 1 + Math.log(weight) : weight;
    vector[bucket] = (vector[bucket] ?? 0) + sign * scaled;
  }
  let norm = 0;
  for (const value of vector) norm += value * value;
  norm = Math.sqrt(norm);
  if (norm === 0) {
    // Features cancelled out exactly (opposite signs in one bucket): fall back to one fixed axis.
    vector[featureHash(text) % dimensions] = 1;
    return vector;
  }
  return vector.map((value) => value / norm);
}

/** Lowercased, accent-folded words; unspaced scripts become overlapping character pairs. */
function lexicalTerms(text: string): string[] {
  const folded = text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase();
  const terms: string[] = [];
  for (const [word] of folded.matchAll(/[\p{L}\p{N}]+/gu)) {
    if (!UNSPACED_SCRIPT.test(word)) {
      terms.push(word);
      continue;
    }
    const characters = Array.from(word);
    if (characters.length === 1) terms.push(word);
    for (let index = 0; index + 1 < characters.length; index += 1)
      terms.push(`${characters[index]}${characters[index + 1]}`);
  }
  return terms;
}

/**
 * 32-bit FNV-1a over UTF-16 code units, then MurmurHash3's finalizer: FNV alone has weak low
 * bits (its lowest bit is just the parity of the input), and both the bucket (`% dimensions`)
 * and the sign depend on well-mixed bits.
 */
function featureHash(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index += 1) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return mix32(hash);
}

/** MurmurHash3 fmix32: every input bit affects every output bit. */
function mix32(value: number): number {
  let hash = value >>> 0;
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b) >>> 0;
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35) >>> 0;
  hash ^= hash >>> 16;
  return hash >>> 0;
}
