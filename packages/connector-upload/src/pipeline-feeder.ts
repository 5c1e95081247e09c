import {
  type BlobStore,
  type Chunker,
  type Embedder,
  type ExtractorRegistry,
  type KnowledgeRepository,
  type Logger,
  runSync,
  sleep,
} from '@tributary/core';
import { createUploadConnector, type StoredUpload, type UploadFeedItem } from './upload-connector.js';

export type PipelineOutcome = { ok: true } | { ok: false; message: string };

interface QueuedDocument {
  upload: StoredUpload;
  batchId: string;
  resolve: (outcome: PipelineOutcome) => void;
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
}

/**
 * Feeds stored files of every batch of one upload connector into core's `runSync`, so they are
 * extracted, chunked, embedded (with chunk reuse) and indexed exactly as any connector's documents.
 *
 * One run at a time per connector (the database's lease says so), fed from a shared queue: files of
 * a second batch join the run that is going instead of waiting for it to end. The run's connector
 * yields queued files as intake stores them and a checkpoint whenever the queue runs dry, which
 * makes the pipeline commit what it has (it groups upserts otherwise); it ends when no file is
 * queued or still being stored.
 */
export class PipelineFeeder {
  readonly #options: PipelineFeederOptions;
  readonly #queue: QueuedDocument[] = [];
  #holds = 0;
  #running: Promise<void> | undefined;
  #wake: (() => void) | undefined;

  readonly #connector: ReturnType<typeof createUploadConnector>;

  constructor(options: PipelineFeederOptions) {
    this.#options = options;
    this.#connector = createUploadConnector({ blobStore: options.blobStore });
  }

  /** A file is being stored and may be submitted: keep the run open for it. */
  hold(): void {
    this.#holds += 1;
  }

  release(): void {
    this.#holds -= 1;
    this.#notify();
  }

  /** Queues a stored file; resolves when the pipeline finished or failed it. */
  submit(upload: StoredUpload, batchId: string): Promise<PipelineOutcome> {
    return new Promise((resolve) => {
      this.#queue.push({ upload, batchId, resolve });
      this.#notify();
      this.#ensureRunning();
    });
  }

  /** Drops a cancelled batch's files that the pipeline has not taken yet. */
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
    const options = this.#options;
    while (this.#queue.length > 0) {
      const handed = new Map<string, QueuedDocument>();
      const settle = (externalId: string, outcome: PipelineOutcome) => {
        const item = handed.get(externalId);
        if (!item) return;
        handed.delete(externalId);
        item.resolve(outcome);
      };
      const feeder = this;
      // Stored files as they arrive; a flush whenever the queue runs dry, so the pipeline commits
      // what it holds instead of waiting for a full group.
      async function* feed(): AsyncIterable<UploadFeedItem> {
        for (;;) {
          const item = feeder.#queue.shift();
          if (item) {
            handed.set(item.upload.sha256, item);
            yield item.upload;
            continue;
          }
          if (feeder.#holds <= 0) return;
          yield { flush: true };
          if (feeder.#queue.length > 0 || feeder.#holds <= 0) continue;
          await new Promise<void>((resolve) => {
            feeder.#wake = resolve;
          });
        }
      }
      let summary: Awaited<ReturnType<typeof runSync>> | undefined;
      let failure: unknown;
      try {
        summary = await runSync({
          connector: this.#connector,
          config: { uploads: feed() },
          connectorId: options.connectorId,
          repository: options.repository,
          embedder: options.embedder,
          extractors: options.extractors,
          chunker: options.chunker,
          logger: options.logger,
          concurrency: { load: options.concurrency, embed: 2 },
          groupSize: 50,
          onProgress: (event) => {
            if (event.type === 'document-finished' || event.type === 'document-skipped') {
              settle(event.externalId, { ok: true });
            } else if (event.type === 'document-failed') {
              settle(event.externalId, { ok: false, message: event.message });
            }
          },
        });
      } catch (error) {
        failure = error;
      }
      if (summary?.status === 'skipped') {
        // Another worker holds this connector's lease; its run ends or its lease expires.
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
      for (const externalId of [...handed.keys()]) settle(externalId, { ok: false, message: reason });
      if (failure || summary?.status === 'failed') {
        // A run that failed as a whole (no pgvector, a revoked key) would fail the same way again
        // for every queued file: fail them now rather than loop.
        for (const item of this.#queue.splice(0)) item.resolve({ ok: false, message: reason });
      }
    }
  }
}
