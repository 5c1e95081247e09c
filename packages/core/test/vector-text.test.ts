// pgvector's text form as the RPC repositories write it: 9 significant digits of each value's
// float32 rounding, which pgvector (float32) reads back exactly.
import { describe, expect, it } from 'vitest';
import { vectorText } from '../src/store/rpc-chunks.js';

/** A deterministic spread of values: embedding-sized, tiny, large, negative. */
function values(count: number): number[] {
  let seed = 42;
  const next = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  return Array.from({ length: count }, (_, index) => {
    const scale = [1 / 39, 1, 1e-6, 1e-30, 1e4, 3e38][index % 6] as number;
    return (next() * 2 - 1) * scale;
  });
}

describe('vectorText', () => {
  it('reads back as the same float32 for every value, and keeps zeros one character', () => {
    const vector = [...values(6000), 0, -0, 1, -1, 0.1, 1.17549435e-38, 1e-45];
    const text = vectorText(vector);
    expect(text.startsWith('[') && text.endsWith(']')).toBe(true);
    const parts = text.slice(1, -1).split(',');
    expect(parts).toHaveLength(vector.length);
    for (const [index, part] of parts.entries()) {
      // `===`: -0 written as 0 is the same value to pgvector.
      expect(
        Math.fround(Number(part)) === Math.fround(vector[index] as number),
        `value ${index}: ${vector[index]} written as ${part}`,
      ).toBe(true);
    }
    expect(parts[6000]).toBe('0');
    expect(parts[6001]).toBe('0');
  });

  it('is shorter than the shortest double form for embedding-sized values', () => {
    const vector = values(1536).map((value) => value / 1e4);
    expect(vectorText(vector).length).toBeLessThan(`[${vector.join(',')}]`.length * 0.8);
  });

  it('reuses its buffer safely: a short vector after a long one is written alone', () => {
    const long = vectorText(values(5000));
    expect(long.split(',')).toHaveLength(5000);
    expect(vectorText([0.5, -2, 0])).toBe('[0.500000000,-2.00000000,0]');
    expect(vectorText([1])).toBe('[1.00000000]');
  });
});
