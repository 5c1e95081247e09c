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
): Pick<KnowledgeRepository, 'replaceChunks' | 'replaceChunksBatch' | 'findReusableEmbeddings'> {
  const { state, canRead, assertWriter } = access;
  const chunkStore: Pick<
    KnowledgeRepository,
    'replaceChunks' | 'replaceChunksBatch' | 'findReusableEmbeddings'
  > = {
    async replaceChunks(documentId: string, chunks: readonly ChunkInput[]) {
      assertChunks(chunks);
      assertWriter('replaceChunks');
      const document = state.documents.get(documentId);
      if (!document) throw notFound(`document ${documentId} not found`);
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
          embedding: chunk.embedding == null ? null : [...chunk.embedding],
          embeddingModel: chunk.embedding == null ? null : (chunk.embeddingModel ?? null),
          createdAt: kept?.createdAt ?? now,
        });
      }
      const removed = [...previous.keys()].filter((index) => !next.has(index)).length;
      state.chunks.set(documentId, next);
      const embeddingsGenerated = chunks.every((chunk) => chunk.embedding != null);
      document.chunkCount = chunks.length;
      document.chunksGenerated = true;
      document.embeddingsGenerated = embeddingsGenerated;
      return { chunkCount: chunks.length, removed, embeddingsGenerated };
    },

    async replaceChunksBatch(batch: readonly ReplaceChunksEntry[]) {
      // All or nothing, like the SQL function: everything is checked before anything changes.
      assertWriter('replaceChunks');
      for (const entry of batch) {
        assertChunks(entry.chunks);
        if (!state.documents.has(entry.documentId)) throw notFound(`document ${entry.documentId} not found`);
      }
      const results: ReplaceChunksResult[] = [];
      for (const entry of batch) results.push(await chunkStore.replaceChunks(entry.documentId, entry.chunks));
      return results;
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
