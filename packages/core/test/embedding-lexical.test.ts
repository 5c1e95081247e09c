import { describe, expect, it } from 'vitest';
import { createLexicalEmbedder, lexicalVector } from '../src/embedding/index.js';
import { InvalidConfigError } from '../src/errors/index.js';

const cosine = (left: readonly number[], right: readonly number[]) =>
  left.reduce((sum, value, index) => sum + value * (right[index] ?? 0), 0);
const norm = (vector: readonly number[]) => Math.sqrt(cosine(vector, vector));

describe('createLexicalEmbedder', () => {
  const embedder = createLexicalEmbedder();

  it('says what it is: lexical, stemmed-v2, 1536 dimensions by default; v1 on request', () => {
    expect(embedder).toMatchObject({
      id: 'lexical:stemmed-v2@1536',
      model: 'stemmed-v2',
      dimensions: 1536,
      kind: 'lexical',
    });
    expect(createLexicalEmbedder({ dimensions: 512 }).id).toBe('lexical:stemmed-v2@512');
    expect(createLexicalEmbedder({ scheme: 'hashed-ngrams-v1' }).id).toBe('lexical:hashed-ngrams-v1@1536');
    expect(() => createLexicalEmbedder({ scheme: 'v3' as never })).toThrow(/scheme/);
  });

  it('v2 matches inflections and ignores stop words; v1 does not', () => {
    const v2 = (text: string) => lexicalVector(text, 1536, 'stemmed-v2');
    const v1 = (text: string) => lexicalVector(text, 1536, 'hashed-ngrams-v1');
    // Same stems (retriev-, index-), different forms.
    const query = 'retrieving indexed documents';
    const inflected = 'retrieval of an index of the document';
    expect(cosine(v2(query), v2(inflected))).toBeGreaterThan(0.5);
    expect(cosine(v1(query), v1(inflected))).toBeLessThan(0.2);
    // A question's function words do not make it close to another text full of them.
    const question = 'what are the methods of the indexing';
    expect(cosine(v2(question), v2('what are the'))).toBeLessThan(0.3);
    expect(cosine(v2(question), v2('indexing methods'))).toBeGreaterThan(0.8);
  });

  it('v2 character trigrams keep a misspelt word close to the right one', () => {
    const v2 = (text: string) => lexicalVector(text, 1536, 'stemmed-v2');
    expect(cosine(v2('bibliometrics'), v2('bibliometircs'))).toBeGreaterThan(0.3);
    expect(Math.abs(cosine(v2('bibliometrics'), v2('weather')))).toBeLessThan(0.15);
  });

  it('returns one unit vector of the right length per input, and no cost', async () => {
    const texts = ['The quick brown fox', 'jumps over the lazy dog', '!!!', '', '東京タワーの夜景'];
    const { vectors, usage } = await embedder.embed(texts);
    expect(vectors).toHaveLength(texts.length);
    for (const vector of vectors) {
      expect(vector).toHaveLength(1536);
      expect(norm(vector)).toBeCloseTo(1, 10);
    }
    expect(usage).toEqual({ requests: 0, inputs: 5, tokens: 0, costUsd: 0 });
  });

  it('is deterministic across calls and instances', async () => {
    const text = 'Quarterly revenue grew by 12 percent in the third quarter.';
    const [first] = (await embedder.embed([text])).vectors;
    const [second] = (await createLexicalEmbedder().embed([text])).vectors;
    expect(second).toEqual(first);
    expect(lexicalVector(text, 1536)).toEqual(first);
  });

  it('puts overlapping wording closer than unrelated wording', async () => {
    const [query, paraphrase, partial, unrelated] = (
      await embedder.embed([
        'How do I reset my password?',
        'To reset your password, open settings and choose reset password.',
        'Password rules: at least twelve characters.',
        'The cafeteria serves lunch from noon until two.',
      ])
    ).vectors as [number[], number[], number[], number[]];
    expect(cosine(query, paraphrase)).toBeGreaterThan(cosine(query, partial));
    expect(cosine(query, partial)).toBeGreaterThan(cosine(query, unrelated));
    expect(Math.abs(cosine(query, unrelated))).toBeLessThan(0.15);
  });

  it('ignores case and accents, and word order matters a little (bigrams)', () => {
    const base = lexicalVector('Crème brûlée recipe', 1536);
    expect(cosine(base, lexicalVector('CREME BRULEE RECIPE', 1536))).toBeCloseTo(1, 10);
    const reordered = cosine(base, lexicalVector('recipe brûlée crème', 1536));
    expect(reordered).toBeLessThan(0.999);
    expect(reordered).toBeGreaterThan(0.5);
  });

  it('is not semantic: synonyms are not close (the honest limit)', () => {
    const car = lexicalVector('car', 1536);
    expect(Math.abs(cosine(car, lexicalVector('automobile', 1536)))).toBeLessThan(0.2);
  });

  it('honours an aborted signal', async () => {
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await expect(embedder.embed(['x'], { signal: controller.signal })).rejects.toThrow('stop');
  });

  it('rejects bad dimensions', () => {
    expect(() => createLexicalEmbedder({ dimensions: 0 })).toThrow(InvalidConfigError);
  });
});
