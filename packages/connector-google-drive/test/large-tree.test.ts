// A Drive of 20,101 folders with real-length ids, on PGlite and on the real PostgreSQL server: the
// old design (folder map and queue in the cursor) failed its first checkpoint past ~350 folders
// and never recovered; then one checkpoint per folder made 20,000 folders take many minutes on a
// database. Now the cursor stays a few hundred bytes, the folders and queue round-trip through
// ctx.state, a checkpoint comes every 100 folders, and a crash resumes to the same documents,
// listing again at most the 100 folders after the last checkpoint and importing nothing twice.
// Plus: a stored version 1 cursor migrates.
import {
  type ConnectorStateChanges,
  createLexicalEmbedder,
  type JsonValue,
  type KnowledgeRepository,
  runSync,
} from '@tributary/core';
import { type ConformanceStore, openConformanceDatabase } from '@tributary/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DriveHarness, startDriveHarness } from './support/drive-harness.js';

/** A real-length Drive id: 33 characters. */
const driveId = (index: number) => `1${index.toString(36).padStart(7, '0')}Qx-Zy_AbCdEfGhIjKlMnOpQrS`;

let harness: DriveHarness;
// PGlite with every bundled migration: the state store, cursor cap and checkpoint function are the
// database's own, not an in-memory stand-in's.
let database: Awaited<ReturnType<typeof openConformanceDatabase>>;
beforeAll(async () => {
  harness = await startDriveHarness();
  database = await openConformanceDatabase('pglite', { dimensions: 16, leaseSeconds: 60 });
});
afterAll(async () => {
  await harness?.close();
  await database?.close();
});

async function liveIds(store: ConformanceStore): Promise<string[]> {
  return (await store.listDocuments())
    .filter((document) => !document.isDeleted)
    .map((document) => document.externalId)
    .sort();
}

describe('a stored version 1 cursor', () => {
  it('is migrated on the next incremental run: folders move into ctx.state, changes keep flowing', async () => {
    const { fake } = harness;
    const top = fake.addFolder('Legacy', fake.rootFolderId);
    const sub = fake.addFolder('Sub', top);
    const store = await database.createStore('google_drive');
    const { repository, connectorId } = store;
    const connector = harness.connector();
    const sync = () =>
      runSync({
        connector,
        config: { folderIds: [top], includePermissions: false },
        credentials: harness.serviceAccount,
        connectorId,
        repository,
        embedder: createLexicalEmbedder({ dimensions: 16 }),
      });
    // What a previous release stored: the folder map inside the cursor.
    const run = await repository.startSync({ connectorId });
    await repository.commitCheckpoint(run.syncRunId, {
      version: 1,
      phase: 'changes',
      // The start of this fake's change history (this test runs first, so it is short).
      pageToken: '1',
      folders: {
        [top]: { parent: null, name: 'Legacy', root: true },
        [sub]: { parent: top, name: 'Sub' },
      },
    });
    await repository.finishSync(run.syncRunId, { status: 'success' });
    const file = fake.addFile({ name: 'new.txt', parent: sub, content: 'after the upgrade' });

    const summary = await sync();
    expect(summary.status, summary.error).toBe('success');
    expect(summary.mode).toBe('incremental');
    expect(await liveIds(store)).toContain(file);
    const cursor = (await repository.getConnector(connectorId))?.syncCursor;
    expect(cursor).toMatchObject({ version: 2, phase: 'changes' });
    expect(cursor).not.toHaveProperty('folders');
    expect(await repository.getState(connectorId, 'folders', [top, sub])).toEqual(
      new Map([
        [top, { parent: null, name: 'Legacy', root: true }],
        [sub, { parent: top, name: 'Sub' }],
      ]),
    );
  });
});

/** Company > 100 areas > 200 teams (20,101 folders), one file in every 40th team (500 files). */
function buildTree(label: string): { root: string; expected: string[]; folders: number } {
  const { fake } = harness;
  let next = 0;
  const id = () => driveId(next++).replace(/^1/, label);
  const root = fake.addFolder('Company', fake.rootFolderId, { id: id() });
  const expected: string[] = [];
  for (let area = 0; area < 100; area++) {
    const areaId = fake.addFolder(`Area ${area}`, root, { id: id() });
    for (let team = 0; team < 200; team++) {
      const teamId = fake.addFolder(`Team ${team}`, areaId, { id: id() });
      if (team % 40 === 0) {
        expected.push(
          fake.addFile({ name: `plan-${area}-${team}.txt`, parent: teamId, content: `Plan ${area} ${team}` }),
        );
      }
    }
  }
  return { root, expected: expected.sort(), folders: next };
}

describe.each([
  ['PGlite', 'pglite'],
  ['the PostgreSQL server', 'postgres'],
] as const)('a Drive of 20,101 folders on %s', (_name, kind) => {
  let db: Awaited<ReturnType<typeof openConformanceDatabase>>;
  beforeAll(async () => {
    db = await openConformanceDatabase(kind, { dimensions: 16, leaseSeconds: 60 });
  });
  afterAll(async () => {
    await db?.close();
  });

  it('syncs with a checkpoint every 100 folders, crashes mid-run, resumes: 0 lost, 0 duplicated, <= 100 folders listed again', async () => {
    const { fake } = harness;
    const tree = buildTree(kind === 'pglite' ? 'p' : 's');
    expect(tree.folders).toBe(20_101);
    expect(tree.expected).toHaveLength(500);

    const store = await db.createStore('google_drive');
    const { repository, connectorId } = store;
    let checkpoints = 0;
    let largestCursor = 0;
    let largestStateChange = 0;
    // The process dies after its 57th checkpoint is committed: every later repository call fails,
    // so what it listed after that checkpoint is never committed.
    let crashAfter: number | undefined = 57;
    const watched: KnowledgeRepository = new Proxy(repository, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== 'function') return value;
        return async (...args: unknown[]) => {
          if (crashAfter !== undefined && checkpoints >= crashAfter) throw new Error('simulated crash');
          const result = await value.apply(target, args);
          if (property === 'commitCheckpoint') {
            checkpoints += 1;
            largestCursor = Math.max(largestCursor, JSON.stringify(args[1] as JsonValue).length);
            const changes = args[2] as ConnectorStateChanges | undefined;
            largestStateChange = Math.max(
              largestStateChange,
              (changes?.upserts?.length ?? 0) + (changes?.deletes?.length ?? 0),
            );
          }
          return result;
        };
      },
    });
    // Time never forces a checkpoint here, so the crash point is the same on a slow machine.
    const connector = harness.connector({ pageSize: 1000, checkpointIntervalMs: 3_600_000 });
    const sync = () =>
      runSync({
        connector,
        config: { folderIds: [tree.root], includePermissions: false },
        credentials: harness.serviceAccount,
        connectorId,
        repository: watched,
        embedder: createLexicalEmbedder({ dimensions: 16 }),
        groupSize: 500,
        leaseSeconds: 60,
      });

    const started = Date.now();
    fake.resetCalls();
    const crashed = await sync();
    expect(crashed.status).toBe('failed');
    expect(checkpoints).toBe(57);
    const listedBeforeCrash = fake.callCount('files.list');
    const midway = await repository.getConnector(connectorId);
    // The listing cursor: tokens and queue positions only.
    expect(midway?.syncCursor).toMatchObject({ version: 2, phase: 'listing', queueHead: expect.any(Number) });
    const committedHead = (midway?.syncCursor as { queueHead: number } | undefined)?.queueHead ?? 0;
    // 57 checkpoints, most after 100 folders; a few sooner while the 100 areas are listed (each adds
    // 601 state rows, and a checkpoint comes before the next page of up to 1,000 subfolders could
    // take the pending rows past 20,000).
    expect(committedHead).toBeGreaterThan(5000);
    expect(committedHead).toBeLessThanOrEqual(5700);
    expect(await repository.listState(connectorId, 'queue', { limit: 10 })).toHaveLength(10);

    crashAfter = undefined;
    await store.expireLeases(); // the crashed run's lease expires
    const resumed = await sync();
    expect(resumed.status, resumed.error).toBe('success');
    expect(resumed.mode).toBe('incremental');
    const seconds = (Date.now() - started) / 1000;

    // Every folder listed once, plus those the crashed run listed after its last checkpoint.
    const listed = fake.callCount('files.list');
    const listedAgain = listed - tree.folders;
    expect(listedAgain).toBeGreaterThan(0);
    expect(listedAgain).toBeLessThanOrEqual(100);
    expect(listedBeforeCrash - committedHead).toBe(listedAgain);

    // 0 lost, 0 duplicated: every file stored once, with one chunk, inserted by exactly one run.
    const documents = await store.listDocuments();
    expect(documents.map((document) => document.externalId)).toEqual(tree.expected);
    expect(documents.every((document) => !document.isDeleted && document.chunkCount === 1)).toBe(true);
    expect(crashed.counts.inserted + resumed.counts.inserted).toBe(500);
    expect(crashed.counts.updated + resumed.counts.updated).toBe(0);

    // ~200 checkpoints (not 20,101), each small.
    expect(checkpoints).toBeLessThanOrEqual(Math.ceil(tree.folders / 100) + 2);
    expect(largestCursor).toBeLessThan(1024);
    expect(largestStateChange).toBeLessThanOrEqual(20_000);
    const final = await repository.getConnector(connectorId);
    expect(final?.syncCursor).toEqual({ version: 2, phase: 'changes', pageToken: expect.any(String) });
    // Every folder is in the state store, the queue is empty.
    let folders = 0;
    for (let after: string | undefined; ; ) {
      const page = await repository.listState(connectorId, 'folders', { after, limit: 1000 });
      if (page.length === 0) break;
      folders += page.length;
      after = page[page.length - 1]?.key;
    }
    expect(folders).toBe(tree.folders);
    expect(await repository.listState(connectorId, 'queue')).toEqual([]);
    console.info(
      `[large-tree] ${kind}: ${tree.folders} folders, ${checkpoints} checkpoints, ${listedAgain} folders listed again after the crash, largest cursor ${largestCursor} bytes, largest state change ${largestStateChange} rows, ${seconds.toFixed(1)} s`,
    );
  }, 300_000);
});
