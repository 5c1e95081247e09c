import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidConfigError, minHashSignature, shingleWords, signatureSimilarity } from '../src/index.js';

/** Exact Jaccard similarity of two texts' word 3-shingles (the quantity MinHash estimates). */
function jaccard(a: string, b: string): number {
  const shingles = (text: string) => {
    const words = shingleWords(text);
    const set = new Set<string>();
    for (let i = 0; i + 3 <= words.length; i += 1) set.add(words.slice(i, i + 3).join(' '));
    return set;
  };
  const left = shingles(a);
  const right = shingles(b);
  let both = 0;
  for (const shingle of left) if (right.has(shingle)) both += 1;
  return both / (left.size + right.size - both);
}

const vocabulary =
  'river harbour tide quay budget permit crane survey sensor model storm berth contract schedule'.split(' ');
const textArb = fc
  .array(fc.constantFrom(...vocabulary), { minLength: 40, maxLength: 120 })
  .map((w) => w.join(' '));

describe('minHashSignature', () => {
  it('ignores case, punctuation, accents, numbers and timestamps', () => {
    const zoom = '[00:01:02] Mira: The dredging contract came in under estimate, café budget is fine today.';
    const teams =
      '00:01:05.120 --> 00:01:09.000\nmira: the Dredging contract came in under estimate; cafe budget is fine today';
    expect(shingleWords(zoom)).toEqual(shingleWords(teams));
    expect(minHashSignature(zoom)).toEqual(minHashSignature(teams));
  });

  it('is deterministic, 128 signed 32-bit values by default, and undefined for short texts', () => {
    const text = vocabulary.join(' ');
    const signature = minHashSignature(text);
    expect(signature).toHaveLength(128);
    expect(signature?.every((v) => Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31)).toBe(true);
    expect(minHashSignature(text)).toEqual(signature);
    expect(minHashSignature(text, { permutations: 64 })).toHaveLength(64);
    expect(minHashSignature('too short to compare')).toBeUndefined();
    expect(minHashSignature('')).toBeUndefined();
  });

  it('estimates the Jaccard similarity of word shingles (within 0.2 at 256 values)', () => {
    fc.assert(
      fc.property(textArb, textArb, fc.nat(30), (a, b, cut) => {
        // Share a prefix so that similarities spread over the whole range.
        const left = a;
        const right = `${a
          .split(' ')
          .slice(0, cut + 10)
          .join(' ')} ${b}`;
        const x = minHashSignature(left, { permutations: 256, minShingles: 1 });
        const y = minHashSignature(right, { permutations: 256, minShingles: 1 });
        if (!x || !y) return;
        expect(Math.abs(signatureSimilarity(x, y) - jaccard(left, right))).toBeLessThan(0.2);
      }),
      { numRuns: 60 },
    );
  });

  it('refuses bad settings with an InvalidConfigError naming the field', () => {
    expect(() => minHashSignature('a b c', { permutations: 30 })).toThrow(InvalidConfigError);
    expect(() => minHashSignature('a b c', { permutations: 30 })).toThrow(/permutations/);
    expect(() => minHashSignature('a b c', { shingleSize: 0 })).toThrow(/shingleSize/);
    expect(() => minHashSignature('a b c', { minShingles: -1 })).toThrow(/minShingles/);
    expect(signatureSimilarity([1, 2], [1])).toBe(0);
  });
});
