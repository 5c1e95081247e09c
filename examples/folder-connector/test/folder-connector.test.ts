import { chmod, mkdir, mkdtemp, rm, unlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type ConnectorChange,
  createConnectorInstance,
  createMemoryConnectorStateStore,
  InvalidConfigError,
  type JsonValue,
  type LoadedContent,
  type SyncMode,
  TributaryError,
} from '@tributary/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFolderConnector, FILES_NAMESPACE } from '../src/index.js';

let root: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'tributary-folder-'));
  await chmod(root, 0o755);
});

afterEach(async () => {
  await chmod(join(root, 'locked'), 0o755).catch(() => {});
  await rm(root, { recursive: true, force: true });
});

async function write(relativePath: string, content: string, mtime?: Date): Promise<void> {
  const file = join(root, ...relativePath.split('/'));
  await mkdir(join(file, '..'), { recursive: true });
  await writeFile(file, content);
  if (mtime) await utimes(file, mtime, mtime);
}

// ctx.state of the connector across the syncs of one test, as a repository would keep it.
let stateStore = createMemoryConnectorStateStore();
beforeEach(() => {
  stateStore = createMemoryConnectorStateStore();
});

/** The file versions committed in ctx.state, by path. */
async function storedFiles(): Promise<string[]> {
  const entries = await stateStore.list(FILES_NAMESPACE, { limit: 1000 });
  return entries.map((entry) => entry.key).sort();
}

async function collect(
  options: { mode?: SyncMode; cursor?: JsonValue; checkpointEvery?: number; include?: string[] } = {},
): Promise<ConnectorChange[]> {
  const connector = createFolderConnector({ checkpointEvery: options.checkpointEvery });
  const instance = createConnectorInstance(connector, {
    config: { path: root, ...(options.include ? { include: options.include } : {}) },
  });
  const changes: ConnectorChange[] = [];
  for await (const change of instance.sync({ mode: options.mode, cursor: options.cursor, stateStore }))
    changes.push(change);
  return changes;
}

const upserted = (changes: ConnectorChange[]) =>
  changes.flatMap((change) => (change.kind === 'upsert' ? [change.document.externalId] : [])).sort();
const deleted = (changes: ConnectorChange[]) =>
  changes.flatMap((change) => (change.kind === 'delete' ? [change.externalId] : [])).sort();
const lastCursor = (changes: ConnectorChange[]) => {
  const checkpoints = changes.filter((change) => change.kind === 'checkpoint');
  return checkpoints.at(-1)?.cursor;
};

async function text(content: LoadedContent): Promise<string> {
  if (content.kind === 'text') return content.text;
  if (content.kind === 'bytes') return Buffer.from(content.bytes).toString('utf8');
  const chunks: Uint8Array[] = [];
  for await (const chunk of content.stream as AsyncIterable<Uint8Array>) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

describe('createFolderConnector', () => {
  it('is a local_folder connector with incremental, deletions and binary content', () => {
    const connector = createFolderConnector();
    expect(connector.type).toBe('local_folder');
    expect(connector.specificationVersion).toBe('v1');
    expect(connector.capabilities).toMatchObject({
      incremental: true,
      deletions: true,
      binaryContent: true,
      webhooks: false,
    });
  });

  it('lists every file in a full sync, with lazy content, metadata and listing-complete', async () => {
    const mtime = new Date('2026-01-15T10:00:00.000Z');
    await write('README.md', '# Handbook\n', mtime);
    await write('guides/onboarding.md', '# Onboarding\nWelcome.', mtime);
    await write('guides/deep/security policy.txt', 'Lock your screen.', mtime);
    await write('data/table.csv', 'a,b\n1,2\n', mtime);
    await write('.git/config', 'hidden', mtime);
    await write('.DS_Store', 'hidden', mtime);

    const changes = await collect();
    expect(upserted(changes)).toEqual([
      'README.md',
      'data/table.csv',
      'guides/deep/security policy.txt',
      'guides/onboarding.md',
    ]);
    expect(changes.at(-1)).toEqual({ kind: 'listing-complete', complete: true });
    expect(changes.at(-2)?.kind).toBe('checkpoint');

    const document = changes.flatMap((change) =>
      change.kind === 'upsert' && change.document.externalId === 'guides/deep/security policy.txt'
        ? [change.document]
        : [],
    )[0];
    expect(document).toMatchObject({
      externalId: 'guides/deep/security policy.txt',
      parentExternalId: 'guides/deep',
      title: 'security policy.txt',
      mimeType: 'text/plain',
      version: `${mtime.getTime()}:17`,
      modifiedAt: mtime.toISOString(),
      metadata: { relativePath: 'guides/deep/security policy.txt', sizeBytes: 17 },
    });
    expect(document?.externalUrl).toBe(`file://${root}/guides/deep/security%20policy.txt`);
    expect(document?.content.kind).toBe('lazy');
    if (document?.content.kind !== 'lazy') throw new Error('expected lazy content');
    const loaded = await document.content.load({ signal: new AbortController().signal });
    expect(loaded).toMatchObject({ kind: 'stream', sizeBytes: 17 });
    expect(await text(loaded)).toBe('Lock your screen.');

    const cursor = lastCursor(changes) as { version: number; scannedAt: string };
    expect(Object.keys(cursor).sort()).toEqual(['scannedAt', 'version']);
    expect(cursor.version).toBe(2);
    expect(Date.parse(cursor.scannedAt)).not.toBeNaN();
    expect(await storedFiles()).toEqual(upserted(changes));
  });

  it('emits exactly the added, modified and deleted files in an incremental sync', async () => {
    const before = new Date('2026-01-01T00:00:00.000Z');
    await write('keep.md', 'unchanged', before);
    await write('edit.md', 'first draft', before);
    await write('gone.md', 'to be removed', before);
    await write('sub/gone-too.txt', 'also removed', before);
    const first = await collect();
    const cursor = lastCursor(first);

    await write('edit.md', 'second draft, longer', new Date('2026-01-02T00:00:00.000Z'));
    await write('sub/new.md', 'brand new');
    await unlink(join(root, 'gone.md'));
    await rm(join(root, 'sub', 'gone-too.txt'));

    const second = await collect({ cursor });
    expect(upserted(second)).toEqual(['edit.md', 'sub/new.md']);
    expect(deleted(second)).toEqual(['gone.md', 'sub/gone-too.txt']);
    expect(second.some((change) => change.kind === 'listing-complete')).toBe(false);
    expect(second.at(-1)?.kind).toBe('checkpoint');

    // Nothing changed since: an incremental sync emits no upsert or delete, only its checkpoint.
    const third = await collect({ cursor: lastCursor(second) });
    expect(third.map((change) => change.kind)).toEqual(['checkpoint']);
    expect(await storedFiles()).toEqual(['edit.md', 'keep.md', 'sub/new.md']);
  });

  it('never reads unchanged files: load() runs only for what the pipeline asks for', async () => {
    for (let index = 0; index < 12; index += 1) await write(`notes/note-${index}.txt`, `note ${index}`);
    const first = await collect({ checkpointEvery: 5 });
    expect(first.filter((change) => change.kind === 'checkpoint')).toHaveLength(3); // after 5, 10, and the end

    await write('notes/note-3.txt', 'note 3, edited with more words', new Date(Date.now() + 60_000));
    // A file whose bytes cannot be read at all still lists fine: listing reads metadata only.
    await write('notes/no-read.txt', 'secret');
    await chmod(join(root, 'notes', 'no-read.txt'), 0o000);

    // Act as the pipeline does: load the content of each upsert, count the loads.
    let loads = 0;
    const loadedTexts: string[] = [];
    for (const change of await collect({ cursor: lastCursor(first), include: ['txt'] })) {
      if (change.kind !== 'upsert' || change.document.content.kind !== 'lazy') continue;
      if (change.document.externalId === 'notes/no-read.txt') continue;
      loads += 1;
      loadedTexts.push(
        await text(await change.document.content.load({ signal: new AbortController().signal })),
      );
    }
    expect(loads).toBe(1);
    expect(loadedTexts).toEqual(['note 3, edited with more words']);
  });

  it('reports listing-complete false when a folder cannot be read, and deletes nothing under it', async () => {
    await write('open/a.md', 'readable');
    await write('locked/b.md', 'hidden from us');
    await write('locked/inner/c.md', 'hidden too');
    const first = await collect();
    expect(upserted(first)).toEqual(['locked/b.md', 'locked/inner/c.md', 'open/a.md']);

    await chmod(join(root, 'locked'), 0o000);
    // Both continue from the first sync (a sync without any cursor starts from scratch).
    const [full, incremental] = await asUnprivilegedUser(async () => [
      await collect({ mode: 'full', cursor: lastCursor(first) }),
      await collect({ cursor: lastCursor(first) }),
    ]);
    expect(upserted(full)).toEqual(['open/a.md']);
    expect(full.at(-1)).toEqual({
      kind: 'listing-complete',
      complete: false,
      reason: 'could not read 1 folder(s): locked',
    });
    // Unknown is not gone: no deletes for files below the unreadable folder, and they stay in ctx.state.
    expect(deleted(incremental)).toEqual([]);
    expect(await storedFiles()).toEqual(['locked/b.md', 'locked/inner/c.md', 'open/a.md']);
  });

  it('filters by extension and skips files over maxFileBytes', async () => {
    await write('a.md', 'markdown');
    await write('b.PDF', '%PDF-1.4 not really');
    await write('c.txt', 'x'.repeat(2000));
    await write('d.txt', 'small');
    const instance = createConnectorInstance(createFolderConnector(), {
      config: { path: root, include: ['*.txt', '.pdf'], maxFileBytes: 1000 },
    });
    const changes: ConnectorChange[] = [];
    for await (const change of instance.sync()) changes.push(change);
    expect(upserted(changes)).toEqual(['b.PDF', 'd.txt']);
  });

  it('rejects bad config at creation with InvalidConfigError naming the field', () => {
    const connector = createFolderConnector();
    const cases: [unknown, string][] = [
      [{ path: 'relative/folder' }, 'path'],
      [{}, 'path'],
      [undefined, 'path'],
      [{ path: '' }, 'path'],
      [{ path: root, include: ['md', '../x'] }, 'include[1]'],
      [{ path: root, maxFileBytes: -1 }, 'maxFileBytes'],
    ];
    for (const [config, fieldPath] of cases) {
      let caught: unknown;
      try {
        createConnectorInstance(connector, { config });
      } catch (error) {
        caught = error;
      }
      expect(InvalidConfigError.isInstance(caught), JSON.stringify(config)).toBe(true);
      expect((caught as InvalidConfigError).fieldPath).toBe(fieldPath);
      expect((caught as Error).message).toContain(
        `[tributary] [local_folder] invalid config field "${fieldPath}"`,
      );
    }
    expect(() => createConnectorInstance(connector, { config: { path: '/srv/absolute' } })).not.toThrow();
  });

  it('fails check and sync with a readable error when the folder is missing', async () => {
    const instance = createConnectorInstance(createFolderConnector(), {
      config: { path: join(root, 'missing') },
    });
    const error = await instance.check().catch((caught: unknown) => caught);
    expect(TributaryError.isInstance(error)).toBe(true);
    expect((error as TributaryError).code).toBe('folder_unreadable');
    expect((error as Error).message).toMatch(
      /^\[tributary\] \[local_folder\] the folder .* cannot be read \(ENOENT\)/,
    );
    await write('exists.md', 'x');
    await expect(
      createConnectorInstance(createFolderConnector(), { config: { path: root } }).check(),
    ).resolves.toBeUndefined();
  });
});

/**
 * Runs `action` without root's power to read any file (root ignores permission bits), so a
 * chmod 000 folder is unreadable as it would be for a normal user. As a normal user it just runs.
 */
async function asUnprivilegedUser<T>(action: () => Promise<T>): Promise<T> {
  if (typeof process.geteuid !== 'function' || process.geteuid() !== 0 || !process.seteuid) return action();
  process.seteuid(65534); // nobody; the saved uid stays 0, so we can switch back
  try {
    return await action();
  } finally {
    process.seteuid(0);
  }
}
