// 100,000 files: the old cursor (every file's version) passed 64 KB at ~1,300 files. Now the
// versions live in ctx.state, the cursor stays a few dozen bytes, and a sync that dies after a
// checkpoint resumes (incremental, from its cursor and committed state) to every file listed.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type ConnectorChange,
  createConnectorInstance,
  createMemoryConnectorStateStore,
  type JsonValue,
} from '@tributary/core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createFolderConnector, FILES_NAMESPACE } from '../src/index.js';

const FILES = 100_000;
let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'tributary-folder-100k-'));
  for (let folder = 0; folder < 100; folder++) {
    const directory = join(root, `folder-${String(folder).padStart(3, '0')}`);
    await mkdir(directory);
    await Promise.all(
      Array.from({ length: FILES / 100 }, (_, index) =>
        writeFile(
          join(directory, `note-${String(index).padStart(4, '0')}.md`),
          `# Note ${folder}/${index}\n`,
        ),
      ),
    );
  }
}, 120_000);
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

it('lists 100,000 files with a tiny cursor, dies after a checkpoint and resumes to every file', async () => {
  const started = Date.now();
  const stateStore = createMemoryConnectorStateStore();
  const instance = createConnectorInstance(createFolderConnector({ checkpointEvery: 1000 }), {
    config: { path: root },
  });
  const upserted = new Set<string>();
  let cursor: JsonValue | undefined;
  let largestCursor = 0;
  let checkpoints = 0;
  const consume = async (changes: AsyncIterable<ConnectorChange>, stopAfter?: number) => {
    for await (const change of changes) {
      if (change.kind === 'upsert') upserted.add(change.document.externalId);
      if (change.kind === 'checkpoint') {
        cursor = change.cursor;
        checkpoints += 1;
        largestCursor = Math.max(largestCursor, JSON.stringify(change.cursor).length);
        // The process dies here: what the connector buffered after this checkpoint is lost.
        if (checkpoints === stopAfter) return;
      }
    }
  };
  await consume(instance.sync({ mode: 'full', stateStore }), 40);
  const committed = await countStored(stateStore);
  expect(committed).toBe(40_000);

  await consume(instance.sync({ mode: 'incremental', cursor, stateStore }));
  expect(upserted.size).toBe(FILES);
  expect(await countStored(stateStore)).toBe(FILES);
  expect(largestCursor).toBeLessThan(100);
  console.info(
    `[large-folder] ${FILES} files: ${checkpoints} checkpoints, largest cursor ${largestCursor} bytes of JSON, ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
}, 240_000);

async function countStored(store: ReturnType<typeof createMemoryConnectorStateStore>): Promise<number> {
  let count = 0;
  for (let after: string | undefined; ; ) {
    const page = await store.list(FILES_NAMESPACE, { after, limit: 1000 });
    if (page.length === 0) return count;
    count += page.length;
    after = page[page.length - 1]?.key;
  }
}
