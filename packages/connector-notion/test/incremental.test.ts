// Incremental syncs: search newest first stopping at the cursor (equal timestamps taken again),
// trashed and unshared pages deleted (confirmed one by one), pages moved out of a root deleted,
// edits within the same minute caught, and the scope settings (roots, data sources, path globs,
// pages nested in blocks).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { block } from './support/notion-fixtures.js';
import {
  collectChanges,
  deletes,
  lastCursor,
  type NotionHarness,
  pipeline,
  startNotionHarness,
  upserts,
} from './support/notion-harness.js';

let harness: NotionHarness;
let root: string;
let children: string[];
let other: string;

beforeEach(async () => {
  harness = await startNotionHarness();
  const { store } = harness.fake;
  root = store.addPage({ title: 'Handbook', blocks: [block.paragraph('Welcome')] });
  children = Array.from({ length: 6 }, (_, index) =>
    store.addPage({
      title: `Chapter ${index}`,
      parentPageId: root,
      blocks: [block.paragraph(`Text ${index}`)],
    }),
  );
  other = store.addPage({ title: 'Private diary', blocks: [block.paragraph('Dear diary')] });
});
afterEach(() => harness.close());

describe('incremental sync', () => {
  it('stops at the cursor: an unchanged workspace costs one search call per object type', async () => {
    const connector = harness.connector();
    const full = await collectChanges(connector, { config: { detectDeletes: false } });
    harness.fake.resetCounts();
    const changes = await collectChanges(connector, {
      config: { detectDeletes: false },
      cursor: lastCursor(full),
      mode: 'incremental',
    });
    // Every data source (few), then pages to the cursor.
    expect(harness.fake.count('POST /v1/search')).toBe(2);
    // The newest page (edited at exactly the cursor's time) is taken again: equal timestamps overlap.
    expect(upserts(changes).map((document) => document.externalId)).toEqual([other]);
  });

  it('yields only what changed and deletes trashed pages from a search of the trash, listing nothing else', async () => {
    const run = pipeline(harness, {});
    expect((await run.sync({ mode: 'full' })).counts.inserted).toBe(8);
    const { store } = harness.fake;
    store.editPage(children[0] as string, [block.paragraph('New text')]);
    store.trashPage(children[1] as string);
    store.unsharePage(children[2] as string);
    harness.fake.resetCounts();
    const summary = await run.sync();
    expect(summary.mode).toBe('incremental');
    expect(summary.counts.updated).toBe(1);
    expect(summary.counts.deleted).toBe(1);
    expect(run.live()).not.toContain(children[1]);
    // Access removed shows nowhere but in a listing of every id: the sweep is not due yet.
    expect(run.live()).toContain(children[2]);
    // Data sources, pages to the cursor, the trash to the cursor: one call each; no confirmation.
    expect(harness.fake.count('POST /v1/search')).toBe(3);
    expect(harness.fake.count('GET /v1/pages/:id')).toBe(0);
    expect(harness.fake.count('GET /v1/blocks/:id/children')).toBe(1);
  });

  it('sweeps every deleteSweepHours: unshared pages are confirmed and deleted, newly shared old pages synced', async () => {
    let now = Date.now();
    const run = pipeline(harness, { deleteSweepHours: 24 }, { now: () => now });
    await run.sync({ mode: 'full' });
    const { store } = harness.fake;
    store.unsharePage(children[2] as string);
    // A page edited long ago, shared with the integration only now.
    const old = store.addPage({ title: 'Old memo', blocks: [block.paragraph('from 2019')] });
    store.requirePage(old).edited = '2019-01-01T00:00:00.000Z';
    store.requirePage(old).created = '2019-01-01T00:00:00.000Z';
    expect((await run.sync()).counts.deleted).toBe(0);
    expect(run.live()).not.toContain(old);
    now += 25 * 3_600_000;
    harness.fake.resetCounts();
    const swept = await run.sync();
    expect(swept.counts.deleted).toBe(1);
    expect(swept.counts.inserted).toBe(1);
    expect(run.live()).not.toContain(children[2]);
    expect(run.live()).toContain(old);
    // One confirmation of the missing page (404).
    expect(harness.fake.count('GET /v1/pages/:id')).toBe(1);
    // The sweep is done: the next run lists nothing beyond the cursor again.
    harness.fake.resetCounts();
    await run.sync();
    expect(harness.fake.count('GET /v1/pages/:id')).toBe(0);
  });

  it("leaves the sweep for later when Notion's search says it stopped early", async () => {
    const run = pipeline(harness, { deleteSweepHours: 0 });
    await run.sync({ mode: 'full' });
    harness.fake.store.unsharePage(children[3] as string);
    harness.fake.searchIncomplete = true;
    expect((await run.sync()).counts.deleted).toBe(0);
    harness.fake.searchIncomplete = false;
    expect((await run.sync()).counts.deleted).toBe(1);
    expect(run.live()).not.toContain(children[3]);
  });

  it('does not delete when most known pages vanish from search at once (a lagging index)', async () => {
    const run = pipeline(harness, { deleteSweepHours: 0 });
    await run.sync({ mode: 'full' });
    for (const id of [...children, root]) harness.fake.store.unsharePage(id);
    const summary = await run.sync();
    expect(summary.status).toBe('success');
    expect(summary.counts.deleted).toBe(0);
    expect(run.live().length).toBe(8);
  });

  it('catches a second edit in the same minute as the sync that saw the first', async () => {
    const { store } = harness.fake;
    store.setClock(Date.now() - 30_000);
    const page = store.addPage({ title: 'Live notes', blocks: [block.paragraph('first')] });
    const run = pipeline(harness, {});
    await run.sync({ mode: 'full' });
    store.editPage(page, [block.paragraph('second')], { sameMinute: true });
    const summary = await run.sync();
    expect(summary.counts.updated).toBe(1);
  });
});

describe('scope', () => {
  it('syncs a root page recursively, nothing else; a page moved out of it is deleted', async () => {
    const run = pipeline(harness, { rootPageIds: [root] });
    await run.sync({ mode: 'full' });
    expect(run.live()).toEqual([root, ...children].sort());
    harness.fake.store.movePage(children[0] as string, other);
    const summary = await run.sync();
    expect(summary.counts.deleted).toBe(1);
    expect(run.live()).not.toContain(children[0]);
  });

  it('keeps a new page whose new parent comes after it in the listing (edited earlier)', async () => {
    const run = pipeline(harness, { rootPageIds: [root] });
    await run.sync({ mode: 'full' });
    const { store } = harness.fake;
    const part = store.addPage({ title: 'Part II', parentPageId: children[0] });
    const chapter = store.addPage({ title: 'Chapter 7', parentPageId: part });
    const summary = await run.sync();
    expect(summary.counts.inserted).toBe(2);
    expect(run.live()).toContain(chapter);
    expect(run.live()).toContain(part);
  });

  it('includes and excludes by path or title globs', async () => {
    const included = await collectChanges(harness.connector(), {
      config: { includePaths: ['Handbook / Chapter *'], excludePaths: ['*Chapter 5'] },
    });
    expect(
      upserts(included)
        .map((document) => document.title)
        .sort(),
    ).toEqual(['Chapter 0', 'Chapter 1', 'Chapter 2', 'Chapter 3', 'Chapter 4']);
  });

  it('syncs listed data sources, and pages nested in blocks under a root', async () => {
    const { store } = harness.fake;
    const crew = store.addDataSource({ title: 'Crew', schema: { Role: 'select' } });
    const ada = store.addRow(crew, { title: 'Ada', values: { Role: 'Captain' } });
    const [columnList] = store.appendBlocks(root, [block.columns([block.paragraph('left')], [])]);
    const firstColumn = store.children.get(columnList as string)?.[0] as string;
    const nested = store.addPage({ title: 'In a column', parentPageId: root, parentBlockId: firstColumn });
    const changes = await collectChanges(harness.connector(), {
      config: { rootPageIds: [root], dataSourceIds: [crew] },
    });
    const ids = upserts(changes).map((document) => document.externalId);
    expect(ids).toContain(ada);
    expect(ids).toContain(nested);
    expect(ids).not.toContain(other);
    const inColumn = upserts(changes).find((document) => document.externalId === nested);
    expect(inColumn?.metadata?.path).toBe('Handbook / In a column');
    expect(deletes(changes)).toEqual([]);
  });

  it('queries listed data sources, so rows search has not indexed yet are synced', async () => {
    const { store } = harness.fake;
    const crew = store.addDataSource({ title: 'Crew', schema: { Role: 'select' } });
    const indexed = store.addRow(crew, { title: 'Ada', values: { Role: 'Captain' } });
    const fresh = store.addRow(crew, { title: 'Grace', values: { Role: 'Navigator' } });
    store.notIndexed.add(fresh);
    const changes = await collectChanges(harness.connector({ pageSize: 1 }), {
      config: { dataSourceIds: [crew] },
    });
    expect(
      upserts(changes)
        .map((document) => document.externalId)
        .sort(),
    ).toEqual([indexed, fresh].sort());
    expect(harness.fake.count('POST /v1/data_sources/:id/query')).toBe(2);
    expect(upserts(changes).find((document) => document.externalId === fresh)?.metadata?.path).toBe(
      'Crew / Grace',
    );
  });

  it("marks the listing incomplete when Notion's search says it stopped early (no sweep)", async () => {
    harness.fake.searchIncomplete = true;
    const changes = await collectChanges(harness.connector(), {});
    const complete = changes.find((change) => change.kind === 'listing-complete');
    expect(complete).toMatchObject({ kind: 'listing-complete', complete: false });
    expect(complete?.kind === 'listing-complete' && complete.reason).toContain('query_result_limit_reached');
  });

  it('marks the listing incomplete when a root is not shared (no sweep)', async () => {
    harness.fake.store.unsharePage(root);
    const changes = await collectChanges(harness.connector(), { config: { rootPageIds: [root] } });
    const complete = changes.find((change) => change.kind === 'listing-complete');
    expect(complete).toMatchObject({ kind: 'listing-complete', complete: false });
  });
});

describe('large pages', () => {
  it('re-reads a page whose properties are too large to keep in the listing state', async () => {
    const { store } = harness.fake;
    const notes = store.addDataSource({ title: 'Notes', schema: { Body: 'rich_text' } });
    const big = store.addRow(notes, { title: 'Huge row', values: { Body: 'x'.repeat(70_000) } });
    harness.fake.resetCounts();
    const changes = await collectChanges(harness.connector(), {});
    expect(upserts(changes).map((document) => document.externalId)).toContain(big);
    expect(harness.fake.count('GET /v1/pages/:id')).toBe(1);
  });
});
