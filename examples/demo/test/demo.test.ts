import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_QUERY, DEMO_EXTENSIONS, type DemoResult, runDemo } from '../src/demo.ts';

const corpus = fileURLToPath(new URL('../../corpus', import.meta.url));

describe('runDemo on the real corpus', () => {
  let dir: string;
  let result: DemoResult;
  let output = '';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tributary-demo-'));
    result = await runDemo({
      dir: join(dir, 'db'),
      corpus,
      out: { write: (text: string) => (output += text), isTTY: false },
      env: {}, // the offline lexical embedder, whatever the environment holds
    });
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('inserts every corpus file on the first (full) sync', async () => {
    const extensions = new Set<string>(DEMO_EXTENSIONS);
    const entries = await readdir(corpus, { recursive: true, withFileTypes: true });
    const files = entries.filter((entry) => entry.isFile() && extensions.has(extname(entry.name).slice(1)));
    expect(files.length).toBeGreaterThanOrEqual(30);
    expect(result.corpusFiles).toHaveLength(files.length);
    expect(result.embedder.kind).toBe('lexical');
    const { summary, loads } = result.first;
    expect(summary).toMatchObject({ status: 'success', mode: 'full' });
    expect(summary.counts).toMatchObject({
      seen: files.length,
      inserted: files.length,
      failed: 0,
      deleted: 0,
    });
    expect(loads).toBe(files.length);
    expect(summary.embeddings.inputs).toBeGreaterThan(0);
  });

  it('loads and embeds nothing on the second sync', () => {
    const { summary, loads } = result.second;
    expect(summary).toMatchObject({ status: 'success', mode: 'full' });
    expect(summary.counts).toMatchObject({
      seen: result.corpusFiles.length,
      skippedByVersion: result.corpusFiles.length,
      inserted: 0,
      updated: 0,
      deleted: 0,
    });
    expect(summary.embeddings).toMatchObject({ inputs: 0, requests: 0 });
    expect(summary.contentBytes).toBe(0);
    expect(loads).toBe(0);
  });

  it('links the exact duplicate to its original, embeds it zero times, and returns it once in search', () => {
    const duplicate = result.duplicate;
    expect([duplicate?.copy, duplicate?.original].sort()).toEqual([
      'archive/Security Policy (copy).md',
      'handbook/security-policy.md',
    ]);
    expect(duplicate).toMatchObject({
      linked: true,
      sameContentHash: true,
      searchHitsOfPair: 1,
      alternativeListed: true,
    });
    // Its own document, the original's chunks and embeddings.
    expect(duplicate?.copyChunks).toBeGreaterThan(0);
    expect(duplicate?.copyChunks).toBe(duplicate?.originalChunks);
    expect(duplicate?.copyChunksWithSameText).toBe(duplicate?.copyChunks);
    expect(duplicate?.copyChunksWithSameEmbedding).toBe(duplicate?.copyChunks);
    const { summary } = result.first;
    expect(summary.dedup).toMatchObject({ exactCopies: 1, duplicateLinkFailures: 0 });
    // No text of the copy reached the embedder: at most one input per stored chunk that is not the copy's.
    expect(summary.embeddings.inputs).toBeLessThanOrEqual(
      (duplicate?.chunksStored ?? 0) - (duplicate?.copyChunks ?? 0),
    );
    expect(output).toContain('nothing was embedded twice');
    expect(output).not.toContain('embedded again');
  });

  it('answers the default query with the benefits overview first', () => {
    expect(result.query).toBe(DEFAULT_QUERY);
    expect(result.results.length).toBeGreaterThan(0);
    expect(result.results.length).toBeLessThanOrEqual(5);
    expect(result.results[0]?.externalUrl).toMatch(/\/handbook\/benefits-overview\.pdf$/);
    // The snippet is the best-matching passage of that document (BM25 + stemmed vectors choose it).
    expect(result.results[0]?.snippet).toMatch(/carry|employee|holiday|leave/i);
    expect(output).toContain('lexical, not semantic');
    expect(output).toContain('benefits-overview.pdf');
  });

  it('finds its organisation and connector again when run a second time on the same folder', async () => {
    const again = await runDemo({
      dir: join(dir, 'db'),
      corpus,
      query: 'public holidays 2026 Berlin office',
      out: { write: () => undefined, isTTY: false },
      env: {},
    });
    expect(again.connectorId).toBe(result.connectorId);
    expect(again.first.summary).toMatchObject({ status: 'success', mode: 'incremental' });
    expect(again.first.summary.counts).toMatchObject({ inserted: 0, updated: 0, failed: 0, deleted: 0 });
    expect(again.first.summary.embeddings.inputs).toBe(0);
    expect(again.results[0]?.externalUrl).toMatch(/\/handbook\/holidays-2026\.txt$/);
  });
});

describe('runDemo on a corpus of your own', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tributary-demo-own-'));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const runOn = async (files: Record<string, string>, name: string) => {
    const own = join(dir, name);
    await mkdir(own, { recursive: true });
    for (const [file, text] of Object.entries(files)) await writeFile(join(own, file), text);
    let output = '';
    const result = await runDemo({
      dir: join(dir, `${name}-db`),
      corpus: own,
      query: 'harbour tides',
      out: { write: (text: string) => (output += text), isTTY: false },
      env: {},
    });
    return { result, output };
  };

  it('names its own duplicate, never the bundled corpus files', async () => {
    const { result, output } = await runOn(
      {
        'tides.md': '# Tides\n\nThe harbour tides turn at noon.',
        'tides-copy.md': '# Tides\n\nThe harbour tides turn at noon.',
        'boats.txt': 'Boats are moored in the harbour.',
      },
      'with-copy',
    );
    expect(result.duplicate).toMatchObject({
      copy: 'tides.md',
      original: 'tides-copy.md',
      linked: true,
      sameContentHash: true,
      searchHitsOfPair: 1,
    });
    expect(output).toContain('5. Dedup across sources: "tides.md" has the same content as tides-copy.md.');
    expect(output).not.toMatch(/security-policy|Security Policy|benefits-overview/);
  });

  it('says so when no two files share content', async () => {
    const { result, output } = await runOn(
      { 'tides.md': '# Tides\n\nThe harbour tides turn at noon.', 'boats.txt': 'Boats in the harbour.' },
      'no-copy',
    );
    expect(result.duplicate).toBeUndefined();
    expect(output).toMatch(/5\. Dedup: no two files in .*no-copy have the same content\./);
  });
});
