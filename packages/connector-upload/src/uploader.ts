import { randomUUID } from 'node:crypto';
import {
  type BlobStore,
  buildObjectPath,
  builtInExtractors,
  type Chunker,
  createExtractorRegistry,
  DEFAULT_MAX_INPUT_BYTES,
  type Embedder,
  type ExtractorRegistry,
  InvalidConfigError,
  type JsonObject,
  type KnowledgeRepository,
  type Logger,
  sanitizeFileName,
  silentLogger,
} from '@tributary/core';
import { detectUploadType, SNIFF_BYTES } from './detect-upload-type.js';
import { readImageSize } from './image-metadata.js';
import { uploadExtractors } from './office-extractors.js';
import { PipelineFeeder } from './pipeline-feeder.js';
import type { Transcriber } from './transcriber.js';
import { UploadBatchError } from './upload-batch-error.js';
import type {
  RecordedFileOutcome,
  UploadBatchRecord,
  UploadBatchStatus,
  UploadBatchStore,
  UploadFileStatus,
} from './upload-batch-store.js';
import { UploadRejectedError } from './upload-rejected-error.js';
import { toUploadSource, type UploadFileInput, type UploadSource } from './upload-source.js';
import {
  DEFAULT_ALLOWED_MIME_TYPES,
  DEFAULT_MAX_FILE_BYTES,
  storageFolder,
  type UploadKind,
} from './upload-types.js';

/** A file's outcome now, or (handed to the pipeline) once it is indexed or failed. */
type FileResult = RecordedFileOutcome | { later: Promise<RecordedFileOutcome> };

export interface UploaderSettings {
  /** Where documents and chunks go (any core adapter: PGlite, node-postgres, supabase-js). */
  repository: KnowledgeRepository;
  /** Batch rows and their counters (`createSqlUploadBatchStore`, `createSupabaseUploadBatchStore`). */
  batches: UploadBatchStore;
  /** Where the files' bytes go (`createLocalBlobStore`, `createSupabaseBlobStore`). */
  blobStore: BlobStore;
  embedder: Embedder;
  /** Speech to text for audio and video; without one they are stored as awaiting transcription. */
  transcriber?: Transcriber | undefined;
  /** Default: core's built-ins plus XLSX, PPTX and the zip-bomb-guarded DOCX of this package. */
  extractors?: ExtractorRegistry | undefined;
  chunker?: Chunker | undefined;
  /** Files of one batch stored at once, and documents the pipeline loads at once. Default 4. */
  concurrency?: number | undefined;
  /** Largest accepted file, checked while streaming. Default 5 GB (the bucket's limit). */
  maxFileBytes?: number | undefined;
  /** Default: the `connector-imports` bucket's list. */
  allowedMimeTypes?: readonly string[] | undefined;
  /** Documents larger than this are stored but not extracted. Default 100 MB (the registry's limit). */
  maxExtractBytes?: number | undefined;
  logger?: Logger | undefined;
  /** Clock for the object path's day. */
  now?: (() => Date) | undefined;
  /** Wait before retrying when another worker holds the upload connector's lease. Default 5 s. */
  leaseRetryMs?: number | undefined;
  /**
   * Stored files the pipeline holds before intake waits for it (back-pressure: storing goes no
   * further ahead of indexing than this). Default 200.
   */
  maxPendingFiles?: number | undefined;
  /** Files pushed and none new for this long: the pipeline commits what it holds. Default 100 ms. */
  idleFlushMs?: number | undefined;
  /**
   * `user` (recommended when the database holds your memberships): the batch row is inserted as
   * the uploading user, so row level security decides whether they may add to that organisation
   * (`UploadBatchError` `not_allowed` otherwise). `server` (default): the host has checked.
   * Progress is always recorded by the server.
   */
  createBatchesAs?: 'user' | 'server' | undefined;
}

export interface CreateBatchInput {
  orgId: string;
  /** The uploader: recorded as `uploaded_by`, so they may delete what they uploaded. */
  userId: string;
  files: readonly UploadFileInput[];
  /** Default: the organisation's `upload` connector, created on first use. */
  connectorId?: string | undefined;
  batchName?: string | undefined;
}

export interface UploadFileProgress {
  index: number;
  name: string | undefined;
  status: UploadFileStatus;
  documentId?: string | undefined;
  message?: string | undefined;
}

export interface UploadBatchProgress {
  id: string;
  orgId: string;
  userId: string | null;
  connectorId: string | null;
  batchName: string | null;
  status: UploadBatchStatus;
  totalFiles: number;
  processedFiles: number;
  failedFiles: number;
  percent: number;
  createdAt: Date;
  completedAt: Date | null;
  files: UploadFileProgress[];
}

export type UploadEvent =
  | { type: 'file-started'; batchId: string; index: number; name: string }
  | {
      type: 'file-stored';
      batchId: string;
      index: number;
      name: string;
      path: string;
      sizeBytes: number;
      sha256: string;
      mimeType: string;
    }
  | {
      type: 'file-finished';
      batchId: string;
      index: number;
      name: string;
      status: UploadFileStatus;
      documentId?: string | undefined;
      message?: string | undefined;
      processedFiles: number;
      failedFiles: number;
      percent: number;
    }
  | {
      type: 'batch-finished';
      batchId: string;
      status: UploadBatchStatus;
      processedFiles: number;
      failedFiles: number;
    };

export interface UploadBatchHandle {
  batchId: string;
  connectorId: string;
  totalFiles: number;
  /** Resolves (never rejects) with the batch as the database has it once every file is accounted for. */
  done: Promise<UploadBatchProgress>;
  /** This batch's events, from file-started to batch-finished. */
  events: AsyncIterable<UploadEvent>;
}

export interface WatchBatchOptions {
  /** Polling interval. Default 1,000 ms. (Supabase hosts can subscribe to the row with Realtime instead.) */
  intervalMs?: number | undefined;
  signal?: AbortSignal | undefined;
}

/** The message recorded for every file of an interrupted batch that has no outcome. */
export const UPLOAD_INTERRUPTED_MESSAGE =
  'upload interrupted: the process handling this batch stopped; upload the file again';

export interface RecoverInterruptedBatchesOptions {
  /**
   * A batch is interrupted when its row (`updated_at`, moved by every counted file) has not changed
   * for this long. Choose it well above the longest time one file can take to store and index
   * (a multi-GB upload, a long transcription), or a slow but live batch is settled.
   */
  olderThanMs: number;
  /** Only this organisation's batches. */
  orgId?: string | undefined;
  /** The current time (default: the uploader's `now` setting, else the system clock). */
  now?: Date | undefined;
  /** Batches settled per call, oldest first. Default 100. */
  limit?: number | undefined;
}

export interface RecoveredUploadBatch extends UploadBatchProgress {
  /** Files counted failed with `UPLOAD_INTERRUPTED_MESSAGE`. */
  interruptedFiles: number;
  /** Files that had become finished documents but were never counted, counted now from them. */
  recoveredFiles: number;
}

export interface Uploader {
  /**
   * Records the batch and returns its id at once; files are then stored and processed in the
   * background with bounded concurrency. Throws `UploadBatchError` when the batch cannot be created
   * (e.g. `not_allowed` for a user outside the organisation) and `InvalidConfigError` for bad input.
   */
  createBatch(input: CreateBatchInput): Promise<UploadBatchHandle>;
  /** Progress from the database: counts, percent, status and what is known per file. */
  getBatch(batchId: string): Promise<UploadBatchProgress | undefined>;
  /** Yields the batch each time its progress changes, until it ends. */
  watchBatch(batchId: string, options?: WatchBatchOptions): AsyncIterable<UploadBatchProgress>;
  /** Stops the batch's remaining files and ends it `cancelled`. Files already indexed stay. */
  cancelBatch(batchId: string): Promise<UploadBatchProgress | undefined>;
  /**
   * Settles batches whose process died mid-way (they would stay `processing` forever): every file
   * with no outcome is counted failed with `UPLOAD_INTERRUPTED_MESSAGE`, and the batch ends
   * `failed` or `completed_with_errors` as the counting functions decide. Batches this uploader is
   * running are skipped; safe to run from several processes at once (a row lock per batch with the
   * SQL store, a conditional claim with the Supabase store). Run it on a schedule or at start-up.
   * Needs a batch store with `findStaleBatches` and `settleInterruptedBatch` (both built-in stores).
   */
  recoverInterruptedBatches(options: RecoverInterruptedBatchesOptions): Promise<RecoveredUploadBatch[]>;
  /** Every batch's events in this process; returns the unsubscribe function. */
  subscribe(listener: (event: UploadEvent) => void): () => void;
  /** Resolves when every batch started by this uploader has finished. */
  idle(): Promise<void>;
}

const TERMINAL: ReadonlySet<UploadBatchStatus> = new Set([
  'completed',
  'completed_with_errors',
  'failed',
  'cancelled',
]);
/** Names longer than this are refused (every file system's limit is 255 bytes). */
const MAX_NAME_BYTES = 255;

interface LiveBatch {
  record: UploadBatchRecord;
  controller: AbortController;
  names: string[];
  live: Map<number, UploadFileProgress>;
  done: Promise<UploadBatchProgress>;
}

/**
 * Creates the uploader a host app calls when its users drop files: batches with progress,
 * streaming storage with a size limit, type checks from the bytes, sha256 dedup per organisation,
 * and indexing through core's pipeline.
 *
 * @example
 * const uploader = createUploader({ repository, batches, blobStore, embedder });
 * const { batchId, done } = await uploader.createBatch({ orgId, userId, files: [file1, file2] });
 */
export function createUploader(settings: UploaderSettings): Uploader {
  const concurrency = positive(settings.concurrency ?? 4, 'concurrency');
  const maxFileBytes = positive(settings.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES, 'maxFileBytes');
  const maxExtractBytes = positive(settings.maxExtractBytes ?? DEFAULT_MAX_INPUT_BYTES, 'maxExtractBytes');
  const allowedMimeTypes = new Set(settings.allowedMimeTypes ?? DEFAULT_ALLOWED_MIME_TYPES);
  const extractors =
    settings.extractors ??
    createExtractorRegistry([...builtInExtractors(), ...uploadExtractors()], {
      maxInputBytes: maxExtractBytes,
    });
  const logger = settings.logger ?? silentLogger;
  const now = settings.now ?? (() => new Date());
  const { repository, batches, blobStore } = settings;
  const feeders = new Map<string, PipelineFeeder>();
  const listeners = new Set<(event: UploadEvent) => void>();
  const liveBatches = new Map<string, LiveBatch>();
  // Same bytes in flight in this process, per connector: the second waits for the first's document.
  const inFlight = new Map<string, Promise<string | undefined>>();

  const emit = (event: UploadEvent) => {
    for (const listener of listeners) {
      try {
        listener(event);
      } catch (error) {
        logger.warn('upload event listener threw', {
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }
  };

  const feederFor = (connectorId: string) => {
    let feeder = feeders.get(connectorId);
    if (!feeder) {
      feeder = new PipelineFeeder({
        connectorId,
        repository,
        blobStore,
        embedder: settings.embedder,
        extractors,
        chunker: settings.chunker,
        concurrency,
        logger,
        leaseRetryMs: settings.leaseRetryMs ?? 5_000,
        maxPending: Math.ceil(positive(settings.maxPendingFiles ?? 200, 'maxPendingFiles')),
        idleFlushMs: positive(settings.idleFlushMs ?? 100, 'idleFlushMs'),
      });
      feeders.set(connectorId, feeder);
    }
    return feeder;
  };

  async function processFile(batch: LiveBatch, index: number, source: UploadSource): Promise<FileResult> {
    const { record, controller } = batch;
    const signal = controller.signal;
    const name = safeDisplayName(source.name);
    const connectorId = record.connectorId as string;
    const feeder = feederFor(connectorId);
    batch.live.set(index, { index, name, status: 'uploading' });
    emit({ type: 'file-started', batchId: record.id, index, name });
    let storedPath: string | undefined;
    let released = false;
    const release = () => {
      if (!released) {
        released = true;
        feeder.release();
      }
    };
    feeder.hold();
    try {
      checkName(source.name);
      if (source.sizeBytes === 0) throw emptyFile(source.name);
      if (source.sizeBytes !== undefined && source.sizeBytes > maxFileBytes)
        throw tooLarge(source.name, maxFileBytes);
      signal.throwIfAborted();
      const iterable = await source.open(signal);
      const { head, rest } = await readHead(iterable, SNIFF_BYTES);
      if (head.byteLength === 0) throw emptyFile(source.name);
      const detected = await detectUploadType({
        head,
        fileName: source.name,
        claimedMimeType: source.contentType,
        allowedMimeTypes,
      });
      const fileId = randomUUID();
      const path = buildObjectPath({
        orgId: record.orgId,
        connectorType: 'upload',
        connectorId,
        date: now(),
        fileType: storageFolder(detected.kind),
        fileId,
        fileName: source.name,
      });
      // The signal is checked between chunks by limitSize rather than handed to put: core's blob
      // stores race every read against a never-settling abort promise, which keeps every chunk
      // reachable (the whole file in memory) until the signal fires.
      const stored = await blobStore.put(path, limitSize(head, rest, maxFileBytes, source.name, signal), {
        contentType: detected.mimeType,
      });
      storedPath = path;
      emit({
        type: 'file-stored',
        batchId: record.id,
        index,
        name,
        path,
        sizeBytes: stored.sizeBytes,
        sha256: stored.sha256,
        mimeType: detected.mimeType,
      });
      batch.live.set(index, { index, name, status: 'processing' });

      // Dedup by content: the same bytes in this organisation's uploads are one document.
      const key = `${connectorId}:${stored.sha256}`;
      // Same bytes already being imported in this process: wait for that file's document. The
      // check and the registration below have no await between them, so two files cannot both
      // miss each other.
      for (let pending = inFlight.get(key); pending; pending = inFlight.get(key)) {
        const documentId = await pending;
        if (documentId) {
          await blobStore.delete([path]);
          return {
            status: 'duplicate',
            documentId,
            name,
            message: 'identical to a file uploaded at the same time',
          };
        }
      }
      let resolveDocument: (id: string | undefined) => void = () => {};
      const mine = new Promise<string | undefined>((resolve) => {
        resolveDocument = resolve;
      });
      inFlight.set(key, mine);
      try {
        const versions = await repository.getDocumentVersions(connectorId, [stored.sha256]);
        const existing = versions.get(stored.sha256);
        if (existing && !existing.isDeleted && existing.processingStatus !== 'failed') {
          resolveDocument(existing.id);
          await blobStore.delete([path]);
          return {
            status: 'duplicate',
            documentId: existing.id,
            name,
            message: 'already uploaded to this organisation',
          };
        }
        const outcome = await indexStored({
          batch,
          index,
          name,
          head,
          path,
          sizeBytes: stored.sizeBytes,
          sha256: stored.sha256,
          mimeType: detected.mimeType,
          kind: detected.kind,
          feeder,
          release,
          onDocument: (id) => resolveDocument(id),
        });
        // A file handed to the pipeline resolved its document through onDocument already.
        if (!('later' in outcome)) resolveDocument(outcome.documentId);
        return outcome;
      } finally {
        resolveDocument(undefined);
        if (inFlight.get(key) === mine) inFlight.delete(key);
      }
    } catch (error) {
      if (signal.aborted) {
        if (storedPath) await blobStore.delete([storedPath]).catch(() => 0);
        return { status: 'cancelled', name, message: 'the batch was cancelled' };
      }
      const message = describeError(error);
      logger.warn('upload file failed', { batchId: record.id, index, error: message });
      return { status: 'failed', name, message };
    } finally {
      release();
    }
  }

  async function indexStored(file: {
    batch: LiveBatch;
    index: number;
    name: string;
    head: Uint8Array;
    path: string;
    sizeBytes: number;
    sha256: string;
    mimeType: string;
    kind: UploadKind;
    feeder: PipelineFeeder;
    release: () => void;
    onDocument: (documentId: string) => void;
  }): Promise<FileResult> {
    const { batch, name, kind } = file;
    const connectorId = batch.record.connectorId as string;
    const upload: JsonObject = {
      batchId: batch.record.id,
      fileIndex: file.index,
      fileName: name,
      sha256: file.sha256,
      kind,
      mimeType: file.mimeType,
      sizeBytes: file.sizeBytes,
    };
    const sourceMetadata: JsonObject = { upload };
    const extra: JsonObject = {};
    if (kind === 'image') {
      const size = readImageSize(file.head, file.mimeType);
      if (size) extra.image = size;
    }
    const transcriber = settings.transcriber;
    let transcription: JsonObject | undefined;
    if (kind === 'audio' || kind === 'video') {
      transcription = !transcriber
        ? { status: 'awaiting' }
        : file.sizeBytes > transcriber.maxBytes
          ? { status: 'too_large', limitBytes: transcriber.maxBytes, transcriber: transcriber.id }
          : { status: 'transcribing', transcriber: transcriber.id };
      extra.transcription = transcription;
    }
    const [stored] = await repository.upsertDocuments(connectorId, [
      {
        externalId: file.sha256,
        title: name,
        mimeType: file.mimeType,
        fileSizeBytes: file.sizeBytes,
        storagePath: file.path,
        uploadedBy: batch.record.userId,
        sourceMetadata,
        metadata: { upload, ...extra },
        processingStatus:
          kind === 'image' || transcription?.status === 'too_large'
            ? 'completed'
            : kind === 'document' || transcription?.status === 'transcribing'
              ? 'processing'
              : 'pending',
      },
    ]);
    const documentId = (stored as { documentId: string }).documentId;
    file.onDocument(documentId);

    if (kind === 'image') {
      return {
        status: 'stored',
        documentId,
        name,
        message: 'image stored with its metadata; images have no text to index',
      };
    }
    if (transcription?.status === 'awaiting') {
      return { status: 'awaiting_transcription', documentId, name };
    }
    if (transcription?.status === 'too_large' && transcriber) {
      return {
        status: 'stored',
        documentId,
        name,
        message: `stored but not transcribed: ${formatMegabytes(file.sizeBytes)} is over the ${formatMegabytes(transcriber.maxBytes)} limit of ${transcriber.id}`,
      };
    }

    let text: string | undefined;
    if (kind === 'document') {
      if (file.sizeBytes > maxExtractBytes) {
        const message = `stored, but at ${formatMegabytes(file.sizeBytes)} it is over the ${formatMegabytes(maxExtractBytes)} text-extraction limit`;
        await repository.setProcessingStatus([documentId], 'failed', message);
        return { status: 'failed', documentId, name, message };
      }
    } else {
      try {
        const bytes = await readAll(await blobStore.get(file.path, { signal: batch.controller.signal }));
        const result = await (transcriber as Transcriber).transcribe({
          bytes,
          fileName: name,
          mimeType: file.mimeType,
          signal: batch.controller.signal,
        });
        text = result.text;
        sourceMetadata.transcription = {
          transcriber: (transcriber as Transcriber).id,
          ...(result.durationSeconds !== undefined ? { durationSeconds: result.durationSeconds } : {}),
          ...(result.language ? { language: result.language } : {}),
        };
      } catch (error) {
        const message = `stored, but transcription failed: ${describeError(error)}`;
        await repository.setProcessingStatus([documentId], 'failed', message);
        return { status: 'failed', documentId, name, message };
      }
    }
    const submitted = file.feeder.submit(
      { sha256: file.sha256, name, mimeType: file.mimeType, path: file.path, text, metadata: sourceMetadata },
      batch.record.id,
    );
    file.release();
    // Back-pressure: intake waits while the ingest is full; indexing then goes on without holding
    // an intake slot, so files of one batch are embedded and written together.
    await submitted.accepted;
    return {
      later: submitted.outcome.then(
        (outcome): RecordedFileOutcome =>
          outcome.ok
            ? { status: 'completed', documentId, name }
            : { status: 'failed', documentId, name, message: outcome.message },
      ),
    };
  }

  async function account(batch: LiveBatch, index: number, outcome: RecordedFileOutcome) {
    batch.live.set(index, {
      index,
      name: outcome.name,
      status: outcome.status,
      documentId: outcome.documentId,
      message: outcome.message,
    });
    let updated: UploadBatchRecord | undefined;
    try {
      updated = await batches.recordFile(batch.record.id, index, outcome);
      if (!updated && !batch.controller.signal.aborted) {
        // The batch ended elsewhere (cancelled by another process): stop its remaining files here too.
        batch.controller.abort(new Error('batch cancelled'));
        if (batch.record.connectorId)
          feeders.get(batch.record.connectorId)?.cancelBatch(batch.record.id, 'the batch was cancelled');
        const current = await batches.getBatch(batch.record.id);
        if (current) batch.record = current;
      }
    } catch (error) {
      logger.error('could not record an upload file outcome', {
        batchId: batch.record.id,
        index,
        error: describeError(error),
      });
    }
    if (updated) batch.record = updated;
    emit({
      type: 'file-finished',
      batchId: batch.record.id,
      index,
      name: outcome.name ?? '',
      status: outcome.status,
      documentId: outcome.documentId,
      message: outcome.message,
      processedFiles: batch.record.processedFiles,
      failedFiles: batch.record.failedFiles,
      percent: batch.record.progressPercent,
    });
  }

  /** Whether the batch row ended (cancelled) while this process still works on it. */
  async function endedElsewhere(batch: LiveBatch): Promise<boolean> {
    try {
      const status = batches.getBatchStatus
        ? await batches.getBatchStatus(batch.record.id)
        : (await batches.getBatch(batch.record.id))?.status;
      return status !== undefined && status !== 'uploading' && status !== 'processing';
    } catch {
      // Unknown: go on; the file's count is refused later if the batch did end.
      return false;
    }
  }

  async function runBatch(batch: LiveBatch, sources: UploadSource[]): Promise<UploadBatchProgress> {
    let next = 0;
    // Files handed to the pipeline and not finished yet (bounded by the ingest's back-pressure).
    const indexing = new Set<Promise<void>>();
    const worker = async () => {
      while (next < sources.length) {
        const index = next++;
        // Outcomes are counted once indexed, after later files started: so that a batch cancelled
        // by another process stops at its next file, its status is read before each file.
        if (index > 0 && !batch.controller.signal.aborted && (await endedElsewhere(batch))) {
          batch.controller.abort(new Error('batch cancelled'));
          if (batch.record.connectorId)
            feeders.get(batch.record.connectorId)?.cancelBatch(batch.record.id, 'the batch was cancelled');
        }
        const result = await processFile(batch, index, sources[index] as UploadSource);
        if ('later' in result) {
          const accounted: Promise<void> = result.later
            .then((outcome) => account(batch, index, outcome))
            .finally(() => indexing.delete(accounted));
          indexing.add(accounted);
        } else await account(batch, index, result);
      }
    };
    // The batch's intake keeps the connector's ingest open between its files (at concurrency 1
    // there is a moment between two files when none is being stored): one run for the batch.
    const feeder = batch.record.connectorId ? feederFor(batch.record.connectorId) : undefined;
    feeder?.hold();
    try {
      await Promise.all(Array.from({ length: Math.min(concurrency, sources.length) }, worker));
    } finally {
      feeder?.release();
    }
    while (indexing.size > 0) await Promise.all([...indexing]);
    const final = (await getBatch(batch.record.id).catch(() => undefined)) ?? toProgress(batch.record, batch);
    emit({
      type: 'batch-finished',
      batchId: final.id,
      status: final.status,
      processedFiles: final.processedFiles,
      failedFiles: final.failedFiles,
    });
    liveBatches.delete(batch.record.id);
    return final;
  }

  function toProgress(record: UploadBatchRecord, batch?: LiveBatch): UploadBatchProgress {
    const files: UploadFileProgress[] = [];
    for (let index = 0; index < record.totalFiles; index += 1) {
      const recorded = record.files.get(index);
      const live = batch?.live.get(index);
      const name = recorded?.name ?? live?.name ?? batch?.names[index];
      if (recorded) {
        files.push({
          index,
          name,
          status: recorded.status,
          documentId: recorded.documentId ?? live?.documentId,
          message: recorded.message,
        });
      } else if (live) {
        files.push({ ...live, name });
      } else {
        files.push({
          index,
          name,
          status: TERMINAL.has(record.status) && record.status === 'cancelled' ? 'cancelled' : 'pending',
        });
      }
    }
    return {
      id: record.id,
      orgId: record.orgId,
      userId: record.userId,
      connectorId: record.connectorId,
      batchName: record.batchName,
      status: record.status,
      totalFiles: record.totalFiles,
      processedFiles: record.processedFiles,
      failedFiles: record.failedFiles,
      percent: record.progressPercent,
      createdAt: record.createdAt,
      completedAt: record.completedAt,
      files,
    };
  }

  async function getBatch(batchId: string): Promise<UploadBatchProgress | undefined> {
    const record = await batches.getBatch(batchId);
    return record ? toProgress(record, liveBatches.get(batchId)) : undefined;
  }

  return {
    async createBatch(input) {
      if (!input || !Array.isArray(input.files) || input.files.length === 0 || input.files.length > 100_000) {
        throw new InvalidConfigError({
          subject: 'upload batch',
          issues: [{ fieldPath: 'files', message: 'give between 1 and 100,000 files' }],
        });
      }
      const sources = input.files.map((file) => toUploadSource(file));
      let record: UploadBatchRecord;
      let connectorId: string;
      if (settings.createBatchesAs === 'user') {
        // The row is inserted as the user first, so a user outside the organisation is refused
        // (RLS) before anything, even the organisation's upload connector, is created for them.
        record = await batches.withActor({ role: 'authenticated', userId: input.userId }).createBatch({
          orgId: input.orgId,
          userId: input.userId,
          connectorId: input.connectorId ?? null,
          totalFiles: sources.length,
          batchName: input.batchName,
        });
        connectorId = input.connectorId ?? (await batches.ensureUploadConnector(input.orgId));
        if (!input.connectorId) record = await batches.attachConnector(record.id, connectorId);
      } else {
        connectorId = input.connectorId ?? (await batches.ensureUploadConnector(input.orgId));
        record = await batches.createBatch({
          orgId: input.orgId,
          userId: input.userId,
          connectorId,
          totalFiles: sources.length,
          batchName: input.batchName,
        });
      }
      const buffered: UploadEvent[] = [];
      let wake: (() => void) | undefined;
      let finished = false;
      const unsubscribe = (() => {
        const listener = (event: UploadEvent) => {
          if (event.batchId !== record.id) return;
          buffered.push(event);
          if (event.type === 'batch-finished') {
            finished = true;
            // Unsubscribed here too, so a handle whose events are never read holds nothing.
            listeners.delete(listener);
          }
          wake?.();
        };
        listeners.add(listener);
        return () => listeners.delete(listener);
      })();
      const batch: LiveBatch = {
        record,
        controller: new AbortController(),
        names: sources.map((source) => safeDisplayName(source.name)),
        live: new Map(),
        done: Promise.resolve(undefined as unknown as UploadBatchProgress),
      };
      liveBatches.set(record.id, batch);
      batch.done = runBatch(batch, sources).catch((error) => {
        logger.error('upload batch stopped', { batchId: record.id, error: describeError(error) });
        return toProgress(batch.record, batch);
      });
      async function* events(): AsyncIterable<UploadEvent> {
        try {
          for (;;) {
            const event = buffered.shift();
            if (event) {
              yield event;
              continue;
            }
            if (finished) return;
            await new Promise<void>((resolve) => {
              wake = resolve;
            });
          }
        } finally {
          unsubscribe();
        }
      }
      return {
        batchId: record.id,
        connectorId,
        totalFiles: sources.length,
        done: batch.done,
        events: events(),
      };
    },

    getBatch,

    async *watchBatch(batchId, options = {}) {
      const intervalMs = options.intervalMs ?? 1_000;
      let last = '';
      for (;;) {
        options.signal?.throwIfAborted();
        const progress = await getBatch(batchId);
        if (!progress) {
          throw new UploadBatchError({
            reason: 'not_found',
            message: `upload batch ${batchId} not found`,
            hint: 'Check the batch id; batches of another organisation are not visible',
          });
        }
        const fingerprint = `${progress.status}:${progress.processedFiles}:${progress.failedFiles}`;
        if (fingerprint !== last) {
          last = fingerprint;
          yield progress;
        }
        if (TERMINAL.has(progress.status)) return;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, intervalMs);
          options.signal?.addEventListener(
            'abort',
            () => {
              clearTimeout(timer);
              resolve();
            },
            { once: true },
          );
        });
      }
    },

    async cancelBatch(batchId) {
      const batch = liveBatches.get(batchId);
      const record = await batches.cancelBatch(batchId);
      if (batch) {
        batch.controller.abort(new Error('batch cancelled'));
        if (batch.record.connectorId)
          feeders.get(batch.record.connectorId)?.cancelBatch(batchId, 'the batch was cancelled');
      }
      return record ? toProgress(record, batch) : undefined;
    },

    async recoverInterruptedBatches(options) {
      const olderThanMs = options?.olderThanMs;
      if (typeof olderThanMs !== 'number' || !Number.isFinite(olderThanMs) || olderThanMs < 0) {
        throw new InvalidConfigError({
          subject: 'interrupted batch recovery',
          issues: [{ fieldPath: 'olderThanMs', message: 'give the age in milliseconds (0 or more)' }],
        });
      }
      if (!batches.findStaleBatches || !batches.settleInterruptedBatch) {
        throw new UploadBatchError({
          reason: 'invalid_input',
          message: 'this batch store cannot recover interrupted batches',
          hint: 'Give the uploader a batch store with findStaleBatches and settleInterruptedBatch (createSqlUploadBatchStore or createSupabaseUploadBatchStore)',
        });
      }
      const updatedBefore = new Date((options.now ?? now()).getTime() - olderThanMs);
      const stale = await batches.findStaleBatches({
        updatedBefore,
        orgId: options.orgId,
        limit: options.limit,
      });
      const recovered: RecoveredUploadBatch[] = [];
      let failure: unknown;
      for (const candidate of stale) {
        // A batch this uploader runs is live whatever its age (one slow file).
        if (liveBatches.has(candidate.id)) continue;
        let settled: Awaited<ReturnType<NonNullable<UploadBatchStore['settleInterruptedBatch']>>>;
        try {
          settled = await batches.settleInterruptedBatch(candidate.id, {
            updatedBefore,
            message: UPLOAD_INTERRUPTED_MESSAGE,
          });
        } catch (error) {
          // One batch's failure does not keep the others from being settled; it is thrown at the end.
          logger.error('could not settle an interrupted upload batch', {
            batchId: candidate.id,
            error: describeError(error),
          });
          failure ??= error;
          continue;
        }
        if (!settled) continue;
        logger.warn('settled an interrupted upload batch', {
          batchId: candidate.id,
          status: settled.record.status,
          interruptedFiles: settled.interruptedFiles,
        });
        recovered.push({
          ...toProgress(settled.record),
          interruptedFiles: settled.interruptedFiles,
          recoveredFiles: settled.recoveredFiles,
        });
      }
      if (failure !== undefined) throw failure;
      return recovered;
    },

    subscribe(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },

    async idle() {
      while (liveBatches.size > 0) await Promise.all([...liveBatches.values()].map((batch) => batch.done));
      await Promise.all([...feeders.values()].map((feeder) => feeder.idle()));
    },
  };
}

/** The first `limit` bytes (fewer for a smaller file) and the rest of the stream, unread. */
async function readHead(
  iterable: AsyncIterable<Uint8Array>,
  limit: number,
): Promise<{ head: Uint8Array; rest: AsyncIterator<Uint8Array> }> {
  const iterator = iterable[Symbol.asyncIterator]();
  const parts: Uint8Array[] = [];
  let size = 0;
  while (size < limit) {
    const { done, value } = await iterator.next();
    if (done) break;
    const chunk = toBytes(value);
    if (chunk.byteLength === 0) continue;
    parts.push(chunk);
    size += chunk.byteLength;
  }
  return { head: Buffer.concat(parts), rest: iterator };
}

/** Replays the head, then the rest, counting bytes and stopping at `maxBytes`. */
async function* limitSize(
  head: Uint8Array,
  rest: AsyncIterator<Uint8Array>,
  maxBytes: number,
  fileName: string,
  signal: AbortSignal,
): AsyncIterable<Uint8Array> {
  let total = head.byteLength;
  if (total > maxBytes) throw tooLarge(fileName, maxBytes);
  signal.throwIfAborted();
  yield head;
  try {
    for (;;) {
      signal.throwIfAborted();
      const { done, value } = await rest.next();
      signal.throwIfAborted();
      if (done) return;
      const chunk = toBytes(value);
      total += chunk.byteLength;
      if (total > maxBytes) throw tooLarge(fileName, maxBytes);
      yield chunk;
    }
  } finally {
    await rest.return?.();
  }
}

function toBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'string') return Buffer.from(value);
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  throw new TypeError('an upload stream must yield Uint8Array chunks');
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
  }
  return Buffer.concat(parts);
}

function checkName(name: string): void {
  const invalid = (message: string, hint: string) =>
    new UploadRejectedError({ reason: 'invalid_name', fileName: safeDisplayName(name), message, hint });
  if (typeof name !== 'string' || name.trim() === '') {
    throw invalid('a file has an empty name', 'Give every file a name with its extension, e.g. report.pdf');
  }
  if (Buffer.byteLength(name, 'utf8') > MAX_NAME_BYTES) {
    throw invalid(
      `a file name is ${Buffer.byteLength(name, 'utf8')} bytes long (the limit is ${MAX_NAME_BYTES})`,
      'Rename the file to something shorter and upload it again',
    );
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[/\\]|[\u0000-\u001f\u007f]/.test(name) || name === '.' || name === '..') {
    throw invalid(
      `the file name ${JSON.stringify(safeDisplayName(name))} contains a path or control characters`,
      'Upload files by their plain name (no folders, no "..", no control characters)',
    );
  }
}

function safeDisplayName(name: string): string {
  return sanitizeFileName(typeof name === 'string' ? name : '', { fallback: 'unnamed' });
}

function emptyFile(name: string) {
  return new UploadRejectedError({
    reason: 'empty_file',
    fileName: safeDisplayName(name),
    message: `${safeDisplayName(name)} is empty (0 bytes)`,
    hint: 'Check that the file was saved completely and upload it again',
  });
}

function tooLarge(name: string, maxBytes: number) {
  return new UploadRejectedError({
    reason: 'too_large',
    fileName: safeDisplayName(name),
    message: `${safeDisplayName(name)} is larger than the ${formatMegabytes(maxBytes)} upload limit`,
    hint: 'Split or compress the file, or ask the administrator to raise maxFileBytes',
  });
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function formatMegabytes(bytes: number): string {
  if (bytes >= 1024 * 1024 * 1024) return `${(bytes / (1024 * 1024 * 1024)).toFixed(1)} GB`;
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
  return `${(bytes / 1024).toFixed(1)} KB`;
}

function positive(value: number, field: string): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new InvalidConfigError({
      subject: 'uploader settings',
      issues: [{ fieldPath: field, message: 'must be a positive number' }],
    });
  }
  return value;
}
