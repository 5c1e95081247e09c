import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isAbortError } from '../src/errors/index.js';
import { type BlobStore, createLocalBlobStore, InvalidBlobPathError } from '../src/storage/index.js';
import { defineBlobStoreContract, failure, HOSTILE_PATHS, readAll } from './blob-store-contract.js';

const roots: string[] = [];

afterEach(async () => {
  for (const directory of roots.splice(0)) await rm(directory, { recursive: true, force: true });
});

defineBlobStoreContract('local filesystem', async () => {
  const directory = await mkdtemp(join(tmpdir(), 'tributary-blob-'));
  roots.push(directory);
  return { store: createLocalBlobStore({ root: directory }) };
});

let root: string;
let store: BlobStore;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'tributary-blob-'));
  roots.push(root);
  store = createLocalBlobStore({ root });
});

/** Every file under root, temporary files included, as relative paths. */
async function filesOnDisk(): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(root.length + 1))
    .sort();
}

describe('createLocalBlobStore', () => {
  it('removes folders emptied by a delete, and keeps the rest', async () => {
    await store.put('org-1/y/one.txt', new Uint8Array([1]));
    await store.put('org-1/y/deeper/two.txt', new Uint8Array([1, 2]));
    expect(await store.delete(['org-1/y/deeper/two.txt'])).toBe(1);
    // The emptied folder went with its last object.
    expect((await readdir(join(root, 'org-1', 'y'))).sort()).toEqual(['one.txt']);
    expect(await filesOnDisk()).toEqual(['org-1/y/one.txt']);
  });

  it('streams a 200 MB body from a source that never materialises, with bounded memory, also with a live abort signal', async () => {
    const chunkSize = 64 * 1024;
    const totalBytes = 200 * 1024 * 1024;
    const expected = createHash('sha256');
    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    let produced = 0;

    // Each chunk is fresh and different (a counter pattern), as a network download's would be.
    async function* source(): AsyncGenerator<Uint8Array> {
      for (let index = 0; produced < totalBytes; index += 1) {
        const chunk = Buffer.allocUnsafe(chunkSize);
        for (let offset = 0; offset < chunkSize; offset += 4)
          chunk.writeUInt32LE((index * chunkSize + offset) >>> 0, offset);
        expected.update(chunk);
        produced += chunkSize;
        if (index % 256 === 0) rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
        yield chunk;
      }
    }

    // A signal that never fires: each read is raced with it, and no chunk may stay reachable.
    const result = await store.put('org-1/big/recording.bin', source(), {
      signal: new AbortController().signal,
    });
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
    expect(result.sizeBytes).toBe(totalBytes);
    expect(result.sha256).toBe(expected.digest('hex'));
    expect(rssPeak - rssBefore).toBeLessThan(100 * 1024 * 1024);

    // Reading it back is streamed too: hash as it flows, never holding the file.
    const readBack = createHash('sha256');
    let readBytes = 0;
    for await (const chunk of (await store.get(
      'org-1/big/recording.bin',
    )) as unknown as AsyncIterable<Uint8Array>) {
      readBack.update(chunk);
      readBytes += chunk.byteLength;
      if (readBytes % (16 * 1024 * 1024) < chunk.byteLength)
        rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
    }
    expect(readBytes).toBe(totalBytes);
    expect(readBack.digest('hex')).toBe(result.sha256);
    expect(rssPeak - rssBefore).toBeLessThan(100 * 1024 * 1024);
    expect((await store.head('org-1/big/recording.bin'))?.sizeBytes).toBe(totalBytes);
  });

  it('leaves no temporary file or empty folder behind when an upload is aborted or fails', async () => {
    await store.put('org-1/keep/old.txt', new TextEncoder().encode('old content'));
    const controller = new AbortController();
    async function* chunks(): AsyncGenerator<Uint8Array> {
      for (let index = 0; index < 100; index += 1) {
        if (index === 10) controller.abort();
        yield new Uint8Array(4096);
      }
    }
    expect(
      isAbortError(await failure(store.put('org-1/keep/old.txt', chunks(), { signal: controller.signal }))),
    ).toBe(true);
    const second = new AbortController();
    async function* more(): AsyncGenerator<Uint8Array> {
      yield new Uint8Array(4096);
      second.abort();
      yield new Uint8Array(4096);
    }
    expect(
      isAbortError(await failure(store.put('org-1/new/partial.bin', more(), { signal: second.signal }))),
    ).toBe(true);
    async function* broken(): AsyncGenerator<Uint8Array> {
      yield new Uint8Array(10);
      throw new Error('connection reset');
    }
    expect((await failure(store.put('org-1/new/broken.bin', broken()))).message).toBe('connection reset');
    expect(await readdir(join(root, 'org-1'))).toEqual(['keep']); // no empty folder left either
    expect(await filesOnDisk()).toEqual(['org-1/keep/old.txt']);
    expect((await readAll(await store.get('org-1/keep/old.txt'))).toString()).toBe('old content');
  });

  it('refuses keys that could escape the root, before touching the filesystem', async () => {
    const outside = join(root, '..', `escaped-${Date.now()}.txt`);
    for (const path of [...HOSTILE_PATHS, outside]) {
      expect(InvalidBlobPathError.isInstance(await failure(store.put(path, new Uint8Array([1])))), path).toBe(
        true,
      );
    }
    expect(await filesOnDisk()).toEqual([]);
    await expect(readFile(outside)).rejects.toThrow();
  });

  it('survives puts and deletes racing in one folder (a delete may remove the emptied folder)', async () => {
    for (let round = 0; round < 100; round += 1) {
      await Promise.all([
        store.put(`org-1/f/a${round}`, new Uint8Array([1])).then(() => store.delete([`org-1/f/a${round}`])),
        store.put(`org-1/f/b${round}`, new Uint8Array([2])).then(() => store.delete([`org-1/f/b${round}`])),
        store.put(`org-1/f/c${round}`, new Uint8Array([3])),
      ]);
      expect(await store.delete([`org-1/f/c${round}`])).toBe(1);
    }
    expect(await filesOnDisk()).toEqual([]);
  });

  it('hides temporary upload files from list', async () => {
    await store.put('org-1/a.txt', new Uint8Array([1]));
    await writeFile(join(root, 'org-1', '.tributary-upload-leftover'), 'crash leftover');
    const found: string[] = [];
    for await (const item of store.list('')) found.push(item.path);
    expect(found).toEqual(['org-1/a.txt']);
  });
});
