import type { DocumentContent, LoadedContent } from '../spec/v1/source-document.js';

/** Content in hand: text, or the bytes read from `bytes`/`stream`. */
export type MaterializedContent =
  | { text: string; bytes?: undefined }
  | { bytes: Uint8Array; text?: undefined };

/** Resolves lazy content and reads streams to the end (checking the signal between chunks). */
export async function materializeContent(
  content: DocumentContent,
  signal: AbortSignal,
): Promise<MaterializedContent> {
  const loaded: LoadedContent = content.kind === 'lazy' ? await content.load({ signal }) : content;
  switch (loaded.kind) {
    case 'text':
      return { text: loaded.text };
    case 'bytes':
      return { bytes: loaded.bytes };
    case 'stream':
      return { bytes: await readStream(loaded.stream, signal) };
    default:
      throw new TypeError(`unknown content kind ${JSON.stringify((loaded as { kind?: unknown }).kind)}`);
  }
}

async function readStream(
  stream: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>,
  signal: AbortSignal,
): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let size = 0;
  const iterable: AsyncIterable<Uint8Array> =
    Symbol.asyncIterator in stream
      ? (stream as AsyncIterable<Uint8Array>)
      : readerIterable(stream as ReadableStream<Uint8Array>);
  for await (const part of iterable) {
    signal.throwIfAborted();
    parts.push(part);
    size += part.byteLength;
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.byteLength;
  }
  return bytes;
}

async function* readerIterable(stream: ReadableStream<Uint8Array>): AsyncIterable<Uint8Array> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

/** Runs `fn` over `items` with at most `limit` in flight; results keep input order. */
export async function mapWithConcurrency<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}
