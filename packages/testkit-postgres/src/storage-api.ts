import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, unlink } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join, resolve } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { jwtVerify, SignJWT } from 'jose';
import pg from 'pg';
import type { SupabaseJwt, SupabaseJwtClaims } from './supabase-jwt.js';

export interface StorageApiOptions {
  /** Directory the object bytes are written to (created if missing): `{directory}/{bucket}/{version}`. */
  directory: string;
  /**
   * Upload limit for every bucket in bytes, like a project's "upload file size limit"; a bucket's
   * own `file_size_limit` applies on top. Default: none beyond the bucket's.
   */
  fileSizeLimit?: number;
}

/** Storage API keys accept S3's "safe" characters only (supabase/storage `isValidKey`). */
const VALID_KEY = /^(\w|\/|!|-|\.|\*|'|\(|\)| |&|\$|@|=|;|:|\+|,|\?)*$/;
/** Longest key in UTF-8 bytes, as on Supabase. */
const MAX_KEY_BYTES = 1024;
/** Page size cap of `list` (storage-api's `limit` maximum). */
const MAX_LIST_LIMIT = 1000;
/** Bytes of an early-refused upload body read and dropped so the client gets the JSON answer. */
const MAX_DRAIN_BYTES = 64 * 1024 * 1024;

/**
 * A Storage API error as supabase/storage renders it: HTTP status 400 for every client error
 * (storage-api's legacy behaviour; the real status is the `statusCode` string in the body) and
 * 500 for server errors, with `{ statusCode, code, error, message }`.
 */
export class StorageApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    readonly error: string,
    message: string,
  ) {
    super(message);
  }

  get httpStatus(): number {
    return this.statusCode >= 500 ? 500 : 400;
  }

  body(): Record<string, string> {
    return { statusCode: String(this.statusCode), code: this.code, error: this.error, message: this.message };
  }
}

const errors = {
  noSuchBucket: () => new StorageApiError(404, 'NoSuchBucket', 'Bucket not found', 'Bucket not found'),
  noSuchKey: () => new StorageApiError(404, 'NoSuchKey', 'not_found', 'Object not found'),
  invalidKey: (key: string) => new StorageApiError(400, 'InvalidKey', 'InvalidKey', `Invalid key: ${key}`),
  invalidRequest: (message: string) => new StorageApiError(400, 'InvalidRequest', 'InvalidRequest', message),
  invalidJwt: (message: string) => new StorageApiError(401, 'InvalidJWT', 'Unauthorized', message),
  accessDenied: (message: string) => new StorageApiError(403, 'AccessDenied', 'Unauthorized', message),
  duplicate: () => new StorageApiError(409, 'KeyAlreadyExists', 'Duplicate', 'The resource already exists'),
  tooLarge: () =>
    new StorageApiError(
      413,
      'EntityTooLarge',
      'Payload too large',
      'The object exceeded the maximum allowed size',
    ),
  invalidMime: (mimeType: string) =>
    new StorageApiError(
      415,
      'InvalidMimeType',
      'invalid_mime_type',
      `mime type ${mimeType} is not supported`,
    ),
  notFound: (path: string) => new StorageApiError(404, 'NotFound', 'Not Found', `Route ${path} not found`),
};

interface Caller {
  claims: SupabaseJwtClaims;
  role: string;
}

interface BucketRow {
  id: string;
  public: boolean;
  file_size_limit: string | null;
  allowed_mime_types: string[] | null;
}

interface ObjectRow {
  id: string;
  name: string;
  version: string | null;
  bucket_id: string;
  metadata: Record<string, unknown> | null;
  user_metadata: Record<string, unknown> | null;
  created_at: Date;
  updated_at: Date;
  last_accessed_at: Date;
}

export interface StorageApi {
  /** Handles a request whose path starts with `/storage/v1/`. */
  handle(request: IncomingMessage, response: ServerResponse): Promise<void>;
}

/** Thrown inside a permission probe to roll it back once the row was accepted. */
class ProbeAccepted extends Error {}

/**
 * The subset of the Supabase Storage REST API that `supabase.storage.from(bucket)` uses (upload,
 * update, download, info, exists, remove, list, createSignedUrl), served beside the PostgREST
 * endpoint. As in supabase/storage, every object operation runs the `storage.objects` statement in
 * a transaction as the JWT's role with `request.jwt.claims` set, so the database's policies decide;
 * bucket limits (`file_size_limit`, `allowed_mime_types`) are read as the superuser. Bodies stream
 * to and from disk, never held in memory.
 */
export function createStorageApi(pool: pg.Pool, jwt: SupabaseJwt, options: StorageApiOptions): StorageApi {
  const directory = resolve(options.directory);
  const signingKey = new TextEncoder().encode(jwt.secret);

  async function authenticate(request: IncomingMessage): Promise<Caller> {
    const bearer = request.headers.authorization?.match(/^Bearer\s+(.+)$/i)?.[1];
    const apikey = request.headers.apikey;
    const token = bearer ?? (typeof apikey === 'string' ? apikey : undefined);
    if (token === undefined) {
      throw errors.accessDenied("headers must have required property 'authorization'");
    }
    const verified = await jwt.verify(token);
    if ('error' in verified)
      throw errors.invalidJwt(verified.error === 'JWT expired' ? 'jwt expired' : verified.error);
    const claims = verified.claims;
    const role = typeof claims.role === 'string' && claims.role !== '' ? claims.role : 'anon';
    return { claims, role };
  }

  /** Runs `run` in a transaction acting as the caller (role + `request.jwt.claims`), like storage-api. */
  async function asCaller<T>(
    caller: Caller,
    readOnly: boolean,
    run: (client: pg.PoolClient) => Promise<T>,
  ): Promise<T> {
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      await client.query(readOnly ? 'begin read only' : 'begin');
      try {
        await client.query(
          `select set_config('request.jwt.claims', $1, true), set_config('request.jwt.claim.sub', $2, true),
                  set_config('role', $3, true)`,
          [
            JSON.stringify(caller.claims),
            typeof caller.claims.sub === 'string' ? caller.claims.sub : '',
            caller.role,
          ],
        );
        const result = await run(client);
        await client.query('commit');
        return result;
      } catch (error) {
        await client.query('rollback').catch((rollbackError: Error) => {
          broken = rollbackError;
        });
        throw error;
      }
    } finally {
      client.release(broken);
    }
  }

  async function findBucket(bucketId: string): Promise<BucketRow> {
    const { rows } = await pool.query<BucketRow>(
      'select id, public, file_size_limit::text, allowed_mime_types from storage.buckets where id = $1',
      [bucketId],
    );
    const bucket = rows[0];
    if (!bucket) throw errors.noSuchBucket();
    return bucket;
  }

  function fileOf(bucketId: string, version: string): string {
    return join(directory, encodeURIComponent(bucketId), version);
  }

  async function findObject(caller: Caller, bucketId: string, name: string) {
    return asCaller(caller, true, async (client) => {
      const { rows } = await client.query<ObjectRow>(
        `select id, name, version, bucket_id, metadata, user_metadata, created_at, updated_at, last_accessed_at
           from storage.objects where bucket_id = $1 and name = $2`,
        [bucketId, name],
      );
      return rows[0];
    });
  }

  /** Inserts (or upserts) the object row as the caller; returns its id and the replaced version. */
  async function writeRow(
    client: pg.PoolClient,
    caller: Caller,
    row: {
      bucketId: string;
      name: string;
      version: string;
      metadata: Record<string, unknown>;
      userMetadata: Record<string, unknown> | null;
      upsert: boolean;
    },
  ): Promise<{ id: string; previousVersion: string | null }> {
    const sub = typeof caller.claims.sub === 'string' ? caller.claims.sub : null;
    const owner =
      sub !== null && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(sub)
        ? sub
        : null;
    const values = [
      row.bucketId,
      row.name,
      owner,
      sub,
      row.version,
      JSON.stringify(row.metadata),
      row.userMetadata === null ? null : JSON.stringify(row.userMetadata),
    ];
    if (!row.upsert) {
      const { rows } = await client.query<{ id: string }>(
        `insert into storage.objects (bucket_id, name, owner, owner_id, version, metadata, user_metadata)
         values ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb) returning id`,
        values,
      );
      return { id: (rows[0] as { id: string }).id, previousVersion: null };
    }
    // The replaced version, when the caller may see it: its file is removed after the commit.
    const previous = await client.query<{ version: string | null }>(
      'select version from storage.objects where bucket_id = $1 and name = $2',
      [row.bucketId, row.name],
    );
    const { rows } = await client.query<{ id: string }>(
      `insert into storage.objects (bucket_id, name, owner, owner_id, version, metadata, user_metadata)
       values ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb)
       on conflict (bucket_id, name) do update
         set owner = excluded.owner, owner_id = excluded.owner_id, version = excluded.version,
             metadata = excluded.metadata, user_metadata = excluded.user_metadata,
             updated_at = now(), last_accessed_at = now()
       returning id`,
      values,
    );
    return { id: (rows[0] as { id: string }).id, previousVersion: previous.rows[0]?.version ?? null };
  }

  async function upload(
    request: IncomingMessage,
    response: ServerResponse,
    caller: Caller,
    bucketId: string,
    name: string,
    upsert: boolean,
  ): Promise<void> {
    assertValidKey(name);
    const bucket = await findBucket(bucketId);
    const requestType = request.headers['content-type'] ?? 'application/octet-stream';
    const boundary = /^multipart\/form-data\s*;.*\bboundary=(?:"([^"]+)"|([^;\s]+))/i.exec(requestType);
    const checkType = (type: string) => {
      if (bucket.allowed_mime_types && bucket.allowed_mime_types.length > 0) {
        validateMimeType(type, bucket.allowed_mime_types);
      }
    };
    // A raw body's type is the request's; a multipart body's is its file part's (checked on arrival).
    if (!boundary) checkType(requestType);
    const limits = [
      bucket.file_size_limit === null ? undefined : Number(bucket.file_size_limit),
      options.fileSizeLimit,
    ].filter((limit): limit is number => typeof limit === 'number' && Number.isFinite(limit) && limit > 0);
    const limit = limits.length > 0 ? Math.min(...limits) : Number.POSITIVE_INFINITY;
    const declared = Number(request.headers['content-length']);
    if (!boundary && Number.isFinite(declared) && declared > limit) throw errors.tooLarge();

    // Like storage-api's permission probe: the row must be accepted before any byte is stored.
    const probeVersion = randomUUID();
    await asCaller(caller, false, async (client) => {
      await writeRow(client, caller, {
        bucketId,
        name,
        version: probeVersion,
        metadata: {},
        userMetadata: null,
        upsert,
      });
      throw new ProbeAccepted();
    }).catch((error: unknown) => {
      if (!(error instanceof ProbeAccepted)) throw error;
    });

    const version = randomUUID();
    const file = fileOf(bucketId, version);
    await mkdir(join(directory, encodeURIComponent(bucketId)), { recursive: true });
    const md5 = createHash('md5');
    let size = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        size += chunk.byteLength;
        if (size > limit) {
          callback(errors.tooLarge());
          return;
        }
        md5.update(chunk);
        callback(null, chunk);
      },
    });
    const parser = boundary
      ? new MultipartFileParser(boundary[1] ?? boundary[2] ?? '', checkType)
      : undefined;
    try {
      await receive(request, parser ? [parser, meter] : [meter], file);
    } catch (error) {
      await unlink(file).catch(() => {});
      throw error;
    }
    const fields = parser?.fields ?? {};
    const cacheSeconds = fields.cacheControl;
    const cacheControl =
      cacheSeconds !== undefined
        ? /^\d+$/.test(cacheSeconds)
          ? `max-age=${cacheSeconds}`
          : cacheSeconds
        : (request.headers['cache-control'] ?? 'no-cache');
    const metadataHeader = request.headers['x-metadata'];
    const userMetadata = parseUserMetadata(
      fields.metadata ??
        (typeof metadataHeader === 'string'
          ? Buffer.from(metadataHeader, 'base64').toString('utf8')
          : undefined),
    );
    const now = new Date();
    const metadata = {
      eTag: `"${md5.digest('hex')}"`,
      size,
      mimetype: parser ? (parser.contentType ?? 'application/octet-stream') : requestType,
      cacheControl,
      lastModified: now.toISOString(),
      contentLength: size,
      httpStatusCode: 200,
    };
    let written: { id: string; previousVersion: string | null };
    try {
      written = await asCaller(caller, false, (client) =>
        writeRow(client, caller, { bucketId, name, version, metadata, userMetadata, upsert }),
      );
    } catch (error) {
      await unlink(file).catch(() => {});
      throw error;
    }
    if (written.previousVersion && written.previousVersion !== version) {
      await unlink(fileOf(bucketId, written.previousVersion)).catch(() => {});
    }
    sendJson(response, 200, { Id: written.id, Key: `${bucketId}/${name}` });
  }

  async function download(
    response: ServerResponse,
    caller: Caller | 'signed',
    bucketId: string,
    name: string,
  ): Promise<void> {
    assertValidKey(name);
    const object =
      caller === 'signed'
        ? (
            await pool.query<ObjectRow>(
              `select id, name, version, bucket_id, metadata, user_metadata, created_at, updated_at, last_accessed_at
                 from storage.objects where bucket_id = $1 and name = $2`,
              [bucketId, name],
            )
          ).rows[0]
        : await findObject(caller, bucketId, name);
    if (!object) {
      await findBucket(bucketId);
      throw errors.noSuchKey();
    }
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      handle = await open(fileOf(bucketId, object.version ?? ''), 'r');
    } catch {
      throw errors.noSuchKey(); // replaced or deleted since the row was read
    }
    const info = await handle.stat();
    const metadata = object.metadata ?? {};
    response.writeHead(200, {
      'Content-Type': typeof metadata.mimetype === 'string' ? metadata.mimetype : 'application/octet-stream',
      'Content-Length': String(info.size),
      'Cache-Control': typeof metadata.cacheControl === 'string' ? metadata.cacheControl : 'no-cache',
      ETag: typeof metadata.eTag === 'string' ? metadata.eTag : `"${object.version}"`,
      'Last-Modified': object.updated_at.toUTCString(),
    });
    await pipeline(handle.createReadStream({ autoClose: true }), response);
  }

  async function info(
    response: ServerResponse,
    caller: Caller,
    bucketId: string,
    name: string,
  ): Promise<void> {
    assertValidKey(name);
    const object = await findObject(caller, bucketId, name);
    if (!object) {
      await findBucket(bucketId);
      throw errors.noSuchKey();
    }
    const metadata = object.metadata ?? {};
    sendJson(response, 200, {
      id: object.id,
      name: object.name,
      version: object.version,
      bucket_id: object.bucket_id,
      size: metadata.size ?? null,
      content_type: metadata.mimetype ?? null,
      cache_control: metadata.cacheControl ?? null,
      etag: metadata.eTag ?? null,
      metadata: object.user_metadata ?? {},
      last_modified: object.updated_at.toISOString(),
      created_at: object.created_at.toISOString(),
    });
  }

  async function remove(
    request: IncomingMessage,
    response: ServerResponse,
    caller: Caller,
    bucketId: string,
  ): Promise<void> {
    const body = await readJson(request);
    const prefixes = (body as { prefixes?: unknown } | undefined)?.prefixes;
    if (!Array.isArray(prefixes) || prefixes.some((prefix) => typeof prefix !== 'string')) {
      throw errors.invalidRequest("body must have required property 'prefixes' (an array of strings)");
    }
    if (prefixes.length < 1 || prefixes.length > 1000) {
      throw errors.invalidRequest('body/prefixes must have between 1 and 1000 items');
    }
    await findBucket(bucketId);
    // Objects the caller may not delete (or not see) are skipped silently, as on Supabase.
    const deleted = await asCaller(caller, false, async (client) => {
      const { rows } = await client.query<ObjectRow>(
        `delete from storage.objects where bucket_id = $1 and name = any ($2::text[])
         returning id, name, version, bucket_id, metadata, user_metadata, created_at, updated_at, last_accessed_at`,
        [bucketId, prefixes],
      );
      return rows;
    });
    for (const row of deleted) {
      if (row.version) await unlink(fileOf(bucketId, row.version)).catch(() => {});
    }
    sendJson(
      response,
      200,
      deleted.map((row) => ({
        bucket_id: row.bucket_id,
        name: row.name,
        id: row.id,
        version: row.version,
        updated_at: row.updated_at.toISOString(),
        created_at: row.created_at.toISOString(),
        last_accessed_at: row.last_accessed_at.toISOString(),
        metadata: row.metadata,
      })),
    );
  }

  async function list(
    request: IncomingMessage,
    response: ServerResponse,
    caller: Caller,
    bucketId: string,
  ): Promise<void> {
    const body = ((await readJson(request)) ?? {}) as Record<string, unknown>;
    if (typeof body.prefix !== 'string')
      throw errors.invalidRequest("body must have required property 'prefix'");
    let prefix = body.prefix.replace(/^\/+/, '');
    if (prefix !== '' && !prefix.endsWith('/')) prefix = `${prefix}/`;
    const limit = Math.min(Math.max(Number(body.limit ?? 100) || 100, 1), MAX_LIST_LIMIT);
    const offset = Math.max(Number(body.offset ?? 0) || 0, 0);
    const search = typeof body.search === 'string' ? body.search : '';
    const sortBy = (body.sortBy ?? {}) as { column?: unknown; order?: unknown };
    const column = ['name', 'updated_at', 'created_at', 'last_accessed_at'].includes(String(sortBy.column))
      ? String(sortBy.column)
      : 'name';
    const order = String(sortBy.order).toLowerCase() === 'desc' ? 'desc' : 'asc';
    await findBucket(bucketId);
    // One level below `prefix`, like storage.search(): deeper objects show as their folder (id null).
    const rows = await asCaller(caller, true, async (client) => {
      const result = await client.query(
        `with entries as (
           select split_part(substr(o.name, $2::int + 1), '/', 1) as entry,
                  strpos(substr(o.name, $2::int + 1), '/') > 0 as is_folder,
                  o.id, o.updated_at, o.created_at, o.last_accessed_at, o.metadata
             from storage.objects o
            where o.bucket_id = $1 and starts_with(o.name, $3)
              and substr(o.name, $2::int + 1) ilike $4 escape '\\'
         ), listed as (
           select distinct on (entry) entry as name,
                  case when is_folder then null else id end as id,
                  case when is_folder then null else updated_at end as updated_at,
                  case when is_folder then null else created_at end as created_at,
                  case when is_folder then null else last_accessed_at end as last_accessed_at,
                  case when is_folder then null else metadata end as metadata
             from entries order by entry, is_folder
         )
         select * from listed
          order by ${pg.escapeIdentifier(column)} ${order} nulls first, name collate "C" ${order}
          limit $5 offset $6`,
        [bucketId, prefix.length, prefix, `${escapeLike(search)}%`, limit, offset],
      );
      return result.rows as {
        name: string;
        id: string | null;
        updated_at: Date | null;
        created_at: Date | null;
        last_accessed_at: Date | null;
        metadata: unknown;
      }[];
    });
    sendJson(
      response,
      200,
      rows.map((row) => ({
        name: row.name,
        id: row.id,
        updated_at: row.updated_at?.toISOString() ?? null,
        created_at: row.created_at?.toISOString() ?? null,
        last_accessed_at: row.last_accessed_at?.toISOString() ?? null,
        metadata: row.metadata ?? null,
      })),
    );
  }

  async function sign(
    request: IncomingMessage,
    response: ServerResponse,
    caller: Caller,
    bucketId: string,
    name: string,
  ): Promise<void> {
    assertValidKey(name);
    const body = ((await readJson(request)) ?? {}) as { expiresIn?: unknown };
    const expiresIn = Number(body.expiresIn);
    if (!Number.isFinite(expiresIn) || expiresIn < 1) {
      throw errors.invalidRequest('body/expiresIn must be a number of seconds >= 1');
    }
    // Signing needs read access, checked now under the caller's policies.
    const object = await findObject(caller, bucketId, name);
    if (!object) {
      await findBucket(bucketId);
      throw errors.noSuchKey();
    }
    const url = `${bucketId}/${name}`;
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ url, iat: now, exp: now + Math.floor(expiresIn) })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .sign(signingKey);
    sendJson(response, 200, { signedURL: `/object/sign/${encodeKey(url)}?token=${token}` });
  }

  async function signedDownload(
    response: ServerResponse,
    query: URLSearchParams,
    bucketId: string,
    name: string,
  ): Promise<void> {
    const token = query.get('token');
    if (!token) throw errors.invalidRequest("querystring must have required property 'token'");
    let claims: { url?: unknown };
    try {
      claims = (await jwtVerify(token, signingKey, { algorithms: ['HS256'] })).payload as { url?: unknown };
    } catch (error) {
      throw errors.invalidJwt(
        error instanceof Error && /exp/.test(error.message) ? 'jwt expired' : 'invalid signature',
      );
    }
    if (claims.url !== `${bucketId}/${name}`)
      throw errors.invalidJwt('Invalid signature: the token is for another object');
    await download(response, 'signed', bucketId, name);
  }

  async function route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    // Not `new URL()`: it would resolve "%2E%2E" segments, and keys are taken as sent.
    const [pathname = '/', search = ''] = (request.url ?? '/').split('?', 2);
    const query = new URLSearchParams(search);
    const method = (request.method ?? 'GET').toUpperCase();
    const path = pathname.slice('/storage/v1'.length);
    const parts = path.split('/');
    let segments: string[];
    try {
      segments = parts.map((part) => decodeURIComponent(part));
    } catch {
      throw errors.invalidRequest(`the path ${path} is not valid percent-encoding`);
    }
    if (segments[0] !== '' || segments[1] !== 'object') throw errors.notFound(`${method}:${pathname}`);
    const rest = segments.slice(2);
    const [first, second] = rest;
    const objectAt = (from: number) => ({ bucketId: rest[from] ?? '', name: rest.slice(from + 1).join('/') });

    if (method === 'GET' && first === 'sign' && rest.length >= 3) {
      const { bucketId, name } = objectAt(1);
      return signedDownload(response, query, bucketId, name);
    }
    if (method === 'GET' && first === 'public' && rest.length >= 3) {
      const { bucketId, name } = objectAt(1);
      const bucket = await findBucket(bucketId);
      if (!bucket.public) throw errors.noSuchBucket();
      return download(response, 'signed', bucketId, name);
    }

    const caller = await authenticate(request);
    if (method === 'POST' && first === 'list' && rest.length === 2) {
      return list(request, response, caller, second ?? '');
    }
    if (method === 'POST' && first === 'sign' && rest.length >= 3) {
      const { bucketId, name } = objectAt(1);
      return sign(request, response, caller, bucketId, name);
    }
    if (method === 'GET' && first === 'info') {
      const { bucketId, name } = objectAt(second === 'authenticated' ? 2 : 1);
      return info(response, caller, bucketId, name);
    }
    if (method === 'GET' && first === 'authenticated' && rest.length >= 3) {
      const { bucketId, name } = objectAt(1);
      return download(response, caller, bucketId, name);
    }
    if (method === 'DELETE' && rest.length === 1) return remove(request, response, caller, first ?? '');
    if (rest.length >= 2) {
      const { bucketId, name } = objectAt(0);
      if (method === 'GET') return download(response, caller, bucketId, name);
      if (method === 'POST') {
        const upsert = String(request.headers['x-upsert'] ?? 'false').toLowerCase() === 'true';
        return upload(request, response, caller, bucketId, name, upsert);
      }
      if (method === 'PUT') return upload(request, response, caller, bucketId, name, true);
    }
    throw errors.notFound(`${method}:${pathname}`);
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    try {
      await route(request, response);
    } catch (error) {
      const failure = toStorageError(error, request);
      if (response.headersSent) {
        response.destroy(failure);
        return;
      }
      sendJson(response, failure.httpStatus, failure.body());
      drain(request);
    }
  }

  return { handle };
}

/** Maps database and filesystem failures to the Storage API's errors (supabase/storage `DBError`). */
function toStorageError(error: unknown, request: IncomingMessage): StorageApiError {
  if (error instanceof StorageApiError) return error;
  if (error instanceof pg.DatabaseError) {
    if (error.code === '42501') {
      return errors.accessDenied(
        request.method === 'GET' ? error.message : 'new row violates row-level security policy',
      );
    }
    if (error.code === '23505') return errors.duplicate();
    if (error.code === '23503') return errors.noSuchBucket();
    return new StorageApiError(500, 'DatabaseError', 'Internal Server Error', error.message);
  }
  const message = error instanceof Error ? error.message : String(error);
  return new StorageApiError(500, 'InternalError', 'Internal Server Error', message);
}

function assertValidKey(name: string): void {
  if (
    name === '' ||
    Buffer.byteLength(name, 'utf8') > MAX_KEY_BYTES ||
    !VALID_KEY.test(name) ||
    name.split('/').some((segment) => segment === '' || segment === '.' || segment === '..')
  ) {
    throw errors.invalidKey(name);
  }
}

/** supabase/storage `validateMimeType`: `type/subtype` or `type/*`, parameters included as sent. */
function validateMimeType(mimeType: string, allowed: readonly string[]): void {
  const [type, subtype] = mimeType.split('/');
  if (subtype === undefined) throw errors.invalidMime(mimeType);
  for (const entry of allowed) {
    const [allowedType, allowedSubtype] = entry.split('/');
    if (allowedType === type && (allowedSubtype === '*' || allowedSubtype === subtype)) return;
  }
  throw errors.invalidMime(mimeType);
}

/**
 * Streams the request body through `stages` into `file`. Not `pipeline`: on failure the request
 * must stay open, so that the rest of the body can be drained and the client gets the JSON error.
 */
function receive(request: IncomingMessage, stages: Transform[], file: string): Promise<void> {
  return new Promise<void>((resolvePromise, reject) => {
    const out = createWriteStream(file, { flags: 'wx' });
    const chain: NodeJS.ReadableStream[] = [request, ...stages];
    const targets: NodeJS.WritableStream[] = [...stages, out];
    let settled = false;
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      chain.forEach((stream, index) => {
        stream.unpipe(targets[index]);
      });
      for (const stage of stages) stage.destroy();
      out.destroy();
      out.once('close', () => reject(error));
    };
    request.once('error', fail);
    request.once('close', () => {
      if (!request.complete)
        fail(errors.invalidRequest('the client closed the connection before the body ended'));
    });
    for (const stage of stages) stage.once('error', fail);
    out.once('error', fail);
    out.once('finish', () => {
      if (settled) return;
      settled = true;
      resolvePromise();
    });
    let source: NodeJS.ReadableStream = request;
    for (const stage of stages) source = source.pipe(stage);
    source.pipe(out);
  });
}

/**
 * Passes through only the bytes of the first file part of a `multipart/form-data` body (what
 * supabase-js sends for a `Blob`, `File` or `FormData`), streaming: the file is never held, only
 * the last few bytes that could start the closing boundary. Text fields before the file
 * (`cacheControl`, `metadata`) are kept in `fields`; `onFileType` sees the file part's type first.
 */
class MultipartFileParser extends Transform {
  readonly fields: Record<string, string> = {};
  contentType: string | undefined;
  readonly #delimiter: Buffer;
  #buffer: Buffer = Buffer.from('\r\n'); // so the first boundary matches "\r\n--boundary" too
  #state: 'boundary' | 'after-boundary' | 'headers' | 'field' | 'file' | 'trailing' = 'boundary';
  #field = '';
  readonly #onFileType: (type: string) => void;

  constructor(boundary: string, onFileType: (type: string) => void) {
    super();
    this.#delimiter = Buffer.from(`\r\n--${boundary}`);
    this.#onFileType = onFileType;
  }

  override _transform(
    chunk: Buffer,
    _encoding: BufferEncoding,
    callback: (error?: Error | null) => void,
  ): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    try {
      this.#consume();
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _flush(callback: (error?: Error | null) => void): void {
    callback(
      this.#state === 'trailing'
        ? null
        : errors.invalidRequest(
            this.#state === 'file'
              ? 'the multipart body ended before its closing boundary'
              : 'the multipart body has no file',
          ),
    );
  }

  #consume(): void {
    for (;;) {
      const buffer = this.#buffer;
      switch (this.#state) {
        case 'boundary': {
          const at = buffer.indexOf(this.#delimiter);
          if (at === -1) {
            // Preamble: keep only what could be the start of the boundary.
            this.#buffer = buffer.subarray(Math.max(0, buffer.length - this.#delimiter.length + 1));
            return;
          }
          this.#buffer = buffer.subarray(at + this.#delimiter.length);
          this.#state = 'after-boundary';
          break;
        }
        case 'after-boundary': {
          if (buffer.length < 2) return;
          if (buffer[0] === 0x2d && buffer[1] === 0x2d)
            throw errors.invalidRequest('the multipart body has no file');
          this.#buffer = buffer.subarray(2); // CRLF
          this.#state = 'headers';
          break;
        }
        case 'headers': {
          const end = buffer.indexOf('\r\n\r\n');
          if (end === -1) {
            if (buffer.length > 16 * 1024)
              throw errors.invalidRequest('a multipart part has over 16 KB of headers');
            return;
          }
          const headers = buffer.subarray(0, end).toString('utf8');
          this.#buffer = buffer.subarray(end + 4);
          const disposition = /^content-disposition:(.*)$/im.exec(headers)?.[1] ?? '';
          if (/\bfilename\*?=/i.test(disposition)) {
            this.contentType =
              /^content-type:\s*(.+?)\s*$/im.exec(headers)?.[1] ?? 'application/octet-stream';
            this.#onFileType(this.contentType);
            this.#state = 'file';
          } else {
            this.#field = /\bname="([^"]*)"/i.exec(disposition)?.[1] ?? '';
            this.#state = 'field';
          }
          break;
        }
        case 'field': {
          const at = buffer.indexOf(this.#delimiter);
          if (at === -1) {
            if (buffer.length > 1024 * 1024)
              throw errors.invalidRequest('a multipart field is larger than 1 MB');
            return;
          }
          this.fields[this.#field] = buffer.subarray(0, at).toString('utf8');
          this.#buffer = buffer.subarray(at + this.#delimiter.length);
          this.#state = 'after-boundary';
          break;
        }
        case 'file': {
          const at = buffer.indexOf(this.#delimiter);
          if (at === -1) {
            const keep = this.#delimiter.length - 1;
            if (buffer.length > keep) {
              this.push(buffer.subarray(0, buffer.length - keep));
              this.#buffer = buffer.subarray(buffer.length - keep);
            }
            return;
          }
          if (at > 0) this.push(buffer.subarray(0, at));
          this.#buffer = Buffer.alloc(0);
          this.#state = 'trailing'; // like storage-api, only the first file counts
          return;
        }
        case 'trailing':
          this.#buffer = Buffer.alloc(0);
          return;
      }
    }
  }
}

function parseUserMetadata(text: string | undefined): Record<string, unknown> | null {
  if (text === undefined || text === '') return null;
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value === 'object' && value !== null && !Array.isArray(value))
      return value as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw errors.invalidRequest('metadata must be a JSON object');
}

function encodeKey(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (character) => `\\${character}`);
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' });
  response.end(JSON.stringify(body));
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.byteLength;
    if (size > 1024 * 1024) throw errors.invalidRequest('the JSON body is larger than 1 MB');
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw errors.invalidRequest('the body is not valid JSON');
  }
}

/**
 * Reads and drops what is left of a refused upload so the client, still sending, receives the
 * JSON error instead of a reset connection; past `MAX_DRAIN_BYTES` the connection is closed.
 */
function drain(request: IncomingMessage): void {
  if (request.readableEnded || request.destroyed) return;
  let dropped = 0;
  request.on('data', (chunk: Buffer) => {
    dropped += chunk.byteLength;
    if (dropped > MAX_DRAIN_BYTES) request.socket.destroy();
  });
  request.on('error', () => {});
  request.resume();
}
