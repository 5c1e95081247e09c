import { type BlobStore, type ConnectorChange, defineConnector } from '@tributary/core';
import { z } from 'zod';
import { type StoredUpload, storedUploadDocument } from './stored-upload-document.js';

export type { StoredUpload } from './stored-upload-document.js';

/**
 * @deprecated A live feed with `{ flush: true }` items bent the connector spec (config that cannot
 * be serialised, an empty checkpoint meaning "commit now"). Push documents into core's
 * `startPushIngest` with `storedUploadDocument` instead (see the README's migration notes); a
 * `{ flush: true }` item is still honoured as `ingest.flush()` would be, until the next major.
 */
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
  /**
   * The stored uploads to index: an array (serialisable; checkpoints carry the offset reached, so a
   * resumed run starts there). A live (async) iterable is deprecated: use `startPushIngest`.
   */
  uploads: z.custom<readonly StoredUpload[] | Iterable<UploadFeedItem> | AsyncIterable<UploadFeedItem>>(
    isIterable,
    { message: 'must be an array of stored uploads' },
  ),
  /** A checkpoint after this many uploads (default 50), so a crash resumes close to where it stopped. */
  checkpointEvery: z.number().int().positive().optional(),
});

// The offset reached and the sha256 of the upload just before it: a cursor resumes only the list it
// was written for.
const cursorSchema = z.object({ offset: z.number().int().positive(), after: z.string() });

/**
 * A pull connector over a fixed list of stored uploads (identity and version = sha256, content read
 * lazily from the blob store, or a transcript): each checkpoint's cursor is the offset reached, so a
 * resumed run continues there and a re-run skips what is indexed without reading it. The uploader
 * itself pushes files as they arrive through core's `startPushIngest` (`storedUploadDocument`);
 * this connector is for re-indexing a known list. Uploads are content-addressed and never listed
 * as a whole, so it neither deletes nor sweeps: removing an upload is the host's call.
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
      const uploads = ctx.config.uploads;
      if (Array.isArray(uploads)) {
        const resumed = cursorSchema.safeParse(ctx.cursor);
        const start =
          resumed.success && uploads[resumed.data.offset - 1]?.sha256 === resumed.data.after
            ? resumed.data.offset
            : 0;
        for (let index = start; index < uploads.length; index += 1) {
          yield { kind: 'upsert', document: storedUploadDocument(uploads[index] as StoredUpload, blobStore) };
          const reached = index + 1;
          if ((reached - start) % every === 0 || reached === uploads.length) {
            yield {
              kind: 'checkpoint',
              cursor: { offset: reached, after: (uploads[index] as StoredUpload).sha256 },
            };
          }
        }
        return;
      }
      // Deprecated live feed: no offset to resume from, checkpoints only commit.
      let sinceCheckpoint = 0;
      for await (const item of uploads as AsyncIterable<UploadFeedItem>) {
        if ('flush' in item) {
          if (sinceCheckpoint > 0) {
            sinceCheckpoint = 0;
            yield { kind: 'checkpoint', cursor: {} };
          }
          continue;
        }
        yield { kind: 'upsert', document: storedUploadDocument(item, blobStore) };
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
