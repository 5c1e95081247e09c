import type { Chunker } from '../chunking/chunker.js';
import type { ExtractorRegistry } from '../content/extractor-registry.js';
import type { DuplicateDetectionOptions } from '../dedup/link-duplicates-stage.js';
import type { Embedder } from '../embedding/embedder.js';
import type { UnsupportedContentReason } from '../errors/unsupported-content-error.js';
import type { RateLimiter, RateLimitSettings } from '../http/rate-limiter.js';
import type { KnowledgeRepository, SyncType } from '../repository/knowledge-repository.js';
import type { SecretKeyRing } from '../secrets/secret-key-ring.js';
import type { Logger } from '../spec/logger.js';
import type { ConnectorV1, SyncMode } from '../spec/v1/connector-v1.js';
import type { SyncStageTimings } from './stage-timings.js';

export type { SyncStage, SyncStageFigures, SyncStageTimings } from './stage-timings.js';

/** Counters of one run, also carried by every progress event. */
export interface SyncRunCounts {
  /** Upserts received from the connector. */
  seen: number;
  /** New documents stored. */
  inserted: number;
  /** Documents whose content hash changed (re-chunked, re-embedded where needed). */
  updated: number;
  /** Documents loaded whose content hash was unchanged (no chunking, no embedding). */
  unchanged: number;
  /** Documents skipped without loading: same source version as stored (dedup layer 2). */
  skippedByVersion: number;
  /** Documents that failed (see `errors`). */
  failed: number;
  /**
   * Of the failed ones: documents that failed to load or extract whose earlier indexed version
   * stays searchable, with the error stored beside it (`processing_error`, `metadata.lastFailure`).
   */
  failedKeptPrevious: number;
  /** Documents soft-deleted (`delete` changes and the full-sync sweep). */
  deleted: number;
}

/** What embedding cost in this run. */
export interface SyncEmbeddingCounts {
  /** `embed()` calls the pipeline made (one per batch). */
  requests: number;
  /** Texts sent to the embedder. */
  inputs: number;
  /** Chunks whose embedding was reused from a stored chunk with the same hash and embedder (layer 4). */
  reused: number;
  /** Tokens the embedder reported. */
  tokens: number;
}

/**
 * Dedup lookups that failed and were answered by doing the work anyway (fail open): a failed
 * version lookup loads its whole group, a failed reuse lookup embeds every chunk of its group.
 */
export interface SyncDedupCounts {
  versionLookupFailures: number;
  reuseLookupFailures: number;
  /** Layer 5: documents that took the chunks and embeddings of a stored exact copy (nothing embedded). */
  exactCopies: number;
  /** Layer 5: documents linked to a group as near duplicates. */
  nearDuplicates: number;
  /** Layer 5: failed link calls, answered by indexing the documents as unique (fail open). */
  duplicateLinkFailures: number;
  /** Layer 5: busy milliseconds of duplicate detection (signatures and link calls). */
  duplicateDetectionMs: number;
}

/** How the run waited out provider rate limits. */
export interface SyncRateLimitFigures {
  /** Times loads paused for a Retry-After. */
  pauses: number;
  /** Milliseconds paused. */
  pausedMs: number;
}

/** The outcome of the full-sync delete sweep (or why it did not run). */
export interface SyncSweepSummary {
  /** Documents soft-deleted by the sweep. */
  swept: number;
  /** Live documents not seen in this run; `null` when the sweep was not attempted. */
  unseen: number | null;
  /** Live documents of the connector; `null` when the sweep was not attempted. */
  total: number | null;
  /** True when nothing was swept on purpose: incomplete listing, aborted run, or the coverage guard. */
  refused: boolean;
  reason?: string | undefined;
}

export interface SyncDocumentError {
  externalId: string;
  message: string;
  /**
   * Why the content was refused, when it was (`UnsupportedContentError.reason`): `needs_ocr` for
   * a scan or an image while OCR is off, `no_text_found`, `password_protected`, `missing_parser`...
   */
  reason?: UnsupportedContentReason | undefined;
}

/**
 * `success`: everything stored. `partial`: some documents failed (see `errors`). `failed`: the run
 * stopped (fatal error, connector failure, lease lost; see `error`). `cancelled`: the signal
 * aborted it. `skipped`: another run of this connector holds the lease; nothing was touched.
 */
export type SyncSummaryStatus = 'success' | 'partial' | 'failed' | 'cancelled' | 'skipped';

export interface SyncSummary {
  status: SyncSummaryStatus;
  /** The `connector_sync_logs` row (for `skipped`: the run that is already going). */
  runId: string;
  mode: SyncMode;
  counts: SyncRunCounts;
  embeddings: SyncEmbeddingCounts;
  /** API calls counted by `ctx.metrics` (the HTTP kit, or the connector itself). */
  apiCalls: number;
  /** Response bytes counted by `ctx.metrics`. */
  bytes: number;
  /** Bytes of document content the pipeline loaded (text as UTF-8). */
  contentBytes: number;
  durationMs: number;
  /** Busy time and counts per stage (list, load, extract, embed, write); stages overlap. */
  stages: SyncStageTimings;
  dedup: SyncDedupCounts;
  rateLimit: SyncRateLimitFigures;
  /**
   * `partial` because the provider asked to wait longer than `rateLimit.maxPauseMs`: when to run
   * again (the next run resumes from the last checkpoint).
   */
  resumeAt?: Date | undefined;
  /** `skipped`: when the lease of the run that holds the connector expires (a crashed worker's run ends then). */
  leaseExpiresAt?: Date | undefined;
  /** Full syncs only. */
  sweep?: SyncSweepSummary | undefined;
  /** Per-document failures (at most 1,000 kept). */
  errors: SyncDocumentError[];
  /** Why the run failed or was cancelled. */
  error?: string | undefined;
}

interface ProgressBase {
  runId: string;
  counts: SyncRunCounts;
  /** Documents the connector said it will yield (`reportSyncTotal`), when it said. */
  total?: number | undefined;
  /** Estimated milliseconds left, when a total is known and some documents are done. */
  etaMs?: number | undefined;
}

export type SyncProgressEvent =
  | (ProgressBase & { type: 'run-started'; mode: SyncMode })
  | (ProgressBase & { type: 'document-started'; externalId: string })
  | (ProgressBase & {
      type: 'document-finished';
      externalId: string;
      action: 'inserted' | 'updated' | 'unchanged';
      bytes: number;
    })
  | (ProgressBase & { type: 'document-skipped'; externalId: string })
  | (ProgressBase & {
      type: 'document-failed';
      externalId: string;
      message: string;
      bytes: number;
      reason?: UnsupportedContentReason | undefined;
    })
  /**
   * While the source lists (at most every 250 ms, and once with `listing: false` when it ended):
   * `listed` documents so far. Documents are stored per group, so this moves first.
   */
  | (ProgressBase & { type: 'listing-progress'; listed: number; listing: boolean })
  | (ProgressBase & { type: 'group-committed'; documents: number; deleted: number })
  | (ProgressBase & { type: 'checkpoint' })
  | (ProgressBase & { type: 'sweep'; sweep: SyncSweepSummary })
  | (ProgressBase & { type: 'run-finished'; status: SyncSummaryStatus });

export interface RunSyncOptions<Config = unknown, Credentials = unknown> {
  connector: ConnectorV1<Config, Credentials>;
  /** Raw config, validated by the connector's schema (a bad one ends the run `failed`). */
  config?: unknown;
  /** Raw credentials, validated by the connector's schema. Never logged. */
  credentials?: unknown;
  /** The `connector_configs` row this run belongs to. */
  connectorId: string;
  /**
   * Load what is not passed from the connector row: `config` from its settings, `credentials` from
   * its stored secrets (decrypted with `keyRing`, default from TRIBUTARY_SECRET_KEYS). The row's
   * `connector_type` must be the plugin's `type` (else `ConnectorTypeMismatchError`, thrown before
   * a run starts). Needs the service role for the secrets.
   */
  loadStored?: boolean | { keyRing?: SecretKeyRing | undefined } | undefined;
  repository: KnowledgeRepository;
  /** Default: `createExtractorRegistry()` (the built-ins). */
  extractors?: ExtractorRegistry | undefined;
  /** Default: `createChunker()` (512 tokens, 64 overlap, cl100k_base). */
  chunker?: Chunker | undefined;
  /** Required: embeddings are stored under `embedder.id`, so the choice must be explicit. */
  embedder: Embedder;
  /** Default: `incremental` when a cursor is stored and the connector is incremental, else `full`. */
  mode?: SyncMode | undefined;
  /** Default `manual`. */
  syncType?: SyncType | undefined;
  /**
   * Cancels the run gracefully: the listing stops at once, documents already handed to the stages
   * finish and the checkpoints behind them commit, then the run ends `cancelled` (lease released).
   * After `cancelGraceMs` (default 30 s) in-flight work is aborted instead.
   */
  signal?: AbortSignal | undefined;
  cancelGraceMs?: number | undefined;
  logger?: Logger | undefined;
  /** Called synchronously for every event; exceptions thrown by it are logged and ignored. */
  onProgress?: ((event: SyncProgressEvent) => void) | undefined;
  /**
   * Bounded concurrency per stage: `load` parallel content loads across groups (default 4),
   * `embed` parallel embedding requests (default 2), `write` parallel write statements, one per
   * writer connection the database client offers (default 2), `groups` groups in flight at once
   * (default 8; the listing waits beyond that: back-pressure).
   */
  concurrency?:
    | {
        load?: number | undefined;
        embed?: number | undefined;
        write?: number | undefined;
        /**
         * Groups in flight (default 8). Left unset, a group waiting on an embedding request lends
         * its slot to the next group (bounded by one request's inputs); set, it is a hard limit.
         */
        groups?: number | undefined;
      }
    | undefined;
  /**
   * Largest content of one document in bytes (default 100 MB). A stream whose `sizeBytes` is over it is
   * refused before it is read; one that grows past it is stopped there. The document fails.
   */
  maxContentBytes?: number | undefined;
  /**
   * Rate limits reported by loads (`RateLimitError`): every load pauses for the Retry-After (up to
   * `maxPauseMs`, default 60 s; `defaultPauseMs` 1 s when none is given) and the document is
   * retried (up to `maxRetries`, default 3). A longer Retry-After ends the run `partial` with
   * `resumeAt`.
   */
  rateLimitPause?:
    | {
        maxPauseMs?: number | undefined;
        defaultPauseMs?: number | undefined;
        maxRetries?: number | undefined;
      }
    | undefined;
  /** Lease length (default 300 seconds); heartbeats renew it. */
  leaseSeconds?: number | undefined;
  /** Milliseconds between heartbeats. Default: a third of the lease. */
  heartbeatIntervalMs?: number | undefined;
  /**
   * While the live progress changes (documents listed, the listing ended, the reported total, the
   * stored counts), the heartbeat also runs this often (default 2,000 ms) and stores it: the run's
   * `metadata.progress` (`SyncRunRecord.progress`) and its count columns, so a console or
   * `tributary status` elsewhere sees the run move while the source is still listing and while
   * documents are stored. One small UPDATE of the run row per write.
   */
  progressWriteIntervalMs?: number | undefined;
  /** Coverage guard of the full-sync sweep: refuse when more than this fraction is unseen. Default 0.5. */
  maxSweepFraction?: number | undefined;
  /**
   * Embedding requests are filled across documents and groups up to the embedder's limits;
   * `maxInputs`/`maxTokens` make them tighter (never looser). A request that is not full goes out
   * when no new input arrived for `flushDelayMs` (default 500) while no group is about to add
   * any, or `maxWaitMs` (default 5,000) after its first input, or as soon as no group can add
   * more (the listing ended, or every group slot waits on embeddings). So a run that produces a
   * full request's inputs within `maxWaitMs` sends only full requests (plus one for the rest),
   * and a slow source sends at most one partial request per `maxWaitMs`: its first documents are
   * stored within about `maxWaitMs` of being embedded, not when its listing ends. A group waiting on a batch
   * lets another group run in its place while the waiting groups hold at most `maxInputs` inputs
   * in total (memory stays bounded by about one request's inputs and vectors).
   */
  embedBatch?:
    | {
        maxInputs?: number | undefined;
        maxTokens?: number | undefined;
        flushDelayMs?: number | undefined;
        maxWaitMs?: number | undefined;
        /**
         * Most embedded vectors held in memory until their chunks are written (default: three full
         * requests, `3 * maxInputs`: 6,144 vectors held as float32, ~38 MB at 1536 dimensions;
         * `Infinity`: no bound). A group waits for room before it embeds, so when writes are the bottleneck embedding waits for them instead
         * of piling up vectors; a group larger than the budget runs alone.
         */
        maxHeldVectors?: number | undefined;
      }
    | undefined;
  /** Upserts processed together (one version lookup, one upsert; chunks written 50 documents per statement). Default 200. */
  groupSize?: number | undefined;
  /**
   * A group that is not full is handed out anyway once its first document has waited this long
   * (default 2,000 ms), even with no checkpoint: a slow source (a rate-limited API yielding a
   * document a second) has its documents stored, searchable and counted while it still lists,
   * and a cancel mid-listing finishes what was handed out (a crash keeps what was stored; the
   * next run skips it by version). Pending deletes are applied on
   * the same clock. A source that lists `groupSize` documents within this time never sees it (its
   * groups fill first; embedding requests are filled across groups either way); a source slower
   * than that gets smaller groups. Checkpoints still commit only after everything before them is
   * stored. `0` hands out every document at once; `Infinity` turns the cut off (groups only when
   * full or at a checkpoint; so does anything over 2^31-1 ms, the longest timer). Negative or
   * NaN: `InvalidConfigError` before the run starts.
   */
  groupMaxWaitMs?: number | undefined;
  /**
   * Cross-source and near-duplicate detection (dedup layer 5, on by default): an exact copy of
   * content stored in the organisation takes its chunks and embeddings instead of being embedded
   * again; near duplicates (MinHash over word shingles, `threshold` default 0.6) are linked. See
   * `DuplicateDetectionOptions`.
   */
  duplicates?: DuplicateDetectionOptions | undefined;
  /** `fetch` for the connector's HTTP kit. */
  fetch?: typeof fetch | undefined;
  /** Overrides the connector's rate limit. */
  rateLimit?: RateLimitSettings | RateLimiter | undefined;
}
