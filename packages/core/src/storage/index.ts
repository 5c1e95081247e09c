export { assertSafeBlobPath, MAX_BLOB_PATH_BYTES } from './blob-path.js';
export type {
  BlobBody,
  BlobInfo,
  BlobStore,
  GetBlobOptions,
  PutBlobOptions,
  PutBlobResult,
} from './blob-store.js';
export {
  BlobNotFoundError,
  InvalidBlobPathError,
  type InvalidBlobPathErrorOptions,
} from './blob-store-errors.js';
export { createLocalBlobStore, type LocalBlobStoreOptions } from './local-blob-store.js';
export {
  buildObjectPath,
  CONNECTOR_IMPORTS_BUCKET,
  MAX_FILE_NAME_BYTES,
  type ObjectPathParts,
  type SanitizeFileNameOptions,
  sanitizeFileName,
} from './object-path.js';
