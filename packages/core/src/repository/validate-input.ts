// Argument checks shared by every adapter, so bad input fails the same way everywhere and before
// anything is written.
import type { ChunkInput, DocumentInput, SearchInput } from './knowledge-repository.js';
import { RepositoryError } from './repository-error.js';

const sha256Hex = /^[0-9a-f]{64}$/;

export function invalidInput(message: string, hint?: string): RepositoryError {
  return new RepositoryError({ reason: 'invalid_input', message, hint });
}

export function assertLeaseSeconds(leaseSeconds: number): void {
  if (!Number.isInteger(leaseSeconds) || leaseSeconds < 5 || leaseSeconds > 86_400) {
    throw invalidInput(`leaseSeconds must be an integer between 5 and 86400, got ${leaseSeconds}`);
  }
}

export function assertMaxFraction(maxFraction: number): void {
  if (!(maxFraction >= 0 && maxFraction <= 1)) {
    throw invalidInput(`maxFraction must be between 0 and 1, got ${maxFraction}`);
  }
}

const uuidText = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Document ids (imported_documents.id) passed by id: each a UUID. */
export function assertDocumentIds(documentIds: readonly string[]): void {
  for (const [position, id] of documentIds.entries()) {
    if (typeof id !== 'string' || !uuidText.test(id)) {
      throw invalidInput(
        `documentIds[${position}] is not a document id (a UUID), got ${JSON.stringify(id)}`,
        'Pass the ids getDocumentVersions returns (DocumentVersion.id), not external ids.',
      );
    }
  }
}

export function assertDocuments(documents: readonly DocumentInput[]): void {
  const seen = new Set<string>();
  for (const [position, document] of documents.entries()) {
    if (typeof document.externalId !== 'string' || document.externalId === '') {
      throw invalidInput(`documents[${position}] needs a non-empty externalId`);
    }
    if (seen.has(document.externalId)) {
      throw invalidInput(
        `documents[${position}] repeats externalId "${document.externalId}"`,
        'Send each document once per call (the last version of it)',
      );
    }
    seen.add(document.externalId);
    if (document.contentHash != null && !sha256Hex.test(document.contentHash)) {
      throw invalidInput(`documents[${position}].contentHash must be 64 lowercase hex characters (sha256)`);
    }
  }
}

export function assertChunks(chunks: readonly ChunkInput[]): void {
  const positions = new Set<number>();
  for (const [position, chunk] of chunks.entries()) {
    const where = `chunks[${position}]`;
    if (!Number.isInteger(chunk.index) || chunk.index < 0) {
      throw invalidInput(`${where}.index must be an integer >= 0, got ${chunk.index}`);
    }
    if (positions.has(chunk.index)) throw invalidInput(`${where} repeats index ${chunk.index}`);
    positions.add(chunk.index);
    if (typeof chunk.content !== 'string' || chunk.content.length === 0) {
      throw invalidInput(`${where}.content must be a non-empty string`);
    }
    if (!sha256Hex.test(chunk.contentHash)) {
      throw invalidInput(`${where}.contentHash must be 64 lowercase hex characters (sha256)`);
    }
    if (chunk.reuseEmbedding !== undefined && typeof chunk.reuseEmbedding !== 'boolean') {
      throw invalidInput(`${where}.reuseEmbedding must be a boolean`);
    }
    if (chunk.reuseEmbedding && chunk.embedding != null) {
      throw invalidInput(`${where} has both an embedding and reuseEmbedding: send one of them`);
    }
    if (chunk.reuseEmbedding && !chunk.embeddingModel) {
      throw invalidInput(
        `${where} has reuseEmbedding but no embeddingModel (the model whose stored vector to copy)`,
      );
    }
    if (chunk.embedding != null) {
      assertVector(chunk.embedding, `${where}.embedding`);
      if (!chunk.embeddingModel) throw invalidInput(`${where} has an embedding but no embeddingModel`);
    }
  }
}

export function assertVector(vector: readonly number[], name: string): void {
  // A plain loop: a callback would box each double of a 1536-value vector (~24 KB of garbage).
  let finite = Array.isArray(vector) && vector.length > 0;
  for (let index = 0; finite && index < vector.length; index++) finite = Number.isFinite(vector[index]);
  if (!finite) throw invalidInput(`${name} must be a non-empty array of finite numbers`);
}

export interface NormalizedSearch {
  queryText: string | undefined;
  queryEmbedding: readonly number[] | undefined;
  embeddingModel: string | undefined;
  limit: number;
  fullTextWeight: number;
  semanticWeight: number;
  matchThreshold: number;
  minFullTextScore: number;
  rrfK: number;
}

/** Finite and within [min, max]; NaN and infinities are refused by name (they compare oddly). */
function assertBetween(value: number, min: number, max: number, name: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw invalidInput(`${name} must be a finite number between ${min} and ${max}, got ${value}`);
  }
}

export function normalizeSearch(input: SearchInput): NormalizedSearch {
  if (!input.orgId) throw invalidInput('search needs an orgId');
  const limit = input.limit ?? 20;
  if (!Number.isInteger(limit) || limit < 1 || limit > 200) {
    throw invalidInput(`limit must be an integer between 1 and 200, got ${limit}`);
  }
  const queryText = input.queryText?.trim() ? input.queryText : undefined;
  if (queryText !== undefined && queryText.length > 2000) {
    throw invalidInput('queryText is longer than 2000 characters');
  }
  if (input.queryEmbedding !== undefined) {
    assertVector(input.queryEmbedding, 'queryEmbedding');
    // A zero vector has no direction: every cosine similarity to it is undefined.
    if (input.queryEmbedding.every((value) => value === 0)) throw invalidInput('queryEmbedding is all zeros');
    if (!input.embeddingModel?.trim()) {
      throw invalidInput(
        'queryEmbedding needs embeddingModel',
        'Pass the id of the embedder that made it (Embedder.id): only chunks of the same model are compared',
      );
    }
  }
  if (queryText === undefined && input.queryEmbedding === undefined) {
    throw invalidInput('search needs queryText, queryEmbedding, or both');
  }
  const fullTextWeight = input.weights?.fullText ?? 1;
  const semanticWeight = input.weights?.semantic ?? 1;
  assertBetween(fullTextWeight, 0, Number.MAX_VALUE, 'weights.fullText');
  assertBetween(semanticWeight, 0, Number.MAX_VALUE, 'weights.semantic');
  if (fullTextWeight === 0 && semanticWeight === 0) throw invalidInput('search weights are both 0');
  const matchThreshold = input.matchThreshold ?? 0;
  assertBetween(matchThreshold, -1, 1, 'matchThreshold');
  const minFullTextScore = input.minFullTextScore ?? 0;
  assertBetween(minFullTextScore, 0, Number.MAX_VALUE, 'minFullTextScore');
  const rrfK = input.rrfK ?? 60;
  if (!Number.isInteger(rrfK) || rrfK < 1 || rrfK > 1000) {
    throw invalidInput(`rrfK must be an integer between 1 and 1000, got ${rrfK}`);
  }
  if (
    input.metadata !== undefined &&
    (input.metadata === null || typeof input.metadata !== 'object' || Array.isArray(input.metadata))
  ) {
    throw invalidInput('metadata must be a JSON object');
  }
  return {
    queryText,
    queryEmbedding: input.queryEmbedding,
    embeddingModel: input.queryEmbedding === undefined ? undefined : input.embeddingModel,
    limit,
    fullTextWeight,
    semanticWeight,
    matchThreshold,
    minFullTextScore,
    rrfK,
  };
}

/** Splits a list into slices of at most `size` items. */
export function slices<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < items.length; start += size) result.push(items.slice(start, start + size));
  return result;
}
