// A Drive of 20,000 folders with real-length ids: the old design (folder map and queue in the
// cursor) failed its first checkpoint past ~350 folders and never recovered. Now the cursor stays
// a few hundred bytes, the folders and queue round-trip through ctx.state, and a crash after a
// checkpoint resumes to the same final document set. Plus: a stored version 1 cursor migrates.
import { createLexicalEmbedder, type JsonValue, type KnowledgeRepository, runSync } from '@tributary/core';
import { type ConformanceStore, openConformanceDatabase } from '@tributary/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DriveHarness, startDriveHarness } from './support/drive-harness.js';

/** A real-length Drive id: 33 characters. */
const driveId = (index: number) => `1${index.toString(36).padStart(7, '0')}Qx-Zy_AbCdEfGhIjKlMnOpQrS`;

let harness: DriveHarness;
// PGlite with every bundled migration: the state store, cursor cap and checkpoint function are the
// database's own, not an in-memory stand-in's.
let database: Awaited<ReturnType<typeof openConformanceDatabase>>;
let memory: Awaited<ReturnType<typeof openConformanceDatabase>>;
beforeAll(async () => {
  harness = await startDriveHarness();
  database = await openConformanceDatabase('pglite', { dimensions: 16, leaseSeconds: 60 });
  memory = await openConformanceDatabase('memory', { dimensions: 16, leaseSeconds: 60 });
});
afterAll(async () => {
  await harness?.close();
  await database?.close();
  await memory?.close();
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

describe('a Drive of 20,000 folders', () => {
  it('syncs, checkpoints with a small cursor, crashes after a checkpoint and resumes to the same documents', async () => {
    const { fake } = harness;
    expect(driveId(0)).toHaveLength(33);
    const root = fake.addFolder('Company', fake.rootFolderId, { id: driveId(0) });
    const expected: string[] = [];
    let next = 1;
    // 100 areas x 200 teams = 20,100 folders; one file in every 40th team.
    for (let area = 0; area < 100; area++) {
      const areaId = fake.addFolder(`Area ${area}`, root, { id: driveId(next++) });
      for (let team = 0; team < 200; team++) {
        const teamId = fake.addFolder(`Team ${team}`, areaId, { id: driveId(next++) });
        if (team % 40 === 0) {
          expected.push(
            fake.addFile({
              name: `plan-${area}-${team}.txt`,
              parent: teamId,
              content: `Plan ${area} ${team}`,
            }),
          );
        }
      }
    }
    expect(next).toBe(20_101);
    expected.sort();

    // 20,000+ checkpoints: one transaction each costs ~10 ms on PGlite, so this scale runs on core's
    // in-memory repository, which enforces the same 64 KB cursor cap and state store semantics.
    const store = await memory.createStore('google_drive');
    const { repository, connectorId } = store;
    let checkpoints = 0;
    let largestCursor = 0;
    let crashAfter: number | undefined = 5000;
    // The process dies right after its 5,000th checkpoint is committed: every later call fails.
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
          }
          return result;
        };
      },
    });
    const connector = harness.connector({ pageSize: 1000 });
    const sync = () =>
      runSync({
        connector,
        config: { folderIds: [root], includePermissions: false },
        credentials: harness.serviceAccount,
        connectorId,
        repository: watched,
        embedder: createLexicalEmbedder({ dimensions: 16 }),
        groupSize: 500,
        leaseSeconds: 60,
      });

    const started = Date.now();
    const crashed = await sync();
    expect(crashed.status).toBe('failed');
    expect(checkpoints).toBe(5000);
    const midway = await repository.getConnector(connectorId);
    // The listing cursor: tokens and queue positions only.
    expect(midway?.syncCursor).toMatchObject({ version: 2, phase: 'listing', queueHead: expect.any(Number) });
    expect(JSON.stringify(midway?.syncCursor).length).toBeLessThan(1024);
    const queued = await repository.listState(connectorId, 'queue', { limit: 1000 });
    expect(queued.length).toBeGreaterThan(0);

    crashAfter = undefined;
    await store.expireLeases(); // the crashed run's lease expires
    const resumed = await sync();
    expect(resumed.status, resumed.error).toBe('success');
    const seconds = (Date.now() - started) / 1000;

    expect(await liveIds(store)).toEqual(expected);
    expect(checkpoints).toBeGreaterThan(20_000);
    expect(largestCursor).toBeLessThan(1024);
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
    expect(folders).toBe(20_101);
    expect(await repository.listState(connectorId, 'queue')).toEqual([]);
    console.info(
      `[large-tree] 20,101 folders: ${checkpoints} checkpoints, largest cursor ${largestCursor} bytes of JSON, ${seconds.toFixed(1)} s`,
    );
  }, 240_000);
});
