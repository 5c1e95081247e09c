import { randomUUID } from 'node:crypto';
import type {
  ChunkInput,
  KnowledgeRepository,
  ReplaceChunksEntry,
  ReplaceChunksResult,
} from '../knowledge-repository.js';
import { assertChunks } from '../validate-input.js';
import type { MemoryAccess } from './access.js';
import { type ChunkState, notFound, tick } from './state.js';

// Chunks and their embeddings: replaced per document (ids kept by index), reused by content hash.

export function memoryChunks(
  access: MemoryAccess,
): Pick<
  KnowledgeRepository,
  'replaceChunks' | 'replaceChunksBatch' | 'findReusableEmbeddings' | 'findReusableEmbeddingHashes'
> {
  const { state, canRead, assertWriter } = access;
  const reuseKey = (model: string | null | undefined, hash: string) => `${model ?? ''}\u0000${hash}`;

  /** One stored vector per (organisation, model, hash) the chunks reuse, as stored now. */
  const storedVectors = (orgId: string, chunks: readonly ChunkInput[]): Map<string, number[]> => {
    const wanted = new Set(
      chunks
        .filter((chunk) => chunk.reuseEmbedding)
        .map((chunk) => reuseKey(chunk.embeddingModel, chunk.contentHash)),
    );
    const found = new Map<string, number[]>();
    if (wanted.size === 0) return found;
    for (const stored of state.chunks.values()) {
      for (const chunk of stored.values()) {
        const key = reuseKey(chunk.embeddingModel, chunk.contentHash);
        if (chunk.orgId === orgId && chunk.embedding !== null && wanted.has(key) && !found.has(key)) {
          found.set(key, chunk.embedding);
        }
      }
    }
    return found;
  };

  /** Like the SQL function: reused vectors are resolved against the state before any write. */
  const write = (
    documentId: string,
    chunks: readonly ChunkInput[],
    reused: Map<string, number[]>,
  ): ReplaceChunksResult => {
    const document = state.documents.get(documentId);
    if (!document) throw notFound(`document ${documentId} not found`);
    const vectorOf = (chunk: ChunkInput) =>
      chunk.reuseEmbedding ? reused.get(reuseKey(chunk.embeddingModel, chunk.contentHash)) : undefined;
    const missing = [
      ...new Set(
        chunks.filter((chunk) => chunk.reuseEmbedding && !vectorOf(chunk)).map((chunk) => chunk.contentHash),
      ),
    ].sort();
    if (missing.length > 0) {
      return {
        chunkCount: document.chunkCount,
        removed: 0,
        embeddingsGenerated: document.embeddingsGenerated,
        missingEmbeddings: missing,
      };
    }
    const previous = state.chunks.get(documentId) ?? new Map<number, ChunkState>();
    const next = new Map<number, ChunkState>();
    const now = tick(state);
    for (const chunk of chunks) {
      const kept = previous.get(chunk.index);
      next.set(chunk.index, {
        id: kept?.id ?? randomUUID(),
        orgId: document.orgId,
        documentId,
        index: chunk.index,
        context: chunk.context ?? null,
        content: chunk.content,
        contentHash: chunk.contentHash,
        embedding: chunk.embedding != null ? [...chunk.embedding] : (vectorOf(chunk) ?? null),
        embeddingModel:
          chunk.embedding != null || chunk.reuseEmbedding ? (chunk.embeddingModel ?? null) : null,
        createdAt: kept?.createdAt ?? now,
      });
    }
    const removed = [...previous.keys()].filter((index) => !next.has(index)).length;
    state.chunks.set(documentId, next);
    const embeddingsGenerated = chunks.every((chunk) => chunk.embedding != null || chunk.reuseEmbedding);
    document.chunkCount = chunks.length;
    document.chunksGenerated = true;
    document.embeddingsGenerated = embeddingsGenerated;
    return { chunkCount: chunks.length, removed, embeddingsGenerated };
  };

  const chunkStore: Pick<
    KnowledgeRepository,
    'replaceChunks' | 'replaceChunksBatch' | 'findReusableEmbeddings' | 'findReusableEmbeddingHashes'
  > = {
    async replaceChunks(documentId: string, chunks: readonly ChunkInput[]) {
      const [result] = await chunkStore.replaceChunksBatch([{ documentId, chunks }]);
      return result as ReplaceChunksResult;
    },

    async replaceChunksBatch(batch: readonly ReplaceChunksEntry[]) {
      // All or nothing, like the SQL function: everything is checked before anything changes.
      for (const entry of batch) assertChunks(entry.chunks);
      assertWriter('replaceChunks');
      for (const entry of batch) {
        if (!state.documents.has(entry.documentId)) throw notFound(`document ${entry.documentId} not found`);
      }
      const reused = new Map<string, Map<string, number[]>>();
      for (const entry of batch) {
        const orgId = state.documents.get(entry.documentId)?.orgId as string;
        const found = storedVectors(orgId, entry.chunks);
        const known = reused.get(orgId) ?? new Map<string, number[]>();
        for (const [key, vector] of found) if (!known.has(key)) known.set(key, vector);
        reused.set(orgId, known);
      }
      return batch.map((entry) =>
        write(
          entry.documentId,
          entry.chunks,
          reused.get(state.documents.get(entry.documentId)?.orgId as string) ?? new Map(),
        ),
      );
    },

    async findReusableEmbeddingHashes(
      orgId: string,
      embeddingModel: string,
      contentHashes: readonly string[],
    ) {
      return new Set((await chunkStore.findReusableEmbeddings(orgId, embeddingModel, contentHashes)).keys());
    },

    async findReusableEmbeddings(orgId: string, embeddingModel: string, contentHashes: readonly string[]) {
      const wanted = new Set(contentHashes);
      const found = new Map<string, number[]>();
      if (!canRead(orgId)) return found;
      for (const chunks of state.chunks.values()) {
        for (const chunk of chunks.values()) {
          if (
            chunk.orgId === orgId &&
            chunk.embeddingModel === embeddingModel &&
            chunk.embedding !== null &&
            wanted.has(chunk.contentHash)
          ) {
            found.set(chunk.contentHash, [...chunk.embedding]);
          }
        }
      }
      return found;
    },
  };
  return chunkStore;
}
