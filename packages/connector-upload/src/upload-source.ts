import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';

/** Bytes of a file, in any of the shapes a host has them. */
export type UploadData =
  | Uint8Array
  | ArrayBuffer
  | Blob
  | ReadableStream<Uint8Array>
  | AsyncIterable<Uint8Array>;

/**
 * One file of a batch: a `File` (browsers, `undici`, Next.js route handlers), `{ name, data }`
 * with bytes, a `Blob` or a stream, or `{ path }` on the local disk (read as a stream).
 */
export type UploadFileInput =
  | File
  | {
      name: string;
      data: UploadData;
      /** The type the client claimed; trusted only as far as the bytes agree. */
      contentType?: string | undefined;
      /** Known size, if any: lets an over-size file be refused before a byte is read. */
      sizeBytes?: number | undefined;
    }
  | { path: string; name?: string | undefined; contentType?: string | undefined };

/** A file reduced to what the uploader needs: a name, a claim, a size if known, and its bytes on demand. */
export interface UploadSource {
  name: string;
  contentType: string | undefined;
  sizeBytes: number | undefined;
  open(signal: AbortSignal): Promise<AsyncIterable<Uint8Array>>;
}

export function toUploadSource(input: UploadFileInput): UploadSource {
  if (!('data' in input) && !('path' in input)) {
    return {
      name: input.name,
      contentType: input.type || undefined,
      sizeBytes: input.size,
      open: async () => iterateWebStream(input.stream()),
    };
  }
  if (!('data' in input)) {
    const path = input.path;
    return {
      name: input.name ?? basename(path),
      contentType: input.contentType,
      sizeBytes: undefined,
      async open(signal) {
        await stat(path); // A missing file fails here with a clear ENOENT, not mid-stream.
        return createReadStream(path, { signal, highWaterMark: 256 * 1024 });
      },
    };
  }
  const { data } = input;
  const base = { name: input.name, contentType: input.contentType };
  if (data instanceof Uint8Array || data instanceof ArrayBuffer) {
    const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
    return { ...base, sizeBytes: bytes.byteLength, open: async () => once(bytes) };
  }
  if (typeof Blob !== 'undefined' && data instanceof Blob) {
    return {
      ...base,
      contentType: input.contentType ?? (data.type || undefined),
      sizeBytes: data.size,
      open: async () => iterateWebStream(data.stream()),
    };
  }
  let opened = false;
  return {
    ...base,
    sizeBytes: input.sizeBytes,
    async open() {
      // A stream can be read once; a retry would silently read nothing.
      if (opened) throw new Error(`the stream of ${input.name} was already read`);
      opened = true;
      if (isWebStream(data)) return iterateWebStream(data);
      return data as AsyncIterable<Uint8Array>;
    },
  };
}

function isWebStream(value: unknown): value is ReadableStream<Uint8Array> {
  return typeof (value as ReadableStream | undefined)?.getReader === 'function';
}

async function* once(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}

async function* iterateWebStream(stream: ReadableStream<Uint8Array>): AsyncIterable<Uint8Array> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
    await stream.cancel().catch(() => undefined);
  }
}
