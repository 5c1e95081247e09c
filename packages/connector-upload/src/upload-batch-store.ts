import type { JsonObject } from '@tributary/core';

/** Batch statuses, as `file_upload_batches.status` stores them. */
export type UploadBatchStatus =
  | 'uploading'
  | 'processing'
  | 'completed'
  | 'completed_with_errors'
  | 'failed'
  | 'cancelled';

/** What happened to one file of a batch. */
export type UploadFileStatus =
  | 'pending'
  | 'uploading'
  | 'processing'
  /** Stored, extracted, chunked, embedded: searchable. */
  | 'completed'
  /** The same bytes were already imported in this organisation: linked to that document, nothing stored. */
  | 'duplicate'
  /** Stored without text: images, and audio/video when transcription is off or refused the file. */
  | 'stored'
  /** Audio or video stored; transcribed once a transcriber is configured. */
  | 'awaiting_transcription'
  | 'failed'
  | 'cancelled';

/** The database's record of a finished file (`metadata.files[index]` of the batch row). */
export interface RecordedFileOutcome {
  status: Exclude<UploadFileStatus, 'pending' | 'uploading' | 'processing'>;
  /** The document the file became or was linked to. */
  documentId?: string | undefined;
  /** Sanitised file name (kept for files that did not become a document of their own). */
  name?: string | undefined;
  /** Why it failed, or a note (e.g. too large to transcribe). */
  message?: string | undefined;
}

export interface UploadBatchRecord {
  id: string;
  orgId: string;
  userId: string | null;
  connectorId: string | null;
  batchName: string | null;
  status: UploadBatchStatus;
  totalFiles: number;
  processedFiles: number;
  failedFiles: number;
  progressPercent: number;
  metadata: JsonObject;
  createdAt: Date;
  updatedAt: Date;
  completedAt: Date | null;
  /** Finished files by index, from `metadata.files`. */
  files: Map<number, RecordedFileOutcome>;
}

export interface CreateBatchRecordInput {
  orgId: string;
  userId: string;
  /** `null` when the connector is attached afterwards (`attachConnector`). */
  connectorId: string | null;
  totalFiles: number;
  batchName?: string | undefined;
  metadata?: JsonObject | undefined;
}

/** Who a store's calls run as (row level security applies to `authenticated`). */
export type UploadBatchActor = { role: 'service_role' } | { role: 'authenticated'; userId: string };

/**
 * Batch data access over `file_upload_batches` and the `increment_batch_processed/_failed` RPCs
 * of `@tributary/sql`. (Core's `KnowledgeRepository` has no batch methods yet.)
 */
export interface UploadBatchStore {
  /** The same store acting as another role (`authenticated` users are held to RLS). */
  withActor(actor: UploadBatchActor): UploadBatchStore;
  /** The organisation's `upload` connector (`connector_configs`), created on first use. */
  ensureUploadConnector(orgId: string): Promise<string>;
  createBatch(input: CreateBatchRecordInput): Promise<UploadBatchRecord>;
  /** Sets the connector of a batch created without one (server side). */
  attachConnector(batchId: string, connectorId: string): Promise<UploadBatchRecord>;
  /**
   * Records one file's outcome and counts it (`increment_batch_processed` or `_failed`) in one
   * transaction where the backend has them. Returns the batch after the count, or `undefined`
   * when the batch already ended (cancelled): the file is not counted twice.
   */
  recordFile(
    batchId: string,
    index: number,
    outcome: RecordedFileOutcome,
  ): Promise<UploadBatchRecord | undefined>;
  getBatch(batchId: string): Promise<UploadBatchRecord | undefined>;
  /**
   * The batch's status alone (a read without its per-file metadata). Optional: the uploader checks
   * it before each file so a batch cancelled by another process stops at its next file, and reads
   * the whole row through `getBatch` when a store lacks it.
   */
  getBatchStatus?(batchId: string): Promise<UploadBatchStatus | undefined>;
  /** Ends an unfinished batch as `cancelled`; returns the batch (unchanged when it had already ended). */
  cancelBatch(batchId: string): Promise<UploadBatchRecord | undefined>;
  /**
   * Unfinished batches (`uploading` / `processing`) whose row was last updated before
   * `updatedBefore`, oldest first. Optional: the uploader's recovery needs it.
   */
  findStaleBatches?(query: StaleBatchQuery): Promise<UploadBatchRecord[]>;
  /**
   * Settles one interrupted batch, if it is still unfinished and its row still older than
   * `updatedBefore` (re-checked under a lock, so two processes never both settle it): every file
   * without an outcome is counted, and the batch ends as the counting functions decide.
   * Returns `undefined` when the batch ended or made progress meanwhile.
   */
  settleInterruptedBatch?(
    batchId: string,
    options: SettleInterruptedOptions,
  ): Promise<SettledBatch | undefined>;
}

export interface StaleBatchQuery {
  updatedBefore: Date;
  orgId?: string | undefined;
  /** Default 100. */
  limit?: number | undefined;
}

export interface SettleInterruptedOptions {
  updatedBefore: Date;
  /** Recorded for every file that had no outcome. */
  message: string;
}

export interface SettledBatch {
  record: UploadBatchRecord;
  /** Files counted failed because the batch was interrupted. */
  interruptedFiles: number;
  /** Files that had become documents but were never counted, counted now from their document. */
  recoveredFiles: number;
}

/** Per-file entries are capped so a batch row stays within its 64 KB metadata limit. */
export const MAX_RECORDED_MESSAGE_LENGTH = 300;

export function isFailedOutcome(outcome: RecordedFileOutcome): boolean {
  return outcome.status === 'failed' || outcome.status === 'cancelled';
}

/** The compact JSON kept per file: `{ s, d?, n?, m? }`. */
export function encodeOutcome(outcome: RecordedFileOutcome, compact = false): JsonObject {
  const entry: JsonObject = { s: outcome.status };
  if (outcome.documentId && outcome.status !== 'completed') entry.d = outcome.documentId;
  if (!compact && outcome.name) entry.n = outcome.name.slice(0, 120);
  if (!compact && outcome.message) entry.m = outcome.message.slice(0, MAX_RECORDED_MESSAGE_LENGTH);
  return entry;
}

export function decodeOutcomes(metadata: JsonObject): Map<number, RecordedFileOutcome> {
  const files = new Map<number, RecordedFileOutcome>();
  const raw = metadata.files;
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return files;
  for (const [key, value] of Object.entries(raw)) {
    if (!value || typeof value !== 'object' || Array.isArray(value)) continue;
    const entry = value as Record<string, unknown>;
    files.set(Number(key), {
      status: entry.s as RecordedFileOutcome['status'],
      documentId: typeof entry.d === 'string' ? entry.d : undefined,
      name: typeof entry.n === 'string' ? entry.n : undefined,
      message: typeof entry.m === 'string' ? entry.m : undefined,
    });
  }
  return files;
}

export function mapBatchRow(row: Record<string, unknown>): UploadBatchRecord {
  const metadata = (
    typeof row.metadata === 'string' ? JSON.parse(row.metadata) : (row.metadata ?? {})
  ) as JsonObject;
  const date = (value: unknown) => (value === null || value === undefined ? null : new Date(value as string));
  return {
    id: String(row.id),
    orgId: String(row.org_id),
    userId: (row.user_id as string | null) ?? null,
    connectorId: (row.connector_id as string | null) ?? null,
    batchName: (row.batch_name as string | null) ?? null,
    status: row.status as UploadBatchStatus,
    totalFiles: Number(row.total_files),
    processedFiles: Number(row.processed_files),
    failedFiles: Number(row.failed_files),
    progressPercent: Number(row.progress_percent),
    metadata,
    createdAt: date(row.created_at) as Date,
    updatedAt: date(row.updated_at) as Date,
    completedAt: date(row.completed_at),
    files: decodeOutcomes(metadata),
  };
}

/** The answer of `public.settle_interrupted_batch` (null when there was nothing to settle). */
export function parseSettledBatch(value: unknown): SettledBatch | undefined {
  if (value === null || value === undefined) return undefined;
  const settled = (typeof value === 'string' ? JSON.parse(value) : value) as {
    batch: Record<string, unknown>;
    interrupted_files: number;
    recovered_files: number;
  };
  return {
    record: mapBatchRow(settled.batch),
    interruptedFiles: Number(settled.interrupted_files),
    recoveredFiles: Number(settled.recovered_files),
  };
}
