import type { SupabaseClient } from '@supabase/supabase-js';
import { vectorText } from '../postgres/postgres-repository.js';
import type {
  ChunkInput,
  DocumentInput,
  DocumentVersion,
  FinishSyncInput,
  HeartbeatInput,
  KnowledgeRepository,
  ListConnectorsFilter,
  ProcessingStatus,
  ReplaceChunksResult,
  RepositoryActor,
  SearchInput,
  SearchResult,
  StartSyncInput,
  StoredVectorSettings,
  SweepResult,
  UpsertDocumentResult,
  WebhookEventInput,
} from '../repository/knowledge-repository.js';
import { RepositoryError } from '../repository/repository-error.js';
import {
  type ConnectorRow,
  countsJson,
  documentJson,
  mapConnector,
  mapSearchResult,
  mapSyncRun,
  parseVector,
  type SearchResultRow,
  type SyncRunRow,
} from '../repository/schema-rows.js';
import {
  assertChunks,
  assertDocuments,
  assertLeaseSeconds,
  assertMaxFraction,
  invalidInput,
  normalizeSearch,
  slices,
} from '../repository/validate-input.js';
import type { JsonValue } from '../spec/v1/json-value.js';
import { mapPostgrestError } from './map-postgrest-error.js';

export interface SupabaseRepositoryOptions {
  /**
   * Builds a supabase-js client that acts as the given user, e.g.
   * `createClient(url, anonKey, { global: { headers: { Authorization: \`Bearer ${accessToken}\` } } })`.
   * Needed by `withUser(id)` / `withActor({ role: 'authenticated', userId })`: supabase-js carries
   * its identity in the client, so the repository cannot switch users by itself. Without it those
   * calls throw a `RepositoryError` with reason `unavailable`. Called once per `withUser` repository.
   */
  clientForUser?: ((userId: string) => SupabaseClient | Promise<SupabaseClient>) | undefined;
  /**
   * The project's PostgREST "max rows" setting (Supabase default 1,000): the largest page one
   * request returns. Lists are read in pages of this size; lower it if your project's is lower.
   */
  maxRows?: number | undefined;
}

/** Documents per `upsert_documents` call (the RPC's limit). */
export const SUPABASE_UPSERT_BATCH_SIZE = 1000;
/** Chunks per upsert request into `document_chunks` (keeps request bodies small with embeddings). */
export const SUPABASE_CHUNK_BATCH_SIZE = 200;
/** Ids per `.in()` filter: at most this many values... */
const IN_FILTER_MAX_VALUES = 500;
/** ...and at most this many URL characters (postgrest-js warns past 8,000; gateways cap headers at ~16 KB). */
const IN_FILTER_MAX_CHARS = 6000;

const processingStatuses: readonly ProcessingStatus[] = ['pending', 'processing', 'completed', 'failed'];

const connectorColumns =
  'id,org_id,connector_type,name,description,settings,filters,metadata,is_active,sync_frequency,sync_cursor,last_sync_at,last_sync_status,next_sync_at,error_count,last_error';

const syncRunColumns =
  'id,org_id,connector_id,sync_type,sync_mode,status,started_at,completed_at,lease_expires_at,worker_id,documents_synced,documents_updated,documents_skipped,documents_failed,documents_deleted,api_calls_made,bytes_transferred,error_message';

interface SharedState {
  root: SupabaseClient;
  options: SupabaseRepositoryOptions;
  maxRows: number;
  /** Whether document_chunks has the pgvector columns (0007_vector_search applied); asked once. */
  vectors: Promise<boolean> | undefined;
}

/** What every supabase-js query builder resolves to. */
interface PostgrestOutcome {
  data: unknown;
  error: unknown;
  count?: number | null;
  status: number;
}

/**
 * A `KnowledgeRepository` over supabase-js (the Data API, i.e. PostgREST), for hosts that reach
 * their database only through a Supabase project's URL and key. Same semantics as
 * `createPostgresRepository`: the sync, document and webhook work goes through the
 * `@tributary/sql` RPCs, reads go to the tables, and row level security applies to whoever the
 * client is (create it with the service role key for sync workers).
 *
 * Without transactions over HTTP, the few multi-statement operations that have no RPC
 * (`replaceChunks`, and calls split into several requests) are built to be safe when interrupted
 * and idempotent when retried; see each method.
 */
export function createSupabaseRepository(
  client: SupabaseClient,
  options: SupabaseRepositoryOptions = {},
): KnowledgeRepository {
  const maxRows = options.maxRows ?? 1000;
  if (!Number.isInteger(maxRows) || maxRows < 1) {
    throw invalidInput(`maxRows must be a positive integer, got ${String(options.maxRows)}`);
  }
  const state: SharedState = { root: client, options, maxRows, vectors: undefined };
  return buildRepository(state, () => Promise.resolve(client));
}

function buildRepository(state: SharedState, clientOf: () => Promise<SupabaseClient>): KnowledgeRepository {
  /** Sends one request and unwraps it, throwing the mapped `RepositoryError`. */
  async function call<T>(
    request: (client: SupabaseClient) => PromiseLike<PostgrestOutcome>,
    errorOptions: { leaseGuarded?: boolean } = {},
  ): Promise<{ data: T; count: number | null }> {
    const client = await clientOf();
    let outcome: PostgrestOutcome;
    try {
      outcome = await request(client);
    } catch (error) {
      throw mapPostgrestError(error, { ...errorOptions, status: 0 });
    }
    if (outcome.error) throw mapPostgrestError(outcome.error, { ...errorOptions, status: outcome.status });
    return { data: outcome.data as T, count: outcome.count ?? null };
  }

  /** Reads every row of a query page by page (`order` must make the order total). */
  async function selectAll<Row>(
    query: (client: SupabaseClient, from: number, to: number) => PromiseLike<PostgrestOutcome>,
  ): Promise<Row[]> {
    const rows: Row[] = [];
    for (let from = 0; ; from += state.maxRows) {
      const { data } = await call<Row[] | null>((client) => query(client, from, from + state.maxRows - 1));
      const page = data ?? [];
      rows.push(...page);
      if (page.length < state.maxRows) return rows;
    }
  }

  function hasVectors(): Promise<boolean> {
    // Selecting the column with limit 0 reads no row: 42703 means 0007_vector_search was deferred.
    state.vectors ??= Promise.resolve(
      state.root.from('document_chunks').select('embedding').limit(0) as PromiseLike<PostgrestOutcome>,
    ).then((outcome) => {
      if (!outcome.error) return true;
      const code = (outcome.error as { code?: unknown }).code;
      if (code === '42703') return false;
      state.vectors = undefined;
      throw mapPostgrestError(outcome.error, { status: outcome.status });
    });
    return state.vectors;
  }

  const vectorsUnavailable = (what: string) =>
    new RepositoryError({
      reason: 'unavailable',
      message: `${what} needs pgvector, and this database has no embedding column`,
      hint: 'Install the vector extension and run the migrations again (0007_vector_search was deferred)',
    });

  function withActor(actor: RepositoryActor): KnowledgeRepository {
    // supabase-js cannot raise its own privileges: the service view is the client the repository
    // was created with (create it with the service role key).
    if (actor.role === 'service_role') return buildRepository(state, () => Promise.resolve(state.root));
    const factory = state.options.clientForUser;
    if (!factory) {
      throw new RepositoryError({
        reason: 'unavailable',
        message:
          'withUser/withActor needs a way to build a supabase-js client for that user: pass clientForUser to createSupabaseRepository',
        hint: "e.g. clientForUser: (userId) => createClient(url, anonKey, { global: { headers: { Authorization: 'Bearer ' + accessTokenOf(userId) } } })",
      });
    }
    let userClient: Promise<SupabaseClient> | undefined;
    return buildRepository(state, () => {
      userClient ??= Promise.resolve()
        .then(() => factory(actor.userId))
        .catch((error: unknown) => {
          userClient = undefined;
          if (RepositoryError.isInstance(error)) throw error;
          throw new RepositoryError({
            reason: 'not_allowed',
            message: `clientForUser could not build a client for user ${actor.userId}: ${error instanceof Error ? error.message : String(error)}`,
            cause: error,
          });
        });
      return userClient;
    });
  }

  const repository: KnowledgeRepository = {
    storesEmbeddings: () => hasVectors(),
    vectorSettings: async () => {
      if (!(await hasVectors())) return undefined;
      const { data } = await call<{ vector_type: 'vector' | 'halfvec'; dimensions: number }[]>((client) =>
        client.rpc('vector_settings'),
      );
      const [row] = data ?? [];
      if (!row) {
        throw new RepositoryError({ reason: 'database', message: 'vector_settings returned no row' });
      }
      const settings: StoredVectorSettings = {
        type: row.vector_type,
        dimensions: Number(row.dimensions),
        distance: 'cosine',
      };
      return settings;
    },
    withActor,
    withUser: (userId) => withActor({ role: 'authenticated', userId }),

    getConnector: async (connectorId) => {
      const { data } = await call<ConnectorRow[]>((client) =>
        client.from('connector_configs').select(connectorColumns).eq('id', connectorId),
      );
      return data[0] ? mapConnector(data[0]) : undefined;
    },

    listConnectors: async (filter: ListConnectorsFilter = {}) => {
      const rows = await selectAll<ConnectorRow>((client, from, to) => {
        let query = client.from('connector_configs').select(connectorColumns);
        if (filter.orgId !== undefined) query = query.eq('org_id', filter.orgId);
        if (filter.connectorType !== undefined) query = query.eq('connector_type', filter.connectorType);
        if (filter.isActive !== undefined) query = query.eq('is_active', filter.isActive);
        return query.order('org_id').order('created_at').order('id').range(from, to);
      });
      return rows.map(mapConnector);
    },

    startSync: async (input: StartSyncInput) => {
      const leaseSeconds = input.leaseSeconds ?? 300;
      assertLeaseSeconds(leaseSeconds);
      const { data } = await call<
        Array<{
          started: boolean;
          sync_log_id: string;
          lease_expires_at: string;
          sync_cursor: JsonValue | null;
        }>
      >((client) =>
        client.rpc('start_connector_sync', {
          p_connector_id: input.connectorId,
          p_sync_type: input.syncType ?? 'manual',
          p_sync_mode: input.syncMode ?? 'full',
          p_lease_seconds: leaseSeconds,
          p_worker_id: input.workerId ?? null,
        }),
      );
      const row = single(data, 'start_connector_sync');
      return {
        status: row.started ? 'started' : 'alreadyRunning',
        syncRunId: row.sync_log_id,
        leaseExpiresAt: new Date(row.lease_expires_at),
        cursor: row.sync_cursor ?? null,
      };
    },

    heartbeat: async (syncRunId: string, input: HeartbeatInput = {}) => {
      const leaseSeconds = input.leaseSeconds ?? 300;
      assertLeaseSeconds(leaseSeconds);
      const { data } = await call<string>(
        (client) =>
          client.rpc('heartbeat_connector_sync', {
            p_sync_log_id: syncRunId,
            p_lease_seconds: leaseSeconds,
            p_progress: input.progress ? countsJson(input.progress) : null,
          }),
        { leaseGuarded: true },
      );
      if (typeof data !== 'string') {
        throw new RepositoryError({
          reason: 'database',
          message: 'heartbeat_connector_sync returned no expiry',
        });
      }
      return new Date(data);
    },

    commitCheckpoint: async (syncRunId: string, cursor: JsonValue) => {
      // PostgREST passes a JSON null argument as SQL NULL, which the RPC refuses: say so up front.
      if (cursor === undefined || cursor === null) {
        throw invalidInput(
          'commitCheckpoint needs a cursor (a JSON value other than null)',
          'Through supabase-js a null cursor reaches the RPC as SQL NULL; store e.g. {} instead',
        );
      }
      await call(
        (client) => client.rpc('commit_sync_checkpoint', { p_sync_log_id: syncRunId, p_cursor: cursor }),
        { leaseGuarded: true },
      );
    },

    finishSync: async (syncRunId: string, input: FinishSyncInput) => {
      const counts = {
        ...countsJson(input.counts ?? {}),
        ...(input.counts?.metadata ? { metadata: input.counts.metadata } : {}),
      };
      const { data } = await call<SyncRunRow | SyncRunRow[] | null>(
        (client) =>
          client.rpc('finish_connector_sync', {
            p_sync_log_id: syncRunId,
            p_status: input.status,
            p_counts: counts,
            p_error_message: input.errorMessage ?? null,
            p_error_details: input.errorDetails === undefined ? null : input.errorDetails,
          }),
        { leaseGuarded: true },
      );
      const row = Array.isArray(data) ? data[0] : data;
      if (!row)
        throw new RepositoryError({ reason: 'database', message: 'finish_connector_sync returned no row' });
      return mapSyncRun(row);
    },

    getSyncRun: async (syncRunId: string) => {
      const { data } = await call<SyncRunRow[]>((client) =>
        client.from('connector_sync_logs').select(syncRunColumns).eq('id', syncRunId),
      );
      return data[0] ? mapSyncRun(data[0]) : undefined;
    },

    /**
     * One request for the connector's organisation (the identity index leads with org_id), then
     * one per slice of at most 500 external ids (`.in()` lives in the URL). External ids are unique
     * per connector, so a slice never returns more rows than the project's max rows.
     */
    getDocumentVersions: async (connectorId: string, externalIds: readonly string[]) => {
      const versions = new Map<string, DocumentVersion>();
      if (externalIds.length === 0) return versions;
      const { data: connectors } = await call<Array<{ org_id: string }>>((client) =>
        client.from('connector_configs').select('org_id').eq('id', connectorId),
      );
      const orgId = connectors[0]?.org_id;
      if (orgId === undefined) return versions;
      for (const slice of inFilterSlices(
        [...new Set(externalIds)],
        Math.min(IN_FILTER_MAX_VALUES, state.maxRows),
      )) {
        const { data } = await call<
          Array<{
            external_id: string;
            id: string;
            source_version: string | null;
            content_hash: string | null;
            is_deleted: boolean;
            processing_status: ProcessingStatus;
          }>
        >((client) =>
          client
            .from('imported_documents')
            .select('external_id,id,source_version,content_hash,is_deleted,processing_status')
            .eq('org_id', orgId)
            .eq('connector_id', connectorId)
            .filter('external_id', 'in', inList(slice)),
        );
        for (const row of data) {
          versions.set(row.external_id, {
            id: row.id,
            sourceVersion: row.source_version,
            contentHash: row.content_hash,
            isDeleted: row.is_deleted,
            processingStatus: row.processing_status,
          });
        }
      }
      return versions;
    },

    /**
     * `upsert_documents` in batches of 1,000. Each batch is atomic; a call with more than 1,000
     * documents is not (no transaction spans HTTP requests): if a later batch fails, earlier ones
     * stay stored. Retrying the call is safe: stored documents then report `unchanged`.
     */
    upsertDocuments: async (connectorId: string, documents: readonly DocumentInput[]) => {
      assertDocuments(documents);
      const byExternalId = new Map<string, UpsertDocumentResult>();
      for (const batch of slices(documents, SUPABASE_UPSERT_BATCH_SIZE)) {
        const { data } = await call<
          Array<{
            document_id: string;
            external_id: string;
            action: UpsertDocumentResult['action'];
            previous_content_hash: string | null;
          }>
        >((client) =>
          client.rpc('upsert_documents', {
            p_connector_id: connectorId,
            p_documents: batch.map(documentJson),
          }),
        );
        for (const row of data ?? []) {
          byExternalId.set(row.external_id, {
            documentId: row.document_id,
            externalId: row.external_id,
            action: row.action,
            previousContentHash: row.previous_content_hash,
          });
        }
      }
      return documents.map((document) => {
        const result = byExternalId.get(document.externalId);
        if (!result) {
          throw new RepositoryError({
            reason: 'database',
            message: `upsert_documents returned no row for "${document.externalId}"`,
          });
        }
        return result;
      });
    },

    markDocumentsSeen: async (connectorId: string, externalIds: readonly string[]) => {
      if (externalIds.length === 0) return 0;
      const { data } = await call<number>((client) =>
        client.rpc('mark_documents_seen', { p_connector_id: connectorId, p_external_ids: [...externalIds] }),
      );
      return Number(data);
    },

    softDeleteDocuments: async (connectorId: string, externalIds: readonly string[]) => {
      if (externalIds.length === 0) return 0;
      const { data } = await call<number>((client) =>
        client.rpc('soft_delete_documents', {
          p_connector_id: connectorId,
          p_external_ids: [...externalIds],
        }),
      );
      return Number(data);
    },

    sweepUnseenDocuments: async (syncRunId: string, maxFraction = 0.5) => {
      assertMaxFraction(maxFraction);
      const { data } = await call<SweepResult[]>(
        (client) =>
          client.rpc('sweep_unseen_documents', { p_sync_log_id: syncRunId, p_max_fraction: maxFraction }),
        { leaseGuarded: true },
      );
      const row = single(data, 'sweep_unseen_documents');
      return {
        swept: Number(row.swept),
        unseen: Number(row.unseen),
        total: Number(row.total),
        refused: row.refused,
      };
    },

    /**
     * One `UPDATE` per slice of ids that fits in a URL (about 140 uuids). Each slice is atomic;
     * the call as a whole is idempotent, so a retry after a failure converges.
     */
    setProcessingStatus: async (
      documentIds: readonly string[],
      status: ProcessingStatus,
      error?: string | null,
    ) => {
      if (!processingStatuses.includes(status)) {
        throw invalidInput(`status must be one of ${processingStatuses.join(', ')}, got ${String(status)}`);
      }
      if (documentIds.length === 0) return 0;
      // Like left(error, 4000): whole characters (code points), not UTF-16 units.
      const processingError = error == null ? null : Array.from(error).slice(0, 4000).join('');
      let updated = 0;
      for (const slice of inFilterSlices([...new Set(documentIds)], IN_FILTER_MAX_VALUES)) {
        const { count } = await call((client) =>
          client
            .from('imported_documents')
            .update({ processing_status: status, processing_error: processingError }, { count: 'exact' })
            .filter('id', 'in', inList(slice)),
        );
        updated += count ?? 0;
      }
      return updated;
    },

    /**
     * There is no RPC for this, and supabase-js cannot hold a transaction across requests, so it
     * runs as four steps, each atomic on its own, ordered so that an interruption is harmless and a
     * retry converges on the same result:
     * 1. `UPDATE imported_documents SET chunks_generated = false, embeddings_generated = false`
     *    (also the existence and permission check: nothing else is written when it fails);
     * 2. upsert the chunks by `(org_id, document_id, chunk_index)` in batches (positions are
     *    overwritten in place, so the same call twice leaves the same rows);
     * 3. delete the positions that are no longer present (above the highest new index, and the gaps);
     * 4. `UPDATE imported_documents SET chunk_count, chunks_generated = true, embeddings_generated`.
     * An interrupted call leaves `chunks_generated = false`, and a document whose content changed is
     * `pending` (upsertDocuments reset it), so search, which only returns `completed` documents, does
     * not show a half-written set as long as the document is marked `completed` only after this call
     * succeeded (as the pipeline does). Unlike the Postgres adapter, two concurrent calls for the same
     * document are not serialised: the last writer wins per position; run one writer per document.
     */
    replaceChunks: async (
      documentId: string,
      chunks: readonly ChunkInput[],
    ): Promise<ReplaceChunksResult> => {
      assertChunks(chunks);
      const vectors = await hasVectors();
      if (!vectors && chunks.some((chunk) => chunk.embedding != null)) {
        throw vectorsUnavailable('Storing chunk embeddings');
      }
      const embeddingsGenerated = chunks.every((chunk) => chunk.embedding != null);

      const { data: documents } = await call<Array<{ org_id: string }>>((client) =>
        client
          .from('imported_documents')
          .update({ chunks_generated: false, embeddings_generated: false })
          .eq('id', documentId)
          .select('org_id'),
      );
      const orgId = documents[0]?.org_id;
      if (orgId === undefined) {
        throw new RepositoryError({ reason: 'not_found', message: `document ${documentId} not found` });
      }

      const sorted = [...chunks].sort((a, b) => a.index - b.index);
      for (const batch of slices(sorted, SUPABASE_CHUNK_BATCH_SIZE)) {
        const rows = batch.map((chunk) => ({
          org_id: orgId,
          document_id: documentId,
          chunk_index: chunk.index,
          context: chunk.context ?? null,
          content: chunk.content,
          content_hash: chunk.contentHash,
          token_count: chunk.tokenCount ?? null,
          // With pgvector, chunks without an embedding clear a stale one at their position.
          ...(vectors
            ? {
                embedding: chunk.embedding == null ? null : vectorText(chunk.embedding),
                embedding_model: chunk.embedding == null ? null : (chunk.embeddingModel ?? null),
              }
            : {}),
        }));
        await call((client) =>
          client.from('document_chunks').upsert(rows, { onConflict: 'org_id,document_id,chunk_index' }),
        );
      }

      const highest = sorted.length === 0 ? -1 : (sorted[sorted.length - 1] as ChunkInput).index;
      const present = new Set(sorted.map((chunk) => chunk.index));
      const gaps: string[] = [];
      for (let index = 0; index < highest; index++) if (!present.has(index)) gaps.push(String(index));
      const { count: beyond } = await call((client) =>
        client
          .from('document_chunks')
          .delete({ count: 'exact' })
          .eq('org_id', orgId)
          .eq('document_id', documentId)
          .gt('chunk_index', highest),
      );
      let removed = beyond ?? 0;
      for (const slice of inFilterSlices(gaps, IN_FILTER_MAX_VALUES)) {
        const { count } = await call((client) =>
          client
            .from('document_chunks')
            .delete({ count: 'exact' })
            .eq('org_id', orgId)
            .eq('document_id', documentId)
            .filter('chunk_index', 'in', inList(slice)),
        );
        removed += count ?? 0;
      }

      await call((client) =>
        client
          .from('imported_documents')
          .update({
            chunk_count: chunks.length,
            chunks_generated: true,
            embeddings_generated: embeddingsGenerated,
          })
          .eq('id', documentId),
      );
      return { chunkCount: chunks.length, removed, embeddingsGenerated };
    },

    /**
     * Reads `document_chunks` (newest first per hash) for slices of hashes that fit in a URL (about 80), page by page.
     * Without pgvector nothing can have been stored, so nothing is reusable.
     */
    findReusableEmbeddings: async (
      orgId: string,
      embeddingModel: string,
      contentHashes: readonly string[],
    ) => {
      const found = new Map<string, number[]>();
      if (contentHashes.length === 0 || !(await hasVectors())) return found;
      for (const slice of inFilterSlices([...new Set(contentHashes)], IN_FILTER_MAX_VALUES)) {
        const rows = await selectAll<{ content_hash: string; embedding: string | number[] | null }>(
          (client, from, to) =>
            client
              .from('document_chunks')
              .select('content_hash,embedding')
              .eq('org_id', orgId)
              .eq('embedding_model', embeddingModel)
              .filter('content_hash', 'in', inList(slice))
              .not('embedding', 'is', null)
              .order('content_hash')
              .order('created_at', { ascending: false })
              .order('id')
              .range(from, to),
        );
        for (const row of rows) {
          if (!found.has(row.content_hash) && row.embedding != null) {
            found.set(row.content_hash, parseVector(row.embedding));
          }
        }
      }
      return found;
    },

    recordWebhookEvent: async (input: WebhookEventInput) => {
      const { data } = await call<Array<{ webhook_event_id: string; is_new: boolean; processed: boolean }>>(
        (client) =>
          client.rpc('record_webhook_event', {
            p_connector_id: input.connectorId,
            p_event_source: input.eventSource,
            p_event_id: input.eventId,
            p_event_type: input.eventType,
            p_payload: input.payload,
            p_headers: input.headers === undefined ? null : input.headers,
          }),
      );
      const row = single(data, 'record_webhook_event');
      return { id: row.webhook_event_id, isNew: row.is_new, processed: row.processed };
    },

    completeWebhookEvent: async (webhookEventId: string, error?: string | null) => {
      await call((client) =>
        client.rpc('complete_webhook_event', { p_webhook_event_id: webhookEventId, p_error: error ?? null }),
      );
    },

    search: async (input: SearchInput): Promise<SearchResult[]> => {
      const search = normalizeSearch(input);
      if (!(await hasVectors())) throw vectorsUnavailable('Search (unified_content_search)');
      const { data } = await call<SearchResultRow[]>((client) =>
        client.rpc('unified_content_search', {
          query_embedding: search.queryEmbedding ? vectorText(search.queryEmbedding) : null,
          match_org_id: input.orgId,
          match_count: search.limit,
          match_threshold: search.matchThreshold,
          include_imported: true,
          query_text: search.queryText ?? null,
          connector_ids: input.connectorIds ? [...input.connectorIds] : null,
          full_text_weight: search.fullTextWeight,
          semantic_weight: search.semanticWeight,
          query_embedding_model: search.embeddingModel ?? null,
          mime_types: input.mimeTypes ? [...input.mimeTypes] : null,
          metadata_filter: input.metadata ?? null,
          min_full_text_score: search.minFullTextScore,
        }),
      );
      return (data ?? []).map(mapSearchResult);
    },
  };
  return repository;
}

// ---------------------------------------------------------------------------------------------
// Rows and values
// ---------------------------------------------------------------------------------------------

/**
 * Splits values for `.in()` filters, which travel in the URL: at most `maxValues` per slice and
 * about `IN_FILTER_MAX_CHARS` URL characters (values are quoted and percent-encoded).
 */
function inFilterSlices(values: readonly string[], maxValues: number): string[][] {
  const result: string[][] = [];
  let current: string[] = [];
  let chars = 0;
  for (const value of values) {
    const size = encodeURIComponent(quoteValue(value)).length + 3;
    if (current.length > 0 && (current.length >= maxValues || chars + size > IN_FILTER_MAX_CHARS)) {
      result.push(current);
      current = [];
      chars = 0;
    }
    current.push(value);
    chars += size;
  }
  if (current.length > 0) result.push(current);
  return result;
}

/**
 * PostgREST's `in.(...)` list, every value double-quoted with `"` and `\` escaped. (postgrest-js's
 * `.in()` quotes values with reserved characters but does not escape quotes or backslashes inside
 * them, so an external id like `a"b` would break its filter.)
 */
function inList(values: readonly string[]): string {
  return `(${values.map(quoteValue).join(',')})`;
}

function quoteValue(value: string): string {
  return `"${value.replace(/[\\"]/g, '\\$&')}"`;
}

function single<Row>(rows: Row[] | null, what: string): Row {
  const row = rows?.[0];
  if (!row) throw new RepositoryError({ reason: 'database', message: `${what} returned no row` });
  return row;
}
