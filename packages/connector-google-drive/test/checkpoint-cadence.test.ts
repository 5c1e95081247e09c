// When a full listing checkpoints: every N folders, every T ms, or before the pending ctx.state
// writes could pass a bound; and settings out of range are refused with a typed error.
import {
  type ConnectorChange,
  type ConnectorStateStore,
  createConnectorInstance,
  createMemoryConnectorStateStore,
  InvalidConfigError,
} from '@tributary/core';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createGoogleDriveConnector, type GoogleDriveConnectorSettings } from '../src/index.js';
import { type DriveHarness, startDriveHarness } from './support/drive-harness.js';

let harness: DriveHarness;
beforeAll(async () => {
  harness = await startDriveHarness();
});
afterAll(async () => {
  await harness?.close();
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** A full sync through `instance.sync`; the rows each checkpoint commits are recorded. */
async function fullSync(root: string, settings: GoogleDriveConnectorSettings) {
  const memory = createMemoryConnectorStateStore();
  const committed: number[] = [];
  const stateStore: ConnectorStateStore = {
    get: memory.get,
    list: memory.list,
    commit(changes) {
      committed.push((changes.upserts?.length ?? 0) + (changes.deletes?.length ?? 0));
      return memory.commit(changes);
    },
  };
  const instance = createConnectorInstance(harness.connector(settings), {
    config: { folderIds: [root], includePermissions: false },
    credentials: harness.serviceAccount,
  });
  const changes: ConnectorChange[] = [];
  for await (const change of instance.sync({ mode: 'full', stateStore })) changes.push(change);
  return { changes, committed, checkpoints: changes.filter((change) => change.kind === 'checkpoint').length };
}

describe('checkpoint cadence of a full listing', () => {
  it('checkpoints after every N folders listed', async () => {
    const { fake } = harness;
    const root = fake.addFolder('Every N', fake.rootFolderId);
    for (let index = 0; index < 24; index++) fake.addFolder(`F${index}`, root);
    fake.resetCalls();
    const run = await fullSync(root, { checkpointEveryFolders: 5, checkpointIntervalMs: 3_600_000 });
    // 25 folders: after 5, 10, 15, 20 (at 25 the queue is empty: the final checkpoint follows).
    expect(fake.callCount('files.list')).toBe(25);
    expect(run.checkpoints).toBe(5);
  });

  it('checkpoints when checkpointIntervalMs passed, whatever the folder count', async () => {
    const { fake } = harness;
    const root = fake.addFolder('Every T', fake.rootFolderId);
    for (let index = 0; index < 30; index++) fake.addFolder(`F${index}`, root);
    // Each files.list call takes one second of (mocked) time.
    let now = Date.now();
    vi.spyOn(Date, 'now').mockImplementation(() => now);
    const fetchWithClock: typeof fetch = async (input, init) => {
      if (String(input instanceof Request ? input.url : input).includes('/drive/v3/files?')) now += 1000;
      return fetch(input, init);
    };
    const run = await fullSync(root, {
      checkpointEveryFolders: 10_000,
      checkpointIntervalMs: 5000,
      fetch: fetchWithClock,
    });
    // 31 listings: a checkpoint after every 5th (5, 10, ..., 30), then the final one.
    expect(run.checkpoints).toBe(7);
  });

  it('checkpoints before the pending state writes could pass checkpointMaxStateWrites', async () => {
    const { fake } = harness;
    const root = fake.addFolder('Wide', fake.rootFolderId);
    for (let index = 0; index < 600; index++) fake.addFolder(`F${index}`, root);
    const run = await fullSync(root, {
      pageSize: 50,
      checkpointEveryFolders: 10_000,
      checkpointIntervalMs: 3_600_000,
      checkpointMaxStateWrites: 500,
    });
    // A page of 50 subfolders writes 150 rows (folder, parent index, queue entry each).
    expect(Math.max(...run.committed)).toBeLessThanOrEqual(500);
    // The root's 12 pages alone write 1,800 rows: at least 4 checkpoints, and the final one.
    expect(run.checkpoints).toBeGreaterThanOrEqual(5);
    expect(run.changes.at(-1)).toMatchObject({ kind: 'checkpoint', cursor: { phase: 'changes' } });
  });
});

describe('checkpoint settings', () => {
  it.each([
    ['checkpointEveryFolders', 0, '1 to 10000'],
    ['checkpointEveryFolders', 1.5, '1 to 10000'],
    ['checkpointEveryFolders', 10_001, '1 to 10000'],
    ['checkpointIntervalMs', 50, '100 to 3600000'],
    ['checkpointIntervalMs', Number.NaN, '100 to 3600000'],
    ['checkpointMaxStateWrites', 50_000, '100 to 40000'],
  ] as const)('%s = %s is refused with InvalidConfigError naming the range', (name, value, range) => {
    let caught: unknown;
    try {
      createGoogleDriveConnector({ [name]: value });
    } catch (error) {
      caught = error;
    }
    expect(InvalidConfigError.isInstance(caught)).toBe(true);
    const error = caught as InvalidConfigError;
    expect(error.fieldPath).toBe(name);
    expect(error.subject).toBe('settings');
    expect(error.message).toContain(name);
    expect(error.message).toContain(range);
  });

  it('accepts the bounds', () => {
    expect(() =>
      createGoogleDriveConnector({
        checkpointEveryFolders: 1,
        checkpointIntervalMs: 3_600_000,
        checkpointMaxStateWrites: 100,
      }),
    ).not.toThrow();
  });
});
