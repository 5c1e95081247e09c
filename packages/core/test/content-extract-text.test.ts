import { describe, expect, it } from 'vitest';
import { createExtractorRegistry } from '../src/content/index.js';
import { CorruptContentError, UnsupportedContentError } from '../src/errors/index.js';
import { readFixture } from './__fixtures__/content-fixtures.js';

const registry = createExtractorRegistry();

describe('plain text', () => {
  it('reads UTF-8, and strips a UTF-8 byte-order mark', async () => {
    const result = await registry.extract({
      bytes: Buffer.from('\uFEFFhello wörld\r\n', 'utf8'),
      fileName: 'a.txt',
    });
    expect(result).toMatchObject({ text: 'hello wörld', mimeType: 'text/plain', structure: 'plain' });
  });

  it('reads UTF-16 LE and BE by their byte-order marks', async () => {
    const text = 'héllo 😀\r\nline 2';
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    const be = Buffer.from(le);
    be.swap16();
    for (const bytes of [le, be]) {
      const result = await registry.extract({ bytes, claimedMimeType: 'text/plain' });
      expect(result.text).toBe('héllo 😀\nline 2');
      expect(result.metadata.encoding).toMatch(/^utf-16/);
    }
  });

  it('reads legacy Windows-1252 text that is not UTF-8', async () => {
    const result = await registry.extract({
      bytes: Buffer.from('caf\xe9 cr\xe8me \x80', 'latin1'),
      fileName: 'menu.txt',
    });
    expect(result.text).toBe('café crème €');
    expect(result.metadata.encoding).toBe('windows-1252');
  });

  it('keeps mostly-UTF-8 text with one damaged byte as UTF-8', async () => {
    const bytes = Buffer.concat([
      Buffer.from('naïve café résumé ', 'utf8'),
      Buffer.from([0xff]),
      Buffer.from(' end', 'utf8'),
    ]);
    const result = await registry.extract({ bytes, fileName: 'cv.txt' });
    expect(result.text).toBe('naïve café résumé \uFFFD end');
  });

  it('accepts already-decoded text', async () => {
    const result = await registry.extract({
      text: 'line one  \r\n\r\n\r\n\r\nline two',
      claimedMimeType: 'text/plain',
    });
    expect(result).toMatchObject({ text: 'line one\n\nline two', mimeType: 'text/plain' });
  });

  it('reads other text/* and code types as plain text under their own MIME type', async () => {
    const result = await registry.extract({
      bytes: Buffer.from('def main():\n    pass\n'),
      claimedMimeType: 'text/x-python',
    });
    expect(result).toMatchObject({
      mimeType: 'text/x-python',
      structure: 'plain',
      text: 'def main():\n    pass',
    });
  });
});

describe('Markdown', () => {
  it('keeps Markdown, moves front matter to metadata and takes its title', async () => {
    // Drive and S3 often claim text/plain or octet-stream for .md: the extension wins over a generic claim.
    const result = await registry.extract({
      bytes: readFixture('notes.md'),
      fileName: 'notes.md',
      claimedMimeType: 'text/plain',
    });
    expect(result.mimeType).toBe('text/markdown');
    expect(result.structure).toBe('markdown');
    expect(result.title).toBe('Team handbook');
    expect(result.metadata.frontMatter).toEqual({ title: 'Team handbook', owner: 'ops' });
    expect(result.text).toBe('# Handbook\n\nWelcome to the team.\n\n## Tools\n\nWe use Git.');
  });

  it('takes the first # heading as title when there is no front matter', async () => {
    const result = await registry.extract({ text: 'intro\n\n# Real title\n\n## Sub', fileName: 'x.md' });
    expect(result.title).toBe('Real title');
  });
});

describe('HTML', () => {
  it('gives readable text with Markdown headings, drops scripts, styles and navigation, takes <title>', async () => {
    const result = await registry.extract({
      bytes: readFixture('page.html'),
      claimedMimeType: 'text/html; charset=utf-8',
    });
    expect(result.mimeType).toBe('text/html');
    expect(result.structure).toBe('markdown');
    expect(result.title).toBe('Install guide & FAQ');
    expect(result.text).toContain('# Install guide\n\nTributary runs on Node.js 22 or newer.');
    expect(result.text).toContain('## Linux\n\nUse the package manager of your distribution.');
    expect(result.text).toContain('- Debian: apt\n- Fedora: dnf');
    expect(result.text).toContain('| OS | Command |\n| --- | --- |\n| Debian | apt install nodejs |');
    for (const dropped of [
      'trackingSecret',
      'also not indexed',
      'color: red',
      'Pricing menu item',
      'https://nodejs.org',
      'Copyright',
    ]) {
      expect(result.text).not.toContain(dropped);
    }
  });

  it('converts only <main> when the page has one', async () => {
    const html =
      '<html><body><div class="sidebar">Sidebar junk</div><main><h2>Body</h2><p>Real content.</p></main></body></html>';
    const result = await registry.extract({ text: html, claimedMimeType: 'text/html' });
    expect(result.text).toBe('## Body\n\nReal content.');
  });

  it('is recognised from content when neither type nor name says so, and honours <meta charset>', async () => {
    const html =
      '<!DOCTYPE html><html><head><meta charset="windows-1252"><title>Caf\xe9</title></head><body><p>cr\xe8me br\xfbl\xe9e</p></body></html>';
    const result = await registry.extract({ bytes: Buffer.from(html, 'latin1') });
    expect(result).toMatchObject({ mimeType: 'text/html', title: 'Café', text: 'crème brûlée' });
  });
});

describe('CSV', () => {
  it('renders rows as Markdown tables with the header, handling quoted newlines, quotes and pipes', async () => {
    const result = await registry.extract({ bytes: readFixture('contacts.csv'), fileName: 'contacts.csv' });
    expect(result.mimeType).toBe('text/csv');
    expect(result.text).toBe(
      [
        '| name | email | notes |',
        '| --- | --- | --- |',
        '| Alice | alice@example.com | Prefers email, not phone |',
        '| Bob | bob@example.com | Line one line two of the note |',
        '| Carol "CJ" Jones | carol@example.com | Has a \\| pipe |',
      ].join('\n'),
    );
    expect(result.metadata).toMatchObject({
      rowCount: 3,
      columnCount: 3,
      columns: ['name', 'email', 'notes'],
    });
  });

  it('repeats the header at the start of every group of 25 rows and detects ; as delimiter', async () => {
    const rows = Array.from({ length: 60 }, (_, index) => `item ${index};${index * 10}`);
    const result = await registry.extract({
      text: ['product;price', ...rows].join('\n'),
      claimedMimeType: 'text/csv',
    });
    const groups = result.text.split('\n\n');
    expect(groups).toHaveLength(3);
    for (const group of groups) expect(group.startsWith('| product | price |\n| --- | --- |\n')).toBe(true);
    expect(groups[2]?.split('\n')).toHaveLength(2 + 10);
    expect(result.text).toContain('| item 59 | 590 |');
  });

  it('reads TSV by extension', async () => {
    const result = await registry.extract({ bytes: Buffer.from('a\tb\n1\t2\n'), fileName: 'data.tsv' });
    expect(result).toMatchObject({
      mimeType: 'text/tab-separated-values',
      text: '| a | b |\n| --- | --- |\n| 1 | 2 |',
    });
  });
});

describe('JSON', () => {
  it('pretty-prints JSON', async () => {
    const result = await registry.extract({
      bytes: Buffer.from('{"name":"Tributary","tags":["rag","sync"]}'),
      fileName: 'meta.json',
    });
    expect(result.mimeType).toBe('application/json');
    expect(result.text).toBe('{\n  "name": "Tributary",\n  "tags": [\n    "rag",\n    "sync"\n  ]\n}');
  });

  it('refuses invalid JSON with CorruptContentError naming the file', async () => {
    const error = await registry
      .extract({ text: '{"open": ', fileName: 'broken.json' })
      .catch((caught: unknown) => caught);
    expect(CorruptContentError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/broken\.json.*not valid JSON/);
  });
});

describe('transcripts', () => {
  it('renders WebVTT cues as [hh:mm:ss] Speaker: text, parsing <v> voice tags', async () => {
    const result = await registry.extract({ bytes: readFixture('meeting.vtt'), fileName: 'meeting.vtt' });
    expect(result.mimeType).toBe('text/vtt');
    expect(result.structure).toBe('transcript');
    expect(result.text.split('\n')).toEqual([
      "[00:00:01] Alice Johnson: Good morning everyone, let's start with the release plan.",
      '[00:01:02] Bob: I finished the migration script & the tests.',
      '[00:01:07] Alice Johnson: Great.',
      '[00:01:07] Carol: Can we ship on Friday?',
      '[01:02:03] Dana: The roadmap is in the shared drive.',
    ]);
    expect(result.metadata).toMatchObject({
      cueCount: 4,
      speakers: ['Alice Johnson', 'Bob', 'Carol', 'Dana'],
      durationSeconds: 3725,
    });
  });

  it('renders SRT (CRLF, multi-line cues, italics) the same way, found by extension under a generic claim', async () => {
    const result = await registry.extract({
      bytes: readFixture('demo.srt'),
      fileName: 'demo.srt',
      claimedMimeType: 'application/octet-stream',
    });
    expect(result.mimeType).toBe('application/x-subrip');
    expect(result.text).toBe(
      '[00:00:01] Alice: Welcome to the product demo.\n[00:00:03] Bob: Thanks! Let me share my screen.\n[00:10:00] Applause',
    );
  });

  it('recognises a transcript by its content when nothing else says what it is', async () => {
    const srt = await registry.extract({ text: '1\n00:00:05,000 --> 00:00:06,000\nHi there\n' });
    expect(srt).toMatchObject({ mimeType: 'application/x-subrip', text: '[00:00:05] Hi there' });
  });

  it('refuses a .vtt file that is not WebVTT with CorruptContentError', async () => {
    const error = await registry
      .extract({ text: 'just some words', fileName: 'call.vtt' })
      .catch((caught: unknown) => caught);
    expect(CorruptContentError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain('call.vtt');
  });
});

describe('unsupported text claims', () => {
  it('refuses a specific non-text type it has no extractor for', async () => {
    const error = await registry
      .extract({ text: 'x', claimedMimeType: 'application/vnd.ms-excel', fileName: 'sheet.xls' })
      .catch((caught: unknown) => caught);
    expect(UnsupportedContentError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain('sheet.xls');
  });
});
