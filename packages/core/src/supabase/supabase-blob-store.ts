import { createHash, type Hash } from 'node:crypto';
import type { SupabaseClient } from '@supabase/supabase-js';
import { AbortError } from '../errors/abort-error.js';
import { hasErrorMarker, TributaryError } from '../errors/tributary-error.js';
import { assertSafeBlobPath } from '../storage/blob-path.js';
import type {
  BlobBody,
  BlobInfo,
  BlobStore,
  GetBlobOptions,
  PutBlobOptions,
  PutBlobResult,
} from '../storage/blob-store.js';
import { BlobNotFoundError, InvalidBlobPathError } from '../storage/blob-store-errors.js';
import { CONNECTOR_IMPORTS_BUCKET } from '../storage/object-path.js';
import { readOrAbort } from '../storage/read-or-abort.js';

export interface SupabaseBlobStoreOptions {
  /**
   * A supabase-js client. Its key decides what Storage allows: a service role key (sync workers,
   * RLS bypassed) or a user's access token, so the bucket's policies apply to that user (for
   * `connector-imports`: paths must start with an organisation the user belongs to; only the
   * uploader or an org owner/admin may replace or delete).
   */
  client: SupabaseClient;
  /** The bucket; default `connector-imports` (created by @tributary/sql's 0006_storage migration). */
  bucket?: string | undefined;
  /** `Cache-Control: max-age` stored with uploads, in seconds; default 3600 (supabase-js's default). */
  cacheControlSeconds?: number | undefined;
  /** Entries per `list` request (Storage allows up to 1,000); default 1,000. */
  listPageSize?: number | undefined;
}

export type SupabaseStorageErrorReason =
  /** The key or the policies refused it (RLS, anon key, expired token). */
  | 'not_allowed'
  /** Larger than the bucket's `file_size_limit` or the project's upload limit. */
  | 'too_large'
  /** The content type is not in the bucket's `allowed_mime_types`. */
  | 'unsupported_type'
  /** The bucket does not exist (or the key cannot see it). */
  | 'bucket_not_found'
  /** Storage reported a conflicting write. */
  | 'conflict'
  /** Storage could not be reached or failed (network, 429, 5xx): retryable. */
  | 'unavailable'
  /** Any other refusal of the request. */
  | 'invalid_request';

const storageErrorMarker = Symbol.for('tributary.error.supabase_storage');

export interface SupabaseStorageErrorOptions {
  reason: SupabaseStorageErrorReason;
  message: string;
  hint?: string | undefined;
  /** Storage's status (the `statusCode` of its error body, e.g. 403), when it answered. */
  status?: number | undefined;
  /** Storage's error code (`AccessDenied`, `EntityTooLarge`, `InvalidMimeType`...). */
  storageCode?: string | undefined;
  path?: string | undefined;
  cause?: unknown;
}

/**
 * Supabase Storage refused or failed a blob store call. `reason` says why; `isRetryable` is true
 * only for `unavailable`. Missing objects are `BlobNotFoundError` and refused keys
 * `InvalidBlobPathError`, as with every blob store.
 */
export class SupabaseStorageError extends TributaryError {
  readonly [storageErrorMarker] = true;
  readonly reason: SupabaseStorageErrorReason;
  readonly status: number | undefined;
  readonly storageCode: string | undefined;
  readonly path: string | undefined;
  readonly isRetryable: boolean;

  constructor(options: SupabaseStorageErrorOptions) {
    super({
      code: 'supabase_storage_error',
      area: 'storage',
      message: options.message,
      hint: options.hint,
      cause: options.cause,
    });
    this.reason = options.reason;
    this.status = options.status;
    this.storageCode = options.storageCode;
    this.path = options.path;
    this.isRetryable = options.reason === 'unavailable';
  }

  static override isInstance(error: unknown): error is SupabaseStorageError {
    return hasErrorMarker(error, storageErrorMarker);
  }
}

/** What supabase-js's storage client returns as `error` (a `StorageApiError` or `StorageUnknownError`). */
interface StorageErrorLike {
  name?: unknown;
  message?: unknown;
  status?: unknown;
  statusCode?: unknown;
  code?: unknown;
  originalError?: unknown;
}

/**
 * Turns a supabase-js storage error into Tributary's blob store errors. Storage answers most
 * client errors with HTTP 400 and the real status in the body's `statusCode`, so that is what is
 * read: 404 `NoSuchKey` is `BlobNotFoundError`, `InvalidKey` is `InvalidBlobPathError`, the rest a
 * `SupabaseStorageError` with a reason.
 */
export function mapStorageError(
  error: unknown,
  context: { operation: string; bucket: string; path?: string | undefined },
): TributaryError {
  if (TributaryError.isInstance(error)) return error;
  const details = (typeof error === 'object' && error !== null ? error : {}) as StorageErrorLike;
  const storageCode = typeof details.code === 'string' && details.code !== '' ? details.code : undefined;
  const bodyStatus = Number(details.statusCode);
  const httpStatus = typeof details.status === 'number' ? details.status : undefined;
  const status = Number.isInteger(bodyStatus) && bodyStatus >= 100 ? bodyStatus : httpStatus;
  const rawMessage = typeof details.message === 'string' ? details.message : String(error);
  const path = context.path;
  const target = `${context.operation}${path === undefined ? '' : ` ${JSON.stringify(path)}`} in bucket "${context.bucket}"`;
  const what = `${target} failed: ${rawMessage}${storageCode ? ` (${storageCode}${status ? `, ${status}` : ''})` : status ? ` (${status})` : ''}`;
  const make = (reason: SupabaseStorageErrorReason, hint: string) =>
    new SupabaseStorageError({ reason, message: what, hint, status, storageCode, path, cause: error });

  if (storageCode === 'InvalidKey' && path !== undefined) {
    return new InvalidBlobPathError({
      path,
      reason:
        "Supabase Storage refused the key (it accepts ASCII letters, digits, spaces and !-_.*'()&$@=;:+,? only)",
      hint: 'Make file names ASCII before building the path (keep the original name in the document metadata)',
    });
  }
  if (storageCode === 'NoSuchBucket' || (status === 404 && /bucket/i.test(rawMessage))) {
    return make(
      'bucket_not_found',
      `Create the bucket "${context.bucket}" (for connector-imports, apply the @tributary/sql migrations) or pass the right bucket name`,
    );
  }
  if (storageCode === 'NoSuchKey' || status === 404) {
    return new BlobNotFoundError({ path: path ?? '', cause: error });
  }
  if (storageCode === 'EntityTooLarge' || status === 413) {
    return make(
      'too_large',
      "Raise the bucket's file_size_limit (and the project's upload limit), or store smaller files",
    );
  }
  if (storageCode === 'InvalidMimeType' || status === 415) {
    return make(
      'unsupported_type',
      "Pass a contentType listed in the bucket's allowed_mime_types, without parameters such as ;charset=",
    );
  }
  if (storageCode === 'AccessDenied' || storageCode === 'InvalidJWT' || status === 401 || status === 403) {
    return make(
      'not_allowed',
      "Storage's policies refused it: use a service role client for workers, or a user token whose path starts with an organisation the user belongs to (only the uploader or an org admin may replace or delete)",
    );
  }
  if (status === 409) return make('conflict', 'Another write to the same object raced this one; try again');
  if (status === undefined || status === 429 || status >= 500) {
    return make('unavailable', 'Check the project URL and the network; the call may be retried');
  }
  return make('invalid_request', 'Check the bucket settings and the request; report a bug if they are right');
}

/**
 * A `BlobStore` on Supabase Storage through supabase-js (`client.storage.from(bucket)`). Uploads
 * stream: the body goes out as a web stream (`duplex: 'half'`) and is hashed on the way, so a
 * 2 GB file never sits in memory; `put` replaces (upsert), `get` returns the download as a stream,
 * `head` reads the object's info, `delete` removes in batches of 1,000 and `list` walks the folder
 * listing. Objects the key may not see or delete count as missing, exactly as Storage reports them.
 * Keys are checked with `assertSafeBlobPath` before any request; Supabase additionally refuses
 * non-ASCII keys (`InvalidBlobPathError`).
 *
 * @example
 * import { createClient } from '@supabase/supabase-js';
 * import { createSupabaseBlobStore } from '@tributary/core/supabase';
 *
 * const store = createSupabaseBlobStore({ client: createClient(url, serviceRoleKey) });
 * await store.put(`${orgId}/connectors/upload/${connectorId}/2025-01-31/pdf/f1-report.pdf`, stream, {
 *   contentType: 'application/pdf',
 * });
 */
export function createSupabaseBlobStore(options: SupabaseBlobStoreOptions): BlobStore {
  const client = options?.client;
  if (typeof client?.storage?.from !== 'function') {
    throw new TypeError(
      '[tributary] [storage] createSupabaseBlobStore needs { client }: a supabase-js client from createClient(url, key). Pass one.',
    );
  }
  const bucket = options.bucket ?? CONNECTOR_IMPORTS_BUCKET;
  const cacheControl = String(options.cacheControlSeconds ?? 3600);
  const pageSize = Math.min(Math.max(Math.floor(options.listPageSize ?? 1000), 1), 1000);
  const files = () => client.storage.from(bucket);

  async function put(path: string, body: BlobBody, putOptions: PutBlobOptions = {}): Promise<PutBlobResult> {
    assertSafeBlobPath(path);
    const signal = putOptions.signal;
    throwIfAborted(signal, 'put', path);
    const hash = createHash('sha256');
    const counter = { bytes: 0, sourceError: undefined as unknown };
    let uploadBody: Uint8Array | ReadableStream<Uint8Array>;
    if (body instanceof Uint8Array) {
      hash.update(body);
      counter.bytes = body.byteLength;
      uploadBody = body;
    } else {
      uploadBody = meteredStream(body, hash, counter, signal, path);
    }
    let error: unknown;
    try {
      ({ error } = await files().upload(encodeKey(path), uploadBody, {
        contentType: putOptions.contentType ?? 'application/octet-stream',
        cacheControl,
        upsert: true,
        duplex: 'half',
      }));
    } catch (thrown) {
      error = thrown;
    }
    if (error) {
      // A cancelled or failing source ends the request; report that, not the transport's wrapper.
      if (signal?.aborted)
        throw new AbortError({ area: 'storage', operation: `put ${path}`, cause: signal.reason });
      if (counter.sourceError !== undefined) throw counter.sourceError;
      throw mapStorageError(error, { operation: 'put', bucket, path });
    }
    return { path, sizeBytes: counter.bytes, sha256: hash.digest('hex') };
  }

  async function get(path: string, getOptions: GetBlobOptions = {}): Promise<ReadableStream<Uint8Array>> {
    assertSafeBlobPath(path);
    const signal = getOptions.signal;
    throwIfAborted(signal, 'get', path);
    let result: { data: ReadableStream<Uint8Array> | null; error: unknown };
    try {
      result = await files()
        .download(encodeKey(path), {}, signal ? { signal } : undefined)
        .asStream();
    } catch (thrown) {
      result = { data: null, error: thrown };
    }
    if (result.error || !result.data) {
      if (signal?.aborted)
        throw new AbortError({ area: 'storage', operation: `get ${path}`, cause: signal.reason });
      throw mapStorageError(result.error ?? new Error('Storage returned no body'), {
        operation: 'get',
        bucket,
        path,
      });
    }
    return signal ? abortAware(result.data, signal, path) : result.data;
  }

  async function head(path: string): Promise<BlobInfo | undefined> {
    assertSafeBlobPath(path);
    const { data, error } = await files().info(encodeKey(path));
    if (error) {
      const mapped = mapStorageError(error, { operation: 'head', bucket, path });
      if (BlobNotFoundError.isInstance(mapped)) return undefined;
      throw mapped;
    }
    const info = data as unknown as Record<string, unknown>;
    const metadata = (info.metadata ?? {}) as Record<string, unknown>;
    const modified = info.lastModified ?? info.updatedAt ?? info.createdAt;
    return {
      path,
      sizeBytes: Number(info.size ?? metadata.size ?? 0),
      modifiedAt: new Date(typeof modified === 'string' ? modified : Date.now()),
      contentType: typeof info.contentType === 'string' ? info.contentType : undefined,
    };
  }

  async function deleteBlobs(paths: readonly string[]): Promise<number> {
    // Check every key first so one bad key deletes nothing.
    for (const path of paths) assertSafeBlobPath(path);
    let deleted = 0;
    for (let start = 0; start < paths.length; start += 1000) {
      const batch = [...new Set(paths.slice(start, start + 1000))];
      const { data, error } = await files().remove(batch);
      if (error) throw mapStorageError(error, { operation: 'delete', bucket, path: batch[0] });
      deleted += data?.length ?? 0;
    }
    return deleted;
  }

  async function* list(prefix = ''): AsyncGenerator<BlobInfo> {
    assertSafeBlobPath(prefix, { prefix: true });
    // Storage lists one folder level at a time: start in the deepest folder the prefix names
    // completely, keep entries starting with the rest, and descend into the matching folders.
    const slash = prefix.lastIndexOf('/');
    yield* walk(prefix.slice(0, slash + 1), prefix.slice(slash + 1));
  }

  async function* walk(folder: string, startsWith: string): AsyncGenerator<BlobInfo> {
    const folders: string[] = [];
    for (let offset = 0; ; offset += pageSize) {
      const { data, error } = await files().list(folder, {
        limit: pageSize,
        offset,
        search: startsWith,
        sortBy: { column: 'name', order: 'asc' },
      });
      if (error) throw mapStorageError(error, { operation: 'list', bucket, path: folder });
      const entries = data ?? [];
      for (const entry of entries) {
        // `search` matches case-insensitively (and treats _ as a wildcard): keep exact prefixes only.
        if (!entry.name.startsWith(startsWith)) continue;
        if (entry.id === null) {
          folders.push(`${folder}${entry.name}/`);
          continue;
        }
        if (entry.name === EMPTY_FOLDER_PLACEHOLDER) continue;
        const metadata = (entry.metadata ?? {}) as Record<string, unknown>;
        const modified = entry.updated_at ?? entry.created_at;
        yield {
          path: `${folder}${entry.name}`,
          sizeBytes: Number(metadata.size ?? 0),
          modifiedAt: modified ? new Date(modified) : new Date(0),
          contentType: typeof metadata.mimetype === 'string' ? metadata.mimetype : undefined,
        };
      }
      if (entries.length < pageSize) break;
    }
    for (const child of folders) yield* walk(child, '');
  }

  return Object.freeze({ put, get, head, delete: deleteBlobs, list });
}

/** The Supabase dashboard's marker object for an empty folder; not a stored file. */
const EMPTY_FOLDER_PLACEHOLDER = '.emptyFolderPlaceholder';

/**
 * Keys go into request URLs as they are in supabase-js; encoding each segment keeps characters
 * Storage allows but URLs treat specially (`?`, `+`, `&`, spaces) intact.
 */
function encodeKey(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

function throwIfAborted(signal: AbortSignal | undefined, operation: string, path: string): void {
  if (signal?.aborted)
    throw new AbortError({ area: 'storage', operation: `${operation} ${path}`, cause: signal.reason });
}

/**
 * A web stream over any body that hashes and counts each chunk as the upload pulls it (so the
 * source is read no faster than the network takes it), errors when `signal` aborts, even while the
 * source stalls, and cancels the source when the upload gives up.
 */
function meteredStream(
  body: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>,
  hash: Hash,
  counter: { bytes: number; sourceError: unknown },
  signal: AbortSignal | undefined,
  path: string,
): ReadableStream<Uint8Array> {
  const iterator: AsyncIterator<Uint8Array> =
    typeof (body as ReadableStream<Uint8Array>).getReader === 'function'
      ? readerIterator(body as ReadableStream<Uint8Array>)
      : (body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
  const abortError = () =>
    new AbortError({ area: 'storage', operation: `put ${path}`, cause: signal?.reason });
  const release = () => {
    void Promise.resolve(iterator.return?.()).catch(() => {});
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const next = await readOrAbort(iterator.next(), signal, abortError);
          if (next.done) {
            controller.close();
            return;
          }
          const chunk = next.value;
          if (!(chunk instanceof Uint8Array)) {
            throw new TypeError(
              `[tributary] [storage] put(${JSON.stringify(path)}) received a chunk that is not a Uint8Array`,
            );
          }
          hash.update(chunk);
          counter.bytes += chunk.byteLength;
          controller.enqueue(chunk);
        } catch (error) {
          counter.sourceError = error;
          release();
          controller.error(error);
        }
      },
      cancel() {
        release();
      },
    },
    { highWaterMark: 0 },
  );
}

/**
 * fetch errors an aborted download's body with the signal's reason; report an `AbortError`, as
 * every Tributary stream does, and keep pulling only as fast as the consumer reads.
 */
function abortAware(
  stream: ReadableStream<Uint8Array>,
  signal: AbortSignal,
  path: string,
): ReadableStream<Uint8Array> {
  const reader = stream.getReader();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const next = await reader.read();
          if (next.done) controller.close();
          else controller.enqueue(next.value);
        } catch (error) {
          controller.error(
            signal.aborted
              ? new AbortError({ area: 'storage', operation: `get ${path}`, cause: signal.reason })
              : error,
          );
        }
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

function readerIterator(stream: ReadableStream<Uint8Array>): AsyncIterator<Uint8Array> {
  const reader = stream.getReader();
  return {
    next: () => reader.read() as Promise<IteratorResult<Uint8Array>>,
    return: async () => {
      await reader.cancel().catch(() => {});
      return { done: true, value: undefined };
    },
  };
}
