// The behaviour every BlobStore adapter shares, run by each adapter's own test file (the local
// filesystem, Supabase Storage). An adapter's file then adds only what is special about it.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { beforeEach, describe, expect, it } from 'vitest';
import { AbortError, isAbortError } from '../src/errors/index.js';
import { BlobNotFoundError, type BlobStore, InvalidBlobPathError } from '../src/storage/index.js';

export interface BlobStoreFixture {
  /** A store with nothing in it, isolated from the other tests. */
  store: BlobStore;
}

export async function readAll(stream: ReadableStream<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

export function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export async function failure(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(outcome instanceof Error)) throw new Error('expected a failure');
  return outcome;
}

export async function pathsOf(store: BlobStore, prefix?: string): Promise<string[]> {
  const found: string[] = [];
  for await (const item of store.list(prefix)) found.push(item.path);
  return found.sort();
}

/** Keys no store may accept: each could escape the store or is not a portable key. */
export const HOSTILE_PATHS = [
  '../escaped.txt',
  'org-1/../../escaped.txt',
  'org-1/./a.txt',
  '..',
  '/etc/passwd',
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

export function defineBlobStoreContract(name: string, create: () => Promise<BlobStoreFixture>): void {
  describe(`BlobStore contract: ${name}`, () => {
    let store: BlobStore;

    beforeEach(async () => {
      ({ store } = await create());
    });

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
      expect(fromWeb).toEqual({
        path: 'org-1/b/web.txt',
        sizeBytes: bytes.byteLength,
        sha256: sha256(bytes),
      });
      expect((await readAll(await store.get('org-1/b/web.txt'))).toString('utf8')).toBe(text);

      const fromNode = await store.put(
        'org-1/b/node.txt',
        Readable.from([Buffer.from('ab'), Buffer.from('cd')]),
      );
      expect(fromNode).toMatchObject({ sizeBytes: 4, sha256: sha256('abcd') });
      expect((await readAll(await store.get('org-1/b/node.txt'))).toString()).toBe('abcd');

      const empty = await store.put('org-1/empty.bin', new Uint8Array(0));
      expect(empty).toMatchObject({ sizeBytes: 0, sha256: sha256('') });
      expect((await readAll(await store.get('org-1/empty.bin'))).byteLength).toBe(0);
      const emptyStream = await store.put(
        'org-1/empty-stream.bin',
        new ReadableStream<Uint8Array>({ start: (controller) => controller.close() }),
      );
      expect(emptyStream).toMatchObject({ sizeBytes: 0, sha256: sha256('') });
      expect((await store.head('org-1/empty-stream.bin'))?.sizeBytes).toBe(0);
    });

    it('replaces an object, and heads, lists (string prefixes) and deletes', async () => {
      await store.put('org-1/x/doc.md', new TextEncoder().encode('first'));
      await store.put('org-1/x/doc.md', new TextEncoder().encode('second version'));
      expect((await readAll(await store.get('org-1/x/doc.md'))).toString()).toBe('second version');

      const info = await store.head('org-1/x/doc.md');
      expect(info).toMatchObject({ path: 'org-1/x/doc.md', sizeBytes: 14 });
      expect(info?.modifiedAt).toBeInstanceOf(Date);
      expect(Number.isNaN(info?.modifiedAt.getTime())).toBe(false);
      expect(await store.head('org-1/x/missing.md')).toBeUndefined();
      expect(await store.head('org-1/x')).toBeUndefined(); // a folder is not an object

      await store.put('org-1/y/one.txt', new Uint8Array([1]));
      await store.put('org-1/y/deeper/two.txt', new Uint8Array([1, 2]));
      await store.put('org-10/z.txt', new Uint8Array([1, 2, 3]));
      expect(await pathsOf(store)).toEqual([
        'org-1/x/doc.md',
        'org-1/y/deeper/two.txt',
        'org-1/y/one.txt',
        'org-10/z.txt',
      ]);
      expect(await pathsOf(store, 'org-1/')).toEqual([
        'org-1/x/doc.md',
        'org-1/y/deeper/two.txt',
        'org-1/y/one.txt',
      ]);
      expect(await pathsOf(store, 'org-1')).toHaveLength(4); // a string prefix, as in S3
      expect(await pathsOf(store, 'org-1/y/o')).toEqual(['org-1/y/one.txt']);
      expect(await pathsOf(store, 'org-1/Y/')).toEqual([]); // case-sensitive
      expect(await pathsOf(store, 'nothing/here/')).toEqual([]);
      const listed: { path: string; sizeBytes: number }[] = [];
      for await (const item of store.list('org-10/'))
        listed.push({ path: item.path, sizeBytes: item.sizeBytes });
      expect(listed).toEqual([{ path: 'org-10/z.txt', sizeBytes: 3 }]);

      expect(await store.delete(['org-1/y/deeper/two.txt', 'org-1/y/not-there.txt'])).toBe(1);
      expect(await store.delete([])).toBe(0);
      expect(await pathsOf(store, 'org-1/y/')).toEqual(['org-1/y/one.txt']);
      expect(await store.head('org-1/y/deeper/two.txt')).toBeUndefined();

      const missing = await failure(store.get('org-1/y/deeper/two.txt'));
      expect(BlobNotFoundError.isInstance(missing)).toBe(true);
      expect(missing.message).toMatch(
        /^\[tributary\] \[storage\] no stored object at "org-1\/y\/deeper\/two.txt"/,
      );
    });

    it('keeps the previous object and stores nothing new when an upload is aborted or its source fails', async () => {
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
      expect((await readAll(await store.get('org-1/keep/old.txt'))).toString()).toBe('old content');
      expect(cancelled).toBe(true);

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

      async function* broken(): AsyncGenerator<Uint8Array> {
        yield new Uint8Array(10);
        throw new Error('connection reset');
      }
      expect((await failure(store.put('org-1/new/broken.bin', broken()))).message).toBe('connection reset');

      const done = new AbortController();
      done.abort();
      expect(
        isAbortError(
          await failure(store.put('org-1/new/never.bin', new Uint8Array(1), { signal: done.signal })),
        ),
      ).toBe(true);
      expect(await pathsOf(store)).toEqual(['org-1/keep/old.txt']);
    });

    it('stops a download when its signal aborts, and refuses one whose signal already has', async () => {
      await store.put('org-1/download/big.bin', new Uint8Array(4 * 1024 * 1024).fill(9));
      const controller = new AbortController();
      const reader = (await store.get('org-1/download/big.bin', { signal: controller.signal })).getReader();
      const first = await reader.read();
      expect(first.done).toBe(false);
      controller.abort(new Error('user left the page'));
      const outcome = await (async () => {
        for (;;) {
          const next = await reader.read();
          if (next.done) return 'completed';
        }
      })().catch((error: unknown) => error);
      expect(isAbortError(outcome), String(outcome)).toBe(true);

      const done = new AbortController();
      done.abort();
      expect(isAbortError(await failure(store.get('org-1/download/big.bin', { signal: done.signal })))).toBe(
        true,
      );
      // The object itself is untouched.
      expect((await store.head('org-1/download/big.bin'))?.sizeBytes).toBe(4 * 1024 * 1024);
    });

    it('refuses keys that could escape the store, before touching it', async () => {
      for (const path of HOSTILE_PATHS) {
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
      expect((await failure(store.put('org-1/a\u0000.txt', new Uint8Array([1])))).message).toContain(
        '\\u0000',
      );
      expect(await pathsOf(store)).toEqual([]);

      // One bad key in a batch deletes nothing.
      await store.put('org-1/ok.txt', new Uint8Array([1]));
      await failure(store.delete(['org-1/ok.txt', '../x']));
      expect(await pathsOf(store)).toEqual(['org-1/ok.txt']);
    });

    it('streams a 32 MB body from a generator and reads it back with the same hash', async () => {
      const chunkSize = 256 * 1024;
      const totalBytes = 32 * 1024 * 1024;
      const expected = createHash('sha256');
      async function* source(): AsyncGenerator<Uint8Array> {
        for (let produced = 0, index = 0; produced < totalBytes; produced += chunkSize, index += 1) {
          const chunk = Buffer.allocUnsafe(chunkSize);
          for (let offset = 0; offset < chunkSize; offset += 4)
            chunk.writeUInt32LE((index * chunkSize + offset) >>> 0, offset);
          expected.update(chunk);
          yield chunk;
        }
      }
      const result = await store.put('org-1/big/recording.bin', source(), { contentType: 'video/mp4' });
      expect(result.sizeBytes).toBe(totalBytes);
      expect(result.sha256).toBe(expected.digest('hex'));
      const readBack = createHash('sha256');
      let readBytes = 0;
      for await (const chunk of (await store.get(
        'org-1/big/recording.bin',
      )) as unknown as AsyncIterable<Uint8Array>) {
        readBack.update(chunk);
        readBytes += chunk.byteLength;
      }
      expect(readBytes).toBe(totalBytes);
      expect(readBack.digest('hex')).toBe(result.sha256);
      expect((await store.head('org-1/big/recording.bin'))?.sizeBytes).toBe(totalBytes);
    });

    it('survives puts and deletes racing on neighbouring keys', async () => {
      for (let round = 0; round < 20; round += 1) {
        await Promise.all([
          store.put(`org-1/f/a${round}`, new Uint8Array([1])).then(() => store.delete([`org-1/f/a${round}`])),
          store.put(`org-1/f/b${round}`, new Uint8Array([2])).then(() => store.delete([`org-1/f/b${round}`])),
          store.put(`org-1/f/c${round}`, new Uint8Array([3])),
        ]);
        expect(await store.delete([`org-1/f/c${round}`])).toBe(1);
      }
      expect(await pathsOf(store)).toEqual([]);
    });
  });
}
