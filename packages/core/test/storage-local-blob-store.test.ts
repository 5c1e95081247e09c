import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AbortError, isAbortError } from '../src/errors/index.js';
import {
  BlobNotFoundError,
  type BlobStore,
  createLocalBlobStore,
  InvalidBlobPathError,
} from '../src/storage/index.js';

let root: string;
let store: BlobStore;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'tributary-blob-'));
  store = createLocalBlobStore({ root });
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** Every file under root, temporary files included, as relative paths. */
async function filesOnDisk(): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(root.length + 1))
    .sort();
}

function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(outcome instanceof Error)) throw new Error('expected a failure');
  return outcome;
}

describe('createLocalBlobStore', () => {
  it('round-trips bytes, web streams and async iterables with the right size and sha256', async () => {
    const text = 'Hello, Tributary: ünïcödé and 😀\n';
    const bytes = new TextEncoder().encode(text);

    const fromBytes = await store.put('org-1/a/hello.txt', bytes, { contentType: 'text/plain' });
    expect(fromBytes).toEqual({
      path: 'org-1/a/hello.txt',
      sizeBytes: bytes.byteLength,
      sha256: sha256(bytes),
    });
    expect((await readAll(await store.get('org-1/a/hello.txt'))).toString('utf8')).toBe(text);

    const web = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes.subarray(0, 5));
        controller.enqueue(bytes.subarray(5));
        controller.close();
      },
    });
    const fromWeb = await store.put('org-1/b/web.txt', web);
    expect(fromWeb.sha256).toBe(sha256(bytes));
    expect(fromWeb.sizeBytes).toBe(bytes.byteLength);

    const fromNode = await store.put(
      'org-1/b/node.txt',
      Readable.from([Buffer.from('ab'), Buffer.from('cd')]),
    );
    expect(fromNode).toMatchObject({ sizeBytes: 4, sha256: sha256('abcd') });
    expect((await readAll(await store.get('org-1/b/node.txt'))).toString()).toBe('abcd');

    const empty = await store.put('org-1/empty.bin', new Uint8Array(0));
    expect(empty).toMatchObject({ sizeBytes: 0, sha256: sha256('') });
    expect((await readAll(await store.get('org-1/empty.bin'))).byteLength).toBe(0);
  });

  it('replaces an object atomically, and heads, lists and deletes', async () => {
    await store.put('org-1/x/doc.md', new TextEncoder().encode('first'));
    await store.put('org-1/x/doc.md', new TextEncoder().encode('second version'));
    expect((await readAll(await store.get('org-1/x/doc.md'))).toString()).toBe('second version');

    const info = await store.head('org-1/x/doc.md');
    expect(info).toMatchObject({ path: 'org-1/x/doc.md', sizeBytes: 14 });
    expect(info?.modifiedAt).toBeInstanceOf(Date);
    expect(await store.head('org-1/x/missing.md')).toBeUndefined();
    expect(await store.head('org-1/x')).toBeUndefined(); // a directory is not an object

    await store.put('org-1/y/one.txt', new Uint8Array([1]));
    await store.put('org-1/y/deeper/two.txt', new Uint8Array([1, 2]));
    await store.put('org-10/z.txt', new Uint8Array([1, 2, 3]));
    const paths = async (prefix?: string) => {
      const found: string[] = [];
      for await (const item of store.list(prefix)) found.push(item.path);
      return found.sort();
    };
    expect(await paths()).toEqual([
      'org-1/x/doc.md',
      'org-1/y/deeper/two.txt',
      'org-1/y/one.txt',
      'org-10/z.txt',
    ]);
    expect(await paths('org-1/')).toEqual(['org-1/x/doc.md', 'org-1/y/deeper/two.txt', 'org-1/y/one.txt']);
    expect(await paths('org-1')).toHaveLength(4); // a string prefix, as in S3
    expect(await paths('org-1/y/o')).toEqual(['org-1/y/one.txt']);
    expect(await paths('nothing/here/')).toEqual([]);

    expect(await store.delete(['org-1/y/deeper/two.txt', 'org-1/y/not-there.txt'])).toBe(1);
    expect(await paths('org-1/y/')).toEqual(['org-1/y/one.txt']);
    // The emptied folder went with its last object.
    expect((await readdir(join(root, 'org-1', 'y'))).sort()).toEqual(['one.txt']);

    const missing = await failure(store.get('org-1/y/deeper/two.txt'));
    expect(BlobNotFoundError.isInstance(missing)).toBe(true);
    expect(missing.message).toMatch(
      /^\[tributary\] \[storage\] no stored object at "org-1\/y\/deeper\/two.txt"/,
    );
  });

  it('streams a 200 MB body from a source that never materialises, with bounded memory', async () => {
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

    const result = await store.put('org-1/big/recording.bin', source());
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

  it('leaves nothing behind when an upload is aborted mid-stream, even from a stalled source', async () => {
    await store.put('org-1/keep/old.txt', new TextEncoder().encode('old content'));
    const controller = new AbortController();
    let cancelled = false;
    let sent = 0;
    // Sends 20 chunks, aborts, then stalls for ever: the upload must end anyway and cancel the source.
    const stalled = new ReadableStream<Uint8Array>({
      pull(streamController) {
        sent += 1;
        if (sent > 20) {
          controller.abort(new Error('user cancelled'));
          return new Promise<void>(() => {});
        }
        streamController.enqueue(new Uint8Array(1024).fill(7));
      },
      cancel() {
        cancelled = true;
      },
    });
    const error = await failure(store.put('org-1/keep/old.txt', stalled, { signal: controller.signal }));
    expect(isAbortError(error)).toBe(true);
    expect(AbortError.isInstance(error)).toBe(true);
    // The previous object is intact and no temporary file remains.
    expect((await readAll(await store.get('org-1/keep/old.txt'))).toString()).toBe('old content');
    expect(await filesOnDisk()).toEqual(['org-1/keep/old.txt']);
    expect(cancelled).toBe(true);

    // Aborted between chunks of an async iterable, for a new object: nothing at all.
    const second = new AbortController();
    async function* chunks(): AsyncGenerator<Uint8Array> {
      for (let index = 0; index < 100; index += 1) {
        if (index === 10) second.abort();
        yield new Uint8Array(4096);
      }
    }
    expect(
      isAbortError(await failure(store.put('org-1/new/partial.bin', chunks(), { signal: second.signal }))),
    ).toBe(true);
    expect(await store.head('org-1/new/partial.bin')).toBeUndefined();
    expect(await readdir(join(root, 'org-1'))).toEqual(['keep']); // no empty folder left either
    expect(await filesOnDisk()).toEqual(['org-1/keep/old.txt']);

    // A source that throws: same guarantee.
    async function* broken(): AsyncGenerator<Uint8Array> {
      yield new Uint8Array(10);
      throw new Error('connection reset');
    }
    expect((await failure(store.put('org-1/new/broken.bin', broken()))).message).toBe('connection reset');
    expect(await filesOnDisk()).toEqual(['org-1/keep/old.txt']);

    // An already-aborted signal writes nothing.
    const done = new AbortController();
    done.abort();
    expect(
      isAbortError(
        await failure(store.put('org-1/new/never.bin', new Uint8Array(1), { signal: done.signal })),
      ),
    ).toBe(true);
    expect(await filesOnDisk()).toEqual(['org-1/keep/old.txt']);
  });

  it('refuses keys that could escape the root, before touching the filesystem', async () => {
    const outside = join(root, '..', `escaped-${Date.now()}.txt`);
    const hostile = [
      '../escaped.txt',
      'org-1/../../escaped.txt',
      'org-1/./a.txt',
      '..',
      '/etc/passwd',
      outside,
      'C:/Windows/win.ini',
      'org-1\\..\\escaped.txt',
      'org-1/a\u0000.txt',
      'org-1/a\n.txt',
      'org-1/\u001b[31mred.txt',
      'org-1//a.txt',
      'org-1/a/',
      '',
      'org-1/.tributary-upload-123',
      `org-1/${'a'.repeat(1100)}`,
    ];
    for (const path of hostile) {
      const error = await failure(store.put(path, new Uint8Array([1])));
      expect(InvalidBlobPathError.isInstance(error), path).toBe(true);
      expect(error.message).toMatch(/^\[tributary\] \[storage\] refused blob path/);
      expect(InvalidBlobPathError.isInstance(await failure(store.get(path))), path).toBe(true);
      expect(InvalidBlobPathError.isInstance(await failure(store.head(path))), path).toBe(true);
      expect(InvalidBlobPathError.isInstance(await failure(store.delete([path]))), path).toBe(true);
    }
    expect(
      InvalidBlobPathError.isInstance(await failure(store.list('../')[Symbol.asyncIterator]().next())),
    ).toBe(true);
    expect((await failure(store.put('org-1/a\u0000.txt', new Uint8Array([1])))).message).toContain('\\u0000');
    expect(await filesOnDisk()).toEqual([]);
    await expect(readFile(outside)).rejects.toThrow();

    // One bad key in a batch deletes nothing.
    await store.put('org-1/ok.txt', new Uint8Array([1]));
    await failure(store.delete(['org-1/ok.txt', '../x']));
    expect(await filesOnDisk()).toEqual(['org-1/ok.txt']);
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
