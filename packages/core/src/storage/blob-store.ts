/** What `put` accepts: bytes in hand, a web stream, or any async iterable of chunks (a Node `Readable` is one). */
export type BlobBody = Uint8Array | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;

export interface PutBlobOptions {
  /** MIME type to store with the object, where the backend keeps one. */
  contentType?: string | undefined;
  /** Aborting it stops the upload; no partial object is left behind. */
  signal?: AbortSignal | undefined;
}

/** What `put` wrote: size and SHA-256 (hex) computed while the body streamed through. */
export interface PutBlobResult {
  readonly path: string;
  readonly sizeBytes: number;
  readonly sha256: string;
}

/** One stored object, as `head` and `list` describe it. */
export interface BlobInfo {
  readonly path: string;
  readonly sizeBytes: number;
  /** Last write time. */
  readonly modifiedAt: Date;
  /** Set by backends that keep a content type (the local store does not). */
  readonly contentType?: string | undefined;
}

export interface GetBlobOptions {
  signal?: AbortSignal | undefined;
}

/**
 * Object storage for imported files, behind one interface with a local-filesystem and a Supabase
 * Storage adapter. Paths are relative keys with `/` separators (see `buildObjectPath`); a path
 * that could escape the store (`..`, absolute, backslashes, control characters) is refused with
 * `InvalidBlobPathError` before anything touches the backend.
 */
export interface BlobStore {
  /**
   * Writes `body` under `path`, replacing any object there. Atomic: readers see the old object or
   * the whole new one, and a failed or aborted upload leaves nothing. Memory stays flat: the body
   * is streamed, and hashed as it streams.
   */
  put(path: string, body: BlobBody, options?: PutBlobOptions): Promise<PutBlobResult>;
  /** The object's bytes as a stream. Throws `BlobNotFoundError` when there is none. */
  get(path: string, options?: GetBlobOptions): Promise<ReadableStream<Uint8Array>>;
  /** Size and dates of an object, or `undefined` when there is none. */
  head(path: string): Promise<BlobInfo | undefined>;
  /** Deletes the objects that exist (missing ones are not an error); resolves to how many were deleted. */
  delete(paths: readonly string[]): Promise<number>;
  /**
   * Every object whose path starts with `prefix` (a plain string prefix, as in S3: `org-1/` or
   * `org-1/connectors/notion/`), streamed; `''` lists everything. Order is unspecified.
   */
  list(prefix?: string): AsyncIterable<BlobInfo>;
}
