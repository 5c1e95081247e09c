// createSupabaseBlobStore through the real supabase-js client against the Storage API of
// @tributary/testkit-postgres (objects on disk, rows in storage.objects under the policies of the
// @tributary/sql migrations) on a real PostgreSQL server: the shared blob store contract as the
// service role on a fresh bucket per test, then the connector-imports bucket as signed-in users.
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import { fromPg, migrate } from '@tributary/sql';
import {
  type PostgresServer,
  type PostgrestServer,
  startPostgresServer,
  startPostgrestServer,
} from '@tributary/testkit-postgres';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BlobNotFoundError,
  buildObjectPath,
  CONNECTOR_IMPORTS_BUCKET,
  InvalidBlobPathError,
} from '../src/index.js';
import { createSupabaseBlobStore, SupabaseStorageError } from '../src/supabase.js';
import { defineBlobStoreContract, failure, pathsOf, readAll } from './blob-store-contract.js';

const auth = { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false };

let postgres: PostgresServer;
let pool: pg.Pool;
let api: PostgrestServer;
let directory: string;
let service: SupabaseClient;
let buckets = 0;

beforeAll(async () => {
  postgres = await startPostgresServer();
  pool = postgres.pool(await postgres.createDatabase(), { max: 12 });
  await migrate(fromPg(pool));
  directory = await mkdtemp(join(tmpdir(), 'tributary-supabase-storage-'));
  api = await startPostgrestServer({ pool, storage: { directory } });
  service = createClient(api.url, api.serviceRoleKey, { auth });
}, 120_000);

afterAll(async () => {
  await api?.stop();
  await postgres?.stop();
  if (directory) await rm(directory, { recursive: true, force: true });
});

defineBlobStoreContract('Supabase Storage (supabase-js, service role)', async () => {
  buckets += 1;
  const bucket = `contract-${buckets}`;
  await pool.query('insert into storage.buckets (id, name) values ($1, $1)', [bucket]);
  return { store: createSupabaseBlobStore({ client: service, bucket }) };
});

describe('createSupabaseBlobStore on the connector-imports bucket, as signed-in users', () => {
  const orgA = randomUUID();
  const orgB = randomUUID();
  const alice = randomUUID(); // member of A
  const amir = randomUUID(); // member of A
  const ada = randomUUID(); // admin of A
  const bob = randomUUID(); // member of B
  const stores = new Map<string, ReturnType<typeof createSupabaseBlobStore>>();
  const as = (user: string) => stores.get(user) as ReturnType<typeof createSupabaseBlobStore>;
  const pathIn = (orgId: string, fileName: string, fileType = 'txt') =>
    buildObjectPath({
      orgId,
      connectorType: 'upload',
      connectorId: 'c-1',
      date: '2025-01-31',
      fileType,
      fileId: randomUUID(),
      fileName,
    });

  beforeAll(async () => {
    await pool.query(
      `insert into tributary_private.memberships (user_id, org_id, role) values
         ($1, $5, 'member'), ($2, $5, 'member'), ($3, $5, 'admin'), ($4, $6, 'member')`,
      [alice, amir, ada, bob, orgA, orgB],
    );
    for (const user of [alice, amir, ada, bob]) {
      const client = createClient(api.url, api.anonKey, {
        auth,
        global: { headers: { Authorization: `Bearer ${await api.signUserToken(user)}` } },
      });
      stores.set(user, createSupabaseBlobStore({ client }));
    }
  });

  it('stores a member’s file in their org folder, readable by colleagues, with its content type', async () => {
    const path = pathIn(orgA, 'Q3 report.pdf', 'pdf');
    const result = await as(alice).put(path, new TextEncoder().encode('%PDF-1.7'), {
      contentType: 'application/pdf',
    });
    expect(result).toMatchObject({ path, sizeBytes: 8 });
    expect(await as(amir).head(path)).toMatchObject({ path, sizeBytes: 8, contentType: 'application/pdf' });
    expect((await readAll(await as(amir).get(path))).toString()).toBe('%PDF-1.7');
    const { rows } = await pool.query(
      'select owner_id from storage.objects where bucket_id = $1 and name = $2',
      [CONNECTOR_IMPORTS_BUCKET, path],
    );
    expect(rows).toEqual([{ owner_id: alice }]);
  });

  it("refuses another organisation's folder with a not_allowed SupabaseStorageError, and hides its files", async () => {
    const theirs = pathIn(orgB, 'plans.txt');
    await as(bob).put(theirs, new TextEncoder().encode('B only'), { contentType: 'text/plain' });

    const refused = await failure(
      as(alice).put(pathIn(orgB, 'intruder.txt'), new TextEncoder().encode('x'), {
        contentType: 'text/plain',
      }),
    );
    expect(SupabaseStorageError.isInstance(refused)).toBe(true);
    expect(refused).toMatchObject({
      reason: 'not_allowed',
      status: 403,
      storageCode: 'AccessDenied',
      isRetryable: false,
    });
    expect(refused.message).toMatch(
      /^\[tributary\] \[storage\] put ".+intruder\.txt" in bucket "connector-imports" failed: new row violates row-level security policy \(AccessDenied, 403\)\. Storage's policies refused it/,
    );
    expect(refused.message).not.toContain('eyJ'); // no token in the message

    // Bob's file does not exist for Alice: get throws BlobNotFoundError, head says undefined, list is empty.
    expect(BlobNotFoundError.isInstance(await failure(as(alice).get(theirs)))).toBe(true);
    expect(await as(alice).head(theirs)).toBeUndefined();
    expect(await pathsOf(as(alice), `${orgB}/`)).toEqual([]);
    expect(await pathsOf(as(bob), `${orgB}/`)).toEqual([theirs]);
  });

  it('lets only the uploader or an org admin replace or delete a file', async () => {
    const path = pathIn(orgA, 'notes.md');
    await as(alice).put(path, new TextEncoder().encode('by alice'), { contentType: 'text/markdown' });

    // A colleague's delete removes nothing (Storage skips what the policies forbid); a replace is refused.
    expect(await as(amir).delete([path])).toBe(0);
    const overwrite = await failure(
      as(amir).put(path, new TextEncoder().encode('by amir'), { contentType: 'text/markdown' }),
    );
    expect(overwrite).toMatchObject({ reason: 'not_allowed' });
    expect((await readAll(await as(alice).get(path))).toString()).toBe('by alice');

    // The uploader replaces it; the admin may too; the uploader deletes it.
    await as(alice).put(path, new TextEncoder().encode('by alice, v2'), { contentType: 'text/markdown' });
    await as(ada).put(path, new TextEncoder().encode('by the admin'), { contentType: 'text/markdown' });
    expect((await readAll(await as(amir).get(path))).toString()).toBe('by the admin');
    const other = pathIn(orgA, 'other.md');
    await as(amir).put(other, new TextEncoder().encode('by amir'), { contentType: 'text/markdown' });
    expect(await as(amir).delete([other])).toBe(1);
    expect(await as(ada).delete([path])).toBe(1);
    expect(await as(alice).head(path)).toBeUndefined();
  });

  it("maps the bucket's MIME and size limits to unsupported_type and too_large, storing nothing", async () => {
    const exe = await failure(
      as(alice).put(pathIn(orgA, 'tool.pdf'), new TextEncoder().encode('MZ'), {
        contentType: 'application/x-msdownload',
      }),
    );
    expect(exe).toMatchObject({ reason: 'unsupported_type', status: 415, storageCode: 'InvalidMimeType' });
    // Without a content type the store sends application/octet-stream, which the bucket does not list.
    expect(await failure(as(alice).put(pathIn(orgA, 'blob.bin'), new Uint8Array([1])))).toMatchObject({
      reason: 'unsupported_type',
    });

    await pool.query('update storage.buckets set file_size_limit = 65536 where id = $1', [
      CONNECTOR_IMPORTS_BUCKET,
    ]);
    try {
      const path = pathIn(orgA, 'big.txt');
      async function* body(): AsyncGenerator<Uint8Array> {
        for (let index = 0; index < 5; index += 1) yield new Uint8Array(16 * 1024).fill(65);
      }
      const tooLarge = await failure(as(alice).put(path, body(), { contentType: 'text/plain' }));
      expect(tooLarge).toMatchObject({ reason: 'too_large', status: 413, storageCode: 'EntityTooLarge' });
      expect(tooLarge.message).toContain("Raise the bucket's file_size_limit");
      expect(await as(alice).head(path)).toBeUndefined();
    } finally {
      await pool.query('update storage.buckets set file_size_limit = 5368709120 where id = $1', [
        CONNECTOR_IMPORTS_BUCKET,
      ]);
    }
  });

  it('streams a 64 MB upload: Storage writes to disk while the source is still producing', async () => {
    const bucketDirectory = join(directory, CONNECTOR_IMPORTS_BUCKET);
    const before = new Set(await readdir(bucketDirectory));
    const chunkSize = 1024 * 1024;
    const total = 64;
    const expected = createHash('sha256');
    let sawPartialFile = false;
    async function* source(): AsyncGenerator<Uint8Array> {
      for (let index = 0; index < total; index += 1) {
        if (index === total / 2) {
          // Half produced: a good part must already be on disk. Were the body buffered anywhere
          // (the adapter, supabase-js, fetch), the upload would not start and this would never end.
          for (;;) {
            const sizes = await Promise.all(
              (await readdir(bucketDirectory))
                .filter((name) => !before.has(name))
                .map(
                  async (name) => (await stat(join(bucketDirectory, name)).catch(() => ({ size: 0 }))).size,
                ),
            );
            if (sizes.some((size) => size >= 8 * chunkSize)) break;
            await new Promise((resolve) => setTimeout(resolve, 10));
          }
          sawPartialFile = true;
        }
        const chunk = new Uint8Array(chunkSize).fill(index % 251);
        expected.update(chunk);
        yield chunk;
      }
    }
    const path = pathIn(orgA, 'meeting.mp4', 'video');
    const result = await as(alice).put(path, source(), { contentType: 'video/mp4' });
    expect(sawPartialFile).toBe(true);
    expect(result).toMatchObject({ sizeBytes: total * chunkSize, sha256: expected.digest('hex') });
    const readBack = createHash('sha256');
    for await (const chunk of (await as(amir).get(path)) as unknown as AsyncIterable<Uint8Array>)
      readBack.update(chunk);
    expect(readBack.digest('hex')).toBe(result.sha256);
  }, 120_000);
});

describe('createSupabaseBlobStore: keys, pagination and failures', () => {
  it('round-trips keys with characters URLs treat specially (? + & space) and lists across pages', async () => {
    await pool.query("insert into storage.buckets (id, name) values ('odd-keys', 'odd-keys')");
    const store = createSupabaseBlobStore({ client: service, bucket: 'odd-keys', listPageSize: 2 });
    const keys = [
      'org-1/what? now.txt',
      'org-1/a+b&c=d.txt',
      "org-1/it's (1).txt",
      'org-1/x/y.txt',
      'org-1/z.txt',
    ];
    for (const key of keys)
      await store.put(key, new TextEncoder().encode(key), { contentType: 'text/plain' });
    for (const key of keys) expect((await readAll(await store.get(key))).toString()).toBe(key);
    expect(await pathsOf(store, 'org-1/')).toEqual([...keys].sort());
    expect(await store.delete(keys)).toBe(keys.length);
    expect(await pathsOf(store)).toEqual([]);
  });

  it('reports non-ASCII keys as InvalidBlobPathError and a missing bucket as bucket_not_found', async () => {
    const store = createSupabaseBlobStore({ client: service, bucket: CONNECTOR_IMPORTS_BUCKET });
    const unicode = await failure(
      store.put(`${randomUUID()}/résumé.pdf`, new Uint8Array([1]), { contentType: 'application/pdf' }),
    );
    expect(InvalidBlobPathError.isInstance(unicode)).toBe(true);
    expect(unicode.message).toContain('Supabase Storage refused the key');

    const missing = createSupabaseBlobStore({ client: service, bucket: 'no-such-bucket' });
    const error = await failure(missing.put('org-1/a.txt', new Uint8Array([1])));
    expect(error).toMatchObject({ reason: 'bucket_not_found', storageCode: 'NoSuchBucket' });
    expect(error.message).toContain('Create the bucket "no-such-bucket"');
    expect(await failure(missing.get('org-1/a.txt'))).toMatchObject({ reason: 'bucket_not_found' });
  });

  it('reports an unreachable project as a retryable unavailable error without the key', async () => {
    const closed = createClient('http://127.0.0.1:1', api.serviceRoleKey, { auth });
    const store = createSupabaseBlobStore({ client: closed });
    const error = await failure(store.put('org-1/a.txt', new Uint8Array([1]), { contentType: 'text/plain' }));
    expect(error).toMatchObject({ reason: 'unavailable', isRetryable: true });
    expect(error.message).not.toContain(api.serviceRoleKey);
    expect(await failure(store.head('org-1/a.txt'))).toMatchObject({ reason: 'unavailable' });
  });

  it('checks its settings', () => {
    expect(() => createSupabaseBlobStore({ client: undefined as unknown as SupabaseClient })).toThrow(
      /createSupabaseBlobStore needs \{ client \}/,
    );
  });
});
