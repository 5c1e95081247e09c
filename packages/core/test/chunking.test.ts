import { createHash } from 'node:crypto';
import { countTokens } from 'gpt-tokenizer/encoding/cl100k_base';
import { describe, expect, it } from 'vitest';
import { type Chunk, chunkEmbeddingText, createChunker, loadTokenizer } from '../src/chunking/index.js';
import { createExtractorRegistry } from '../src/content/index.js';
import { InvalidConfigError } from '../src/errors/index.js';
import { readFixture } from './__fixtures__/content-fixtures.js';

const count = (text: string) => countTokens(text, { disallowedSpecial: new Set() });

/** Invariants every chunk list must satisfy, whatever the input. */
function expectWellFormed(chunks: readonly Chunk[], maxTokens: number): void {
  for (const [position, chunk] of chunks.entries()) {
    expect(chunk.index).toBe(position);
    expect(chunk.content.trim()).not.toBe('');
    expect(chunk.content).toBe(chunk.content.trim());
    const text = chunkEmbeddingText(chunk);
    expect(chunk.tokenCount).toBe(count(text)); // counted with the real cl100k_base tokenizer
    expect(chunk.tokenCount).toBeLessThanOrEqual(maxTokens);
    expect(chunk.hash).toBe(createHash('sha256').update(`${chunk.context}\n${chunk.content}`).digest('hex'));
  }
}

/** Words of `text` in order, to check that chunking loses nothing (overlap aside). */
function words(text: string): string[] {
  return text.split(/\s+/).filter((word) => word !== '');
}

/** Chunk contents with each chunk's overlap (a prefix repeated from the previous chunk) removed. */
function withoutOverlap(chunks: readonly Chunk[]): string[] {
  return chunks.map((chunk, index) => {
    const previous = chunks[index - 1];
    if (!previous || previous.context !== chunk.context) return chunk.content;
    const previousWords = words(previous.content);
    const current = words(chunk.content);
    for (let length = Math.min(previousWords.length, current.length); length > 0; length -= 1) {
      if (previousWords.slice(-length).join(' ') === current.slice(0, length).join(' '))
        return current.slice(length).join(' ');
    }
    return chunk.content;
  });
}

const GUIDE = [
  '# Guide',
  '',
  'Tributary imports content into a knowledge base. It keeps it in sync.',
  '',
  '## Install',
  '',
  'Install it with your package manager.',
  '',
  '### Linux',
  '',
  Array.from(
    { length: 40 },
    (_, index) => `Step ${index + 1} of the Linux setup explains one more detail about permissions.`,
  ).join(' '),
  '',
  '```sh',
  '# this is a shell comment, not a heading',
  'npm install @tributary/core',
  '```',
  '',
  '### macOS',
  '',
  'Use Homebrew.',
  '',
  '## Usage',
  '',
  'Call createChunker().',
].join('\n');

describe('createChunker', () => {
  it('splits Markdown by headings and carries the heading path as context', async () => {
    const chunks = await createChunker({ maxTokens: 128, overlapTokens: 16 }).chunk(GUIDE);
    expectWellFormed(chunks, 128);
    const contexts = [...new Set(chunks.map((chunk) => chunk.context))];
    expect(contexts).toEqual([
      'Guide',
      'Guide > Install',
      'Guide > Install > Linux',
      'Guide > Install > macOS',
      'Guide > Usage',
    ]);
    const linux = chunks.filter((chunk) => chunk.context === 'Guide > Install > Linux');
    expect(linux.length).toBeGreaterThan(3);
    // The fenced block stays whole, and its `# comment` is not taken for a heading.
    expect(
      linux.some((chunk) =>
        chunk.content.includes(
          '```sh\n# this is a shell comment, not a heading\nnpm install @tributary/core\n```',
        ),
      ),
    ).toBe(true);
    expect(chunks.find((chunk) => chunk.context === 'Guide > Install > macOS')?.content).toBe(
      'Use Homebrew.',
    );
  });

  it('puts the title first in the context unless the first heading repeats it', async () => {
    const chunker = createChunker();
    const withTitle = await chunker.chunk('## Tools\n\nWe use Git.', { title: 'Team handbook' });
    expect(withTitle[0]?.context).toBe('Team handbook > Tools');
    const repeated = await chunker.chunk('# Team handbook\n\nHello.', { title: 'Team handbook' });
    expect(repeated[0]?.context).toBe('Team handbook');
    expect(chunkEmbeddingText(repeated[0] as Chunk)).toBe('Team handbook\nHello.');
  });

  it('overlaps consecutive chunks of a section by up to overlapTokens, at sentence boundaries', async () => {
    const chunks = await createChunker({ maxTokens: 128, overlapTokens: 32 }).chunk(GUIDE);
    const linux = chunks.filter((chunk) => chunk.context === 'Guide > Install > Linux');
    let overlapped = 0;
    for (let index = 1; index < linux.length; index += 1) {
      const previous = linux[index - 1]?.content ?? '';
      const current = linux[index]?.content ?? '';
      // The longest run of whole sentences that ends the previous chunk and starts this one.
      const sentences = current.match(/[^.]+\./g) ?? [];
      let overlap = '';
      for (let length = sentences.length; length > 0 && overlap === ''; length -= 1) {
        const candidate = sentences.slice(0, length).join('').trim();
        if (previous.endsWith(candidate) && candidate !== current) overlap = candidate;
      }
      if (overlap === '') continue; // the code block starts its own chunk
      overlapped += 1;
      expect(count(overlap)).toBeLessThanOrEqual(32);
      expect(count(overlap)).toBeGreaterThan(0);
    }
    expect(overlapped).toBeGreaterThanOrEqual(linux.length - 2);
    // And no overlap across headings: the macOS chunk does not repeat Linux text.
    expect(chunks.find((chunk) => chunk.context.endsWith('macOS'))?.content).not.toContain('Step');
  });

  it('loses no text: chunks minus overlap give back every word in order', async () => {
    const chunks = await createChunker({ maxTokens: 96, overlapTokens: 24 }).chunk(GUIDE);
    const body = GUIDE.split('\n')
      .filter((line) => !/^#{1,6} /.test(line) || line.includes('shell comment'))
      .join('\n');
    expect(words(withoutOverlap(chunks).join(' '))).toEqual(words(body));
  });

  it('gives the same chunks and hashes on every run and from every chunker instance', async () => {
    const first = await createChunker({ maxTokens: 100, overlapTokens: 20 }).chunk(GUIDE, { title: 'Docs' });
    const second = await createChunker({ maxTokens: 100, overlapTokens: 20 }).chunk(GUIDE, { title: 'Docs' });
    expect(second).toEqual(first);
    expect(new Set(first.map((chunk) => chunk.hash)).size).toBe(first.length);
    const edited = await createChunker({ maxTokens: 100, overlapTokens: 20 }).chunk(
      GUIDE.replace('Use Homebrew.', 'Use MacPorts.'),
      {
        title: 'Docs',
      },
    );
    // Only the edited section's chunk changes hash: unchanged chunks can reuse their embeddings.
    const changed = edited.filter((chunk) => !first.some((old) => old.hash === chunk.hash));
    expect(changed.map((chunk) => chunk.content)).toEqual(['Use MacPorts.']);
  });

  it('splits transcripts only between cue lines, overlapping by whole cues', async () => {
    const transcript = Array.from(
      { length: 40 },
      (_, index) =>
        `[00:${String(Math.floor(index / 60)).padStart(2, '0')}:${String(index % 60).padStart(2, '0')}] Speaker ${index % 3}: point number ${index} about the roadmap and the launch.`,
    ).join('\n');
    const chunks = await createChunker({ maxTokens: 96, overlapTokens: 24 }).chunk(transcript, {
      structure: 'transcript',
      title: 'Weekly sync',
    });
    expectWellFormed(chunks, 96);
    expect(chunks.length).toBeGreaterThan(4);
    const cues = new Set(transcript.split('\n'));
    for (const chunk of chunks) {
      expect(chunk.context).toBe('Weekly sync');
      for (const line of chunk.content.split('\n')) expect(cues.has(line)).toBe(true);
    }
    for (let index = 1; index < chunks.length; index += 1) {
      const firstLine = chunks[index]?.content.split('\n')[0] ?? '';
      expect(chunks[index - 1]?.content.endsWith(firstLine)).toBe(true); // one whole cue of overlap
    }
  });

  it('repeats a table header in every chunk of a table too large for one', async () => {
    const registry = createExtractorRegistry();
    const rows = Array.from(
      { length: 80 },
      (_, index) => `customer ${index},${index * 3} EUR,region ${index % 4}`,
    );
    const { text, structure } = await registry.extract({
      text: ['name,amount,region', ...rows].join('\n'),
      claimedMimeType: 'text/csv',
    });
    const chunks = await createChunker({ maxTokens: 120, overlapTokens: 16 }).chunk(text, { structure });
    expectWellFormed(chunks, 120);
    expect(chunks.length).toBeGreaterThan(4);
    for (const chunk of chunks)
      expect(chunk.content.startsWith('| name | amount | region |\n| --- | --- | --- |\n|')).toBe(true);
    const dataRows = chunks.flatMap((chunk) => chunk.content.split('\n').slice(2));
    expect(dataRows).toHaveLength(80);
  });

  it('splits a run without spaces by tokens, never breaking a character', async () => {
    const text = `${'x'.repeat(3000)} ${'漢字😀'.repeat(200)}`;
    const chunks = await createChunker({ maxTokens: 40, overlapTokens: 0 }).chunk(text, {
      structure: 'plain',
    });
    expectWellFormed(chunks, 40);
    expect(chunks.map((chunk) => chunk.content).join('')).toBe(text.replace(' ', ''));
    expect(chunks.every((chunk) => !chunk.content.includes('\uFFFD'))).toBe(true);
  });

  it('chunks a real transcript and a real PDF page-by-page text end to end', async () => {
    const registry = createExtractorRegistry();
    const vtt = await registry.extract({ bytes: readFixture('meeting.vtt'), fileName: 'meeting.vtt' });
    const chunks = await createChunker({ maxTokens: 40, overlapTokens: 8 }).chunk(vtt.text, {
      structure: vtt.structure,
    });
    expectWellFormed(chunks, 40);
    expect(chunks[0]?.content.startsWith('[00:00:01] Alice Johnson:')).toBe(true);
    const plain = await createChunker().chunk('Page one text.\n\f\nPage two text.', { structure: 'plain' });
    expect(plain).toHaveLength(1);
    expect(plain[0]?.content).toBe('Page one text.\n\nPage two text.');
  });

  it('never emits empty chunks', async () => {
    const chunker = createChunker();
    expect(await chunker.chunk('')).toEqual([]);
    expect(await chunker.chunk('   \n\n\t\n')).toEqual([]);
    expect(await chunker.chunk('# Only\n\n## Headings')).toEqual([
      expect.objectContaining({ context: '', content: '# Only\n\n## Headings' }),
    ]);
  });

  it('keeps the context within a quarter of the budget, shortening it from the left', async () => {
    const deep = Array.from(
      { length: 12 },
      (_, level) => `${'#'.repeat(Math.min(6, level + 1))} Section heading number ${level} with words`,
    ).join('\n\n');
    const chunks = await createChunker({ maxTokens: 64, overlapTokens: 8 }).chunk(`${deep}\n\nBody text.`);
    expectWellFormed(chunks, 64);
    const last = chunks[chunks.length - 1] as Chunk;
    expect(last.context.startsWith('… > ')).toBe(true);
    expect(count(last.context)).toBeLessThanOrEqual(16);
  });

  it('counts special-token text as ordinary text instead of throwing', async () => {
    const chunks = await createChunker().chunk('A document that mentions <|endoftext|> literally.');
    expect(chunks[0]?.content).toContain('<|endoftext|>');
  });

  it('holds its invariants over varied generated inputs', async () => {
    let seed = 42;
    const random = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    const vocabulary = [
      'data',
      'sync',
      'Zoom',
      'naïve',
      'überall',
      '東京',
      'emoji😀',
      'x'.repeat(60),
      '1234567890',
      'end.',
      'why?',
      '|',
      '-',
    ];
    const tokenizer = await loadTokenizer();
    for (let round = 0; round < 25; round += 1) {
      const lines: string[] = [];
      const lineCount = 1 + Math.floor(random() * 60);
      for (let line = 0; line < lineCount; line += 1) {
        const kind = random();
        if (kind < 0.1) lines.push(`${'#'.repeat(1 + Math.floor(random() * 4))} Heading ${line}`);
        else if (kind < 0.2) lines.push('');
        else if (kind < 0.25) lines.push('```', 'code line', '', 'more code', '```');
        else {
          const length = 1 + Math.floor(random() * 80);
          lines.push(
            Array.from({ length }, () => vocabulary[Math.floor(random() * vocabulary.length)]).join(
              random() < 0.1 ? '' : ' ',
            ),
          );
        }
      }
      const text = lines.join('\n');
      const maxTokens = 32 + Math.floor(random() * 200);
      const overlapTokens = Math.floor(random() * (maxTokens / 2));
      const structure = (['markdown', 'plain', 'transcript'] as const)[round % 3];
      const chunks = await createChunker({ maxTokens, overlapTokens }).chunk(text, {
        structure,
        title: round % 2 ? 'T' : undefined,
      });
      expectWellFormed(chunks, maxTokens);
      if (text.trim() !== '') expect(chunks.length).toBeGreaterThan(0);
      const again = await createChunker({ maxTokens, overlapTokens }).chunk(text, {
        structure,
        title: round % 2 ? 'T' : undefined,
      });
      expect(again.map((chunk) => chunk.hash)).toEqual(chunks.map((chunk) => chunk.hash));
      expect(tokenizer.count(text)).toBeGreaterThanOrEqual(0);
    }
  });

  it('rejects bad options with InvalidConfigError naming the field', () => {
    expect(() => createChunker({ maxTokens: 10 })).toThrow(/maxTokens/);
    expect(() => createChunker({ maxTokens: 100, overlapTokens: 80 })).toThrow(InvalidConfigError);
    expect(() => createChunker({ tokenizer: 'p50k' as never })).toThrow(/tokenizer/);
  });
});
