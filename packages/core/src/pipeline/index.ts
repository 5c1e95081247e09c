export { type PushIngest, type PushIngestOptions, startPushIngest } from './push-ingest.js';
export { reportSyncTotal } from './report-total.js';
export { runSync } from './run-sync.js';
export { DEFAULT_MAX_CONTENT_BYTES } from './stages/read-content.js';
export type {
  RunSyncOptions,
  SyncDedupCounts,
  SyncDocumentError,
  SyncEmbeddingCounts,
  SyncProgressEvent,
  SyncRateLimitFigures,
  SyncRunCounts,
  SyncStage,
  SyncStageFigures,
  SyncStageTimings,
  SyncSummary,
  SyncSummaryStatus,
  SyncSweepSummary,
} from './types.js';
