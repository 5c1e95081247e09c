import { InvalidConfigError } from '../errors/index.js';
import type { Embedder, EmbedResult } from './embedder.js';

export interface LexicalEmbedderOptions {
  /** Vector length. Default 1536, so it fits the same `vector(1536)` column as OpenAI's default. */
  dimensions?: number | undefined;
}

/** Version of the hashing scheme; part of the id, so a change never mixes old and new vectors. */
const SCHEME = 'hashed-ngrams-v1';
/** Bigrams count half as much as words: they add word order without drowning single words. */
const BIGRAM_WEIGHT = 0.5;
/** Scripts written without spaces: split into overlapping character pairs instead of words. */
const UNSPACED_SCRIPT =
  /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}]/u;

/**
 * An offline embedder that needs no key and no network: **lexical, not semantic**. Each text
 * becomes a signed feature-hashed bag of its normalized words and word bigrams (lowercased,
 * accents folded, sublinear term frequency), L2-normalized. Texts that share wording land close
 * together, so search over it behaves like fuzzy keyword search; synonyms and paraphrases do
 * not ("car" is no closer to "automobile" than to "banana"). Deterministic: the same text gives
 * the same vector on every machine. Its id (`lexical:hashed-ngrams-v1@1536`) keeps its vectors
 * apart from a semantic model's. Use it for demos, tests and air-gapped installs; use
 * `createOpenAIEmbedder()` (or your own `Embedder`) for semantic search.
 */
export function createLexicalEmbedder(options: LexicalEmbedderOptions = {}): Embedder {
  const dimensions = options.dimensions ?? 1536;
  if (!Number.isInteger(dimensions) || dimensions < 8 || dimensions > 16_000) {
    throw new InvalidConfigError({
      subject: 'lexical embedder options',
      issues: [{ fieldPath: 'dimensions', message: 'must be an integer from 8 to 16000' }],
    });
  }
  return {
    id: `lexical:${SCHEME}@${dimensions}`,
    model: SCHEME,
    dimensions,
    kind: 'lexical',
    maxInputsPerRequest: 10_000,
    maxTokensPerRequest: Number.MAX_SAFE_INTEGER,
    async embed(texts, embedOptions = {}): Promise<EmbedResult> {
      const vectors: number[][] = [];
      for (const text of texts) {
        embedOptions.signal?.throwIfAborted();
        vectors.push(lexicalVector(text, dimensions));
      }
      return { vectors, usage: { requests: 0, inputs: texts.length, tokens: 0, costUsd: 0 } };
    },
  };
}

/** The lexical vector of one text (see {@link createLexicalEmbedder}). */
export function lexicalVector(text: string, dimensions: number): number[] {
  const features = new Map<string, number>();
  const add = (feature: string, weight: number) =>
    features.set(feature, (features.get(feature) ?? 0) + weight);

  const terms = lexicalTerms(text);
  for (const [index, term] of terms.entries()) {
    add(`w:${term}`, 1);
    const next = terms[index + 1];
    if (next !== undefined) add(`b:${term} ${next}`, BIGRAM_WEIGHT);
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
