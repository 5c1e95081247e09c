// Public API of @tributary/connector-upload.

export { assertSafeZip, DEFAULT_ZIP_LIMITS, type ZipLimits } from '@tributary/core/extractors';
export { type DetectedUploadType, detectUploadType, SNIFF_BYTES } from './detect-upload-type.js';
export { readImageSize } from './image-metadata.js';
export {
  createGuardedDocxExtractor,
  createPptxExtractor,
  createXlsxExtractor,
  uploadExtractors,
} from './office-extractors.js';
export { createSqlUploadBatchStore, type SqlUploadBatchStoreOptions } from './sql-upload-batch-store.js';
export { type StoredUpload, storedUploadDocument } from './stored-upload-document.js';
export {
  createOpenAITranscriber,
  OPENAI_TRANSCRIPTION_MAX_BYTES,
  type OpenAITranscriberSettings,
  type OpenAITranscriptionClient,
  type TranscribeInput,
  type Transcriber,
  type TranscriptionResult,
} from './transcriber.js';
export {
  UploadBatchError,
  type UploadBatchErrorOptions,
  type UploadBatchErrorReason,
} from './upload-batch-error.js';
export type {
  CreateBatchRecordInput,
  RecordedFileOutcome,
  SettledBatch,
  SettleInterruptedOptions,
  StaleBatchQuery,
  UploadBatchActor,
  UploadBatchRecord,
  UploadBatchStatus,
  UploadBatchStore,
  UploadFileStatus,
} from './upload-batch-store.js';
export {
  createUploadConnector,
  type UploadConnectorSettings,
  type UploadFeedItem,
  uploadConnectorConfigSchema,
} from './upload-connector.js';
export {
  UploadRejectedError,
  type UploadRejectedErrorOptions,
  type UploadRejectionReason,
} from './upload-rejected-error.js';
export type { UploadData, UploadFileInput } from './upload-source.js';
export {
  DEFAULT_ALLOWED_MIME_TYPES,
  DEFAULT_MAX_FILE_BYTES,
  type UploadKind,
} from './upload-types.js';
export {
  type CreateBatchInput,
  createUploader,
  type RecoveredUploadBatch,
  type RecoverInterruptedBatchesOptions,
  UPLOAD_INTERRUPTED_MESSAGE,
  type UploadBatchHandle,
  type UploadBatchProgress,
  type UploadEvent,
  type Uploader,
  type UploaderSettings,
  type UploadFileProgress,
  type WatchBatchOptions,
} from './uploader.js';
