import type { SupabaseClient } from '@supabase/supabase-js';
import {
  type DuplicateLinkRow,
  type DuplicateMemberRow,
  linkDuplicatesJson,
  mapDuplicateLink,
  mapDuplicateMember,
  searchFunctionName,
} from '../dedup/duplicate-types.js';
import { chunksPayload, vectorText } from '../postgres/postgres-repository.js';
import type {
  ChunkInput,
  DocumentFailureInput,
  DocumentFailureResult,
  DocumentInput,
  DocumentVersion,
  FinishSyncInput,
  HeartbeatInput,
  KnowledgeRepository,
  ListConnectorsFilter,
  ProcessingStatus,
  ReplaceChunksEntry,
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
  failureJson,
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
import { createSupabaseConnectorAdmin } from './supabase-connector-admin.js';
import { supabaseStateMethods } from './supabase-state.js';

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
 * Everything that must be atomic is one RPC (one transaction on the server); calls split into
 * several requests (more than 1,000 documents to upsert, say) are idempotent when retried.
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

/** Ids or hashes per lookup RPC (the SQL functions accept up to 5,000). */
const RPC_LOOKUP_PAGE = 5000;

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
    ...createSupabaseConnectorAdmin((request) => call(request)),
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

    ...supabaseStateMethods(call),

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
    releaseSync: async (connectorId: string, reason?: string) => {
      const { data } = await call<
        Array<{
          sync_log_id: string;
          lease_expires_at: string | null;
          worker_id: string | null;
          was_expired: boolean;
        }>
      >((client) =>
        client.rpc('release_connector_sync', { p_connector_id: connectorId, p_reason: reason ?? null }),
      );
      const row = data?.[0];
      if (!row) return undefined;
      return {
        syncRunId: row.sync_log_id,
        leaseExpiresAt: row.lease_expires_at === null ? null : new Date(row.lease_expires_at),
        workerId: row.worker_id,
        wasExpired: row.was_expired === true,
      };
    },

    recordDocumentFailures: async (connectorId: string, failures: readonly DocumentFailureInput[]) => {
      const results: DocumentFailureResult[] = [];
      for (const batch of slices(failures, 1000)) {
        const { data } = await call<
          Array<{ document_id: string; external_id: string; kept_previous: boolean }>
        >((client) =>
          client.rpc('record_document_failures', {
            p_connector_id: connectorId,
            p_documents: batch.map(failureJson),
          }),
        );
        for (const row of data ?? []) {
          results.push({
            documentId: row.document_id,
            externalId: row.external_id,
            keptPrevious: row.kept_previous,
          });
        }
      }
      return results;
    },

    getDocumentVersions: async (connectorId: string, externalIds: readonly string[]) => {
      const versions = new Map<string, DocumentVersion>();
      // One RPC (a POST body, no URL limit) per 5,000 ids: public.get_document_versions.
      const ids = [...new Set(externalIds)];
      for (let start = 0; start < ids.length; start += RPC_LOOKUP_PAGE) {
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
          client.rpc('get_document_versions', {
            p_connector_id: connectorId,
            p_external_ids: ids.slice(start, start + RPC_LOOKUP_PAGE),
          }),
        );
        for (const row of data ?? []) {
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

    setProcessingStatus: async (
      documentIds: readonly string[],
      status: ProcessingStatus,
      error?: string | null,
    ) => {
      if (!processingStatuses.includes(status)) {
        throw invalidInput(`status must be one of ${processingStatuses.join(', ')}, got ${String(status)}`);
      }
      if (documentIds.length === 0) return 0;
      const { data } = await call<number>((client) =>
        client.rpc('set_documents_processing_status', {
          p_document_ids: [...new Set(documentIds)],
          p_status: status,
          p_error: error ?? null,
        }),
      );
      return Number(data);
    },

    replaceChunks: async (
      documentId: string,
      chunks: readonly ChunkInput[],
    ): Promise<ReplaceChunksResult> => {
      const [result] = await repository.replaceChunksBatch([{ documentId, chunks }]);
      return result as ReplaceChunksResult;
    },

    /** One RPC, so one transaction on the server: `public.replace_document_chunks`. */
    replaceChunksBatch: async (batch: readonly ReplaceChunksEntry[]): Promise<ReplaceChunksResult[]> => {
      if (batch.length === 0) return [];
      for (const entry of batch) assertChunks(entry.chunks);
      if (
        batch.some((entry) => entry.chunks.some((chunk) => chunk.embedding != null)) &&
        !(await hasVectors())
      ) {
        throw vectorsUnavailable('Storing chunk embeddings');
      }
      const { data } = await call<
        Array<{ document_id: string; chunk_count: number; removed: number; embeddings_generated: boolean }>
      >((client) => client.rpc('replace_document_chunks', { p_documents: chunksPayload(batch) }));
      const byDocument = new Map((data ?? []).map((row) => [row.document_id, row]));
      return batch.map((entry) => {
        const row = byDocument.get(entry.documentId);
        if (!row)
          throw new RepositoryError({
            reason: 'not_found',
            message: `document ${entry.documentId} not found`,
          });
        return {
          chunkCount: Number(row.chunk_count),
          removed: Number(row.removed),
          embeddingsGenerated: row.embeddings_generated,
        };
      });
    },

    /** One stored embedding per distinct hash (`public.find_reusable_embeddings`), 5,000 hashes a call. */
    findReusableEmbeddings: async (
      orgId: string,
      embeddingModel: string,
      contentHashes: readonly string[],
    ) => {
      const found = new Map<string, number[]>();
      if (contentHashes.length === 0 || !(await hasVectors())) return found;
      const hashes = [...new Set(contentHashes)];
      for (let start = 0; start < hashes.length; start += RPC_LOOKUP_PAGE) {
        const { data } = await call<Array<{ content_hash: string; embedding: string | number[] }>>((client) =>
          client.rpc('find_reusable_embeddings', {
            p_org_id: orgId,
            p_embedding_model: embeddingModel,
            p_content_hashes: hashes.slice(start, start + RPC_LOOKUP_PAGE),
          }),
        );
        for (const row of data ?? []) found.set(row.content_hash, parseVector(row.embedding));
      }
      return found;
    },

    linkDuplicates: async (input) => {
      const { data } = await call<DuplicateLinkRow[]>((client) =>
        client.rpc('link_document_duplicates', {
          p_documents: linkDuplicatesJson(input),
          p_embedding_model: input.embeddingModel ?? null,
          p_threshold: input.threshold ?? null,
        }),
      );
      return (data ?? []).map(mapDuplicateLink);
    },

    listDuplicates: async (input) => {
      const { data } = await call<DuplicateMemberRow[]>((client) =>
        client.rpc('list_document_duplicates', {
          p_org_id: input.orgId,
          p_document_id: input.documentId ?? null,
          p_limit: input.limit ?? 100,
        }),
      );
      return (data ?? []).map(mapDuplicateMember);
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
        client.rpc(searchFunctionName(input.collapseDuplicates), {
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
          rrf_k: search.rrfK,
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

function single<Row>(rows: Row[] | null, what: string): Row {
  const row = rows?.[0];
  if (!row) throw new RepositoryError({ reason: 'database', message: `${what} returned no row` });
  return row;
}
