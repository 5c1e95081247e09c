// Blocks to Markdown through the real SDK against the fake: every block type, rich text and
// mentions, pagination of long pages, the depth limit, synced blocks; and the same page rendered
// by notion-to-md, to pin down where and why the output differs (see README, "Markdown").
import { Client } from '@notionhq/client';
import { NotionToMarkdown } from 'notion-to-md';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNotionApi, notionUrl, renderBlocksToMarkdown } from '../src/index.js';
import { block } from './support/notion-fixtures.js';
import { CREDENTIALS, type NotionHarness, startNotionHarness } from './support/notion-harness.js';
import { addShowcasePage, SYNCED_ORIGINAL_ID } from './support/showcase-page.js';

let harness: NotionHarness;
let showcase: ReturnType<typeof addShowcasePage>;

beforeAll(async () => {
  harness = await startNotionHarness();
  showcase = addShowcasePage(harness.fake.store);
});
afterAll(() => harness.close());

function render(pageId: string, maxDepth = 12) {
  const api = createNotionApi({ credentials: CREDENTIALS, settings: harness.settings });
  return renderBlocksToMarkdown(pageId, { listChildren: api.listChildren, maxDepth, pageId });
}

function blockId(pageId: string, type: string, index = 0): string {
  const ids = (harness.fake.store.children.get(pageId) ?? []).filter(
    (id) => harness.fake.store.blocks.get(id)?.type === type,
  );
  return ids[index] as string;
}

describe('blocks to Markdown', () => {
  it('renders every block type as a reader would accept it', async () => {
    const { pageId, linkedId, childId } = showcase;
    const { markdown, stats } = await render(pageId);
    const hostedImage = notionUrl(pageId, blockId(pageId, 'image', 1));
    const hostedFile = notionUrl(pageId, blockId(pageId, 'file'));
    expect(markdown).toBe(
      `${[
        '# Arrival',
        `Moor **only** at _berth 4_, not ~~berth 9~~; call \`VHF 12\` or read [the rules](https://example.com/rules). Ask @Ada, see [Tide tables](${notionUrl(linkedId)}) before 2026-07-01. Energy: $E=mc^2$`,
        '## Checklist',
        [
          '- Fenders',
          '  - Two per side',
          '    - Three in a gale',
          '- Lines',
          '1. Radio the harbour master',
          '2. Wait for a berth',
          '   1. Circle outside',
          '- [x] Pay the fee',
          '- [ ] Fill water',
          '- Night arrival',
          '  Use the leading lights.',
        ].join('\n'),
        '> Slow is smooth.',
        '> ⛽ Fuel closes at 18:00.',
        '```javascript\nconst knots = 5;\nconsole.log(knots);\n```\n\nSpeed limit',
        '$$\nv = d / t\n$$',
        '---',
        '[Weather](https://example.com/weather)',
        '[https://example.com/map](https://example.com/map)',
        '![The harbour](https://example.com/harbour.png)',
        `![Hosted chart](${hostedImage})`,
        `[fees.pdf](${hostedFile})`,
        '| Berth | Depth |\n| --- | --- |\n| 4 | 3 m |\n| 9 | 2 \\| shallow |',
        'Left column text\n\nRight column text',
        'Shared footer: harbour office 08-17.',
        'Shared footer: harbour office 08-17.',
        '_[unsupported Notion block: ai_block]_',
        `[Fees](${notionUrl(childId)})`,
      ].join('\n\n')}\n`,
    );
    expect(stats.unsupported).toBe(1);
    // Hosted files: never their signed, expiring URL (it would change the content hash at every sync).
    expect(markdown).not.toContain('X-Amz');
  });

  it('pages through a 350-block page (100 blocks per request) and keeps every block in order', async () => {
    const store = harness.fake.store;
    const pageId = store.addPage({
      title: 'Long',
      blocks: Array.from({ length: 350 }, (_, index) => block.paragraph(`Line ${index + 1}`)),
    });
    const before = harness.fake.count('GET /v1/blocks/:id/children');
    const { markdown, stats } = await render(pageId);
    expect(harness.fake.count('GET /v1/blocks/:id/children') - before).toBe(4);
    expect(stats.blocks).toBe(350);
    const lines = markdown.trim().split('\n\n');
    expect(lines).toEqual(Array.from({ length: 350 }, (_, index) => `Line ${index + 1}`));
  });

  it('follows deep nesting down to maxDepth and notes what lies below', async () => {
    let nested = block.bullet('Level 20');
    for (let level = 19; level >= 1; level--) nested = block.bullet(`Level ${level}`, [nested]);
    const pageId = harness.fake.store.addPage({ title: 'Deep', blocks: [nested] });
    const { markdown, stats } = await render(pageId, 5);
    // The page's own blocks (Level 1) and 5 levels nested below them are fetched.
    expect(markdown).toContain(`${'  '.repeat(5)}- Level 6`);
    expect(markdown).toContain(`${'  '.repeat(6)}_[nested content below depth 5 not included]_`);
    expect(markdown).not.toContain('Level 7');
    expect(stats.truncatedAtDepth).toBe(1);
    const full = await render(pageId, 30);
    expect(full.markdown).toContain(`${'  '.repeat(19)}- Level 20`);
  });

  it('renders a synced copy with the content of its original, and notes an original it cannot read', async () => {
    const store = harness.fake.store;
    const pageId = store.addPage({ title: 'Copy elsewhere', blocks: [block.syncedCopy(SYNCED_ORIGINAL_ID)] });
    expect((await render(pageId)).markdown).toBe('Shared footer: harbour office 08-17.\n');
    const orphan = store.addPage({
      title: 'Orphan copy',
      blocks: [block.syncedCopy('00000000-0000-4000-8000-0000000000ff')],
    });
    expect((await render(orphan)).markdown).toBe(
      '_[synced block: its original is not shared with the integration]_\n',
    );
  });
});

describe('compared with notion-to-md 3.1.9 on the same page', () => {
  async function notionToMd(pageId: string): Promise<string> {
    const client = new Client({ auth: CREDENTIALS.token, baseUrl: harness.fake.url, retry: false });
    const converter = new NotionToMarkdown({ notionClient: client });
    return converter.toMarkdownString(await converter.pageToMarkdown(pageId)).parent ?? '';
  }

  it('agrees on headings, rich text, mentions, lists, quotes, code and equations', async () => {
    const ours = (await render(showcase.pageId)).markdown;
    const theirs = await notionToMd(showcase.pageId);
    for (const shared of [
      '# Arrival',
      'Moor **only** at _berth 4_, not ~~berth 9~~; call `VHF 12` or read [the rules](https://example.com/rules). Ask @Ada',
      '- [x] Pay the fee',
      '> ⛽ Fuel closes at 18:00.',
      '```javascript\nconst knots = 5;\nconsole.log(knots);\n```',
      '$$\nv = d / t\n$$',
      '![The harbour](https://example.com/harbour.png)',
    ]) {
      expect(ours).toContain(shared);
      expect(theirs).toContain(shared);
    }
  });

  it('differs where ours is deliberately better for a knowledge base', async () => {
    const ours = (await render(showcase.pageId)).markdown;
    const theirs = await notionToMd(showcase.pageId);
    // Toggles: HTML <details> there, a list item with its children here (plain Markdown, searchable text).
    expect(theirs).toContain('<details>\n<summary>Night arrival</summary>');
    expect(ours).toContain('- Night arrival\n  Use the leading lights.');
    // Hosted files: the signed URL (expires in an hour, changes every fetch) there, a stable block link here.
    expect(theirs).toContain('https://files.example/secret-signed-url?X-Amz=1');
    expect(ours).not.toContain('X-Amz');
    // A "|" in a table cell breaks the row there; escaped here.
    expect(theirs).toContain('| 9     | 2 | shallow |');
    expect(ours).toContain('| 9 | 2 \\| shallow |');
    // Bookmarks and embeds: the literal words "bookmark"/"embed" as link text there; caption or URL here.
    expect(theirs).toContain('[bookmark](https://example.com/weather)');
    expect(ours).toContain('[Weather](https://example.com/weather)');
    // Code captions and unsupported blocks are dropped there; kept and noted here.
    expect(theirs).not.toContain('Speed limit');
    expect(theirs).not.toContain('ai_block');
    expect(ours).toContain('_[unsupported Notion block: ai_block]_');
    // A synced copy: notion-to-md lists the copy's own children; ours reads the original's.
    expect(theirs.split('Shared footer').length - 1).toBe(1);
    expect(ours.split('Shared footer').length - 1).toBe(2);
  });
});
