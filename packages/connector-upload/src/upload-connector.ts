import { type BlobStore, type ConnectorChange, defineConnector, type JsonObject } from '@tributary/core';
import { z } from 'zod';

/** A file already in the blob store, ready for the pipeline. */
export interface StoredUpload {
  /** sha256 (hex) of the bytes: the document's identity, and its version (the bytes never change). */
  sha256: string;
  /** The display name (sanitised). */
  name: string;
  /** The type sniffed from the bytes. */
  mimeType: string;
  /** Object path in the blob store; the bytes are read from it only when the pipeline loads them. */
  path?: string | undefined;
  /** Text in hand instead of the bytes (a transcript). */
  text?: string | undefined;
  metadata?: JsonObject | undefined;
}

/** `{ flush: true }` asks for a checkpoint now: the pipeline commits what it holds. */
export type UploadFeedItem = StoredUpload | { flush: true };

export interface UploadConnectorSettings {
  blobStore: BlobStore;
}

const isIterable = (value: unknown): value is Iterable<UploadFeedItem> | AsyncIterable<UploadFeedItem> =>
  typeof value === 'object' &&
  value !== null &&
  (Symbol.iterator in value || Symbol.asyncIterator in value) &&
  typeof value !== 'string';

export const uploadConnectorConfigSchema = z.object({
  /** The stored uploads to index (an array, or an async iterable fed while files arrive). */
  uploads: z.custom<Iterable<UploadFeedItem> | AsyncIterable<UploadFeedItem>>(isIterable, {
    message: 'must be an array or an (async) iterable of stored uploads',
  }),
  /** A checkpoint after this many uploads (default 50), so a crash resumes close to where it stopped. */
  checkpointEvery: z.number().int().positive().optional(),
});

/**
 * The connector the uploader runs through core's `runSync`: it yields stored uploads as documents
 * (identity and version = sha256, content read lazily from the blob store, or a transcript), so
 * uploads are extracted, chunked, embedded and indexed exactly like any source, and an upload seen
 * again (same bytes) is skipped without being read. Uploads are content-addressed and never listed
 * as a whole, so this connector neither deletes nor sweeps: removing an upload is the host's call
 * (a user deleting a document).
 */
export function createUploadConnector(settings: UploadConnectorSettings) {
  const { blobStore } = settings;
  return defineConnector({
    type: 'upload',
    displayName: 'Upload',
    capabilities: { binaryContent: true },
    configSchema: uploadConnectorConfigSchema,
    async check() {},
    async *sync(ctx): AsyncIterable<ConnectorChange> {
      const every = ctx.config.checkpointEvery ?? 50;
      let sinceCheckpoint = 0;
      for await (const item of ctx.config.uploads as AsyncIterable<UploadFeedItem>) {
        if ('flush' in item) {
          if (sinceCheckpoint > 0) {
            sinceCheckpoint = 0;
            yield { kind: 'checkpoint', cursor: {} };
          }
          continue;
        }
        const path = item.path;
        yield {
          kind: 'upsert',
          document: {
            externalId: item.sha256,
            title: item.name,
            mimeType: item.text !== undefined ? 'text/plain' : item.mimeType,
            version: item.sha256,
            metadata: item.metadata,
            content:
              item.text !== undefined
                ? { kind: 'text', text: item.text }
                : {
                    kind: 'lazy',
                    load: async ({ signal }) => {
                      if (!path)
                        throw new TypeError(`stored upload ${item.name} has neither a path nor text`);
                      signal.throwIfAborted();
                      // No signal for the stream itself: a stream aborted before the pipeline
                      // listens emits an uncaught 'error'. The pipeline checks the run's signal
                      // between reads and closes the stream when it stops.
                      return { kind: 'stream', stream: await blobStore.get(path) };
                    },
                  },
          },
        };
        sinceCheckpoint += 1;
        if (sinceCheckpoint >= every) {
          sinceCheckpoint = 0;
          yield { kind: 'checkpoint', cursor: {} };
        }
      }
      if (sinceCheckpoint > 0) yield { kind: 'checkpoint', cursor: {} };
    },
  });
}
