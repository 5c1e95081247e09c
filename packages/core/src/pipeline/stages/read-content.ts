import { createHash, randomUUID } from 'node:crypto';
import { open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UnsupportedContentError } from '../../errors/unsupported-content-error.js';
import type { DocumentContent, LoadedContent } from '../../spec/v1/source-document.js';

/** Default cap on one document's content, for every connector: 100 MB (the extractors' own limit). */
export const DEFAULT_MAX_CONTENT_BYTES = 100 * 1024 * 1024;

/** Content in hand, with its raw size and (for binaries) the sha256 of the raw bytes. */
export type ReadContent =
  | { text: string; bytes?: undefined; size: number; rawSha256?: undefined }
  | { bytes: Uint8Array; text?: undefined; size: number; rawSha256: string };

export interface ReadContentOptions {
  signal: AbortSignal;
  /** Refused above this many bytes: before the download when the size is known, else while reading. */
  maxBytes: number;
  /** Names the document in the error. */
  label: string;
}

const encoder = new TextEncoder();

/**
 * Resolves lazy content and reads it, never holding more than `maxBytes`: a stream whose
 * `sizeBytes` is over the cap is cancelled before a byte is read, one that grows past it is
 * cancelled at that moment. The raw bytes are hashed while they stream.
 */
export async function readContent(
  content: DocumentContent,
  options: ReadContentOptions,
): Promise<ReadContent> {
  const loaded: LoadedContent =
    content.kind === 'lazy' ? await content.load({ signal: options.signal }) : content;
  switch (loaded.kind) {
    case 'text': {
      const size = encoder.encode(loaded.text).byteLength;
      if (size > options.maxBytes) throw tooLarge(options, size);
      return { text: loaded.text, size };
    }
    case 'bytes':
      if (loaded.bytes.byteLength > options.maxBytes) throw tooLarge(options, loaded.bytes.byteLength);
      return {
        bytes: loaded.bytes,
        size: loaded.bytes.byteLength,
        rawSha256: createHash('sha256').update(loaded.bytes).digest('hex'),
      };
    case 'stream': {
      if (loaded.sizeBytes !== undefined && loaded.sizeBytes > options.maxBytes) {
        await cancel(loaded.stream);
        throw tooLarge(options, loaded.sizeBytes, true);
      }
      return readStream(loaded.stream, loaded.sizeBytes, options);
    }
    default:
      throw new TypeError(`unknown content kind ${JSON.stringify((loaded as { kind?: unknown }).kind)}`);
  }
}

/** Unknown-size streams are held in memory up to this; beyond it they are spooled to a temp file. */
const IN_MEMORY_BYTES = 8 * 1024 * 1024;

async function readStream(
  stream: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>,
  sizeHint: number | undefined,
  options: ReadContentOptions,
): Promise<ReadContent> {
  const hash = createHash('sha256');
  const iterable: AsyncIterable<Uint8Array> =
    Symbol.asyncIterator in stream
      ? (stream as AsyncIterable<Uint8Array>)
      : readerIterable(stream as ReadableStream<Uint8Array>);
  // Known size: one buffer of exactly that size. Unknown: up to IN_MEMORY_BYTES in memory, then
  // spooled to a temporary file, so content that ends up over the cap is never held whole, and
  // content under it is read back once into one buffer of its exact size.
  let buffer = new Uint8Array(Math.min(options.maxBytes, sizeHint ?? IN_MEMORY_BYTES, IN_MEMORY_BYTES * 4));
  let size = 0;
  let spool: { path: string; file: Awaited<ReturnType<typeof open>> } | undefined;
  try {
    // Leaving the loop early (throw) runs the iterator's return(): the download is cancelled.
    for await (const part of iterable) {
      options.signal.throwIfAborted();
      if (size + part.byteLength > options.maxBytes) throw tooLarge(options, size + part.byteLength);
      hash.update(part);
      if (!spool && size + part.byteLength > buffer.byteLength) {
        if (sizeHint !== undefined && size + part.byteLength <= Math.min(options.maxBytes, sizeHint * 2)) {
          // The hint was a little low: grow once to what is needed.
          const grown = new Uint8Array(
            Math.min(options.maxBytes, Math.max(size + part.byteLength, buffer.byteLength * 2)),
          );
          grown.set(buffer.subarray(0, size));
          buffer = grown;
        } else {
          const path = join(tmpdir(), `tributary-spool-${randomUUID()}`);
          spool = { path, file: await open(path, 'w', 0o600) };
          await spool.file.write(buffer.subarray(0, size));
          buffer = new Uint8Array(0);
        }
      }
      if (spool) await spool.file.write(part);
      else buffer.set(part, size);
      size += part.byteLength;
    }
    if (spool) {
      await spool.file.close();
      const bytes = new Uint8Array(await readFile(spool.path));
      return { bytes, size, rawSha256: hash.digest('hex') };
    }
    return { bytes: buffer.subarray(0, size), size, rawSha256: hash.digest('hex') };
  } finally {
    if (spool) {
      await spool.file.close().catch(() => undefined);
      await rm(spool.path, { force: true });
    }
  }
}

async function* readerIterable(stream: ReadableStream<Uint8Array>): AsyncIterable<Uint8Array> {
  const reader = stream.getReader();
  let finished = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        finished = true;
        return;
      }
      yield value;
    }
  } finally {
    if (!finished) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}

async function cancel(stream: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>): Promise<void> {
  try {
    if (Symbol.asyncIterator in stream && !(stream instanceof ReadableStream)) {
      await (stream as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]().return?.();
    } else {
      await (stream as ReadableStream<Uint8Array>).cancel();
    }
  } catch {
    // The stream was already closed or errored: nothing left to release.
  }
}

function tooLarge(options: ReadContentOptions, size: number, before = false): UnsupportedContentError {
  return new UnsupportedContentError({
    fileName: options.label,
    message: `${options.label} is ${before ? '' : 'at least '}${formatMb(size)}, over the ${formatMb(options.maxBytes)} content limit${before ? '; not downloaded' : '; download stopped'}`,
    hint: 'Raise runSync({ maxContentBytes }) if documents this large are expected, or exclude the file from the sync',
  });
}

function formatMb(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}
