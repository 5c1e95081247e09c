import { createHash, randomUUID } from 'node:crypto';
import { mkdir, open, opendir, rename, rmdir, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { AbortError } from '../errors/abort-error.js';
import { assertSafeBlobPath, TEMPORARY_NAME_PREFIX } from './blob-path.js';
import type {
  BlobBody,
  BlobInfo,
  BlobStore,
  GetBlobOptions,
  PutBlobOptions,
  PutBlobResult,
} from './blob-store.js';
import { BlobNotFoundError, InvalidBlobPathError } from './blob-store-errors.js';
import { readOrAbort } from './read-or-abort.js';

export interface LocalBlobStoreOptions {
  /** Directory holding the objects (created on first write). Keys map to files below it. */
  root: string;
}

/**
 * A `BlobStore` on the local filesystem, for development, tests, single-machine installs and the
 * demo. `put` streams into a temporary file in the target's own directory and renames it into
 * place once it is complete and flushed, so the object appears whole or not at all (rename is
 * atomic within a filesystem); a failed or aborted upload removes its temporary file. Keys are
 * checked before any filesystem call, and the resolved file must stay below `root`. The content
 * type is not persisted (`head` and `list` report none).
 *
 * @example
 * const store = createLocalBlobStore({ root: './.tributary/storage' });
 * const { sha256, sizeBytes } = await store.put('org-1/connectors/upload/c1/2025-01-31/pdf/f1-report.pdf', stream);
 */
export function createLocalBlobStore(options: LocalBlobStoreOptions): BlobStore {
  if (typeof options?.root !== 'string' || options.root === '') {
    throw new InvalidBlobPathError({
      reason: 'createLocalBlobStore needs a root directory',
      hint: 'Pass { root: "./storage" }',
    });
  }
  const root = resolve(options.root);

  const fileFor = (path: string, prefix = false): string => {
    assertSafeBlobPath(path, { prefix });
    const file = resolve(root, ...path.split('/').filter(Boolean));
    // Defence in depth: the checks above already exclude every way out of root.
    if (file !== root && !file.startsWith(root + sep)) {
      throw new InvalidBlobPathError({ reason: 'it resolves outside the store root', path });
    }
    return file;
  };

  async function put(path: string, body: BlobBody, putOptions: PutBlobOptions = {}): Promise<PutBlobResult> {
    const file = fileFor(path);
    const signal = putOptions.signal;
    throwIfAborted(signal, path);
    const directory = dirname(file);
    const temporary = join(directory, `${TEMPORARY_NAME_PREFIX}${randomUUID()}`);
    const hash = createHash('sha256');
    let sizeBytes = 0;
    const handle = await openTemporary(directory, temporary);
    let closed = false;
    try {
      for await (const chunk of chunksOf(body, signal, path)) {
        if (!(chunk instanceof Uint8Array)) {
          throw new TypeError(
            `[tributary] [storage] put(${JSON.stringify(path)}) received a chunk that is not a Uint8Array`,
          );
        }
        hash.update(chunk);
        sizeBytes += chunk.byteLength;
        // Awaiting each write is the back-pressure: the next chunk is pulled only once this one is on disk.
        let written = 0;
        while (written < chunk.byteLength) {
          const { bytesWritten } = await handle.write(chunk, written, chunk.byteLength - written);
          written += bytesWritten;
        }
      }
      throwIfAborted(signal, path);
      await handle.sync();
      await handle.close();
      closed = true;
      await rename(temporary, file);
    } catch (error) {
      if (!closed) await handle.close().catch(() => {});
      await unlink(temporary).catch(() => {});
      await removeEmptyParents(directory); // folders created for this upload only
      throw error;
    }
    return { path, sizeBytes, sha256: hash.digest('hex') };
  }

  /**
   * Creates the folder and the temporary file. A concurrent delete or failed put may remove the
   * folder while it is still empty (between our mkdir and open): then create it again.
   */
  async function openTemporary(directory: string, temporary: string) {
    for (let attempt = 1; ; attempt += 1) {
      await mkdir(directory, { recursive: true });
      try {
        return await open(temporary, 'wx');
      } catch (error) {
        if (!isCode(error, 'ENOENT') || attempt >= 5) throw error;
      }
    }
  }

  async function get(path: string, getOptions: GetBlobOptions = {}): Promise<ReadableStream<Uint8Array>> {
    const file = fileFor(path);
    throwIfAborted(getOptions.signal, path);
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      handle = await open(file, 'r');
    } catch (error) {
      if (isCode(error, 'ENOENT') || isCode(error, 'ENOTDIR') || isCode(error, 'EISDIR')) {
        throw new BlobNotFoundError({ path, cause: error });
      }
      throw error;
    }
    const info = await handle.stat();
    if (!info.isFile()) {
      await handle.close();
      throw new BlobNotFoundError({ path });
    }
    const stream = handle.createReadStream({ autoClose: true, signal: getOptions.signal });
    return Readable.toWeb(stream) as unknown as ReadableStream<Uint8Array>;
  }

  async function head(path: string): Promise<BlobInfo | undefined> {
    const file = fileFor(path);
    try {
      const info = await stat(file);
      return info.isFile() ? { path, sizeBytes: info.size, modifiedAt: info.mtime } : undefined;
    } catch (error) {
      if (isCode(error, 'ENOENT') || isCode(error, 'ENOTDIR')) return undefined;
      throw error;
    }
  }

  async function deleteBlobs(paths: readonly string[]): Promise<number> {
    // Check every key first so one bad key deletes nothing.
    const files = paths.map((path) => fileFor(path));
    let deleted = 0;
    for (const file of files) {
      try {
        await unlink(file);
        deleted += 1;
      } catch (error) {
        if (isCode(error, 'ENOENT') || isCode(error, 'ENOTDIR')) continue;
        throw error;
      }
      await removeEmptyParents(dirname(file));
    }
    return deleted;
  }

  /** Removes directories left empty by a delete, up to (not including) the root. */
  async function removeEmptyParents(directory: string): Promise<void> {
    let current = directory;
    while (current !== root && current.startsWith(root + sep)) {
      try {
        await rmdir(current);
      } catch {
        return; // not empty (or already gone): stop climbing
      }
      current = dirname(current);
    }
  }

  async function* list(prefix = ''): AsyncGenerator<BlobInfo> {
    const start = fileFor(prefix, true);
    // Walk only the deepest directory the prefix names completely; filter the rest by string prefix.
    const slash = prefix.lastIndexOf('/');
    const directoryKey = slash === -1 ? '' : prefix.slice(0, slash);
    const startDirectory = slash === -1 ? root : prefix.endsWith('/') ? start : dirname(start);
    yield* walk(startDirectory, directoryKey, prefix);
  }

  async function* walk(directory: string, key: string, prefix: string): AsyncGenerator<BlobInfo> {
    let entries: Awaited<ReturnType<typeof opendir>>;
    try {
      entries = await opendir(directory);
    } catch (error) {
      if (isCode(error, 'ENOENT') || isCode(error, 'ENOTDIR')) return;
      throw error;
    }
    for await (const entry of entries) {
      if (entry.name.startsWith(TEMPORARY_NAME_PREFIX)) continue;
      const entryKey = key === '' ? entry.name : `${key}/${entry.name}`;
      if (entry.isDirectory()) {
        if (entryKey.startsWith(prefix) || prefix.startsWith(`${entryKey}/`)) {
          yield* walk(join(directory, entry.name), entryKey, prefix);
        }
      } else if (entry.isFile() && entryKey.startsWith(prefix)) {
        try {
          const info = await stat(join(directory, entry.name));
          yield { path: entryKey, sizeBytes: info.size, modifiedAt: info.mtime };
        } catch (error) {
          if (!isCode(error, 'ENOENT')) throw error; // deleted while listing
        }
      }
    }
  }

  return Object.freeze({ put, get, head, delete: deleteBlobs, list });
}

/** Iterates any body as chunks, stopping (and cancelling the source) as soon as `signal` aborts. */
async function* chunksOf(
  body: BlobBody,
  signal: AbortSignal | undefined,
  path: string,
): AsyncGenerator<Uint8Array> {
  if (body instanceof Uint8Array) {
    yield body;
    return;
  }
  // A web stream is read through its reader so that giving up cancels it at once, even mid-read.
  const iterator: AsyncIterator<Uint8Array> =
    typeof (body as ReadableStream<Uint8Array>).getReader === 'function'
      ? readableStreamIterator(body as ReadableStream<Uint8Array>)
      : (body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
  const abortError = () =>
    new AbortError({ area: 'storage', operation: `put ${path}`, cause: signal?.reason });
  let finished = false;
  try {
    while (true) {
      throwIfAborted(signal, path);
      // A source that stalls must not keep an aborted upload open: race each read with the signal.
      const next = await readOrAbort(iterator.next(), signal, abortError);
      if (next.done) {
        finished = true;
        return;
      }
      yield next.value;
    }
  } finally {
    if (!finished) {
      // Release the source (cancels a web stream, destroys a Node stream); do not wait on a stalled one.
      void Promise.resolve(iterator.return?.()).catch(() => {});
    }
  }
}

function readableStreamIterator(stream: ReadableStream<Uint8Array>): AsyncIterator<Uint8Array> {
  const reader = stream.getReader();
  return {
    next: () => reader.read() as Promise<IteratorResult<Uint8Array>>,
    return: async () => {
      await reader.cancel().catch(() => {});
      return { done: true, value: undefined };
    },
  };
}

function throwIfAborted(signal: AbortSignal | undefined, path: string): void {
  if (signal?.aborted)
    throw new AbortError({ area: 'storage', operation: `put ${path}`, cause: signal.reason });
}

function isCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}
