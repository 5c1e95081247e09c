// Chunks, embedding reuse, hybrid search and webhook events, one RPC each (0004_functions,
// 0010_vector_models, 0014_document_functions, 0015_search_quality).
import { searchFunctionName } from '../dedup/duplicate-types.js';
import type {
  ChunkInput,
  KnowledgeRepository,
  RecordWebhookEventResult,
  ReplaceChunksEntry,
  ReplaceChunksResult,
  SearchInput,
  SearchResult,
  WebhookEventInput,
} from '../repository/knowledge-repository.js';
import { RepositoryError } from '../repository/repository-error.js';
import { type RpcTransport, rpcJson } from '../repository/rpc-transport.js';
import { mapSearchResult, parseVector, type SearchResultRow } from '../repository/schema-rows.js';
import { assertChunks, normalizeSearch, slices } from '../repository/validate-input.js';
import type { JsonValue } from '../spec/v1/json-value.js';
import { LOOKUP_PAGE_SIZE } from './rpc-documents.js';
import { single } from './single-row.js';

export type ChunkMethods = Pick<
  KnowledgeRepository,
  | 'replaceChunks'
  | 'replaceChunksBatch'
  | 'findReusableEmbeddings'
  | 'findReusableEmbeddingHashes'
  | 'recordWebhookEvent'
  | 'completeWebhookEvent'
  | 'search'
>;

/** Scratch space for `vectorText`, grown as needed and reused (the function never yields). */
let scratch = Buffer.alloc(16 * 1024);

/**
 * pgvector's text form: `[1,2,3]`. Each value is written with 9 significant digits of its float32
 * rounding: pgvector stores float32 (halfvec float16), and 9 digits always read back as the same
 * float32, so nothing is lost. The text is a third shorter than `join(',')`'s shortest double form
 * (about 14 characters a value instead of 21: less to send and for PostgreSQL to parse).
 *
 * The digits go into one reused buffer and the text is made from it once: appending to a string
 * builds a chain of 2n rope pieces that stays alive until the end, so a collection mid-vector
 * promotes it to the old generation. At 1536 dimensions that was ~190 KB of garbage per vector
 * and most of an ingest's peak memory (bench/vector-text.ts, bench/pipeline.ts).
 */
export function vectorText(vector: readonly number[]): string {
  // A float32 at 9 significant digits is at most 15 characters ("-1.23456789e-38"), plus a comma.
  const most = vector.length * 16 + 2;
  if (scratch.length < most) scratch = Buffer.alloc(Math.max(most, scratch.length * 2));
  let offset = 0;
  scratch[offset++] = 0x5b; // [
  for (let index = 0; index < vector.length; index++) {
    if (index > 0) scratch[offset++] = 0x2c; // ,
    const value = Math.fround(vector[index] as number);
    // Zeros (most of a sparse vector) stay one character.
    if (value === 0) scratch[offset++] = 0x30;
    else offset += scratch.write(value.toPrecision(9), offset, 'latin1');
  }
  scratch[offset++] = 0x5d; // ]
  return scratch.toString('latin1', 0, offset);
}

/** The `replace_document_chunks` argument. */
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
      embedding_model:
        chunk.embedding == null && !chunk.reuseEmbedding ? null : (chunk.embeddingModel ?? null),
      ...(chunk.reuseEmbedding ? { reuse_embedding: true } : {}),
    })),
  }));
}

const vectorsUnavailable = (what: string) =>
  new RepositoryError({
    reason: 'unavailable',
    message: `${what} needs pgvector, and this database has no embedding column`,
    hint: 'Install the vector extension and run the migrations again (0007_vector_search was deferred)',
  });

export function rpcChunks(transport: RpcTransport, hasVectors: () => Promise<boolean>): ChunkMethods {
  /** One call, so one transaction for every document: `public.replace_document_chunks`. */
  const replaceChunksBatch = async (batch: readonly ReplaceChunksEntry[]): Promise<ReplaceChunksResult[]> => {
    if (batch.length === 0) return [];
    for (const entry of batch) assertChunks(entry.chunks);
    if (
      batch.some((entry) => entry.chunks.some((chunk) => chunk.embedding != null || chunk.reuseEmbedding)) &&
      !(await hasVectors())
    ) {
      throw vectorsUnavailable('Storing chunk embeddings');
    }
    const rows = await transport.rpc<{
      document_id: string;
      chunk_count: number;
      removed: number;
      embeddings_generated: boolean;
      missing_embeddings: string[] | null;
    }>('replace_document_chunks', { p_documents: rpcJson(chunksPayload(batch)) });
    const byDocument = new Map(rows.map((row) => [row.document_id, row]));
    return batch.map((entry) => {
      const row = byDocument.get(entry.documentId);
      if (!row)
        throw new RepositoryError({ reason: 'not_found', message: `document ${entry.documentId} not found` });
      return {
        chunkCount: Number(row.chunk_count),
        removed: Number(row.removed),
        embeddingsGenerated: row.embeddings_generated,
        ...(row.missing_embeddings?.length ? { missingEmbeddings: row.missing_embeddings } : {}),
      };
    });
  };

  return {
    replaceChunksBatch,
    replaceChunks: async (documentId: string, chunks: readonly ChunkInput[]) => {
      const [result] = await replaceChunksBatch([{ documentId, chunks }]);
      return result as ReplaceChunksResult;
    },

    /** One stored embedding per distinct hash (`public.find_reusable_embeddings`), 5,000 hashes a call. */
    findReusableEmbeddings: async (
      orgId: string,
      embeddingModel: string,
      contentHashes: readonly string[],
    ) => {
      const found = new Map<string, number[]>();
      // Without pgvector nothing can have been stored, so there is nothing to reuse.
      if (contentHashes.length === 0 || !(await hasVectors())) return found;
      for (const page of slices([...new Set(contentHashes)], LOOKUP_PAGE_SIZE)) {
        const rows = await transport.rpc<{ content_hash: string; embedding: string | number[] }>(
          'find_reusable_embeddings',
          { p_org_id: orgId, p_embedding_model: embeddingModel, p_content_hashes: page },
        );
        for (const row of rows) found.set(row.content_hash, parseVector(row.embedding));
      }
      return found;
    },

    /** The hashes with a stored vector (`public.find_reusable_embedding_hashes`), 5,000 a call. */
    findReusableEmbeddingHashes: async (
      orgId: string,
      embeddingModel: string,
      contentHashes: readonly string[],
    ) => {
      const found = new Set<string>();
      if (contentHashes.length === 0 || !(await hasVectors())) return found;
      for (const page of slices([...new Set(contentHashes)], LOOKUP_PAGE_SIZE)) {
        // A one-column table is a set of text to PostgREST, which sends the values bare.
        const rows = await transport.rpc<{ content_hash: string } | string>(
          'find_reusable_embedding_hashes',
          {
            p_org_id: orgId,
            p_embedding_model: embeddingModel,
            p_content_hashes: page,
          },
        );
        for (const row of rows) found.add(typeof row === 'string' ? row : row.content_hash);
      }
      return found;
    },

    recordWebhookEvent: async (input: WebhookEventInput) => {
      const rows = await transport.rpc<{ webhook_event_id: string; is_new: boolean; processed: boolean }>(
        'record_webhook_event',
        {
          p_connector_id: input.connectorId,
          p_event_source: input.eventSource,
          p_event_id: input.eventId,
          p_event_type: input.eventType,
          p_payload: rpcJson(input.payload),
          p_headers: input.headers === undefined ? null : rpcJson(input.headers),
        },
      );
      const row = single(rows, 'record_webhook_event');
      const result: RecordWebhookEventResult = {
        id: row.webhook_event_id,
        isNew: row.is_new,
        processed: row.processed,
      };
      return result;
    },

    completeWebhookEvent: async (webhookEventId: string, error?: string | null) => {
      await transport.rpc('complete_webhook_event', {
        p_webhook_event_id: webhookEventId,
        p_error: error ?? null,
      });
    },

    search: async (input: SearchInput): Promise<SearchResult[]> => {
      const search = normalizeSearch(input);
      if (!(await hasVectors())) throw vectorsUnavailable('Search (unified_content_search)');
      const rows = await transport.rpc<SearchResultRow>(searchFunctionName(input.collapseDuplicates), {
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
        metadata_filter: input.metadata === undefined ? null : rpcJson(input.metadata),
        min_full_text_score: search.minFullTextScore,
        rrf_k: search.rrfK,
      });
      return rows.map(mapSearchResult);
    },
  };
}
