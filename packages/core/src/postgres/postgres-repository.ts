import {
  type DuplicateLinkRow,
  type DuplicateMemberRow,
  linkDuplicatesJson,
  mapDuplicateLink,
  mapDuplicateMember,
  searchFunctionName,
} from '../dedup/duplicate-types.js';
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
  RecordWebhookEventResult,
  ReleasedSyncRun,
  ReplaceChunksEntry,
  ReplaceChunksResult,
  RepositoryActor,
  SearchInput,
  SearchResult,
  StartSyncInput,
  StartSyncResult,
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
  toDate,
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
import { mapDatabaseError } from './map-database-error.js';
import { createPostgresConnectorAdmin } from './postgres-connector-admin.js';
import { postgresStateMethods } from './postgres-state.js';
import type { SqlDatabase, SqlQueryable } from './sql-database.js';

export interface PostgresRepositoryOptions {
  /** Any SQL client adapted to `SqlDatabase` (`fromPg`/`fromPglite` of @tributary/sql fit too). */
  db: SqlDatabase;
  /**
   * Who the calls run as. Omitted: the connection's own role (typically a server connection that
   * bypasses RLS). Given: each call runs in a transaction with `role` and `request.jwt.claims` set
   * as PostgREST does, so row level security applies to `authenticated` users.
   */
  actor?: RepositoryActor | undefined;
}

/** The largest batch `upsert_documents` accepts per call. */
export const UPSERT_BATCH_SIZE = 1000;

const processingStatuses: readonly ProcessingStatus[] = ['pending', 'processing', 'completed', 'failed'];

interface SharedState {
  db: SqlDatabase;
  /** Whether document_chunks has the pgvector columns (0007_vector_search applied); asked once. */
  vectors: Promise<boolean> | undefined;
}

/**
 * A `KnowledgeRepository` over the Tributary schema (`@tributary/sql` migrations) on any Postgres
 * client: PGlite, node-postgres, or anything adapted to `SqlDatabase`. Atomic work happens in the
 * schema's RPCs, so every adapter gets the same guarantees.
 */
export function createPostgresRepository(options: PostgresRepositoryOptions): KnowledgeRepository {
  return buildRepository({ db: options.db, vectors: undefined }, options.actor);
}

function buildRepository(state: SharedState, actor: RepositoryActor | undefined): KnowledgeRepository {
  const { db } = state;

  /**
   * Runs `fn` as the actor. With an actor every call is a transaction (the role and claims are
   * transaction-local settings); without one, single-statement calls skip BEGIN/COMMIT round trips
   * and only `atomic` work (several statements) takes a transaction.
   */
  async function run<T>(
    fn: (tx: SqlQueryable) => Promise<T>,
    errorOptions: { leaseGuarded?: boolean; atomic?: boolean } = {},
  ): Promise<T> {
    try {
      if (!actor && !errorOptions.atomic) return await fn(db);
      return await db.transaction(async (tx) => {
        if (actor) {
          const claims =
            actor.role === 'authenticated'
              ? {
                  sub: actor.userId,
                  role: 'authenticated',
                  ...(actor.email !== undefined ? { email: actor.email } : {}),
                  ...(actor.groups !== undefined ? { tributary_groups: actor.groups } : {}),
                  ...(actor.identities !== undefined ? { tributary_identities: actor.identities } : {}),
                }
              : { role: 'service_role' };
          await tx.query("select set_config('request.jwt.claims', $1, true), set_config('role', $2, true)", [
            JSON.stringify(claims),
            actor.role,
          ]);
        }
        return fn(tx);
      });
    } catch (error) {
      throw mapDatabaseError(error, errorOptions);
    }
  }

  function hasVectors(): Promise<boolean> {
    state.vectors ??= db
      .query<{ vectors: boolean }>(
        `select exists (
           select from pg_catalog.pg_attribute a
           where a.attrelid = to_regclass('public.document_chunks') and a.attname = 'embedding' and not a.attisdropped
         ) as vectors`,
      )
      .then(({ rows }) => rows[0]?.vectors === true)
      .catch((error: unknown) => {
        state.vectors = undefined;
        throw mapDatabaseError(error);
      });
    return state.vectors;
  }

  const vectorsUnavailable = (what: string) =>
    new RepositoryError({
      reason: 'unavailable',
      message: `${what} needs pgvector, and this database has no embedding column`,
      hint: 'Install the vector extension and run the migrations again (0007_vector_search was deferred)',
    });

  const repository: KnowledgeRepository = {
    ...createPostgresConnectorAdmin((fn) => run(fn)),
    storesEmbeddings: () => hasVectors(),
    vectorSettings: async () => {
      if (!(await hasVectors())) return undefined;
      return run(async (tx) => {
        const { rows } = await tx.query<{ vector_type: 'vector' | 'halfvec'; dimensions: number }>(
          'select vector_type, dimensions from public.vector_settings()',
        );
        const row = single(rows, 'vector_settings');
        const settings: StoredVectorSettings = {
          type: row.vector_type,
          dimensions: Number(row.dimensions),
          distance: 'cosine',
        };
        return settings;
      });
    },
    withActor: (next) => buildRepository(state, next),
    withUser: (userId) => buildRepository(state, { role: 'authenticated', userId }),

    getConnector: (connectorId) =>
      run(async (tx) => {
        const { rows } = await tx.query<ConnectorRow>(`${connectorSelect} where c.id = $1`, [connectorId]);
        return rows[0] ? mapConnector(rows[0]) : undefined;
      }),

    listConnectors: (filter: ListConnectorsFilter = {}) =>
      run(async (tx) => {
        const { rows } = await tx.query<ConnectorRow>(
          `${connectorSelect}
           where ($1::uuid is null or c.org_id = $1) and ($2::text is null or c.connector_type = $2)
             and ($3::boolean is null or c.is_active = $3)
           order by c.org_id, c.created_at, c.id`,
          [filter.orgId ?? null, filter.connectorType ?? null, filter.isActive ?? null],
        );
        return rows.map(mapConnector);
      }),

    startSync: async (input: StartSyncInput) => {
      const leaseSeconds = input.leaseSeconds ?? 300;
      assertLeaseSeconds(leaseSeconds);
      return run(async (tx) => {
        const { rows } = await tx.query<{
          started: boolean;
          sync_log_id: string;
          lease_expires_at: Date | string;
          sync_cursor: JsonValue | null;
        }>('select * from public.start_connector_sync($1, $2, $3, $4, $5)', [
          input.connectorId,
          input.syncType ?? 'manual',
          input.syncMode ?? 'full',
          leaseSeconds,
          input.workerId ?? null,
        ]);
        const row = single(rows, 'start_connector_sync');
        const result: StartSyncResult = {
          status: row.started ? 'started' : 'alreadyRunning',
          syncRunId: row.sync_log_id,
          leaseExpiresAt: toDate(row.lease_expires_at),
          cursor: row.sync_cursor ?? null,
        };
        return result;
      });
    },

    heartbeat: async (syncRunId: string, input: HeartbeatInput = {}) => {
      const leaseSeconds = input.leaseSeconds ?? 300;
      assertLeaseSeconds(leaseSeconds);
      return run(
        async (tx) => {
          const { rows } = await tx.query<{ expiry: Date | string }>(
            'select public.heartbeat_connector_sync($1, $2, $3::jsonb) as expiry',
            [syncRunId, leaseSeconds, input.progress ? JSON.stringify(countsJson(input.progress)) : null],
          );
          return toDate(single(rows, 'heartbeat_connector_sync').expiry);
        },
        { leaseGuarded: true },
      );
    },

    ...postgresStateMethods(run),

    finishSync: (syncRunId: string, input: FinishSyncInput) =>
      run(
        async (tx) => {
          const counts = {
            ...countsJson(input.counts ?? {}),
            ...(input.counts?.metadata ? { metadata: input.counts.metadata } : {}),
          };
          const { rows } = await tx.query<SyncRunRow>(
            `select ${syncRunColumns('s')} from public.finish_connector_sync($1, $2, $3::jsonb, $4, $5::jsonb) s`,
            [
              syncRunId,
              input.status,
              JSON.stringify(counts),
              input.errorMessage ?? null,
              input.errorDetails === undefined ? null : JSON.stringify(input.errorDetails),
            ],
          );
          return mapSyncRun(single(rows, 'finish_connector_sync'));
        },
        { leaseGuarded: true },
      ),

    getSyncRun: (syncRunId: string) =>
      run(async (tx) => {
        const { rows } = await tx.query<SyncRunRow>(
          `select ${syncRunColumns('s')} from public.connector_sync_logs s where s.id = $1`,
          [syncRunId],
        );
        return rows[0] ? mapSyncRun(rows[0]) : undefined;
      }),

    releaseSync: (connectorId: string, reason?: string) =>
      run(async (tx) => {
        const { rows } = await tx.query<{
          sync_log_id: string;
          lease_expires_at: Date | string | null;
          worker_id: string | null;
          was_expired: boolean;
        }>('select * from public.release_connector_sync($1, $2)', [connectorId, reason ?? null]);
        const row = rows[0];
        if (!row) return undefined;
        const released: ReleasedSyncRun = {
          syncRunId: row.sync_log_id,
          leaseExpiresAt: row.lease_expires_at === null ? null : toDate(row.lease_expires_at),
          workerId: row.worker_id,
          wasExpired: row.was_expired === true,
        };
        return released;
      }),

    recordDocumentFailures: (connectorId: string, failures: readonly DocumentFailureInput[]) =>
      run(
        async (tx) => {
          const results: DocumentFailureResult[] = [];
          for (const batch of slices(failures, UPSERT_BATCH_SIZE)) {
            const { rows } = await tx.query<{
              document_id: string;
              external_id: string;
              kept_previous: boolean;
            }>('select * from public.record_document_failures($1, $2::jsonb)', [
              connectorId,
              JSON.stringify(batch.map(failureJson)),
            ]);
            for (const row of rows) {
              results.push({
                documentId: row.document_id,
                externalId: row.external_id,
                keptPrevious: row.kept_previous,
              });
            }
          }
          return results;
        },
        { atomic: failures.length > UPSERT_BATCH_SIZE },
      ),

    getDocumentVersions: (connectorId: string, externalIds: readonly string[]) =>
      run(async (tx) => {
        const versions = new Map<string, DocumentVersion>();
        if (externalIds.length === 0) return versions;
        // One call for the whole listing page (public.get_document_versions).
        const { rows } = await tx.query<{
          external_id: string;
          id: string;
          source_version: string | null;
          content_hash: string | null;
          is_deleted: boolean;
          processing_status: ProcessingStatus;
        }>('select * from public.get_document_versions($1, $2::text[])', [connectorId, [...externalIds]]);
        for (const row of rows) {
          versions.set(row.external_id, {
            id: row.id,
            sourceVersion: row.source_version,
            contentHash: row.content_hash,
            isDeleted: row.is_deleted,
            processingStatus: row.processing_status,
          });
        }
        return versions;
      }),

    upsertDocuments: async (connectorId: string, documents: readonly DocumentInput[]) => {
      assertDocuments(documents);
      return run(
        async (tx) => {
          const byExternalId = new Map<string, UpsertDocumentResult>();
          // All batches in one transaction: the call is all or nothing, however many documents.
          for (const batch of slices(documents, UPSERT_BATCH_SIZE)) {
            const { rows } = await tx.query<{
              document_id: string;
              external_id: string;
              action: UpsertDocumentResult['action'];
              previous_content_hash: string | null;
            }>('select * from public.upsert_documents($1, $2::jsonb)', [
              connectorId,
              JSON.stringify(batch.map(documentJson)),
            ]);
            for (const row of rows) {
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
            if (!result)
              throw new RepositoryError({
                reason: 'database',
                message: `upsert_documents returned no row for "${document.externalId}"`,
              });
            return result;
          });
        },
        { atomic: documents.length > UPSERT_BATCH_SIZE },
      );
    },

    markDocumentsSeen: (connectorId: string, externalIds: readonly string[]) =>
      run(async (tx) => {
        if (externalIds.length === 0) return 0;
        const { rows } = await tx.query<{ count: number }>(
          'select public.mark_documents_seen($1, $2::text[]) as count',
          [connectorId, [...externalIds]],
        );
        return Number(single(rows, 'mark_documents_seen').count);
      }),

    softDeleteDocuments: (connectorId: string, externalIds: readonly string[]) =>
      run(async (tx) => {
        if (externalIds.length === 0) return 0;
        const { rows } = await tx.query<{ count: number }>(
          'select public.soft_delete_documents($1, $2::text[]) as count',
          [connectorId, [...externalIds]],
        );
        return Number(single(rows, 'soft_delete_documents').count);
      }),

    sweepUnseenDocuments: async (syncRunId: string, maxFraction = 0.5) => {
      assertMaxFraction(maxFraction);
      return run(
        async (tx) => {
          const { rows } = await tx.query<SweepResult>(
            'select * from public.sweep_unseen_documents($1, $2::numeric)',
            [syncRunId, maxFraction],
          );
          const row = single(rows, 'sweep_unseen_documents');
          return {
            swept: Number(row.swept),
            unseen: Number(row.unseen),
            total: Number(row.total),
            refused: row.refused,
          };
        },
        { leaseGuarded: true },
      );
    },

    setProcessingStatus: async (
      documentIds: readonly string[],
      status: ProcessingStatus,
      error?: string | null,
    ) => {
      if (!processingStatuses.includes(status)) {
        throw invalidInput(`status must be one of ${processingStatuses.join(', ')}, got ${String(status)}`);
      }
      return run(async (tx) => {
        if (documentIds.length === 0) return 0;
        const { rows } = await tx.query<{ count: number }>(
          'select public.set_documents_processing_status($1::uuid[], $2, $3) as count',
          [[...documentIds], status, error ?? null],
        );
        return Number(single(rows, 'setProcessingStatus').count);
      });
    },

    replaceChunks: async (
      documentId: string,
      chunks: readonly ChunkInput[],
    ): Promise<ReplaceChunksResult> => {
      const [result] = await repository.replaceChunksBatch([{ documentId, chunks }]);
      return result as ReplaceChunksResult;
    },

    replaceChunksBatch: async (batch: readonly ReplaceChunksEntry[]): Promise<ReplaceChunksResult[]> => {
      if (batch.length === 0) return [];
      for (const entry of batch) assertChunks(entry.chunks);
      if (
        batch.some((entry) => entry.chunks.some((chunk) => chunk.embedding != null)) &&
        !(await hasVectors())
      ) {
        throw vectorsUnavailable('Storing chunk embeddings');
      }
      // One call, one transaction for every document (public.replace_document_chunks).
      return run(async (tx) => {
        const { rows } = await tx.query<{
          document_id: string;
          chunk_count: number;
          removed: number;
          embeddings_generated: boolean;
        }>('select * from public.replace_document_chunks($1::jsonb)', [JSON.stringify(chunksPayload(batch))]);
        const byDocument = new Map(rows.map((row) => [row.document_id, row]));
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
      });
    },

    findReusableEmbeddings: async (
      orgId: string,
      embeddingModel: string,
      contentHashes: readonly string[],
    ) => {
      const found = new Map<string, number[]>();
      // Without pgvector nothing can have been stored, so there is nothing to reuse.
      if (contentHashes.length === 0 || !(await hasVectors())) return found;
      return run(async (tx) => {
        // One stored embedding per distinct hash (public.find_reusable_embeddings), in pages the
        // function accepts.
        const hashes = [...new Set(contentHashes)];
        const rows: { content_hash: string; embedding: string }[] = [];
        for (let start = 0; start < hashes.length; start += REUSE_LOOKUP_PAGE) {
          const page = await tx.query<{ content_hash: string; embedding: string }>(
            'select * from public.find_reusable_embeddings($1, $2, $3::text[])',
            [orgId, embeddingModel, hashes.slice(start, start + REUSE_LOOKUP_PAGE)],
          );
          rows.push(...page.rows);
        }
        for (const row of rows) found.set(row.content_hash, parseVector(row.embedding));
        return found;
      });
    },

    linkDuplicates: (input) =>
      run(async (tx) => {
        const { rows } = await tx.query<DuplicateLinkRow>(
          'select * from public.link_document_duplicates($1::jsonb, $2, $3::real)',
          [JSON.stringify(linkDuplicatesJson(input)), input.embeddingModel ?? null, input.threshold ?? null],
        );
        return rows.map(mapDuplicateLink);
      }),

    listDuplicates: (input) =>
      run(async (tx) => {
        const { rows } = await tx.query<DuplicateMemberRow>(
          'select * from public.list_document_duplicates($1, $2, $3)',
          [input.orgId, input.documentId ?? null, input.limit ?? 100],
        );
        return rows.map(mapDuplicateMember);
      }),

    recordWebhookEvent: (input: WebhookEventInput) =>
      run(async (tx) => {
        const { rows } = await tx.query<{ webhook_event_id: string; is_new: boolean; processed: boolean }>(
          'select * from public.record_webhook_event($1, $2, $3, $4, $5::jsonb, $6::jsonb)',
          [
            input.connectorId,
            input.eventSource,
            input.eventId,
            input.eventType,
            JSON.stringify(input.payload),
            input.headers === undefined ? null : JSON.stringify(input.headers),
          ],
        );
        const row = single(rows, 'record_webhook_event');
        const result: RecordWebhookEventResult = {
          id: row.webhook_event_id,
          isNew: row.is_new,
          processed: row.processed,
        };
        return result;
      }),

    completeWebhookEvent: (webhookEventId: string, error?: string | null) =>
      run(async (tx) => {
        await tx.query('select 1 from public.complete_webhook_event($1, $2)', [
          webhookEventId,
          error ?? null,
        ]);
      }),

    search: async (input: SearchInput): Promise<SearchResult[]> => {
      const search = normalizeSearch(input);
      if (!(await hasVectors())) throw vectorsUnavailable('Search (unified_content_search)');
      return run(async (tx) => {
        const { rows } = await tx.query<SearchResultRow>(
          `select * from public.${searchFunctionName(input.collapseDuplicates)}(
             query_embedding => $1::extensions.vector, match_org_id => $2::uuid, match_count => $3::integer,
             match_threshold => $4::double precision, include_imported => true, query_text => $5::text,
             connector_ids => $6::uuid[], full_text_weight => $7::double precision,
             semantic_weight => $8::double precision, query_embedding_model => $9::text,
             mime_types => $10::text[], metadata_filter => $11::jsonb, min_full_text_score => $12::double precision,
             rrf_k => $13::integer)`,
          [
            search.queryEmbedding ? vectorText(search.queryEmbedding) : null,
            input.orgId,
            search.limit,
            search.matchThreshold,
            search.queryText ?? null,
            input.connectorIds ? [...input.connectorIds] : null,
            search.fullTextWeight,
            search.semanticWeight,
            search.embeddingModel ?? null,
            input.mimeTypes ? [...input.mimeTypes] : null,
            input.metadata === undefined ? null : JSON.stringify(input.metadata),
            search.minFullTextScore,
            search.rrfK,
          ],
        );
        return rows.map(mapSearchResult);
      });
    },
  };
  return repository;
}

// ---------------------------------------------------------------------------------------------
// Rows and values
// ---------------------------------------------------------------------------------------------

const connectorSelect = `select c.id, c.org_id, c.connector_type, c.name, c.description, c.settings, c.filters, c.metadata,
  c.is_active, c.sync_frequency, c.sync_cursor, c.last_sync_at, c.last_sync_status, c.next_sync_at, c.error_count,
  c.last_error from public.connector_configs c`;

function syncRunColumns(alias: string): string {
  return [
    'id',
    'org_id',
    'connector_id',
    'sync_type',
    'sync_mode',
    'status',
    'started_at',
    'completed_at',
    'lease_expires_at',
    'worker_id',
    'documents_synced',
    'documents_updated',
    'documents_skipped',
    'documents_failed',
    'documents_deleted',
    'api_calls_made',
    'error_message',
  ]
    .map((column) => `${alias}.${column}`)
    .concat(`${alias}.bytes_transferred::double precision as bytes_transferred`)
    .join(', ');
}

/** pgvector's text form: `[1,2,3]`. */
/** Hashes per `find_reusable_embeddings` call (the function accepts up to 5,000). */
const REUSE_LOOKUP_PAGE = 5000;

/** The `replace_document_chunks` argument: the same JSON for every transport. */
export function chunksPayload(batch: readonly ReplaceChunksEntry[]): JsonValue {
  return batch.map((entry) => ({
    document_id: entry.documentId,
    chunks: entry.chunks.map((chunk) => ({
      chunk_index: chunk.index,
      context: chunk.context ?? null,
      content: chunk.content,
      content_hash: chunk.contentHash,
      token_count: chunk.tokenCount ?? null,
      embedding: chunk.embedding == null ? null : vectorText(chunk.embedding),
      embedding_model: chunk.embedding == null ? null : (chunk.embeddingModel ?? null),
    })),
  }));
}

export function vectorText(vector: readonly number[]): string {
  return `[${vector.join(',')}]`;
}

function single<Row>(rows: Row[], what: string): Row {
  const row = rows[0];
  if (!row) throw new RepositoryError({ reason: 'database', message: `${what} returned no row` });
  return row;
}
