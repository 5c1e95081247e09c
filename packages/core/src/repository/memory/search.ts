import type { JsonValue } from '../../spec/v1/json-value.js';
import type { KnowledgeRepository, SearchInput, SearchResult } from '../knowledge-repository.js';
import { RepositoryError } from '../repository-error.js';
import { invalidInput, normalizeSearch } from '../validate-input.js';
import type { MemoryAccess } from './access.js';
import type { ChunkState, DocumentState } from './state.js';

// Org-scoped hybrid search: a token match standing in for full text, cosine similarity for the
// semantic side, the two fused by reciprocal rank (k from the input, 60 by default).

export function memorySearch(access: MemoryAccess): Pick<KnowledgeRepository, 'search'> {
  const { state, canRead } = access;
  return {
    async search(input: SearchInput): Promise<SearchResult[]> {
      const search = normalizeSearch(input);
      if (!canRead(input.orgId)) {
        throw new RepositoryError({
          reason: 'not_allowed',
          message: `not a member of organisation ${input.orgId}`,
          sqlState: '42501',
        });
      }
      const connectorIds = input.connectorIds ? new Set(input.connectorIds) : undefined;
      const candidates: Array<{ chunk: ChunkState; document: DocumentState }> = [];
      for (const [documentId, chunks] of state.chunks) {
        const document = state.documents.get(documentId);
        if (
          !document ||
          document.orgId !== input.orgId ||
          document.isDeleted ||
          document.processingStatus !== 'completed' ||
          (connectorIds && !connectorIds.has(document.connectorId)) ||
          (input.mimeTypes && !input.mimeTypes.includes(document.mimeType ?? '')) ||
          (input.metadata && !containsJson(document.sourceMetadata, input.metadata))
        ) {
          continue;
        }
        for (const chunk of chunks.values()) candidates.push({ chunk, document });
      }
      const candidateCount = Math.min(search.limit * 4, 400);
      const byId = (a: { chunk: ChunkState }, b: { chunk: ChunkState }) =>
        a.chunk.id.localeCompare(b.chunk.id);

      const queryTokens = search.queryText ? [...new Set(tokenize(search.queryText))] : [];
      // Any query word matches, as in SQL (0015). A stand-in for BM25: rank by how many distinct
      // query words the chunk covers, then how often they occur; the score is the share of the
      // chunk's words that are query words. No stemming, stop words or statistics.
      const fullText = new Map<string, { rank: number; score: number }>();
      if (queryTokens.length > 0) {
        const scored = candidates
          .map((candidate) => {
            const tokens = tokenize(`${candidate.chunk.context ?? ''} ${candidate.chunk.content}`);
            const covered = queryTokens.filter((token) => tokens.includes(token)).length;
            const hits = tokens.filter((token) => queryTokens.includes(token)).length;
            return { ...candidate, covered, hits, score: hits / Math.max(tokens.length, 1) };
          })
          .filter((candidate) => candidate.covered > 0)
          .sort((a, b) => b.covered - a.covered || b.hits - a.hits || byId(a, b))
          .slice(0, candidateCount)
          .filter((candidate) => candidate.score >= search.minFullTextScore);
        for (const [position, candidate] of scored.entries()) {
          fullText.set(candidate.chunk.id, { rank: position + 1, score: candidate.score });
        }
      }

      const semantic = new Map<string, { rank: number; similarity: number }>();
      if (search.queryEmbedding) {
        const query = search.queryEmbedding;
        if (state.vectorDimensions !== undefined && query.length !== state.vectorDimensions) {
          throw invalidInput(
            `queryEmbedding has ${query.length} dimensions; this repository stores ${state.vectorDimensions}`,
          );
        }
        const scored = candidates
          .filter(
            (candidate) =>
              candidate.chunk.embedding !== null && candidate.chunk.embeddingModel === search.embeddingModel,
          )
          .map((candidate) => ({ ...candidate, similarity: cosine(candidate.chunk.embedding ?? [], query) }))
          .sort((a, b) => b.similarity - a.similarity || byId(a, b))
          .slice(0, candidateCount)
          .filter((candidate) => candidate.similarity >= search.matchThreshold);
        for (const [position, candidate] of scored.entries()) {
          semantic.set(candidate.chunk.id, { rank: position + 1, similarity: candidate.similarity });
        }
      }

      const k = search.rrfK;
      return candidates
        .filter(({ chunk }) => fullText.has(chunk.id) || semantic.has(chunk.id))
        .map(({ chunk, document }): SearchResult => {
          const fullTextHit = fullText.get(chunk.id);
          const semanticHit = semantic.get(chunk.id);
          const fullTextContribution = fullTextHit ? search.fullTextWeight / (k + fullTextHit.rank) : 0;
          const semanticContribution = semanticHit ? search.semanticWeight / (k + semanticHit.rank) : 0;
          return {
            chunkId: chunk.id,
            documentId: document.id,
            connectorId: document.connectorId,
            title: document.title,
            externalUrl: document.externalUrl,
            mimeType: document.mimeType,
            chunkIndex: chunk.index,
            snippet:
              queryTokens.length > 0 ? highlight(chunk.content, queryTokens) : chunk.content.slice(0, 240),
            content: chunk.content,
            sourceMetadata: structuredClone(document.sourceMetadata),
            score: fullTextContribution + semanticContribution,
            fullTextRank: fullTextHit?.rank ?? null,
            fullTextScore: fullTextHit?.score ?? null,
            fullTextContribution,
            semanticRank: semanticHit?.rank ?? null,
            similarity: semanticHit?.similarity ?? null,
            semanticContribution,
            semanticStrategy: search.queryEmbedding ? 'exact' : null,
          };
        })
        .sort((a, b) => b.score - a.score || a.chunkId.localeCompare(b.chunkId))
        .slice(0, search.limit);
    },
  };
}

/** jsonb `@>` for plain JSON values: objects by key, arrays by element, scalars by value. */
function containsJson(container: JsonValue | undefined, wanted: JsonValue): boolean {
  if (Array.isArray(wanted)) {
    return (
      Array.isArray(container) && wanted.every((item) => container.some((has) => containsJson(has, item)))
    );
  }
  if (wanted !== null && typeof wanted === 'object') {
    if (container === null || typeof container !== 'object' || Array.isArray(container)) return false;
    return Object.entries(wanted).every(
      ([key, value]) => value !== undefined && containsJson(container[key], value),
    );
  }
  return container === wanted;
}

function tokenize(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

function cosine(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) {
    throw invalidInput(`queryEmbedding has ${b.length} dimensions, stored embeddings have ${a.length}`);
  }
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (let i = 0; i < a.length; i += 1) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    dot += x * y;
    normA += x * x;
    normB += y * y;
  }
  return normA === 0 || normB === 0 ? 0 : dot / Math.sqrt(normA * normB);
}

/** Marks query words with `**` in the first 240 characters, like the SQL snippet's StartSel/StopSel. */
function highlight(content: string, tokens: readonly string[]): string {
  return content
    .slice(0, 240)
    .replace(/[\p{L}\p{N}]+/gu, (word) => (tokens.includes(word.toLowerCase()) ? `**${word}**` : word));
}
