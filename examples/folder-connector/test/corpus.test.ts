import { fileURLToPath } from 'node:url';
import {
  type ConnectorChange,
  contentHash,
  createConnectorInstance,
  createExtractorRegistry,
  type ExtractedContent,
  type LoadedContent,
} from '@tributary/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createFolderConnector } from '../src/index.js';

const corpus = fileURLToPath(new URL('../../corpus', import.meta.url));
const registry = createExtractorRegistry();

const EXPECTED_MIME_TYPES: Record<string, string> = {
  md: 'text/markdown',
  txt: 'text/plain',
  html: 'text/html',
  csv: 'text/csv',
  json: 'application/json',
  vtt: 'text/vtt',
  srt: 'application/x-subrip',
  pdf: 'application/pdf',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
};

async function bytesOf(content: LoadedContent): Promise<Uint8Array> {
  if (content.kind === 'bytes') return content.bytes;
  if (content.kind === 'text') return new TextEncoder().encode(content.text);
  const chunks: Uint8Array[] = [];
  for await (const chunk of content.stream as AsyncIterable<Uint8Array>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** Word 5-shingles, for a Jaccard similarity that tells near-duplicates from related files. */
function shingles(text: string): Set<string> {
  const words = text.toLowerCase().split(/\W+/).filter(Boolean);
  const result = new Set<string>();
  for (let index = 0; index + 5 <= words.length; index += 1)
    result.add(words.slice(index, index + 5).join(' '));
  return result;
}

function jaccard(left: Set<string>, right: Set<string>): number {
  let shared = 0;
  for (const item of left) if (right.has(item)) shared += 1;
  return shared / (left.size + right.size - shared);
}

describe('examples/corpus through the folder connector and the extractor registry', () => {
  const extracted = new Map<string, ExtractedContent>();
  const changes: ConnectorChange[] = [];

  beforeAll(async () => {
    // Content files only: generate-binaries.mjs is the tool that writes the PDFs and DOCX files.
    const instance = createConnectorInstance(createFolderConnector(), {
      config: { path: corpus, include: Object.keys(EXPECTED_MIME_TYPES) },
    });
    for await (const change of instance.sync()) {
      changes.push(change);
      if (change.kind !== 'upsert' || change.document.content.kind !== 'lazy') continue;
      const content = await change.document.content.load({ signal: new AbortController().signal });
      extracted.set(
        change.document.externalId,
        await registry.extract({
          bytes: await bytesOf(content),
          fileName: change.document.title,
          claimedMimeType: change.document.mimeType,
        }),
      );
    }
  });

  it('holds a few dozen files of every demo format, listed completely', () => {
    expect(extracted.size).toBeGreaterThanOrEqual(30);
    const extensions = new Set([...extracted.keys()].map((path) => path.split('.').at(-1)));
    for (const extension of Object.keys(EXPECTED_MIME_TYPES))
      expect(extensions, extension).toContain(extension);
    expect([...extracted.keys()].filter((path) => path.endsWith('.pdf')).length).toBeGreaterThanOrEqual(2);
    expect([...extracted.keys()].filter((path) => path.endsWith('.docx')).length).toBeGreaterThanOrEqual(2);
    expect(changes.at(-1)).toEqual({ kind: 'listing-complete', complete: true });
  });

  it('extracts readable text from every file, with the MIME type its bytes really have', () => {
    for (const [path, result] of extracted) {
      const extension = path.split('.').at(-1) ?? '';
      if (EXPECTED_MIME_TYPES[extension]) expect(result.mimeType, path).toBe(EXPECTED_MIME_TYPES[extension]);
      expect(result.text.length, path).toBeGreaterThan(80);
      expect(result.text, path).not.toMatch(/\uFFFD|<\/?(p|h1|td|w:t)\b/); // decoded, markup gone
    }
    expect(extracted.get('handbook/benefits-overview.pdf')).toMatchObject({
      title: 'Fernhill Analytics Benefits Overview 2026',
      metadata: { pageCount: 2 },
    });
    expect(extracted.get('handbook/benefits-overview.pdf')?.text).toContain('Parental leave: 20 weeks');
    expect(extracted.get('handbook/onboarding-checklist.docx')?.text).toMatch(
      /# Onboarding checklist[\s\S]*## Day one/,
    );
    expect(extracted.get('meetings/2025-q4-board-update.docx')?.text).toContain('ARR (EUR million)');
    expect(extracted.get('product/faq.html')?.text).toContain('Frequently Asked Questions');
    expect(extracted.get('product/faq.html')?.text).not.toContain('analytics disabled');
  });

  it('keeps the speakers of both meeting transcripts', () => {
    const vtt = extracted.get('meetings/2026-01-12-product-sync.vtt');
    const srt = extracted.get('meetings/2026-01-19-security-review.srt');
    expect(vtt?.structure).toBe('transcript');
    expect(srt?.structure).toBe('transcript');
    for (const speaker of ['Maria Santos', 'Jonas Weber', 'Aisha Okafor'])
      expect(vtt?.text).toContain(speaker);
    for (const speaker of ['Lena Fischer', 'Tom Becker', 'Priya Nair']) expect(srt?.text).toContain(speaker);
  });

  it('has one exact duplicate under another name and one near-duplicate pair for the dedup demo', () => {
    const text = (path: string) => extracted.get(path)?.text ?? '';
    expect(contentHash(text('archive/Security Policy (copy).md'))).toBe(
      contentHash(text('handbook/security-policy.md')),
    );

    const hashes = new Map<string, string[]>();
    for (const [path, result] of extracted) {
      const hash = contentHash(result.text);
      hashes.set(hash, [...(hashes.get(hash) ?? []), path]);
    }
    expect([...hashes.values()].filter((paths) => paths.length > 1)).toEqual([
      expect.arrayContaining(['archive/Security Policy (copy).md', 'handbook/security-policy.md']),
    ]);

    const current = text('handbook/expense-policy.md');
    const previous = text('archive/expense-policy-2025.md');
    expect(contentHash(current)).not.toBe(contentHash(previous));
    expect(jaccard(shingles(current), shingles(previous))).toBeGreaterThan(0.7);
    // Related but not near-duplicate: the minutes retell the recording in other words.
    expect(
      jaccard(
        shingles(text('meetings/2026-01-12-product-sync.vtt')),
        shingles(text('meetings/2026-01-12-product-sync-notes.txt')),
      ),
    ).toBeLessThan(0.3);
  });
});
