import type { JsonObject } from './json-value.js';

/** Inline text content (Notion pages rendered to Markdown, transcripts already in text form). */
export interface TextContent {
  readonly kind: 'text';
  readonly text: string;
}

/** Inline binary content, small enough to hold in memory. */
export interface BytesContent {
  readonly kind: 'bytes';
  readonly bytes: Uint8Array;
}

/**
 * Streamed binary content (a Drive file download, a recording transcript). The pipeline reads it
 * once, hashing while it streams, so memory stays flat however large the file is.
 */
export interface StreamContent {
  readonly kind: 'stream';
  readonly stream: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;
  /** Size when the source knows it (lets the pipeline refuse oversize files before reading). */
  readonly sizeBytes?: number | undefined;
}

/** Content that is already in hand. */
export type LoadedContent = TextContent | BytesContent | StreamContent;

export interface LoadContentOptions {
  /** Aborted when the run is cancelled; pass it to the download. */
  readonly signal: AbortSignal;
}

/**
 * Content fetched only when the pipeline needs it: after the version check, so a document whose
 * `version` is unchanged is never downloaded. The preferred form for anything costing an API call.
 */
export interface LazyContent {
  readonly kind: 'lazy';
  load(options: LoadContentOptions): Promise<LoadedContent>;
}

export type DocumentContent = LoadedContent | LazyContent;

/** Normalised access level. Providers' own roles map onto these four. */
export type PermissionRole = 'owner' | 'editor' | 'commenter' | 'reader';

/**
 * One principal allowed to read a document, normalised across providers. `user` and `group`
 * carry `id` and/or `email`; `domain` carries `domain` (every account of it); `anyone` is public
 * or "anyone with the link".
 */
export interface DocumentPermission {
  readonly type: 'user' | 'group' | 'domain' | 'anyone';
  /** Provider id of the user or group. */
  readonly id?: string | undefined;
  readonly email?: string | undefined;
  /** For `type: 'domain'`: the domain name, e.g. `example.com`. */
  readonly domain?: string | undefined;
  readonly displayName?: string | undefined;
  readonly role: PermissionRole;
}

/** One item of the source, as the connector sees it. */
export interface SourceDocument {
  /** Stable id in the source (Drive file id, Notion page id). With the connector, the document's identity. */
  readonly externalId: string;
  /** The containing folder/page/channel, when the source has a hierarchy. */
  readonly parentExternalId?: string | undefined;
  readonly title: string;
  /** MIME type of the content, when known; the pipeline sniffs bytes when absent. */
  readonly mimeType?: string | undefined;
  /** Where a human opens it. */
  readonly externalUrl?: string | undefined;
  /**
   * Source version: etag, revision id or modified time, whatever changes when the content does.
   * Unchanged version means the pipeline skips the document without loading its content.
   */
  readonly version?: string | undefined;
  /** Last modification in the source (ISO 8601 string or Date). */
  readonly modifiedAt?: string | Date | undefined;
  /** Source metadata kept with the document (JSON only). Never put credentials here. */
  readonly metadata?: JsonObject | undefined;
  /** Principals allowed to read it, when the connector has the `permissions` capability. */
  readonly permissions?: readonly DocumentPermission[] | undefined;
  readonly content: DocumentContent;
}
