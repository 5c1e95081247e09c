// @tributary/worker: distributed sync workers on pg-boss.
export { createWorker, type RequestedSync, type RequestSyncOptions, type Worker } from './create-worker.js';
export { type QueueHealth, readHealth, serveHealth, type WorkerHealth } from './health.js';
export type { ActiveRun, WorkerRunOptions } from './job-context.js';
export type { FollowOptions, SyncJobStatus } from './job-status.js';
export { createJsonLogger, type JsonLoggerOptions, withFields } from './json-logger.js';
export {
  createPostgresRateLimiter,
  type PostgresRateLimiter,
  type PostgresRateLimiterOptions,
} from './postgres-rate-limiter.js';
export {
  DEAD_LETTER_QUEUE,
  SYNC_QUEUE,
  type SyncJobData,
  type SyncJobReason,
  WEBHOOK_QUEUE,
  type WebhookJobData,
} from './queues.js';
export { scheduleDueSyncs } from './scheduler.js';
export type { SqlClient } from './sql-client.js';
export { WorkerError, type WorkerErrorReason } from './worker-error.js';
export type { CreateWorkerOptions, RunningJob } from './worker-options.js';
