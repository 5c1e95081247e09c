// The baseline the search-quality bench compares with: plain BM25 (k1 0.9, b 0.4) over the same
// documents (title + text), Porter stemming (the `stemmer` package) and a 33-word stop list
// (Lucene's English stop words), computed here in memory, independent of Tributary.
import { stemmer } from 'stemmer';
import type { CisiDocument } from './cisi.ts';

const STOP_WORDS = new Set(
  (
    'a an and are as at be but by for if in into is it no not of on or such that the their then there ' +
    'these they this to was will with'
  ).split(' '),
);

export function bm25Terms(text: string): string[] {
  const terms: string[] = [];
  for (const [word] of text.toLowerCase().matchAll(/[a-z0-9]+/g)) {
    if (!STOP_WORDS.has(word)) terms.push(stemmer(word));
  }
  return terms;
}

export interface Bm25Index {
  search(query: string, limit: number): string[];
}

export function buildBm25(documents: readonly CisiDocument[], k1 = 0.9, b = 0.4): Bm25Index {
  const postings = new Map<string, Array<{ doc: number; tf: number }>>();
  const lengths: number[] = [];
  for (const [index, document] of documents.entries()) {
    const terms = bm25Terms(`${document.title} ${document.text}`);
    lengths.push(terms.length);
    const counts = new Map<string, number>();
    for (const term of terms) counts.set(term, (counts.get(term) ?? 0) + 1);
    for (const [term, tf] of counts) {
      const list = postings.get(term) ?? [];
      list.push({ doc: index, tf });
      postings.set(term, list);
    }
  }
  const count = documents.length;
  const averageLength = lengths.reduce((sum, length) => sum + length, 0) / count;
  return {
    search(query, limit) {
      const scores = new Map<number, number>();
      for (const term of new Set(bm25Terms(query))) {
        const list = postings.get(term);
        if (!list) continue;
        const idf = Math.log(1 + (count - list.length + 0.5) / (list.length + 0.5));
        for (const { doc, tf } of list) {
          const norm = k1 * (1 - b + (b * (lengths[doc] ?? 0)) / averageLength);
          scores.set(doc, (scores.get(doc) ?? 0) + (idf * tf * (k1 + 1)) / (tf + norm));
        }
      }
      return [...scores.entries()]
        .sort((x, y) => y[1] - x[1] || x[0] - y[0])
        .slice(0, limit)
        .map(([doc]) => documents[doc]?.id ?? '');
    },
  };
}
