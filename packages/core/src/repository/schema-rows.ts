// Rows of the Tributary schema (snake_case, as Postgres and PostgREST return them) and their mapping
// to the repository's records, shared by the SQL adapters (node-postgres/PGlite and supabase-js).

import { mapAlternatives } from '../dedup/duplicate-types.js';
import type { JsonValue } from '../spec/v1/json-value.js';
import type {
  ConnectorRecord,
  DocumentFailureInput,
  DocumentInput,
  SearchResult,
  SemanticStrategy,
  SyncCounts,
  SyncLiveProgress,
  SyncRunRecord,
} from './knowledge-repository.js';

export interface ConnectorRow {
  id: string;
  org_id: string;
  connector_type: string;
  name: string;
  description: string | null;
  settings: ConnectorRecord['settings'];
  filters: ConnectorRecord['filters'];
  metadata: ConnectorRecord['metadata'];
  is_active: boolean;
  sync_frequency: ConnectorRecord['syncFrequency'];
  sync_cursor: JsonValue | null;
  last_sync_at: Date | string | null;
  last_sync_status: ConnectorRecord['lastSyncStatus'];
  next_sync_at: Date | string | null;
  error_count: number;
  last_error: string | null;
}

export function mapConnector(row: ConnectorRow): ConnectorRecord {
  return {
    id: row.id,
    orgId: row.org_id,
    connectorType: row.connector_type,
    name: row.name,
    description: row.description,
    settings: row.settings,
    filters: row.filters,
    metadata: row.metadata,
    isActive: row.is_active,
    syncFrequency: row.sync_frequency,
    syncCursor: row.sync_cursor ?? null,
    lastSyncAt: toDateOrNull(row.last_sync_at),
    lastSyncStatus: row.last_sync_status,
    nextSyncAt: toDateOrNull(row.next_sync_at),
    errorCount: Number(row.error_count),
    lastError: row.last_error,
  };
}

export interface SyncRunRow {
  id: string;
  org_id: string;
  connector_id: string | null;
  sync_type: SyncRunRecord['syncType'];
  sync_mode: SyncRunRecord['syncMode'];
  status: SyncRunRecord['status'];
  started_at: Date | string;
  completed_at: Date | string | null;
  lease_expires_at: Date | string | null;
  worker_id: string | null;
  documents_synced: number;
  documents_updated: number;
  documents_skipped: number;
  documents_failed: number;
  documents_deleted: number;
  api_calls_made: number;
  bytes_transferred: number | string;
  error_message: string | null;
  /** get_sync_run: metadata.progress. */
  progress?: unknown;
  /** finish_connector_sync: the whole row. */
  metadata?: unknown;
}

export function mapSyncRun(row: SyncRunRow): SyncRunRecord {
  return {
    id: row.id,
    orgId: row.org_id,
    connectorId: row.connector_id,
    syncType: row.sync_type,
    syncMode: row.sync_mode,
    status: row.status,
    startedAt: toDate(row.started_at),
    completedAt: toDateOrNull(row.completed_at),
    leaseExpiresAt: toDateOrNull(row.lease_expires_at),
    workerId: row.worker_id,
    documentsSynced: Number(row.documents_synced),
    documentsUpdated: Number(row.documents_updated),
    documentsSkipped: Number(row.documents_skipped),
    documentsFailed: Number(row.documents_failed),
    documentsDeleted: Number(row.documents_deleted),
    apiCallsMade: Number(row.api_calls_made),
    bytesTransferred: Number(row.bytes_transferred),
    errorMessage: row.error_message,
    progress: liveProgress(
      row.progress ?? (row.metadata as { progress?: unknown } | null | undefined)?.progress,
    ),
  };
}

/** A stored `metadata.progress`, or null when there is none (or it is not one). */
export function liveProgress(value: unknown): SyncLiveProgress | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const progress = value as Record<string, unknown>;
  if (typeof progress.listed !== 'number' || typeof progress.listing !== 'boolean') return null;
  return {
    listed: progress.listed,
    listing: progress.listing,
    ...(typeof progress.total === 'number' ? { total: progress.total } : {}),
    at: typeof progress.at === 'string' ? progress.at : '',
  };
}

export function countsJson(counts: SyncCounts): Record<string, number> {
  const json: Record<string, number> = {};
  const names: Array<[keyof SyncCounts, string]> = [
    ['documentsSynced', 'documents_synced'],
    ['documentsUpdated', 'documents_updated'],
    ['documentsSkipped', 'documents_skipped'],
    ['documentsFailed', 'documents_failed'],
    ['documentsDeleted', 'documents_deleted'],
    ['apiCallsMade', 'api_calls_made'],
    ['bytesTransferred', 'bytes_transferred'],
  ];
  for (const [from, to] of names) {
    const value = counts[from];
    if (value !== undefined) json[to] = value;
  }
  return json;
}

export function documentJson(document: DocumentInput): Record<string, unknown> {
  const modified = document.sourceModifiedAt;
  return {
    external_id: document.externalId,
    parent_external_id: document.parentExternalId ?? null,
    title: document.title ?? null,
    mime_type: document.mimeType ?? null,
    external_url: document.externalUrl ?? null,
    source_version: document.sourceVersion ?? null,
    source_modified_at: modified instanceof Date ? modified.toISOString() : (modified ?? null),
    content: document.content ?? null,
    content_hash: document.contentHash ?? null,
    file_size_bytes: document.fileSizeBytes ?? null,
    storage_path: document.storagePath ?? null,
    source_metadata: document.sourceMetadata ?? null,
    metadata: document.metadata ?? null,
    uploaded_by: document.uploadedBy ?? null,
    processing_status: document.processingStatus ?? null,
  };
}

/** The `record_document_failures` element (same JSON on every transport). */
export function failureJson(failure: DocumentFailureInput): Record<string, unknown> {
  const modified = failure.sourceModifiedAt;
  return {
    external_id: failure.externalId,
    error: failure.error,
    parent_external_id: failure.parentExternalId ?? null,
    title: failure.title ?? null,
    mime_type: failure.mimeType ?? null,
    external_url: failure.externalUrl ?? null,
    source_modified_at: modified instanceof Date ? modified.toISOString() : (modified ?? null),
    source_metadata: failure.sourceMetadata ?? null,
    metadata: failure.metadata ?? null,
  };
}

/** pgvector's text form `[1,2,3]` (PostgREST returns vector columns as that text). */
export function parseVector(value: string | number[]): number[] {
  return typeof value === 'string' ? (JSON.parse(value) as number[]) : value;
}

export function toDate(value: Date | string): Date {
  return value instanceof Date ? value : new Date(value);
}

export function toDateOrNull(value: Date | string | null): Date | null {
  return value == null ? null : toDate(value);
}

/** A row of `unified_content_search`. */
export interface SearchResultRow {
  chunk_id: string;
  document_id: string;
  connector_id: string | null;
  title: string | null;
  external_url: string | null;
  mime_type: string | null;
  chunk_index: number;
  content: string;
  snippet: string;
  source_metadata: Record<string, JsonValue> | null;
  score: number;
  full_text_rank: number | null;
  full_text_score: number | null;
  full_text_contribution: number | null;
  semantic_rank: number | null;
  similarity: number | null;
  semantic_contribution: number | null;
  semantic_strategy: SemanticStrategy | null;
  /** Only from `unified_content_search_deduplicated`. */
  alternatives?: unknown;
}

const numberOrNull = (value: number | string | null | undefined) => (value == null ? null : Number(value));

export function mapSearchResult(row: SearchResultRow): SearchResult {
  return {
    chunkId: row.chunk_id,
    documentId: row.document_id,
    connectorId: row.connector_id,
    title: row.title,
    externalUrl: row.external_url,
    mimeType: row.mime_type ?? null,
    chunkIndex: Number(row.chunk_index),
    snippet: row.snippet,
    content: row.content,
    sourceMetadata: row.source_metadata ?? {},
    score: Number(row.score),
    fullTextRank: numberOrNull(row.full_text_rank),
    fullTextScore: numberOrNull(row.full_text_score),
    fullTextContribution: Number(row.full_text_contribution ?? 0),
    semanticRank: numberOrNull(row.semantic_rank),
    similarity: numberOrNull(row.similarity),
    semanticContribution: Number(row.semantic_contribution ?? 0),
    semanticStrategy: row.semantic_strategy ?? null,
    ...(row.alternatives === undefined ? {} : { alternatives: mapAlternatives(row.alternatives) }),
  };
}
