// The CISI test collection (../shared/datasets/cisi): documents, queries and relevance judgements,
// and the measures the search-quality bench reports (nDCG@10 with binary relevance, Recall@100).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface CisiDocument {
  id: string;
  title: string;
  text: string;
}

export interface CisiQuery {
  id: string;
  text: string;
}

export interface CisiCollection {
  documents: CisiDocument[];
  /** Only the queries that have judgements. */
  queries: CisiQuery[];
  relevant: Map<string, Set<string>>;
}

/** Records start with `.I <id>`; fields start with `.X` on a line of their own. */
function parseRecords(raw: string): Array<{ id: string; fields: Map<string, string> }> {
  const records: Array<{ id: string; fields: Map<string, string> }> = [];
  let current: { id: string; fields: Map<string, string> } | undefined;
  let field: string | undefined;
  for (const line of raw.split(/\r?\n/)) {
    const start = /^\.I\s+(\d+)/.exec(line);
    if (start?.[1]) {
      current = { id: start[1], fields: new Map() };
      records.push(current);
      field = undefined;
      continue;
    }
    const marker = /^\.([A-Z])\s*$/.exec(line);
    if (marker?.[1]) {
      field = marker[1];
      continue;
    }
    if (current && field) current.fields.set(field, `${current.fields.get(field) ?? ''}${line}\n`);
  }
  return records;
}

export async function loadCisi(directory: string): Promise<CisiCollection> {
  const [all, queries, judgements] = await Promise.all(
    ['CISI.ALL', 'CISI.QRY', 'CISI.REL'].map((name) => readFile(join(directory, name), 'utf8')),
  );
  const documents = parseRecords(all ?? '').map((record) => ({
    id: record.id,
    title: (record.fields.get('T') ?? '').replace(/\s+/g, ' ').trim(),
    text: (record.fields.get('W') ?? '').replace(/\s+/g, ' ').trim(),
  }));
  const relevant = new Map<string, Set<string>>();
  for (const line of (judgements ?? '').split(/\r?\n/)) {
    const [query, document] = line.trim().split(/\s+/);
    if (!query || !document) continue;
    const set = relevant.get(query) ?? new Set<string>();
    set.add(document);
    relevant.set(query, set);
  }
  const parsedQueries = parseRecords(queries ?? '')
    .map((record) => ({
      id: record.id,
      // The question itself (.W); some records also carry a title, authors or a Boolean form.
      text: (record.fields.get('W') ?? '').replace(/\s+/g, ' ').trim(),
    }))
    .filter((query) => query.text !== '' && relevant.has(query.id));
  return { documents, queries: parsedQueries, relevant };
}

/** nDCG@k with binary relevance. */
export function ndcgAt(ranked: readonly string[], relevant: ReadonlySet<string>, k: number): number {
  let dcg = 0;
  for (const [index, id] of ranked.slice(0, k).entries()) {
    if (relevant.has(id)) dcg += 1 / Math.log2(index + 2);
  }
  let ideal = 0;
  for (let index = 0; index < Math.min(k, relevant.size); index += 1) ideal += 1 / Math.log2(index + 2);
  return ideal === 0 ? 0 : dcg / ideal;
}

export function recallAt(ranked: readonly string[], relevant: ReadonlySet<string>, k: number): number {
  if (relevant.size === 0) return 0;
  let found = 0;
  for (const id of ranked.slice(0, k)) if (relevant.has(id)) found += 1;
  return found / relevant.size;
}
