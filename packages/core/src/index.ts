// Public API of @tributary/core. Exports are grouped by source folder, one block per folder;
// add new blocks (content/, pipeline/...) rather than mixing into another group.

// content/, chunking/, embedding/: text from files (sniffed, capped), normalized and hashed for
// dedup, chunked by structure and tokens, embedded in provider-sized batches. The OpenAI embedder
// is a separate entry point: `@tributary/core/openai`.
export {
  type Chunk,
  type Chunker,
  type ChunkerOptions,
  type ChunkOptions,
  chunkEmbeddingText,
  createChunker,
  loadTokenizer,
  type Tokenizer,
  type TokenizerName,
} from './chunking/index.js';
// connectors/, secrets/: connector management (create from a plugin with its own schema, secrets
// encrypted at rest with the host's key, list/show/remove, key rotation) over the 0011 RPCs.
export {
  assertKnownFields,
  type ConfigOf,
  type CredentialsOf,
  type SettingsInput,
} from './connectors/config-input.js';
export { ConnectorTypeMismatchError } from './connectors/connector-errors.js';
export {
  type ConnectorDetails,
  type ConnectorManager,
  type ConnectorManagerOptions,
  type CreateConnectorInput,
  createConnectorManager,
  type StoredConnectorRuntime,
  type UpdateConnectorInput,
} from './connectors/connector-manager.js';
export {
  type ConnectorSecrets,
  type ConnectorSecretsUpdate,
  readConnectorSecrets,
  writeConnectorSecrets,
} from './connectors/connector-secrets.js';
export {
  type RotateSecretKeyOptions,
  rotateSecretKey,
  type SecretKeyRotationReport,
} from './connectors/rotate-secret-key.js';
export { htmlToMarkdownText } from './content/html-to-markdown-text.js';
export {
  builtInExtractors,
  type ContentExtractor,
  type ContentStructure,
  contentHash,
  createExtractorRegistry,
  csvExtractor,
  DEFAULT_MAX_CHARACTERS,
  DEFAULT_MAX_INPUT_BYTES,
  docxExtractor,
  type ExtractedContent,
  type ExtractInput,
  type ExtractorInput,
  type ExtractorOutput,
  type ExtractorRegistry,
  type ExtractorRegistryOptions,
  htmlExtractor,
  jsonExtractor,
  MAX_IMAGE_LINK_LENGTH,
  markdownExtractor,
  normalizeText,
  PAGE_BREAK,
  pdfExtractor,
  plainTextExtractor,
  srtExtractor,
  stripInlineImages,
  tsvExtractor,
  webVttExtractor,
} from './content/index.js';
// dedup/: cross-source and near-duplicate detection (layer 5; the linking itself is SQL, 0020).
export {
  DEFAULT_MIN_SHINGLES,
  DEFAULT_MINHASH_PERMUTATIONS,
  DEFAULT_NEAR_DUPLICATE_THRESHOLD,
  DEFAULT_SHINGLE_SIZE,
  type DuplicateDetectionOptions,
  type DuplicateKind,
  type DuplicateLink,
  type DuplicateMember,
  type LinkDuplicatesEntry,
  type LinkDuplicatesInput,
  type ListDuplicatesInput,
  type MinHashOptions,
  minHashSignature,
  type SearchAlternative,
  shingleWords,
  signatureSimilarity,
} from './dedup/index.js';
export {
  batchForEmbedding,
  createLexicalEmbedder,
  type Embedder,
  type EmbeddingBatch,
  type EmbeddingBatchLimits,
  EmbeddingInputError,
  type EmbeddingInputErrorOptions,
  type EmbeddingUsage,
  type EmbedOptions,
  type EmbedResult,
  type LexicalEmbedderOptions,
  type LexicalScheme,
  lexicalVector,
  OPENAI_MAX_INPUTS_PER_REQUEST,
  OPENAI_MAX_TOKENS_PER_INPUT,
  OPENAI_MAX_TOKENS_PER_REQUEST,
} from './embedding/index.js';
// errors/: one hierarchy; check with `X.isInstance(error)`, not `instanceof`.
export { AbortError, type AbortErrorOptions, isAbortError } from './errors/abort-error.js';
export { AuthError, type AuthErrorOptions } from './errors/auth-error.js';
export {
  ConnectorApiError,
  type ConnectorApiErrorOptions,
  isRetryableStatus,
} from './errors/connector-api-error.js';
export { CorruptContentError, type CorruptContentErrorOptions } from './errors/corrupt-content-error.js';
export {
  type ConfigIssue,
  formatFieldPath,
  InvalidConfigError,
  type InvalidConfigErrorOptions,
  type SchemaIssuesLike,
} from './errors/invalid-config-error.js';
export { isFatalError } from './errors/is-fatal-error.js';
export { QuotaExceededError, type QuotaExceededErrorOptions } from './errors/quota-exceeded-error.js';
export { RateLimitError } from './errors/rate-limit-error.js';
export { REDACTED, redactSecrets, redactUrl } from './errors/redact-secrets.js';
export { TimeoutError, type TimeoutErrorOptions } from './errors/timeout-error.js';
export { TributaryError, type TributaryErrorOptions } from './errors/tributary-error.js';
export { UnsafeUrlError, type UnsafeUrlErrorOptions } from './errors/unsafe-url-error.js';
export {
  UnsupportedConnectorError,
  type UnsupportedConnectorErrorOptions,
} from './errors/unsupported-connector-error.js';
export {
  UnsupportedContentError,
  type UnsupportedContentErrorOptions,
  type UnsupportedContentReason,
} from './errors/unsupported-content-error.js';
export {
  WebhookVerificationError,
  type WebhookVerificationErrorOptions,
} from './errors/webhook-verification-error.js';
// http/: the HTTP kit connectors get as ctx.http (timeouts, retries, rate limits, typed errors).
export { type Clock, sleep, systemClock } from './http/clock.js';
export {
  createHttpClient,
  type HttpClient,
  type HttpClientOptions,
  type HttpJsonInit,
  type HttpRequestInit,
} from './http/http-client.js';
export { type PaginateOptions, paginate, paginatePages } from './http/paginate.js';
export {
  type CreateRateLimiterOptions,
  createRateLimiter,
  type RateLimiter,
  type RateLimitSettings,
} from './http/rate-limiter.js';
export { createResponseError, type ResponseErrorDetails } from './http/response-error.js';
export { getHeader, parseRetryAfter, retryAfterFromHeaders } from './http/retry-after.js';
export { TokenBucket, type TokenBucketOptions } from './http/token-bucket.js';
export {
  computeBackoffDelay,
  defaultRetryPolicy,
  getErrorHeaders,
  getErrorStatus,
  isNetworkError,
  isRetryableFailure,
  isRetryableHttpStatus,
  type RetryAttempt,
  type RetryNotice,
  type RetryPolicy,
  toTributaryError,
  type WithRetriesOptions,
  withRetries,
} from './http/with-retries.js';
export {
  type GroupMember,
  type GroupMembership,
  type GroupMembershipStore,
  type SyncGroupMembershipsOptions,
  type SyncGroupMembershipsResult,
  syncGroupMemberships,
} from './permissions/group-memberships.js';
// pipeline/: runSync, the ingestion pipeline (versions, content hashes, chunk reuse, deletes,
// the full-sync sweep with its coverage guard, checkpoints committed only after durable work).
export {
  DEFAULT_MAX_CONTENT_BYTES,
  type PushIngest,
  type PushIngestOptions,
  type RunSyncOptions,
  reportSyncTotal,
  runSync,
  type SyncDedupCounts,
  type SyncDocumentError,
  type SyncEmbeddingCounts,
  type SyncProgressEvent,
  type SyncRateLimitFigures,
  type SyncRunCounts,
  type SyncStage,
  type SyncStageFigures,
  type SyncStageTimings,
  type SyncSummary,
  type SyncSummaryStatus,
  type SyncSweepSummary,
  startPushIngest,
} from './pipeline/index.js';
// postgres/, repository/: where the pipeline keeps documents, chunks, sync runs and webhook events.
// `KnowledgeRepository` is the interface; the adapter is Postgres over any SQL client (also as
// `@tributary/core/pglite` and `@tributary/core/postgres`); an in-memory one for tests is in
// `@tributary/core/testing`.
export {
  createPostgresRepository,
  createSqlTransport,
  type PostgresRepositoryOptions,
  type SqlDatabase,
  type SqlQueryable,
  UPSERT_BATCH_SIZE,
} from './postgres/index.js';
export type {
  ConnectorAdminRepository,
  ConnectorChanges,
  ConnectorLastRun,
  ConnectorSecretsPatch,
  ConnectorStatusRecord,
  CreateConnectorRecordInput,
  RewrappedSecrets,
  StoredConnectorSecrets,
} from './repository/connector-admin-repository.js';
export {
  type AddConnectorInput,
  type ChunkInput,
  CONNECTOR_STATE_LIMITS,
  type ConnectorRecord,
  type ConnectorStateChanges,
  type ConnectorStateEntry,
  type DocumentFailureInput,
  type DocumentFailureResult,
  type DocumentInput,
  type DocumentVersion,
  type FinishedSyncStatus,
  type FinishSyncInput,
  type HeartbeatInput,
  type KnowledgeRepository,
  type ListConnectorsFilter,
  type ListStateOptions,
  type MembershipRole,
  type ProcessingStatus,
  type RecordWebhookEventResult,
  type ReleasedSyncRun,
  type ReplaceChunksEntry,
  type ReplaceChunksResult,
  type RepositoryActor,
  RepositoryError,
  type RepositoryErrorOptions,
  type RepositoryErrorReason,
  type SearchInput,
  type SearchResult,
  type SemanticStrategy,
  type StartSyncInput,
  type StartSyncResult,
  type StoredVectorSettings,
  type SweepResult,
  type SyncCounts,
  type SyncFrequency,
  type SyncLiveProgress,
  type SyncRunMode,
  type SyncRunRecord,
  type SyncRunStatus,
  type SyncType,
  type UpsertAction,
  type UpsertDocumentResult,
  type WebhookEventInput,
} from './repository/index.js';
// store/: the one repository implementation over a transport (`{ rpc(name, args) }`); a host with
// another client (a pooler, a proxy) writes a transport and gets the whole repository.
export {
  type RpcArgument,
  type RpcArguments,
  type RpcCallOptions,
  type RpcJson,
  type RpcTransport,
  rpcJson,
} from './repository/rpc-transport.js';
// search/: one call from a query to explained hits (embeds with the stored model, fuses in SQL).
export {
  assertEmbedderFits,
  createHostedReranker,
  explain,
  type HostedRerankerOptions,
  type Reranker,
  RRF_K,
  rerankHits,
  type ScoreExplanation,
  type SearchHit,
  type SearchOptions,
  type SearchResponse,
  search,
} from './search/index.js';
export { MissingSecretKeyError, SecretDecryptionError } from './secrets/secret-errors.js';
export {
  createSecretKeyRing,
  SECRET_KEY_ENV,
  SECRET_KEYS_ENV,
  type SecretKeyRing,
  secretKeyRingFromEnv,
} from './secrets/secret-key-ring.js';
// spec/: the versioned connector spec (types in spec/v1) and the helpers that build and run connectors.
export {
  assertSupportedConnector,
  SUPPORTED_SPECIFICATION_VERSIONS,
} from './spec/assert-supported-connector.js';
export {
  type ConnectorStateStore,
  createMemoryConnectorStateStore,
} from './spec/buffered-connector-state.js';
export {
  type ConnectorInstance,
  type ConnectorInstanceInput,
  type ConnectorRunOptions,
  type ConnectorSyncOptions,
  createConnectorInstance,
} from './spec/create-connector-instance.js';
export {
  CONNECTOR_TYPE_PATTERN,
  type ConnectorDefinition,
  type ConnectorWebhooksDefinition,
  defineConnector,
  displayNameFromType,
  type EmptySettings,
} from './spec/define-connector.js';
export {
  type ConsoleLoggerOptions,
  createConsoleLogger,
  type LogFields,
  type Logger,
  type LogLevel,
  silentLogger,
} from './spec/logger.js';
export { type Counter, createCounter, createSyncMetrics, type SyncMetrics } from './spec/sync-metrics.js';
export type {
  CheckpointChange,
  ConnectorChange,
  DeleteChange,
  ListingCompleteChange,
  ScopeFailedChange,
  UpsertChange,
} from './spec/v1/connector-change.js';
export type { ConnectorState, IterateStateOptions } from './spec/v1/connector-state.js';
export type {
  ConnectorCapabilities,
  ConnectorContext,
  ConnectorV1,
  SyncContext,
  SyncMode,
} from './spec/v1/connector-v1.js';
export type {
  ConnectorWebhooks,
  WebhookAction,
  WebhookEvent,
  WebhookHandshakeResult,
  WebhookRequest,
  WebhookResponse,
} from './spec/v1/connector-webhooks.js';
export type { JsonObject, JsonValue } from './spec/v1/json-value.js';
export type {
  BytesContent,
  DocumentContent,
  DocumentPermission,
  LazyContent,
  LoadContentOptions,
  LoadedContent,
  PermissionRole,
  SourceDocument,
  StreamContent,
  TextContent,
} from './spec/v1/source-document.js';
// storage/: blob stores for imported files (local filesystem now; Supabase Storage beside it) and
// the `{orgId}/connectors/{type}/{id}/{YYYY-MM-DD}/{fileType}/{fileId}-{name}` object path convention.
export {
  assertSafeBlobPath,
  type BlobBody,
  type BlobInfo,
  BlobNotFoundError,
  type BlobStore,
  buildObjectPath,
  CONNECTOR_IMPORTS_BUCKET,
  createLocalBlobStore,
  type GetBlobOptions,
  InvalidBlobPathError,
  type InvalidBlobPathErrorOptions,
  type LocalBlobStoreOptions,
  MAX_BLOB_PATH_BYTES,
  MAX_FILE_NAME_BYTES,
  type ObjectPathParts,
  type PutBlobOptions,
  type PutBlobResult,
  type SanitizeFileNameOptions,
  sanitizeFileName,
} from './storage/index.js';
export { createRpcRepository } from './store/rpc-repository.js';
// webhooks/: the intake of webhook deliveries (handshake, verify over the raw body, record each
// event once: dedup layer 6), their processing (set-based deletes, targeted refetch runs, one sync
// per burst) and a debouncer for hosts.
export {
  type AcceptedDelivery,
  BodyTooLargeError,
  createWebhookDebouncer,
  createWebhookEndpoint,
  type DebouncerTimers,
  type FailedWebhookEvent,
  type HandleWebhookOptions,
  type HandleWebhookResult,
  handleWebhook,
  type IncomingWebhookHeaders,
  type IncomingWebhookRequest,
  type NextRouteContext,
  type NodeRequest,
  type ProcessWebhookEventsOptions,
  type ProcessWebhookEventsResult,
  processWebhookEvents,
  type RecordedWebhookEvent,
  readLimitedBody,
  toNextRouteHandlers,
  toNodeListener,
  toNodeMiddleware,
  toWebhookRequest,
  toWebRequest,
  type WebhookAcceptedOutcome,
  type WebhookDebouncer,
  type WebhookDebouncerOptions,
  type WebhookEndpoint,
  type WebhookEndpointOptions,
  type WebhookEndpointTarget,
  type WebhookHandshakeOutcome,
  WebhookIntakeError,
  type WebhookIntakeErrorOptions,
  type WebhookIntakeErrorReason,
  type WebhookRejectedOutcome,
  webhookEventSource,
  writeWebResponse,
} from './webhooks/index.js';
