import {
  type BlobStore,
  type Chunker,
  type Embedder,
  type ExtractorRegistry,
  type KnowledgeRepository,
  type Logger,
  type PushIngest,
  type SyncProgressEvent,
  type SyncSummary,
  sleep,
  startPushIngest,
} from '@tributary/core';
import { type StoredUpload, storedUploadDocument } from './stored-upload-document.js';

export type PipelineOutcome = { ok: true } | { ok: false; message: string };

interface QueuedDocument {
  upload: StoredUpload;
  batchId: string;
  accepted: () => void;
  resolve: (outcome: PipelineOutcome) => void;
}

/** What `submit` gives back: taken by the running ingest (back-pressure), then indexed or failed. */
export interface Submitted {
  /** Resolves once the ingest took the file (it waits while the ingest is full), or it was dropped. */
  accepted: Promise<void>;
  /** Resolves when the pipeline finished or failed the file; never rejects. */
  outcome: Promise<PipelineOutcome>;
}

export interface PipelineFeederOptions {
  connectorId: string;
  repository: KnowledgeRepository;
  blobStore: BlobStore;
  embedder: Embedder;
  extractors: ExtractorRegistry;
  chunker?: Chunker | undefined;
  concurrency: number;
  logger?: Logger | undefined;
  /** Wait before trying again when another worker holds the connector's lease. */
  leaseRetryMs: number;
  /** Files the ingest holds before `accepted` waits (back-pressure on intake). */
  maxPending: number;
  /** With files pushed and none new for this long, the ingest commits what it holds. */
  idleFlushMs: number;
}

/**
 * Feeds stored files of every batch of one upload connector into a push ingest (core's
 * `startPushIngest`), so they are extracted, chunked, embedded (batched across files, with chunk
 * reuse) and indexed exactly as any connector's documents, in a run of their own (a lease, a
 * `connector_sync_logs` row).
 *
 * One run at a time per connector (the database's lease says so): files of a second batch join the
 * run that is going. Files are pushed as intake stores them; `accepted` waits while the ingest holds
 * `maxPending` (intake slows down instead of queueing without bound); the ingest commits when pushes
 * pause, and is closed once no file is queued or still being stored.
 */
export class PipelineFeeder {
  readonly #options: PipelineFeederOptions;
  readonly #queue: QueuedDocument[] = [];
  #holds = 0;
  #running: Promise<void> | undefined;
  #wake: (() => void) | undefined;

  constructor(options: PipelineFeederOptions) {
    this.#options = options;
  }

  /** A file is being stored and may be submitted: keep the run open for it. */
  hold(): void {
    this.#holds += 1;
  }

  release(): void {
    this.#holds -= 1;
    this.#notify();
  }

  /** Queues a stored file for the running ingest (starting one if none runs). */
  submit(upload: StoredUpload, batchId: string): Submitted {
    let accepted!: () => void;
    const acceptedPromise = new Promise<void>((resolve) => {
      accepted = resolve;
    });
    const outcome = new Promise<PipelineOutcome>((resolve) => {
      this.#queue.push({
        upload,
        batchId,
        accepted,
        resolve: (result) => {
          accepted();
          resolve(result);
        },
      });
    });
    this.#notify();
    this.#ensureRunning();
    return { accepted: acceptedPromise, outcome };
  }

  /** Drops a cancelled batch's files that the ingest has not taken yet. */
  cancelBatch(batchId: string, message: string): void {
    for (let index = this.#queue.length - 1; index >= 0; index -= 1) {
      const item = this.#queue[index] as QueuedDocument;
      if (item.batchId === batchId) {
        this.#queue.splice(index, 1);
        item.resolve({ ok: false, message });
      }
    }
    this.#notify();
  }

  /** Resolves when no run is going. */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  #notify() {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  #ensureRunning() {
    if (this.#running) return;
    this.#running = this.#loop().finally(() => {
      this.#running = undefined;
      if (this.#queue.length > 0) this.#ensureRunning();
    });
  }

  async #loop(): Promise<void> {
    while (this.#queue.length > 0) {
      const { summary, failure, handed } = await this.#runOnce();
      const options = this.#options;
      if (summary?.status === 'skipped') {
        // Another worker holds this connector's lease: nothing pushed was taken. Queue it again and
        // wait for that run to end or its lease to expire.
        this.#queue.unshift(...handed.values());
        options.logger?.info('upload pipeline waiting for the connector lease', {
          connectorId: options.connectorId,
        });
        await sleep(options.leaseRetryMs);
        continue;
      }
      const reason =
        summary?.error ??
        (failure instanceof Error ? failure.message : failure ? String(failure) : undefined) ??
        `the pipeline run ended ${summary?.status ?? 'early'} before this file was indexed`;
      for (const item of handed.values()) item.resolve({ ok: false, message: reason });
      if (failure || summary?.status === 'failed') {
        // A run that failed as a whole (no pgvector, a revoked key) would fail the same way again
        // for every queued file: fail them now rather than loop.
        for (const item of this.#queue.splice(0)) item.resolve({ ok: false, message: reason });
      }
    }
  }

  /** One push ingest: push queued files until none is queued or being stored, then close it. */
  async #runOnce(): Promise<{
    summary: SyncSummary | undefined;
    failure: unknown;
    handed: Map<string, QueuedDocument>;
  }> {
    const options = this.#options;
    // Files pushed and not yet finished, by document id (the sha256).
    const handed = new Map<string, QueuedDocument>();
    const settle = (externalId: string, outcome: PipelineOutcome) => {
      const item = handed.get(externalId);
      if (!item) return;
      handed.delete(externalId);
      item.resolve(outcome);
    };
    const ingest: PushIngest = startPushIngest({
      connectorType: 'upload',
      connectorId: options.connectorId,
      repository: options.repository,
      embedder: options.embedder,
      extractors: options.extractors,
      chunker: options.chunker,
      logger: options.logger,
      concurrency: { load: options.concurrency, embed: 2 },
      groupSize: 50,
      idleFlushMs: options.idleFlushMs,
      maxPending: options.maxPending,
      onProgress: (event: SyncProgressEvent) => {
        if (event.type === 'document-finished' || event.type === 'document-skipped') {
          settle(event.externalId, { ok: true });
        } else if (event.type === 'document-failed') {
          settle(event.externalId, { ok: false, message: event.message });
        }
      },
    });
    let ended = false;
    const done = ingest.done.then(
      (summary) => ({ summary, failure: undefined as unknown }),
      (failure: unknown) => ({ summary: undefined, failure }),
    );
    void done.then(() => {
      ended = true;
      this.#notify();
    });
    while (!ended) {
      const item = this.#queue.shift();
      if (!item) {
        if (this.#holds <= 0) break;
        // Nothing queued but files still being stored: wait for them (the ingest commits what it
        // holds once pushes pause for idleFlushMs).
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
        continue;
      }
      handed.set(item.upload.sha256, item);
      try {
        await ingest.push(storedUploadDocument(item.upload, options.blobStore));
        item.accepted();
      } catch {
        // The run ended before taking it (another worker's lease, a failed run): decided below.
        break;
      }
    }
    if (!ended) await ingest.close().catch(() => undefined);
    const result = await done;
    return { ...result, handed };
  }
}
