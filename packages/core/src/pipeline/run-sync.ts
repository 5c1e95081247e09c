import pLimit from 'p-limit';
import { createChunker } from '../chunking/chunker.js';
import { ConnectorTypeMismatchError } from '../connectors/connector-errors.js';
import { readConnectorSecrets } from '../connectors/connector-secrets.js';
import { createExtractorRegistry } from '../content/extractor-registry.js';
import { checkDuplicateOptions } from '../dedup/link-duplicates-stage.js';
import { InvalidConfigError } from '../errors/invalid-config-error.js';
import { isFatalError } from '../errors/is-fatal-error.js';
import { RateLimitError } from '../errors/rate-limit-error.js';
import { UnsupportedContentError } from '../errors/unsupported-content-error.js';
import type { FinishedSyncStatus } from '../repository/knowledge-repository.js';
import { RepositoryError } from '../repository/repository-error.js';
import { assertEmbedderFits } from '../search/assert-embedder-fits.js';
import { secretKeyRingFromEnv } from '../secrets/secret-key-ring.js';
import { silentLogger } from '../spec/logger.js';
import { createSyncMetrics } from '../spec/sync-metrics.js';
import type { SyncMode } from '../spec/v1/connector-v1.js';
import type { JsonObject, JsonValue } from '../spec/v1/json-value.js';
import { consumeChanges, type Listing } from './consume-changes.js';
import { GroupScheduler } from './group-scheduler.js';
import { startLeaseHeartbeat } from './lease-heartbeat.js';
import { ListingProgress } from './listing-progress.js';
import { type GroupStage, messageOf } from './process-group.js';
import { RunControl, StopRun } from './run-control.js';
import { SeenMarker } from './seen-marker.js';
import { StageClock } from './stage-timings.js';
import { EmbedBatcher } from './stages/embed-batcher.js';
import { RateLimitGate } from './stages/rate-limit-gate.js';
import { DEFAULT_MAX_CONTENT_BYTES } from './stages/read-content.js';
import { sweepUnseen } from './sweep-unseen.js';
import { checkTuningOptions } from './tuning-options.js';
import type {
  RunSyncOptions,
  SyncDedupCounts,
  SyncDocumentError,
  SyncEmbeddingCounts,
  SyncProgressEvent,
  SyncRunCounts,
  SyncSummary,
  SyncSummaryStatus,
  SyncSweepSummary,
} from './types.js';
import { VectorBudget } from './vector-budget.js';

const MAX_KEPT_ERRORS = 1000;

/**
 * Runs one sync of a connector into a repository. Stages overlap across groups of documents with
 * bounded concurrency (list, load, extract, embed, write); versions skip unchanged documents
 * without loading them, content hashes skip re-chunking and re-embedding, identical chunks reuse
 * stored embeddings, embedding requests are filled across groups, chunks are written many
 * documents per statement, and checkpoints commit only once everything before them is stored.
 * Never throws for a run that started: the outcome is the summary (`status`, counts, `errors`,
 * `error`, per-stage `stages`). Errors before a run exists (unknown or inactive connector,
 * repository down, with `loadStored`: a connector row of another type, a missing secret key) are
 * thrown.
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
  const leaseSeconds = options.leaseSeconds ?? 300;
  const duplicates = checkDuplicateOptions(options.duplicates);
  const groupMaxWaitMs = checkGroupMaxWaitMs(options.groupMaxWaitMs);
  checkTuningOptions(options);

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
  let mode: SyncMode =
    options.mode ??
    (record.syncCursor != null && connector.capabilities.incremental ? 'incremental' : 'full');
  if (mode === 'incremental' && !connector.capabilities.incremental) mode = 'full';

  const counts: SyncRunCounts = {
    seen: 0,
    inserted: 0,
    updated: 0,
    unchanged: 0,
    skippedByVersion: 0,
    failed: 0,
    failedKeptPrevious: 0,
    deleted: 0,
  };
  const embeddings: SyncEmbeddingCounts = { requests: 0, inputs: 0, reused: 0, tokens: 0 };
  const dedup: SyncDedupCounts = {
    versionLookupFailures: 0,
    reuseLookupFailures: 0,
    exactCopies: 0,
    nearDuplicates: 0,
    duplicateLinkFailures: 0,
    duplicateDetectionMs: 0,
  };
  const errors: SyncDocumentError[] = [];
  const metrics = createSyncMetrics();
  const clock = new StageClock();
  const control = new RunControl();
  const gate = new RateLimitGate(
    {
      maxPauseMs: options.rateLimitPause?.maxPauseMs ?? 60_000,
      defaultPauseMs: options.rateLimitPause?.defaultPauseMs ?? 1000,
      maxRetries: options.rateLimitPause?.maxRetries ?? 3,
    },
    control,
    logger,
  );
  let contentBytes = 0;
  const baseSummary = () => ({
    mode,
    counts,
    embeddings,
    dedup,
    stages: clock.snapshot(),
    rateLimit: { pauses: gate.pauses, pausedMs: Math.round(gate.pausedMs) },
    apiCalls: metrics.apiCalls.value,
    bytes: metrics.bytes.value,
    contentBytes,
    durationMs: Date.now() - started,
    errors,
  });

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
    logger.info('sync skipped: another run holds the lease', {
      connectorId,
      runId: start.syncRunId,
      leaseExpiresAt: start.leaseExpiresAt.toISOString(),
    });
    return {
      status: 'skipped',
      runId: start.syncRunId,
      leaseExpiresAt: start.leaseExpiresAt,
      ...baseSummary(),
    };
  }
  const runId = start.syncRunId;

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

  // Documents listed so far, told while the source lists (events here, the run row by heartbeat).
  const listingProgress = new ListingProgress({
    count: () => counts.seen,
    emit: (listed, listing) => progress({ type: 'listing-progress', listed, listing }),
  });

  const onCallerAbort = () =>
    control.drain(new StopRun('cancelled', 'the sync was cancelled'), options.cancelGraceMs ?? 30_000);
  if (options.signal?.aborted) onCallerAbort();
  options.signal?.addEventListener('abort', onCallerAbort, { once: true });
  const logCounts = () => ({
    documentsSynced: counts.inserted,
    documentsUpdated: counts.updated,
    documentsSkipped: counts.unchanged + counts.skippedByVersion,
    documentsFailed: counts.failed,
    documentsDeleted: counts.deleted,
    apiCallsMade: metrics.apiCalls.value,
    bytesTransferred: metrics.bytes.value,
  });
  const stopHeartbeat = startLeaseHeartbeat({
    repository,
    runId,
    leaseSeconds,
    intervalMs: options.heartbeatIntervalMs ?? Math.max(1000, (leaseSeconds * 1000) / 3),
    control,
    logger,
    progress: logCounts,
    progressIntervalMs: options.progressWriteIntervalMs ?? 2000,
    live: () => ({
      listed: counts.seen,
      listing: listingProgress.listing,
      ...(total === undefined ? {} : { total }),
    }),
  });

  const concurrency = options.concurrency ?? {};
  const maxInputs = Math.min(
    embedder.maxInputsPerRequest,
    options.embedBatch?.maxInputs ?? Number.POSITIVE_INFINITY,
  );
  // Groups waiting on embeddings may let others run while they hold at most one request's inputs;
  // a `concurrency.groups` the caller set is a hard limit (no lending).
  const scheduler = new GroupScheduler(
    concurrency.groups ?? 8,
    control,
    concurrency.groups === undefined ? maxInputs : 0,
  );
  // Vectors held until written: by default three full requests' worth (6,144 float32 vectors,
  // ~38 MB at 1536 dimensions).
  const vectorBudget = new VectorBudget(
    Math.min(
      Number.MAX_SAFE_INTEGER,
      options.embedBatch?.maxHeldVectors ??
        (Number.isFinite(maxInputs) ? 3 * maxInputs : Number.MAX_SAFE_INTEGER),
    ),
  );
  const batcher = new EmbedBatcher({
    embedder,
    maxInputs,
    maxTokens: Math.min(
      embedder.maxTokensPerRequest,
      options.embedBatch?.maxTokens ?? Number.POSITIVE_INFINITY,
    ),
    flushDelayMs: options.embedBatch?.flushDelayMs ?? 500,
    maxWaitMs: options.embedBatch?.maxWaitMs ?? 5000,
    concurrency: concurrency.embed ?? 2,
    control,
    clock,
    counts: embeddings,
    // Every slot busy: nothing more can come, unless a write in progress is about to make room
    // for a group waiting on the vector budget.
    saturated: () => scheduler.saturated() && !vectorBudget.roomComing(),
    moreComing: () => vectorBudget.roomComing(),
  });
  const groupStage: GroupStage = {
    repository,
    connectorId,
    runId,
    logger,
    control,
    clock,
    gate,
    extractors: options.extractors ?? createExtractorRegistry(),
    maxContentBytes: options.maxContentBytes ?? DEFAULT_MAX_CONTENT_BYTES,
    capturesPermissions: connector.capabilities.permissions,
    loadLimit: pLimit(concurrency.load ?? 4),
    counts,
    dedup,
    index: {
      repository,
      orgId: record.orgId,
      embedder,
      chunker: options.chunker ?? createChunker(),
      batcher,
      writeLimit: pLimit(concurrency.write ?? 2),
      park: (weight: number) => scheduler.park(weight),
      vectorBudget,
      control,
      clock,
      embeddings,
      dedup,
      logger,
      runId,
    },
    duplicates: {
      repository,
      embedderId: embedder.id,
      options: duplicates,
      dedup,
      logger,
      runId,
    },
    progress,
    recordFailure: (externalId, error, bytes, keptPrevious) => {
      const message = messageOf(error);
      const reason = UnsupportedContentError.isInstance(error) ? error.reason : undefined;
      counts.failed += 1;
      if (keptPrevious) counts.failedKeptPrevious += 1;
      if (errors.length < MAX_KEPT_ERRORS)
        errors.push({ externalId, message, ...(reason ? { reason } : {}) });
      logger.warn('document failed', { runId, externalId, error: message, keptPrevious, reason });
      progress({ type: 'document-failed', externalId, message, bytes, ...(reason ? { reason } : {}) });
    },
    addContentBytes: (bytes) => {
      contentBytes += bytes;
    },
    seen: new SeenMarker(repository, runId, clock),
  };

  let listing: Listing | undefined;
  let failure:
    | { status: 'failed' | 'cancelled' | 'partial'; message: string; leaseLost: boolean }
    | undefined;
  let resumeAt: Date | undefined;
  progress({ type: 'run-started', mode });
  logger.info('sync started', { runId, connectorId, mode });
  try {
    control.check();
    // Fail before anything is listed, loaded or embedded: without pgvector every document would be
    // embedded (and paid for) and then fail to store.
    if (!(await repository.storesEmbeddings())) {
      throw new StopRun(
        'failed',
        'this database cannot store embeddings (no pgvector: migration 0007_vector_search was deferred). ' +
          'Install the vector extension and run the migrations again, then sync.',
      );
    }
    listing = await consumeChanges({
      options,
      config,
      credentials,
      cursor: start.cursor ?? undefined,
      mode,
      runId,
      control,
      clock,
      metrics,
      scheduler,
      groupStage,
      groupSize: options.groupSize ?? 200,
      groupMaxWaitMs,
      batcher,
      listingProgress,
      onTotal: (n) => {
        total = n;
      },
    });
  } catch (error) {
    const stop = error instanceof StopRun ? error : control.stopped;
    if (!stop) control.halt(new StopRun('failed', messageOf(error)));
    await scheduler.settle();
    if (stop) {
      failure = { status: stop.status, message: stop.message, leaseLost: stop.leaseLost };
      resumeAt = stop.resumeAt;
    } else if (RepositoryError.isInstance(error) && error.reason === 'lease_lost') {
      failure = { status: 'failed', message: messageOf(error), leaseLost: true };
    } else if (RateLimitError.isInstance(error) && error.retryAfterMs !== undefined) {
      // The listing itself was throttled for longer than its HTTP kit waits: stop, say when to resume.
      resumeAt = new Date(Date.now() + error.retryAfterMs);
      failure = {
        status: 'partial',
        message: `${messageOf(error)}; stopped at the last checkpoint, run it again after ${resumeAt.toISOString()}`,
        leaseLost: false,
      };
    } else {
      failure = { status: 'failed', message: messageOf(error), leaseLost: false };
      logger.error('sync failed', { runId, error: failure.message, fatal: isFatalError(error) });
    }
  } finally {
    listingProgress.end();
    stopHeartbeat();
    control.dispose();
    options.signal?.removeEventListener('abort', onCallerAbort);
  }

  let sweep: SyncSweepSummary | undefined;
  if (mode === 'full') {
    const swept = await sweepUnseen({
      repository,
      runId,
      maxSweepFraction: options.maxSweepFraction ?? 0.5,
      failure,
      listing,
    });
    sweep = swept.sweep;
    counts.deleted += sweep.swept;
    if (swept.leaseLost) failure = { status: 'failed', message: swept.leaseLost, leaseLost: true };
    if (sweep.refused) logger.warn('delete sweep not done', { runId, reason: sweep.reason });
    progress({ type: 'sweep', sweep });
  }

  const status: SyncSummaryStatus = failure ? failure.status : counts.failed > 0 ? 'partial' : 'success';
  const error =
    failure?.message ??
    (counts.failed > 0
      ? `${counts.failed} document(s) failed; first: ${errors[0]?.message ?? ''}`
      : undefined);
  const summary: SyncSummary = { status, runId, ...baseSummary(), sweep, error, resumeAt };
  if (!failure?.leaseLost) {
    try {
      await repository.finishSync(runId, {
        status: status as FinishedSyncStatus,
        counts: { ...logCounts(), metadata: runMetadata(summary, listing, total) },
        errorMessage: error,
        errorDetails: errors.length > 0 ? errors.slice(0, 100).map((e) => ({ ...e })) : undefined,
      });
    } catch (finishError) {
      logger.error('could not record the end of the sync run', { runId, error: messageOf(finishError) });
    }
  }
  progress({ type: 'run-finished', status });
  logger.info('sync finished', { runId, status, ...counts });
  return summary;
}

/** What `connector_sync_logs.metadata` keeps of the run (its columns hold the counts). */
function runMetadata(
  summary: SyncSummary,
  listing: Listing | undefined,
  total: number | undefined,
): JsonObject {
  const { counts } = summary;
  const metadata: JsonObject = {
    mode: summary.mode,
    seen: counts.seen,
    inserted: counts.inserted,
    unchanged: counts.unchanged,
    skippedByVersion: counts.skippedByVersion,
    failedKeptPrevious: counts.failedKeptPrevious,
    embeddings: { ...summary.embeddings },
    contentBytes: summary.contentBytes,
    stages: summary.stages as unknown as JsonValue,
    dedup: { ...summary.dedup },
    rateLimit: { ...summary.rateLimit },
    // The live progress the heartbeats kept, final: the listing is over.
    progress: {
      listed: counts.seen,
      listing: false,
      ...(total === undefined ? {} : { total }),
      at: new Date().toISOString(),
    },
  };
  if (summary.resumeAt) metadata.resumeAt = summary.resumeAt.toISOString();
  if (listing) metadata.listing = { complete: listing.complete, reason: listing.reason ?? null };
  const sweep = summary.sweep;
  if (sweep) {
    metadata.sweep = {
      swept: sweep.swept,
      unseen: sweep.unseen,
      total: sweep.total,
      refused: sweep.refused,
      reason: sweep.reason ?? null,
    };
  }
  return metadata;
}

/** Default of `groupMaxWaitMs`. */
const DEFAULT_GROUP_MAX_WAIT_MS = 2000;

function checkGroupMaxWaitMs(value: number | undefined): number {
  if (value === undefined) return DEFAULT_GROUP_MAX_WAIT_MS;
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
    throw new InvalidConfigError({
      subject: 'runSync options',
      issues: [
        { fieldPath: 'groupMaxWaitMs', message: `must be 0 or more milliseconds, got ${String(value)}` },
      ],
      hint: 'Pass milliseconds such as 2000 (the default), or Infinity to hand out groups only when full or at a checkpoint',
    });
  }
  // Timers wait at most 2^31-1 ms (Node fires longer ones after 1 ms): longer means never.
  return value > 2_147_483_647 ? Number.POSITIVE_INFINITY : value;
}
