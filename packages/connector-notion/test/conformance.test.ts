// The connector conformance suite from @tributary/testkit. One fake Notion serves every test; each
// source is a fresh root page with nested pages and a data source of rows below it, listed in
// search pages of 3 so a full sync yields several checkpoints.
import { testConnector } from '@tributary/testkit';
import { afterAll } from 'vitest';
import { createNotionConnector } from '../src/index.js';
import { block, mentionUser } from './support/notion-fixtures.js';
import { CREDENTIALS, type NotionHarness, startNotionHarness } from './support/notion-harness.js';

let shared: NotionHarness | undefined;
let sources = 0;

afterAll(async () => {
  await shared?.close();
});

testConnector({
  name: 'notion',
  connector: () => (shared ? shared.connector({ pageSize: 3 }) : createNotionConnector({ pageSize: 3 })),
  source: async () => {
    shared ??= await startNotionHarness();
    const { store } = shared.fake;
    sources += 1;
    const root = store.addPage({
      title: `Conformance ${sources}`,
      blocks: [block.paragraph('The harbour handbook.')],
    });
    const nested = store.addPage({
      title: 'Nested',
      parentPageId: root,
      blocks: [block.heading(2, 'Tides')],
    });
    const ids: string[] = [];
    for (let index = 0; index < 5; index++) {
      ids.push(
        store.addPage({
          title: `Note ${index}`,
          parentPageId: index < 3 ? root : nested,
          blocks: [
            block.paragraph(`Note ${index}: tides and harbours`),
            block.bullet('moorings', [block.bullet('chains')]),
          ],
        }),
      );
    }
    const crew = store.addDataSource({ title: 'Crew', parentPageId: root, schema: { Role: 'select' } });
    ids.push(
      store.addRow(crew, {
        title: 'Ada',
        values: { Role: 'Captain' },
        blocks: [block.paragraph([mentionUser('u1', 'Ada')])],
      }),
    );
    ids.push(store.addRow(crew, { title: 'Grace', values: { Role: 'Navigator' } }));
    ids.push(nested, root);
    let version = 0;
    return {
      config: { rootPageIds: [root] },
      credentials: CREDENTIALS,
      async remove(count: number) {
        const removed = ids.splice(0, count);
        for (const id of removed) store.trashPage(id);
        return removed;
      },
      async change() {
        version += 1;
        const id = ids[0] as string;
        store.editPage(id, [block.paragraph(`Day ${version + 1}: a storm, then sun.`)]);
        return id;
      },
      failNextRequests(count: number, status: 429 | 500 | 502 | 503) {
        shared?.fake.failNext(count, status, status === 429 ? { retryAfter: '0' } : {});
      },
    };
  },
  invalidConfigs: [
    { config: { rootPageIds: [] }, field: 'rootPageIds' },
    { config: { rootPageIds: ['not-an-id'] }, field: 'rootPageIds[0]' },
    { config: { detectDeletes: 'yes' }, field: 'detectDeletes' },
  ],
});
