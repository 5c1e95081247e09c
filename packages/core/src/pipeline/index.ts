export { reportSyncTotal } from './report-total.js';
export { runSync } from './run-sync.js';
export type {
  RunSyncOptions,
  SyncDocumentError,
  SyncEmbeddingCounts,
  SyncProgressEvent,
  SyncRunCounts,
  SyncSummary,
  SyncSummaryStatus,
  SyncSweepSummary,
} from './types.js';
