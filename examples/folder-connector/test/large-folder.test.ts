// 100,000 files, on PGlite and on the real PostgreSQL server: the old cursor (every file's version)
// passed 64 KB at ~1,300 files. Now the versions live in ctx.state, committed with each checkpoint
// by the repository's own `commitCheckpoint` (one transaction: cursor and state rows), the cursor
// stays a few dozen bytes, and a sync that dies after a checkpoint resumes (incremental, from the
// stored cursor and state) to every file listed exactly once.
//
// The connector runs through `createConnectorInstance` and the database's state store, not the
// whole pipeline: the upserts are counted, not extracted, embedded and stored (100,000 documents
// through the pipeline is a bench's job, not a test's).
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type ConnectorStateChanges,
  type ConnectorStateStore,
  createConnectorInstance,
  type JsonValue,
  type KnowledgeRepository,
  type SyncMode,
} from '@tributary/core';
import { type ConformanceDatabase, openConformanceDatabase } from '@tributary/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
}, 180_000);
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

interface RunResult {
  upserts: string[];
  checkpoints: number;
  largestCursor: number;
  largestStateChange: number;
}

/**
 * One sync run as the pipeline makes it, minus the documents: a sync run row (lease), the
 * connector's changes, and at each checkpoint its cursor and ctx.state changes committed in one
 * `commitCheckpoint`. `stopAfter`: the process dies right after that checkpoint is committed.
 */
async function syncRun(
  repository: KnowledgeRepository,
  connectorId: string,
  mode: SyncMode,
  stopAfter?: number,
): Promise<RunResult> {
  // No heartbeat here: a lease long enough for the run (a crashed one is expired by the test).
  const started = await repository.startSync({ connectorId, leaseSeconds: 3600 });
  expect(started.status).toBe('started');
  const runId = (started as { syncRunId: string }).syncRunId;
  const cursor = (await repository.getConnector(connectorId))?.syncCursor ?? undefined;
  let pending: ConnectorStateChanges | undefined;
  const stateStore: ConnectorStateStore = {
    get: (namespace, keys) => repository.getState(connectorId, namespace, keys),
    list: (namespace, options) => repository.listState(connectorId, namespace, options),
    // Called with the state changes just before the checkpoint is yielded: held, then committed
    // with the checkpoint's cursor.
    commit(changes) {
      pending = changes;
    },
  };
  const instance = createConnectorInstance(createFolderConnector({ checkpointEvery: 1000 }), {
    config: { path: root },
  });
  const result: RunResult = { upserts: [], checkpoints: 0, largestCursor: 0, largestStateChange: 0 };
  for await (const change of instance.sync({ mode, cursor: cursor as JsonValue | undefined, stateStore })) {
    if (change.kind === 'upsert') result.upserts.push(change.document.externalId);
    if (change.kind === 'checkpoint') {
      await repository.commitCheckpoint(runId, change.cursor, pending);
      result.largestStateChange = Math.max(
        result.largestStateChange,
        (pending?.upserts?.length ?? 0) + (pending?.deletes?.length ?? 0),
      );
      pending = undefined;
      result.checkpoints += 1;
      result.largestCursor = Math.max(result.largestCursor, JSON.stringify(change.cursor).length);
      // The process dies here: nothing after this checkpoint is committed, the lease is left behind.
      if (result.checkpoints === stopAfter) return result;
    }
  }
  await repository.finishSync(runId, { status: 'success' });
  return result;
}

async function countStored(repository: KnowledgeRepository, connectorId: string): Promise<number> {
  let count = 0;
  for (let after: string | undefined; ; ) {
    const page = await repository.listState(connectorId, FILES_NAMESPACE, { after, limit: 1000 });
    if (page.length === 0) return count;
    count += page.length;
    after = page[page.length - 1]?.key;
  }
}

describe.each([
  ['PGlite', 'pglite'],
  ['the PostgreSQL server', 'postgres'],
] as const)('a folder of 100,000 files on %s', (_name, kind) => {
  let database: ConformanceDatabase;
  beforeAll(async () => {
    database = await openConformanceDatabase(kind, { dimensions: 16, leaseSeconds: 60 });
  });
  afterAll(async () => {
    await database?.close();
  });

  it('syncs with a tiny cursor, dies after a checkpoint, resumes to every file exactly once', async () => {
    const started = Date.now();
    const store = await database.createStore('local_folder');
    const { repository, connectorId } = store;

    const crashed = await syncRun(repository, connectorId, 'full', 40);
    expect(crashed.upserts).toHaveLength(40_000);
    expect(await countStored(repository, connectorId)).toBe(40_000);
    const midway = (await repository.getConnector(connectorId))?.syncCursor;
    expect(midway).toMatchObject({ version: 2, scannedAt: expect.any(String) });

    await store.expireLeases(); // the dead process's lease runs out
    const resumed = await syncRun(repository, connectorId, 'incremental');
    // Only the files after the last checkpoint: nothing listed twice, nothing lost.
    expect(resumed.upserts).toHaveLength(60_000);
    const all = new Set([...crashed.upserts, ...resumed.upserts]);
    expect(all.size).toBe(FILES);
    expect(await countStored(repository, connectorId)).toBe(FILES);

    const largestCursor = Math.max(crashed.largestCursor, resumed.largestCursor);
    expect(largestCursor).toBeLessThan(100);
    expect(crashed.largestStateChange).toBeLessThanOrEqual(1000);
    console.info(
      `[large-folder] ${kind}: ${FILES} files, ${crashed.checkpoints + resumed.checkpoints} checkpoints to the end of the resumed run, largest cursor ${largestCursor} bytes of JSON, ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
  }, 300_000);
});
