import { type Chunk, chunkEmbeddingText, createChunker } from '../chunking/chunker.js';
import { ConnectorTypeMismatchError } from '../connectors/connector-errors.js';
import { readConnectorSecrets } from '../connectors/connector-secrets.js';
import { createExtractorRegistry } from '../content/extractor-registry.js';
import { contentHash } from '../content/normalize-text.js';
import { batchForEmbedding } from '../embedding/batch-for-embedding.js';
import { isAbortError } from '../errors/abort-error.js';
import { isFatalError } from '../errors/is-fatal-error.js';
import type {
  ChunkInput,
  DocumentInput,
  DocumentVersion,
  FinishedSyncStatus,
} from '../repository/knowledge-repository.js';
import { RepositoryError } from '../repository/repository-error.js';
import { assertEmbedderFits } from '../search/assert-embedder-fits.js';
import { secretKeyRingFromEnv } from '../secrets/secret-key-ring.js';
import { createBufferedConnectorState } from '../spec/buffered-connector-state.js';
import { createConnectorInstance } from '../spec/create-connector-instance.js';
import { silentLogger } from '../spec/logger.js';
import { createSyncMetrics } from '../spec/sync-metrics.js';
import type { SyncContext, SyncMode } from '../spec/v1/connector-v1.js';
import type { JsonObject, JsonValue } from '../spec/v1/json-value.js';
import type { SourceDocument } from '../spec/v1/source-document.js';
import { mapWithConcurrency, materializeContent } from './load-content.js';
import { REPORT_TOTAL } from './report-total.js';
import type {
  RunSyncOptions,
  SyncDocumentError,
  SyncEmbeddingCounts,
  SyncProgressEvent,
  SyncRunCounts,
  SyncSummary,
  SyncSummaryStatus,
  SyncSweepSummary,
} from './types.js';

const MAX_KEPT_ERRORS = 1000;
const encoder = new TextEncoder();

/** Stops the run: the lease is gone, the signal aborted, or a fatal error happened. */
class StopRun extends Error {
  constructor(
    readonly status: 'failed' | 'cancelled',
    message: string,
    readonly leaseLost = false,
  ) {
    super(message);
  }
}

/** A document that was loaded and extracted, waiting to be stored. */
interface Prepared {
  source: SourceDocument;
  input: DocumentInput;
  text: string;
  structure: 'markdown' | 'plain' | 'transcript';
  bytes: number;
}

/** A stored document whose chunks must be (re)written. */
interface ToIndex {
  documentId: string;
  externalId: string;
  prepared: Prepared;
  action: 'inserted' | 'updated' | 'unchanged';
  chunks: Chunk[];
}

/**
 * Runs one sync of a connector into a repository: versions skip unchanged documents without
 * loading them, content hashes skip re-chunking and re-embedding, identical chunks reuse stored
 * embeddings, deletes and the full-sync sweep remove what left the source, and checkpoints are
 * committed only once everything before them is stored. Never throws for a run that started:
 * the outcome is the summary (`status`, counts, `errors`, `error`). Errors before a run exists
 * (unknown or inactive connector, repository down, with `loadStored`: a connector row of another
 * type, a missing secret key) are thrown.
 *
 * @example
 * const summary = await runSync({
 *   connector: notion, config, credentials, connectorId, repository,
 *   embedder: createLexicalEmbedder(),
 *   onProgress: (event) => console.log(event.type, event.counts),
 * });
 */
export async function runSync<Config, Credentials>(
  options: RunSyncOptions<Config, Credentials>,
): Promise<SyncSummary> {
  const started = Date.now();
  const { repository, connectorId, embedder, connector } = options;
  const logger = options.logger ?? silentLogger;
  const groupSize = positiveInteger(options.groupSize, 50);
  const loadConcurrency = positiveInteger(options.concurrency?.load, 4);
  const embedConcurrency = positiveInteger(options.concurrency?.embed, 2);
  const leaseSeconds = options.leaseSeconds ?? 300;
  const maxSweepFraction = options.maxSweepFraction ?? 0.5;

  const record = await repository.getConnector(connectorId);
  if (!record) {
    throw new RepositoryError({ reason: 'not_found', message: `connector ${connectorId} not found` });
  }
  let config = options.config;
  let credentials = options.credentials;
  if (options.loadStored) {
    if (record.connectorType !== connector.type) {
      throw new ConnectorTypeMismatchError({
        connectorId,
        storedType: record.connectorType,
        pluginType: connector.type,
      });
    }
    config ??= record.settings;
    if (credentials === undefined) {
      const keyRing =
        (typeof options.loadStored === 'object' ? options.loadStored.keyRing : undefined) ??
        secretKeyRingFromEnv();
      credentials = (await readConnectorSecrets(repository, keyRing, connectorId)).credentials;
    }
  }
  const orgId = record.orgId;
  const storedCursor = record.syncCursor ?? undefined;
  let mode: SyncMode =
    options.mode ??
    (storedCursor !== undefined && connector.capabilities.incremental ? 'incremental' : 'full');
  if (mode === 'incremental' && !connector.capabilities.incremental) mode = 'full';

  const counts: SyncRunCounts = {
    seen: 0,
    inserted: 0,
    updated: 0,
    unchanged: 0,
    skippedByVersion: 0,
    failed: 0,
    deleted: 0,
  };
  const embeddings: SyncEmbeddingCounts = { requests: 0, inputs: 0, reused: 0, tokens: 0 };
  const errors: SyncDocumentError[] = [];
  const metrics = createSyncMetrics();
  let contentBytes = 0;

  // Before the run starts: an embedder of another size would be paid for every chunk and then
  // fail every document at write time.
  assertEmbedderFits(embedder, await repository.vectorSettings());

  const start = await repository.startSync({
    connectorId,
    syncType: options.syncType ?? 'manual',
    syncMode: mode,
    leaseSeconds,
  });
  if (start.status === 'alreadyRunning') {
    logger.info('sync skipped: another run holds the lease', { connectorId, runId: start.syncRunId });
    return {
      status: 'skipped',
      runId: start.syncRunId,
      mode,
      counts,
      embeddings,
      apiCalls: 0,
      bytes: 0,
      contentBytes: 0,
      durationMs: Date.now() - started,
      errors,
    };
  }
  const runId = start.syncRunId;
  const cursor: JsonValue | undefined = start.cursor ?? undefined;

  // Progress and ETA.
  let total: number | undefined;
  const progress = (event: Record<string, unknown> & { type: SyncProgressEvent['type'] }) => {
    if (!options.onProgress) return;
    const done = counts.seen;
    let etaMs: number | undefined;
    if (total !== undefined && done > 0) {
      etaMs = Math.max(0, Math.round(((Date.now() - started) / done) * Math.max(0, total - done)));
    }
    try {
      options.onProgress({ ...event, runId, counts: { ...counts }, total, etaMs } as SyncProgressEvent);
    } catch (error) {
      logger.warn('onProgress threw; ignored', { error: messageOf(error) });
    }
  };

  // Cancellation: the caller's signal, a lost lease or a fatal error abort the connector.
  const controller = new AbortController();
  let stop: StopRun | undefined;
  const halt = (reason: StopRun) => {
    stop ??= reason;
    if (!controller.signal.aborted) controller.abort(reason);
  };
  const onCallerAbort = () => halt(new StopRun('cancelled', 'the sync was cancelled'));
  if (options.signal?.aborted) onCallerAbort();
  options.signal?.addEventListener('abort', onCallerAbort, { once: true });
  const checkStop = () => {
    if (stop) throw stop;
  };
  const asLeaseLoss = (error: unknown): never => {
    if (RepositoryError.isInstance(error) && error.reason === 'lease_lost') {
      const lost = new StopRun('failed', `lost the lease of sync run ${runId}: ${error.message}`, true);
      halt(lost);
      throw lost;
    }
    throw error;
  };

  // Heartbeats.
  const heartbeatMs = options.heartbeatIntervalMs ?? Math.max(1000, (leaseSeconds * 1000) / 3);
  let heartbeatInFlight = false;
  const timer = setInterval(() => {
    if (heartbeatInFlight || stop?.leaseLost) return;
    heartbeatInFlight = true;
    repository
      .heartbeat(runId, { leaseSeconds, progress: logCounts() })
      .catch((error: unknown) => {
        if (RepositoryError.isInstance(error) && error.reason === 'lease_lost') {
          logger.error('sync run lost its lease; stopping', { runId });
          halt(new StopRun('failed', `lost the lease of sync run ${runId}: ${error.message}`, true));
        } else {
          logger.warn('heartbeat failed', { runId, error: messageOf(error) });
        }
      })
      .finally(() => {
        heartbeatInFlight = false;
      });
  }, heartbeatMs);
  timer.unref?.();

  const logCounts = () => ({
    documentsSynced: counts.inserted,
    documentsUpdated: counts.updated,
    documentsSkipped: counts.unchanged + counts.skippedByVersion,
    documentsFailed: counts.failed,
    documentsDeleted: counts.deleted,
    apiCallsMade: metrics.apiCalls.value,
    bytesTransferred: metrics.bytes.value,
  });

  const recordFailure = (externalId: string, error: unknown, bytes = 0) => {
    const message = messageOf(error);
    counts.failed += 1;
    if (errors.length < MAX_KEPT_ERRORS) errors.push({ externalId, message });
    logger.warn('document failed', { runId, externalId, error: message });
    progress({ type: 'document-failed', externalId, message, bytes });
  };

  const extractors = options.extractors ?? createExtractorRegistry();
  const chunker = options.chunker ?? createChunker();

  // ---- one group of upserts -------------------------------------------------------------
  async function processGroup(group: SourceDocument[]): Promise<void> {
    checkStop();
    const ids = group.map((d) => d.externalId);
    let versions: Map<string, DocumentVersion> | undefined;
    try {
      versions = await repository.getDocumentVersions(connectorId, ids);
    } catch (error) {
      logger.warn('version lookup failed; processing the group as new (fail open)', {
        runId,
        documents: ids.length,
        error: messageOf(error),
      });
    }
    checkStop();

    // Layer 2: same source version, fully processed, not deleted → not loaded.
    const skipped: string[] = [];
    const toLoad: SourceDocument[] = [];
    for (const document of group) {
      const stored = versions?.get(document.externalId);
      if (
        stored &&
        document.version !== undefined &&
        stored.sourceVersion === document.version &&
        !stored.isDeleted &&
        stored.processingStatus === 'completed'
      ) {
        skipped.push(document.externalId);
      } else {
        toLoad.push(document);
      }
    }
    if (skipped.length > 0) {
      await repository.markDocumentsSeen(connectorId, skipped);
      for (const externalId of skipped) {
        counts.skippedByVersion += 1;
        progress({ type: 'document-skipped', externalId });
      }
    }

    // Load, extract, normalize, hash.
    const loaded = await mapWithConcurrency(toLoad, loadConcurrency, async (source) => {
      checkStop();
      progress({ type: 'document-started', externalId: source.externalId });
      let bytes = 0;
      try {
        const content = await materializeContent(source.content, controller.signal);
        bytes = content.bytes ? content.bytes.byteLength : encoder.encode(content.text).byteLength;
        contentBytes += bytes;
        const extracted = await extractors.extract({
          ...(content.bytes ? { bytes: content.bytes } : { text: content.text }),
          claimedMimeType: source.mimeType,
          fileName: source.title || undefined,
        });
        const text = extracted.text;
        const prepared: Prepared = {
          source,
          text,
          structure: extracted.structure,
          bytes,
          input: {
            externalId: source.externalId,
            parentExternalId: source.parentExternalId ?? null,
            title: source.title || extracted.title || null,
            mimeType: extracted.mimeType,
            externalUrl: source.externalUrl ?? null,
            sourceVersion: source.version ?? null,
            sourceModifiedAt: source.modifiedAt ?? null,
            content: text,
            contentHash: contentHash(text),
            fileSizeBytes: bytes,
            sourceMetadata: source.metadata ?? {},
            metadata: documentMetadata(source, connector.capabilities.permissions),
            processingStatus: 'processing',
          },
        };
        return prepared;
      } catch (error) {
        if (stop) throw stop;
        if (isFatalError(error)) throw error;
        if (isAbortError(error) && controller.signal.aborted) throw error;
        return { failed: source, error, bytes };
      }
    });
    checkStop();

    const prepared: Prepared[] = [];
    const loadFailures: { failed: SourceDocument; error: unknown; bytes: number }[] = [];
    for (const item of loaded) {
      if ('failed' in item) loadFailures.push(item);
      else prepared.push(item);
    }

    // Documents that could not be loaded or extracted: stored (or kept) as failed.
    if (loadFailures.length > 0) await storeFailures(loadFailures, versions);
    checkStop();

    // Store the group (layer 1 identity, layer 3 content hash).
    const toIndex: ToIndex[] = [];
    if (prepared.length > 0) {
      const results = await repository.upsertDocuments(
        connectorId,
        prepared.map((p) => p.input),
      );
      for (const [index, result] of results.entries()) {
        const item = prepared[index] as Prepared;
        if (result.action === 'inserted') counts.inserted += 1;
        else if (result.action === 'updated') counts.updated += 1;
        else counts.unchanged += 1;
        const stored = versions?.get(result.externalId);
        // Unchanged content whose earlier processing finished needs nothing more. Unchanged
        // content that never finished (a crash, a failure, an unknown state) is indexed again;
        // its embeddings come back from layer 4.
        if (result.action === 'unchanged' && stored?.processingStatus === 'completed') {
          progress({
            type: 'document-finished',
            externalId: result.externalId,
            action: 'unchanged',
            bytes: item.bytes,
          });
          continue;
        }
        toIndex.push({
          documentId: result.documentId,
          externalId: result.externalId,
          prepared: item,
          action: result.action,
          chunks: [],
        });
      }
    }
    checkStop();
    if (toIndex.length > 0) await indexDocuments(toIndex);
    progress({ type: 'group-committed', documents: group.length, deleted: 0 });
  }

  async function storeFailures(
    failures: { failed: SourceDocument; error: unknown; bytes: number }[],
    versions: Map<string, DocumentVersion> | undefined,
  ) {
    let known = versions ?? new Map<string, DocumentVersion>();
    if (!versions) {
      try {
        known = await repository.getDocumentVersions(
          connectorId,
          failures.map((f) => f.failed.externalId),
        );
      } catch {
        known = new Map();
      }
    }
    const missing = failures.filter((f) => !known.get(f.failed.externalId));
    const ids = new Map<string, string>();
    for (const f of failures) {
      const id = known.get(f.failed.externalId)?.id;
      if (id) ids.set(f.failed.externalId, id);
    }
    if (missing.length > 0) {
      const results = await repository.upsertDocuments(
        connectorId,
        missing.map(({ failed }) => ({
          externalId: failed.externalId,
          parentExternalId: failed.parentExternalId ?? null,
          title: failed.title || null,
          mimeType: failed.mimeType ?? null,
          externalUrl: failed.externalUrl ?? null,
          sourceModifiedAt: failed.modifiedAt ?? null,
          sourceMetadata: failed.metadata ?? {},
          metadata: documentMetadata(failed, connector.capabilities.permissions),
          processingStatus: 'failed',
        })),
      );
      for (const result of results) ids.set(result.externalId, result.documentId);
    }
    const existing = failures.filter((f) => known.get(f.failed.externalId));
    if (existing.length > 0) {
      // The listing saw them, so the sweep must not remove them.
      await repository.markDocumentsSeen(
        connectorId,
        existing.map((f) => f.failed.externalId),
      );
    }
    for (const f of failures) {
      const id = ids.get(f.failed.externalId);
      if (id) await repository.setProcessingStatus([id], 'failed', messageOf(f.error));
      recordFailure(f.failed.externalId, f.error, f.bytes);
    }
  }

  // ---- chunk, embed (across documents, with reuse), replace chunks ---------------------
  async function indexDocuments(items: ToIndex[]): Promise<void> {
    const failedIds = new Map<string, unknown>();
    const maxPerInput = embedder.maxTokensPerInput ?? embedder.maxTokensPerRequest;
    for (const item of items) {
      try {
        item.chunks = await chunker.chunk(item.prepared.text, {
          structure: item.prepared.structure,
          title: item.prepared.input.title ?? undefined,
        });
        const tooLong = item.chunks.find((chunk) => chunk.tokenCount > maxPerInput);
        if (tooLong) {
          throw new Error(
            `chunk ${tooLong.index} has ${tooLong.tokenCount} tokens, over the embedder's limit of ${maxPerInput}`,
          );
        }
      } catch (error) {
        if (isFatalError(error)) throw error;
        failedIds.set(item.documentId, error);
      }
    }
    checkStop();

    const live = items.filter((item) => !failedIds.has(item.documentId));
    const textByHash = new Map<string, { text: string; tokens: number }>();
    for (const item of live) {
      for (const chunk of item.chunks) {
        if (!textByHash.has(chunk.hash)) {
          textByHash.set(chunk.hash, { text: chunkEmbeddingText(chunk), tokens: chunk.tokenCount });
        }
      }
    }

    // Layer 4: identical chunks reuse stored embeddings.
    let vectors = new Map<string, number[]>();
    if (textByHash.size > 0) {
      try {
        vectors = await repository.findReusableEmbeddings(orgId, embedder.id, [...textByHash.keys()]);
      } catch (error) {
        logger.warn('embedding reuse lookup failed; embedding every chunk (fail open)', {
          runId,
          error: messageOf(error),
        });
        vectors = new Map();
      }
    }
    checkStop();
    const missing = [...textByHash.keys()].filter((hash) => !vectors.has(hash));
    embeddings.reused += live.reduce(
      (sum, item) => sum + item.chunks.filter((chunk) => vectors.has(chunk.hash)).length,
      0,
    );

    const failedHashes = new Map<string, unknown>();
    if (missing.length > 0) {
      const texts = missing.map((hash) => textByHash.get(hash)?.text ?? '');
      const tokensOf = new Map(
        missing.map((hash) => [textByHash.get(hash)?.text ?? '', textByHash.get(hash)?.tokens ?? 0]),
      );
      const maxInputs = Math.min(
        embedder.maxInputsPerRequest,
        options.embedBatch?.maxInputs ?? Number.POSITIVE_INFINITY,
      );
      const maxTokens = Math.min(
        embedder.maxTokensPerRequest,
        options.embedBatch?.maxTokens ?? Number.POSITIVE_INFINITY,
      );
      const batches = batchForEmbedding(texts, {
        maxInputs,
        maxTokens,
        maxTokensPerInput: Math.min(maxPerInput, maxTokens),
        countTokens: (text) => tokensOf.get(text) ?? 0,
      });
      await mapWithConcurrency(batches, embedConcurrency, async (batch) => {
        checkStop();
        try {
          const result = await embedder.embed(batch.texts, { signal: controller.signal });
          embeddings.requests += 1;
          embeddings.inputs += batch.texts.length;
          embeddings.tokens += result.usage.tokens;
          for (const [offset, vector] of result.vectors.entries()) {
            const hash = missing[batch.start + offset] as string;
            if (vector.length !== embedder.dimensions) {
              failedHashes.set(
                hash,
                new Error(`the embedder returned ${vector.length} dimensions, not ${embedder.dimensions}`),
              );
            } else vectors.set(hash, vector);
          }
        } catch (error) {
          if (stop) throw stop;
          if (isFatalError(error)) throw error;
          if (isAbortError(error) && controller.signal.aborted) throw error;
          for (const hash of missing.slice(batch.start, batch.end)) failedHashes.set(hash, error);
        }
      });
    }
    checkStop();

    // Write each document's chunks only now that every vector of the group is in hand.
    const completed: string[] = [];
    for (const item of items) {
      let error = failedIds.get(item.documentId);
      if (!error) {
        const broken = item.chunks.find((chunk) => !vectors.has(chunk.hash));
        if (broken) error = failedHashes.get(broken.hash) ?? new Error('chunk embedding missing');
      }
      if (!error) {
        try {
          checkStop();
          const chunks: ChunkInput[] = item.chunks.map((chunk) => ({
            index: chunk.index,
            context: chunk.context,
            content: chunk.content,
            contentHash: chunk.hash,
            tokenCount: chunk.tokenCount,
            embedding: vectors.get(chunk.hash) ?? null,
            embeddingModel: embedder.id,
          }));
          await repository.replaceChunks(item.documentId, chunks);
          completed.push(item.documentId);
          progress({
            type: 'document-finished',
            externalId: item.externalId,
            action: item.action,
            bytes: item.prepared.bytes,
          });
          continue;
        } catch (caught) {
          if (stop || isFatalError(caught)) throw stop ?? caught;
          error = caught;
        }
      }
      await repository.setProcessingStatus([item.documentId], 'failed', messageOf(error));
      recordFailure(item.externalId, error, item.prepared.bytes);
    }
    checkStop();
    if (completed.length > 0) await repository.setProcessingStatus(completed, 'completed');
  }

  // ---- the main loop ---------------------------------------------------------------------
  // ctx.state: writes wait in memory for the next checkpoint and commit with its cursor, so the
  // stored state always matches the stored cursor.
  const state = createBufferedConnectorState({
    get: (namespace, keys) => repository.getState(connectorId, namespace, keys),
    list: (namespace, listOptions) => repository.listState(connectorId, namespace, listOptions),
  });
  let group: SourceDocument[] = [];
  let groupIds = new Set<string>();
  let deletes: string[] = [];
  let deleteIds = new Set<string>();
  let listing: { complete: boolean; reason?: string | undefined } | undefined;
  let failure: { status: 'failed' | 'cancelled'; message: string; leaseLost: boolean } | undefined;

  const flush = async () => {
    if (group.length > 0) {
      const current = group;
      group = [];
      groupIds = new Set();
      await processGroup(current);
    }
    if (deletes.length > 0) {
      checkStop();
      const current = deletes;
      deletes = [];
      deleteIds = new Set();
      const removed = await repository.softDeleteDocuments(connectorId, current);
      counts.deleted += removed;
      progress({ type: 'group-committed', documents: 0, deleted: removed });
    }
  };

  progress({ type: 'run-started', mode });
  logger.info('sync started', { runId, connectorId, mode });
  try {
    checkStop();
    // Fail before anything is listed, loaded or embedded: without pgvector every document would be
    // embedded (and paid for) and then fail to store.
    if (!(await repository.storesEmbeddings())) {
      throw new StopRun(
        'failed',
        'this database cannot store embeddings (no pgvector: migration 0007_vector_search was deferred). ' +
          'Install the vector extension and run the migrations again, then sync.',
      );
    }
    const instance = createConnectorInstance(connector, { config, credentials });
    const base = instance.createContext({
      signal: controller.signal,
      logger,
      metrics,
      fetch: options.fetch,
      rateLimit: options.rateLimit,
    });
    const context: SyncContext<Config, Credentials> = { ...base, cursor, mode, state };
    Object.defineProperty(context, REPORT_TOTAL, {
      enumerable: false,
      value: (n: number) => {
        if (Number.isFinite(n) && n >= 0) total = n;
      },
    });

    for await (const change of connector.sync(context)) {
      checkStop();
      switch (change.kind) {
        case 'upsert': {
          const id = change.document.externalId;
          counts.seen += 1;
          // Keep order: a repeated id or an earlier delete of it flushes first.
          if (groupIds.has(id) || deleteIds.has(id)) await flush();
          group.push(change.document);
          groupIds.add(id);
          break;
        }
        case 'delete':
          if (deleteIds.has(change.externalId)) break;
          deletes.push(change.externalId);
          deleteIds.add(change.externalId);
          break;
        case 'checkpoint':
          await flush();
          checkStop();
          await repository.commitCheckpoint(runId, change.cursor, state.take()).catch(asLeaseLoss);
          progress({ type: 'checkpoint' });
          break;
        case 'listing-complete':
          listing = { complete: change.complete, reason: change.reason };
          break;
        case 'scope-failed':
          // A part of the source the connector could not read: counted as a failure (run `partial`).
          recordFailure(change.scope, new Error(change.message));
          break;
        default:
          logger.warn('unknown change kind ignored', { kind: (change as { kind?: unknown }).kind });
      }
      if (group.length + deletes.length >= groupSize) await flush();
    }
    checkStop();
    await flush();
    checkStop();
    if (state.pendingCount > 0) {
      logger.warn('state written after the last checkpoint was discarded', {
        runId,
        changes: state.pendingCount,
      });
    }
  } catch (error) {
    if (error instanceof StopRun) {
      failure = { status: error.status, message: error.message, leaseLost: error.leaseLost };
    } else if (stop) {
      failure = { status: stop.status, message: stop.message, leaseLost: stop.leaseLost };
    } else if (RepositoryError.isInstance(error) && error.reason === 'lease_lost') {
      failure = { status: 'failed', message: messageOf(error), leaseLost: true };
    } else {
      failure = { status: 'failed', message: messageOf(error), leaseLost: false };
      logger.error('sync failed', { runId, error: failure.message, fatal: isFatalError(error) });
    }
  } finally {
    clearInterval(timer);
    options.signal?.removeEventListener('abort', onCallerAbort);
  }

  // ---- sweep ---------------------------------------------------------------------------
  let sweep: SyncSweepSummary | undefined;
  if (mode === 'full') {
    const notSwept = (reason: string): SyncSweepSummary => ({
      swept: 0,
      unseen: null,
      total: null,
      refused: true,
      reason,
    });
    if (failure) {
      sweep = notSwept(`the run did not finish (${failure.status}): ${failure.message}`);
    } else if (!listing) {
      sweep = notSwept('the connector did not report whether its listing was complete');
    } else if (!listing.complete) {
      sweep = notSwept(`the listing was incomplete${listing.reason ? `: ${listing.reason}` : ''}`);
    } else {
      try {
        const result = await repository.sweepUnseenDocuments(runId, maxSweepFraction);
        counts.deleted += result.swept;
        sweep = {
          ...result,
          reason: result.refused
            ? `${result.unseen} of ${result.total} documents were not seen, more than the ${maxSweepFraction} guard allows`
            : undefined,
        };
      } catch (error) {
        if (RepositoryError.isInstance(error) && error.reason === 'lease_lost') {
          failure = { status: 'failed', message: messageOf(error), leaseLost: true };
        } else {
          sweep = notSwept(`the sweep failed: ${messageOf(error)}`);
        }
      }
    }
    if (sweep) {
      if (sweep.refused) logger.warn('delete sweep not done', { runId, reason: sweep.reason });
      progress({ type: 'sweep', sweep });
    }
  }

  // ---- finish --------------------------------------------------------------------------
  const status: SyncSummaryStatus = failure ? failure.status : counts.failed > 0 ? 'partial' : 'success';
  const error =
    failure?.message ??
    (counts.failed > 0
      ? `${counts.failed} document(s) failed; first: ${errors[0]?.message ?? ''}`
      : undefined);
  if (!failure?.leaseLost) {
    const metadata: JsonObject = {
      mode,
      seen: counts.seen,
      inserted: counts.inserted,
      unchanged: counts.unchanged,
      skippedByVersion: counts.skippedByVersion,
      embeddings: { ...embeddings },
      contentBytes,
    };
    if (listing) metadata.listing = { complete: listing.complete, reason: listing.reason ?? null };
    if (sweep) {
      metadata.sweep = {
        swept: sweep.swept,
        unseen: sweep.unseen,
        total: sweep.total,
        refused: sweep.refused,
        reason: sweep.reason ?? null,
      };
    }
    try {
      await repository.finishSync(runId, {
        status: status as FinishedSyncStatus,
        counts: { ...logCounts(), metadata },
        errorMessage: error,
        errorDetails: errors.length > 0 ? errors.slice(0, 100).map((e) => ({ ...e })) : undefined,
      });
    } catch (finishError) {
      logger.error('could not record the end of the sync run', { runId, error: messageOf(finishError) });
    }
  }
  const summary: SyncSummary = {
    status,
    runId,
    mode,
    counts,
    embeddings,
    apiCalls: metrics.apiCalls.value,
    bytes: metrics.bytes.value,
    contentBytes,
    durationMs: Date.now() - started,
    sweep,
    errors,
    error,
  };
  progress({ type: 'run-finished', status });
  logger.info('sync finished', { runId, status, ...counts });
  return summary;
}

/**
 * The document's ACL as stored in `metadata.permissions`. A connector with the `permissions`
 * capability that could not read a document's ACL writes `null`: the upsert merges metadata, so
 * leaving the key out would keep the previous ACL, while null hides the document in `source` mode.
 */
function documentMetadata(source: SourceDocument, capturesPermissions: boolean): JsonObject {
  if (!source.permissions) return capturesPermissions ? { permissions: null } : {};
  return {
    permissions: source.permissions.map((p) => {
      const entry: JsonObject = { type: p.type, role: p.role };
      if (p.id !== undefined) entry.id = p.id;
      if (p.email !== undefined) entry.email = p.email;
      if (p.domain !== undefined) entry.domain = p.domain;
      if (p.displayName !== undefined) entry.displayName = p.displayName;
      return entry;
    }),
  };
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

function positiveInteger(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isInteger(value) && value > 0 ? value : fallback;
}
