// Dedup layer 5 (cross-source and near duplicates): what the repositories send and receive, and
// the row mappers every transport shares (the logic is in SQL: migration 0020_cross_source_duplicates).

/** `exact`: the same normalised content as the group's canonical. `near`: MinHash similarity over the threshold. */
export type DuplicateKind = 'exact' | 'near';

/** One stored document to link, with its MinHash signature (`minHashSignature`), if it has one. */
export interface LinkDuplicatesEntry {
  documentId: string;
  minhash?: readonly number[] | null | undefined;
}

export interface LinkDuplicatesInput {
  /** At most 1,000 documents; linked in the order they were stored. */
  documents: readonly LinkDuplicatesEntry[];
  /**
   * Chunks of an exact copy are reused only when every stored chunk has this embedding model (the
   * pipeline's embedder id). Omitted: any model.
   */
  embeddingModel?: string | undefined;
  /** Estimated Jaccard similarity (0 < t <= 1) from which two documents are near duplicates. Default: the database's (0.6, or the setting tributary.near_duplicate_threshold). */
  threshold?: number | undefined;
}

/** Where a document landed: its group's canonical (null when it is one, or unique). */
export interface DuplicateLink {
  documentId: string;
  duplicateOf: string | null;
  kind: DuplicateKind | null;
  /** 1 for exact copies, the estimated Jaccard similarity for near ones, null when not linked. */
  similarity: number | null;
  /** True when an exact copy took a completed copy's chunks and embeddings (nothing left to index). */
  chunksReused: boolean;
}

export interface ListDuplicatesInput {
  orgId: string;
  /** Only the group of this document. */
  documentId?: string | undefined;
  /** Groups returned, 1 to 1,000 (default 100). */
  limit?: number | undefined;
}

/** A member of a duplicate group, as far as the caller may read it. */
export interface DuplicateMember {
  canonicalId: string;
  documentId: string;
  connectorId: string | null;
  externalId: string;
  title: string | null;
  /** Null for the canonical itself. */
  kind: DuplicateKind | null;
  similarity: number | null;
  isCanonical: boolean;
}

/** Another readable document of a search hit's duplicate group (`collapseDuplicates`). */
export interface SearchAlternative {
  documentId: string;
  connectorId: string | null;
  title: string | null;
  externalUrl: string | null;
  mimeType: string | null;
  kind: DuplicateKind | null;
  similarity: number | null;
  isCanonical: boolean;
}

/** The `link_document_duplicates` argument. */
export function linkDuplicatesJson(input: LinkDuplicatesInput): Record<string, unknown>[] {
  return input.documents.map((entry) => ({
    document_id: entry.documentId,
    minhash: entry.minhash ? [...entry.minhash] : null,
  }));
}

export interface DuplicateLinkRow {
  document_id: string;
  duplicate_of: string | null;
  duplicate_kind: DuplicateKind | null;
  similarity: number | string | null;
  chunks_reused: boolean;
}

export function mapDuplicateLink(row: DuplicateLinkRow): DuplicateLink {
  return {
    documentId: row.document_id,
    duplicateOf: row.duplicate_of,
    kind: row.duplicate_kind,
    similarity: row.similarity === null ? null : Number(row.similarity),
    chunksReused: row.chunks_reused === true,
  };
}

export interface DuplicateMemberRow {
  canonical_id: string;
  document_id: string;
  connector_id: string | null;
  external_id: string;
  title: string | null;
  duplicate_kind: DuplicateKind | null;
  similarity: number | string | null;
  is_canonical: boolean;
}

export function mapDuplicateMember(row: DuplicateMemberRow): DuplicateMember {
  return {
    canonicalId: row.canonical_id,
    documentId: row.document_id,
    connectorId: row.connector_id,
    externalId: row.external_id,
    title: row.title,
    kind: row.duplicate_kind,
    similarity: row.similarity === null ? null : Number(row.similarity),
    isCanonical: row.is_canonical === true,
  };
}

interface AlternativeJson {
  document_id: string;
  connector_id: string | null;
  title: string | null;
  external_url: string | null;
  mime_type: string | null;
  duplicate_kind: DuplicateKind | null;
  similarity: number | null;
  is_canonical: boolean;
}

/** The `alternatives` column of `unified_content_search_deduplicated` (jsonb, or its text form). */
export function mapAlternatives(value: unknown): SearchAlternative[] {
  const list = (typeof value === 'string' ? JSON.parse(value) : value) as AlternativeJson[] | null;
  return (list ?? []).map((a) => ({
    documentId: a.document_id,
    connectorId: a.connector_id,
    title: a.title,
    externalUrl: a.external_url,
    mimeType: a.mime_type,
    kind: a.duplicate_kind,
    similarity: a.similarity === null ? null : Number(a.similarity),
    isCanonical: a.is_canonical === true,
  }));
}

/** The search RPC for a `collapseDuplicates` choice (both take the same arguments). */
export function searchFunctionName(collapseDuplicates: boolean | undefined): string {
  return collapseDuplicates ? 'unified_content_search_deduplicated' : 'unified_content_search';
}
