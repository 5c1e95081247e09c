import type { BlobStore, JsonObject, SourceDocument } from '@tributary/core';

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

/**
 * The source document of a stored upload: identity and version are the sha256 (an upload seen
 * again is skipped without being read), content is the transcript in hand or a lazy read of the
 * stored object. What the uploader pushes into core's `startPushIngest`; hosts feeding their own
 * push ingest from stored files use it the same way.
 *
 * @example
 * await ingest.push(storedUploadDocument({ sha256, name: 'notes.md', mimeType: 'text/markdown', path }, blobStore));
 */
export function storedUploadDocument(upload: StoredUpload, blobStore: BlobStore): SourceDocument {
  const path = upload.path;
  return {
    externalId: upload.sha256,
    title: upload.name,
    mimeType: upload.text !== undefined ? 'text/plain' : upload.mimeType,
    version: upload.sha256,
    metadata: upload.metadata,
    content:
      upload.text !== undefined
        ? { kind: 'text', text: upload.text }
        : {
            kind: 'lazy',
            load: async ({ signal }) => {
              if (!path) throw new TypeError(`stored upload ${upload.name} has neither a path nor text`);
              signal.throwIfAborted();
              // No signal for the stream itself: a stream aborted before the pipeline listens emits
              // an uncaught 'error'. The pipeline checks the run's signal between reads and closes
              // the stream when it stops.
              return { kind: 'stream', stream: await blobStore.get(path) };
            },
          },
  };
}
