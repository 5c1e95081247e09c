// The connector conformance suite from @tributary/testkit. One fake Drive serves every test; each
// source is a fresh folder of 9 documents in it (text, Markdown, a Doc, a Sheet), listed in pages
// of 3 so a full sync yields several checkpoints.
import { testConnector } from '@tributary/testkit';
import { afterAll } from 'vitest';
import { createGoogleDriveConnector } from '../src/index.js';
import { type DriveHarness, startDriveHarness } from './support/drive-harness.js';
import { DOC, SHEET } from './support/fake-drive-server.js';

let shared: DriveHarness | undefined;
let sources = 0;

afterAll(async () => {
  await shared?.close();
});

testConnector({
  name: 'google_drive',
  connector: () =>
    shared
      ? shared.connector({ pageSize: 3, checkpointEveryFolders: 1 })
      : createGoogleDriveConnector({ pageSize: 3, checkpointEveryFolders: 1 }),
  source: async () => {
    shared ??= await startDriveHarness();
    const { fake } = shared;
    sources += 1;
    const folder = fake.addFolder(`Conformance ${sources}`, fake.rootFolderId);
    const nested = fake.addFolder('Nested', folder);
    const ids: string[] = [];
    for (let index = 0; index < 5; index++) {
      ids.push(
        fake.addFile({
          name: `note-${index}.txt`,
          parent: index < 3 ? folder : nested,
          content: `Note ${index}: tides and harbours`,
        }),
      );
    }
    ids.push(
      fake.addFile({
        name: 'guide.md',
        mimeType: 'text/markdown',
        parent: nested,
        content: '# Guide\n\nHow to sail.',
      }),
    );
    ids.push(fake.addFile({ name: 'Plan', mimeType: DOC, parent: folder, content: '# Plan\n\nSail north.' }));
    ids.push(
      fake.addFile({
        name: 'Costs',
        mimeType: SHEET,
        parent: folder,
        sheets: [
          { sheetId: 0, title: 'Boats', csv: 'boat,cost\nsloop,100\n' },
          { sheetId: 7, title: 'Crew', csv: 'name,role\nada,captain\n' },
        ],
      }),
    );
    ids.push(fake.addFile({ name: 'log.txt', parent: nested, content: 'Day 1: calm seas.' }));
    let version = 0;
    return {
      config: { folderIds: [folder] },
      credentials: shared.serviceAccount,
      async remove(count: number) {
        const removed = ids.splice(0, count);
        for (const id of removed) fake.remove(id);
        return removed;
      },
      async change() {
        version += 1;
        const id = ids[ids.length - 1] as string;
        fake.updateContent(id, `Day ${version + 1}: a storm, then sun.`);
        return id;
      },
      failNextRequests(count: number, status: 429 | 500 | 502 | 503) {
        fake.failNext(count, status, status === 429 ? { retryAfter: '0' } : {});
      },
    };
  },
  invalidConfigs: [
    { config: {}, field: 'folderIds' },
    { config: { folderIds: [] }, field: 'folderIds' },
    { config: { myDrive: true, maxFileSizeBytes: -1 }, field: 'maxFileSizeBytes' },
  ],
});
