// A workspace of 1,000 pages (a chain nested 40 deep among them, one page of 350 blocks) and a data
// source of 500 rows, through the real pipeline: everything lands, paths follow the nesting, rows
// carry their properties, and a re-sync costs calls in proportion to what changed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { block, mentionPage, mentionUser, text } from './support/notion-fixtures.js';
import {
  collectChanges,
  loadText,
  type NotionHarness,
  pipeline,
  startNotionHarness,
  upserts,
} from './support/notion-harness.js';

let harness: NotionHarness;
const pageIds: string[] = [];
let deepest = '';
let longPage = '';
let rows: string[] = [];

beforeAll(async () => {
  harness = await startNotionHarness();
  const { store } = harness.fake;
  // 40 pages nested in a chain, then 959 pages in 20 sections, then a 350-block page: 1,000 pages.
  let parent: string | undefined;
  for (let level = 1; level <= 40; level++) {
    parent = store.addPage({
      title: `Level ${level}`,
      parentPageId: parent,
      blocks: [block.paragraph(`Depth ${level}`)],
    });
    pageIds.push(parent);
  }
  deepest = parent as string;
  const sections: string[] = [];
  for (let section = 0; section < 20; section++) {
    const id = store.addPage({
      title: `Section ${section}`,
      blocks: [block.heading(1, `Section ${section}`)],
    });
    sections.push(id);
    pageIds.push(id);
  }
  for (let index = 0; pageIds.length < 999; index++) {
    pageIds.push(
      store.addPage({
        title: `Note ${index}`,
        parentPageId: sections[index % sections.length],
        blocks: [
          block.paragraph([
            text(`Note ${index} by `),
            mentionUser('u-ada', 'Ada'),
            text(', see '),
            mentionPage(deepest, 'Level 40'),
          ]),
          block.bullet('first', [block.bullet('second')]),
        ],
      }),
    );
  }
  longPage = store.addPage({
    title: 'Logbook',
    blocks: Array.from({ length: 350 }, (_, index) => block.paragraph(`Entry ${index + 1}`)),
  });
  pageIds.push(longPage);
  const crew = store.addDataSource({
    title: 'Crew',
    schema: { Role: 'select', Skills: 'multi_select', Age: 'number' },
  });
  rows = Array.from({ length: 500 }, (_, index) =>
    store.addRow(crew, {
      title: `Sailor ${index}`,
      values: { Role: index % 2 ? 'Deckhand' : 'Cook', Skills: ['knots', 'rowing'], Age: 20 + (index % 40) },
      blocks: [block.paragraph(`Biography of sailor ${index}.`)],
    }),
  );
});
afterAll(() => harness.close());

describe('a large workspace', () => {
  it('syncs 1,000 pages and 500 rows, then re-syncs with calls in proportion to the changes', async () => {
    const run = pipeline(harness, {});
    harness.fake.resetCounts();
    const first = await run.sync({ mode: 'full' });
    expect(first.status, first.error).toBe('success');
    expect(first.counts.inserted).toBe(1500);
    expect(run.live().length).toBe(1500);
    // Listing: 1 data source search page + 15 page search pages; content: one children call per
    // page with content, plus nested lists, plus 4 for the 350-block page.
    expect(harness.fake.count('POST /v1/search')).toBe(16);
    expect(harness.fake.versions).toEqual(new Set(['2025-09-03']));

    // Unchanged: the listing stops at the cursor; delete detection lists ids (15 search pages), no content.
    harness.fake.resetCounts();
    const unchanged = await run.sync();
    expect(unchanged.status).toBe('success');
    expect(unchanged.counts.inserted + unchanged.counts.updated + unchanged.counts.deleted).toBe(0);
    expect(harness.fake.count('GET /v1/blocks/:id/children')).toBe(0);
    expect(unchanged.apiCalls).toBe(harness.fake.total);

    // 10 pages edited: 10 more content fetches, nothing else reloaded.
    const { store } = harness.fake;
    const edited = pageIds.slice(100, 110);
    for (const id of edited) store.editPage(id, [block.paragraph(`Edited ${id}`)]);
    harness.fake.resetCounts();
    const changed = await run.sync();
    expect(changed.counts.updated).toBe(10);
    expect(changed.counts.inserted).toBe(0);
    expect(harness.fake.count('GET /v1/blocks/:id/children')).toBe(10);
  });

  it('gives deep pages their full path, rows their properties, the 350-block page all its blocks', async () => {
    const changes = await collectChanges(harness.connector(), {});
    const documents = new Map(upserts(changes).map((document) => [document.externalId, document]));
    expect(documents.size).toBe(1500);
    expect(documents.get(deepest)?.metadata?.path).toBe(
      Array.from({ length: 40 }, (_, index) => `Level ${index + 1}`).join(' / '),
    );
    const row = documents.get(rows[3] as string);
    expect(row?.metadata?.properties).toEqual({ Role: 'Deckhand', Skills: ['knots', 'rowing'], Age: 23 });
    expect(row?.metadata?.path).toBe('Crew / Sailor 3');
    expect(row?.parentExternalId).toBeDefined();
    expect(await loadText(row as never)).toBe(
      '# Sailor 3\n\n- **Role:** Deckhand\n- **Skills:** knots, rowing\n- **Age:** 23\n\nBiography of sailor 3.\n',
    );
    const logbook = await loadText(documents.get(longPage) as never);
    expect(logbook.match(/^Entry \d+$/gm)?.length).toBe(350);
    expect(logbook).toContain('Entry 350');
    const note = await loadText(documents.get(pageIds[60] as string) as never);
    expect(note).toContain('by @Ada, see [Level 40](https://www.notion.so/');
  });
});
