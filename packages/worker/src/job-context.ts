import type {
  ConnectorRecord,
  ConnectorV1,
  Embedder,
  KnowledgeRepository,
  Logger,
  RateLimitSettings,
  RunSyncOptions,
  SecretKeyRing,
  SyncProgressEvent,
} from '@tributary/core';
import type { PostgresRateLimiter } from './postgres-rate-limiter.js';
import type { SqlClient } from './sql-client.js';
import type { WorkerInstruments } from './telemetry.js';
import type { RunningJob } from './worker-options.js';

/** Options passed through to every `runSync` the worker starts. */
export type WorkerRunOptions = Pick<
  RunSyncOptions,
  | 'extractors'
  | 'chunker'
  | 'concurrency'
  | 'maxSweepFraction'
  | 'embedBatch'
  | 'groupSize'
  | 'groupMaxWaitMs'
  | 'fetch'
  | 'heartbeatIntervalMs'
>;

/** A run this worker holds right now. */
export interface ActiveRun {
  jobId: string;
  connectorId: string;
  orgId: string;
  startedAt: number;
  controller: AbortController;
}

/** What the job handlers share (built once by `createWorker`). */
export interface JobContext {
  db: SqlClient;
  repository: KnowledgeRepository;
  connectors: ReadonlyMap<string, ConnectorV1>;
  embedder: Embedder;
  keyRing: SecretKeyRing | undefined;
  limiter: PostgresRateLimiter | undefined;
  budgetKey: (connector: ConnectorRecord) => string;
  budgetFor: (connector: ConnectorRecord, plugin: ConnectorV1) => RateLimitSettings | undefined;
  logger: Logger;
  instruments: WorkerInstruments;
  workerId: string;
  leaseSeconds: number;
  maxWebhookAttempts: number;
  runOptions: WorkerRunOptions;
  onProgress: ((event: SyncProgressEvent, job: RunningJob) => void) | undefined;
  active: Map<string, ActiveRun>;
  /** Aborted when the worker must release its runs (shutdown timeout). */
  shutdown: AbortSignal;
}

/** How a job ends: `failed` is retried (with backoff) while retries last; `deadletter` is terminal. */
export interface JobOutcome {
  status: 'completed' | 'failed' | 'deadletter';
  output: Record<string, unknown>;
}
