// The Storage API of startPostgrestServer through the real supabase-js client, on a real
// PostgreSQL server migrated with @tributary/sql's shim, tenancy and storage migrations (read from
// packages/sql/migrations: the policies under test are the shipped ones, not a copy).
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type PostgresServer,
  type PostgrestServer,
  startPostgresServer,
  startPostgrestServer,
} from '../src/index.js';

const migrations = ['0001_supabase_shim.sql', '0002_tenancy.sql', '0006_storage.sql'];
const bucket = 'connector-imports';
const clientOptions = { auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false } };

let postgres: PostgresServer;
let pool: pg.Pool;
let api: PostgrestServer;
let directory: string;
let service: SupabaseClient;
const orgA = randomUUID();
const orgB = randomUUID();
const alice = randomUUID(); // member of A
const amir = randomUUID(); // member of A
const ada = randomUUID(); // admin of A
const bob = randomUUID(); // member of B
const clients = new Map<string, SupabaseClient>();

function as(userId: string): SupabaseClient {
  const client = clients.get(userId);
  if (!client) throw new Error(`no client for ${userId}`);
  return client;
}

function streamOf(...parts: (string | Uint8Array)[]): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      for (const part of parts)
        controller.enqueue(typeof part === 'string' ? new TextEncoder().encode(part) : part);
      controller.close();
    },
  });
}

async function text(result: { data: Blob | null; error: unknown }): Promise<string> {
  expect(result.error).toBeNull();
  return (await (result.data as Blob).text()) as string;
}

/** Object files on disk for the bucket (the store keeps one file per stored version). */
async function filesOnDisk(): Promise<string[]> {
  try {
    return (await readdir(join(directory, bucket))).sort();
  } catch {
    return [];
  }
}

async function objectRow(name: string) {
  const { rows } = await pool.query<{
    owner_id: string | null;
    version: string;
    metadata: Record<string, unknown>;
  }>('select owner_id, version, metadata from storage.objects where bucket_id = $1 and name = $2', [
    bucket,
    name,
  ]);
  return rows[0];
}

beforeAll(async () => {
  postgres = await startPostgresServer();
  pool = postgres.pool(await postgres.createDatabase(), { max: 8 });
  for (const file of migrations) {
    await pool.query(await readFile(new URL(`../../sql/migrations/${file}`, import.meta.url), 'utf8'));
  }
  await pool.query(
    `insert into tributary_private.memberships (user_id, org_id, role) values
       ($1, $5, 'member'), ($2, $5, 'member'), ($3, $5, 'admin'), ($4, $6, 'member')`,
    [alice, amir, ada, bob, orgA, orgB],
  );
  directory = await mkdtemp(join(tmpdir(), 'tributary-storage-'));
  api = await startPostgrestServer({ pool, storage: { directory } });
  service = createClient(api.url, api.serviceRoleKey, clientOptions);
  for (const user of [alice, amir, ada, bob]) {
    const token = await api.signUserToken(user);
    clients.set(
      user,
      createClient(api.url, api.anonKey, {
        ...clientOptions,
        global: { headers: { Authorization: `Bearer ${token}` } },
      }),
    );
  }
}, 120_000);

afterAll(async () => {
  await api?.stop();
  await postgres?.stop();
  if (directory) await rm(directory, { recursive: true, force: true });
});

describe('Storage API: uploads and the org-folder rule', () => {
  it('lets a member upload a stream into their org folder, records them as owner and serves it back', async () => {
    const path = `${orgA}/connectors/upload/c1/2025-01-31/txt/f1-notes.txt`;
    const upload = await as(alice)
      .storage.from(bucket)
      .upload(path, streamOf('hello ', 'storage'), { contentType: 'text/plain' });
    expect(upload.error).toBeNull();
    expect(upload.data).toMatchObject({ path, fullPath: `${bucket}/${path}` });
    expect(upload.data?.id).toMatch(/^[0-9a-f-]{36}$/);

    const row = await objectRow(path);
    expect(row?.owner_id).toBe(alice);
    expect(row?.metadata).toMatchObject({ size: 13, mimetype: 'text/plain' });
    // The bytes live on disk under the directory, one file per version.
    expect(await filesOnDisk()).toContain(row?.version);
    expect(await readFile(join(directory, bucket, row?.version as string), 'utf8')).toBe('hello storage');

    expect(await text(await as(alice).storage.from(bucket).download(path))).toBe('hello storage');
    // A colleague in the same organisation reads it too; so does the authenticated route.
    expect(await text(await as(amir).storage.from(bucket).download(path))).toBe('hello storage');
    const viaAuthenticated = await fetch(`${api.url}/storage/v1/object/authenticated/${bucket}/${path}`, {
      headers: { Authorization: `Bearer ${await api.signUserToken(alice)}` },
    });
    expect(viaAuthenticated.status).toBe(200);
    expect(viaAuthenticated.headers.get('content-type')).toBe('text/plain');
    expect(await viaAuthenticated.text()).toBe('hello storage');

    const info = await as(amir).storage.from(bucket).info(path);
    expect(info.error).toBeNull();
    expect(info.data).toMatchObject({ name: path, size: 13, contentType: 'text/plain', bucketId: bucket });
    expect(await as(amir).storage.from(bucket).exists(path)).toMatchObject({ data: true });
  });

  it("refuses an upload into another organisation's folder with Storage's 403 body, storing nothing", async () => {
    const before = await filesOnDisk();
    const path = `${orgB}/connectors/upload/c1/2025-01-31/txt/intruder.txt`;
    const { data, error } = await as(alice)
      .storage.from(bucket)
      .upload(path, streamOf('not yours'), { contentType: 'text/plain' });
    expect(data).toBeNull();
    expect(error).toMatchObject({
      name: 'StorageApiError',
      status: 400, // storage-api's legacy HTTP status; the real one is statusCode
      statusCode: '403',
      code: 'AccessDenied',
      message: 'new row violates row-level security policy',
    });
    expect(await objectRow(path)).toBeUndefined();
    expect(await filesOnDisk()).toEqual(before);

    // A path whose first folder is not an org id at all, and the anon key: refused the same way.
    const loose = await as(alice)
      .storage.from(bucket)
      .upload('loose.txt', streamOf('x'), { contentType: 'text/plain' });
    expect(loose.error).toMatchObject({ statusCode: '403' });
    const anon = createClient(api.url, api.anonKey, clientOptions);
    const anonymous = await anon.storage
      .from(bucket)
      .upload(`${orgA}/anon.txt`, streamOf('x'), { contentType: 'text/plain' });
    expect(anonymous.error).toMatchObject({ statusCode: '403', code: 'AccessDenied' });
  });

  it('hides objects from non-members: download, info, exists, list and signing all fail', async () => {
    const path = `${orgA}/connectors/upload/c1/2025-02-01/txt/secret.txt`;
    expect(
      (await as(alice).storage.from(bucket).upload(path, streamOf('secret'), { contentType: 'text/plain' }))
        .error,
    ).toBeNull();

    const download = await as(bob).storage.from(bucket).download(path);
    expect(download.data).toBeNull();
    expect(download.error).toMatchObject({
      status: 400,
      statusCode: '404',
      code: 'NoSuchKey',
      message: 'Object not found',
    });
    expect((await as(bob).storage.from(bucket).info(path)).error).toMatchObject({ statusCode: '404' });
    expect(await as(bob).storage.from(bucket).exists(path)).toMatchObject({ data: false });
    expect((await as(bob).storage.from(bucket).list(`${orgA}/connectors`)).data).toEqual([]);
    expect((await as(bob).storage.from(bucket).createSignedUrl(path, 60)).error).toMatchObject({
      statusCode: '404',
    });

    // A bad or expired token is refused before any lookup.
    const forged = createClient(api.url, api.anonKey, {
      ...clientOptions,
      global: {
        headers: {
          Authorization: `Bearer ${await api.signToken({ role: 'authenticated', sub: alice }, -60)}`,
        },
      },
    });
    expect((await forged.storage.from(bucket).download(path)).error).toMatchObject({
      statusCode: '401',
      code: 'InvalidJWT',
      message: 'jwt expired',
    });
  });

  it('lets only the uploader or an org admin delete or overwrite an object', async () => {
    const mine = `${orgA}/connectors/upload/c1/2025-02-02/txt/alice.txt`;
    const theirs = `${orgA}/connectors/upload/c1/2025-02-02/txt/amir.txt`;
    for (const [user, path] of [
      [alice, mine],
      [amir, theirs],
    ] as const) {
      expect(
        (await as(user).storage.from(bucket).upload(path, streamOf(path), { contentType: 'text/plain' }))
          .error,
      ).toBeNull();
    }
    const aliceVersion = (await objectRow(mine))?.version as string;

    // Amir cannot delete Alice's object: Storage skips what the policies hide, as on Supabase.
    const refused = await as(amir).storage.from(bucket).remove([mine]);
    expect(refused).toEqual({ data: [], error: null });
    expect(await objectRow(mine)).toBeDefined();
    // Nor overwrite it (upsert needs the update policy), nor upload over it without upsert.
    const overwrite = await as(amir)
      .storage.from(bucket)
      .upload(mine, streamOf('overwritten'), { contentType: 'text/plain', upsert: true });
    expect(overwrite.error).toMatchObject({ statusCode: '403', code: 'AccessDenied' });
    const duplicate = await as(alice)
      .storage.from(bucket)
      .upload(mine, streamOf('again'), { contentType: 'text/plain' });
    expect(duplicate.error).toMatchObject({ statusCode: '409', code: 'KeyAlreadyExists' });
    expect(await text(await as(alice).storage.from(bucket).download(mine))).toBe(mine);

    // Alice replaces her own object: the new bytes are served and the old version's file is gone.
    const replaced = await as(alice)
      .storage.from(bucket)
      .upload(mine, streamOf('second version'), { contentType: 'text/plain', upsert: true });
    expect(replaced.error).toBeNull();
    expect(await text(await as(alice).storage.from(bucket).download(mine))).toBe('second version');
    const newVersion = (await objectRow(mine))?.version as string;
    expect(newVersion).not.toBe(aliceVersion);
    expect(await filesOnDisk()).not.toContain(aliceVersion);
    expect(await filesOnDisk()).toContain(newVersion);

    // Alice deletes hers; the admin deletes Amir's; both files leave the disk.
    const amirVersion = (await objectRow(theirs))?.version as string;
    const deleted = await as(alice)
      .storage.from(bucket)
      .remove([mine, `${orgA}/never-existed.txt`]);
    expect(deleted.error).toBeNull();
    expect(deleted.data?.map((object) => object.name)).toEqual([mine]);
    const byAdmin = await as(ada).storage.from(bucket).remove([theirs]);
    expect(byAdmin.data?.map((object) => object.name)).toEqual([theirs]);
    expect(await objectRow(mine)).toBeUndefined();
    expect(await objectRow(theirs)).toBeUndefined();
    expect(await filesOnDisk()).not.toContain(newVersion);
    expect(await filesOnDisk()).not.toContain(amirVersion);
  });
});

describe("Storage API: the bucket's limits", () => {
  it('refuses a MIME type outside allowed_mime_types', async () => {
    const path = `${orgA}/connectors/upload/c1/2025-02-03/bin/tool.pdf`;
    const { error } = await as(alice)
      .storage.from(bucket)
      .upload(path, streamOf('MZ...'), { contentType: 'application/x-msdownload' });
    expect(error).toMatchObject({
      statusCode: '415',
      code: 'InvalidMimeType',
      message: 'mime type application/x-msdownload is not supported',
    });
    // supabase-js's default content type carries a charset, which storage-api compares as sent.
    const defaulted = await as(alice).storage.from(bucket).upload(`${orgA}/default.txt`, streamOf('x'));
    expect(defaulted.error).toMatchObject({ statusCode: '415', code: 'InvalidMimeType' });
    expect(await objectRow(path)).toBeUndefined();
    // Listed types pass, including Office formats.
    const docx = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
    expect(
      (await as(alice).storage.from(bucket).upload(`${orgA}/ok.docx`, streamOf('PK'), { contentType: docx }))
        .error,
    ).toBeNull();
  });

  it('refuses an object over file_size_limit while streaming, and a declared Content-Length at once', async () => {
    const limit = 1024 * 1024;
    await pool.query('update storage.buckets set file_size_limit = $1 where id = $2', [limit, bucket]);
    try {
      const before = await filesOnDisk();
      const chunk = new Uint8Array(64 * 1024).fill(1);
      const parts = Array.from({ length: limit / chunk.byteLength }, () => chunk);
      const exact = await as(alice)
        .storage.from(bucket)
        .upload(`${orgA}/limit/exact.bin`, streamOf(...parts), { contentType: 'application/pdf' });
      expect(exact.error).toBeNull();
      const over = await as(alice)
        .storage.from(bucket)
        .upload(`${orgA}/limit/over.bin`, streamOf(...parts, new Uint8Array(1)), {
          contentType: 'application/pdf',
        });
      expect(over.error).toMatchObject({
        statusCode: '413',
        code: 'EntityTooLarge',
        message: 'The object exceeded the maximum allowed size',
      });
      expect(await objectRow(`${orgA}/limit/over.bin`)).toBeUndefined();
      expect((await filesOnDisk()).length).toBe(before.length + 1); // only exact.bin
    } finally {
      await pool.query('update storage.buckets set file_size_limit = 5368709120 where id = $1', [bucket]);
    }

    // The migration's 5 GB limit: a declared 5 GB + 1 byte body is refused before it is sent.
    const token = await api.signUserToken(alice);
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const request = httpRequest(`${api.url}/storage/v1/object/${bucket}/${orgA}/huge.mp4`, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${token}`,
          'Content-Type': 'video/mp4',
          'Content-Length': String(5 * 1024 ** 3 + 1),
        },
      });
      request.on('response', (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (piece: Buffer) => chunks.push(piece));
        response.on('end', () => {
          resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString() });
          request.destroy();
        });
      });
      request.on('error', reject);
      request.write(new Uint8Array(1024));
    });
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toMatchObject({ statusCode: '413', code: 'EntityTooLarge' });
  });

  it('accepts Blob and File bodies (multipart) with their own type, metadata and the same limits', async () => {
    const path = `${orgA}/connectors/upload/c1/2025-02-05/md/readme.md`;
    const blob = new Blob(['# Title\r\n--not a boundary\r\n'], { type: 'text/markdown' });
    const upload = await as(alice)
      .storage.from(bucket)
      .upload(path, blob, { metadata: { source: 'drag-and-drop' }, cacheControl: '60' });
    expect(upload.error).toBeNull();
    expect(await text(await as(alice).storage.from(bucket).download(path))).toBe(
      '# Title\r\n--not a boundary\r\n',
    );
    expect((await objectRow(path))?.metadata).toMatchObject({
      mimetype: 'text/markdown',
      size: 27,
      cacheControl: 'max-age=60',
    });
    expect((await as(alice).storage.from(bucket).info(path)).data?.metadata).toEqual({
      source: 'drag-and-drop',
    });

    const exe = new File([new Uint8Array([0x4d, 0x5a])], 'tool.pdf', { type: 'application/x-msdownload' });
    const refused = await as(alice).storage.from(bucket).upload(`${orgA}/tool.pdf`, exe);
    expect(refused.error).toMatchObject({ statusCode: '415', code: 'InvalidMimeType' });
    expect(await objectRow(`${orgA}/tool.pdf`)).toBeUndefined();

    // A 3 MB Blob through multipart, byte for byte (the file part is streamed, split across chunks).
    const bytes = new Uint8Array(3 * 1024 * 1024).map((_, index) => (index * 7) % 256);
    const large = await as(alice)
      .storage.from(bucket)
      .upload(`${orgA}/large.pdf`, new Blob([bytes], { type: 'application/pdf' }));
    expect(large.error).toBeNull();
    const back = new Uint8Array(
      await ((await as(alice).storage.from(bucket).download(`${orgA}/large.pdf`)).data as Blob).arrayBuffer(),
    );
    expect(createHash('sha256').update(back).digest('hex')).toBe(
      createHash('sha256').update(bytes).digest('hex'),
    );

    // Raw bodies carry user metadata in x-metadata.
    const raw = await as(alice)
      .storage.from(bucket)
      .upload(`${orgA}/raw.txt`, streamOf('raw'), { contentType: 'text/plain', metadata: { batch: 7 } });
    expect(raw.error).toBeNull();
    expect((await as(alice).storage.from(bucket).info(`${orgA}/raw.txt`)).data?.metadata).toEqual({
      batch: 7,
    });
  });

  it('streams a 64 MB upload to disk while the client is still producing it, and streams it back', async () => {
    const chunkSize = 1024 * 1024;
    const total = 64;
    const expected = createHash('sha256');
    const before = new Set(await filesOnDisk());
    let produced = 0;
    let sawPartialFile = false;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (produced === total / 2) {
          // Half sent: the server must already have written a good part of it to disk. If anything
          // (supabase-js, fetch, the endpoint) buffered the whole body, this would never happen.
          for (;;) {
            const sizes = await Promise.all(
              (await filesOnDisk())
                .filter((name) => !before.has(name))
                .map(
                  async (name) => (await stat(join(directory, bucket, name)).catch(() => ({ size: 0 }))).size,
                ),
            );
            if (sizes.some((size) => size >= 8 * chunkSize)) break;
            await new Promise((resolve) => setTimeout(resolve, 10));
          }
          sawPartialFile = true;
        }
        if (produced === total) {
          controller.close();
          return;
        }
        const chunk = new Uint8Array(chunkSize);
        for (let offset = 0; offset < chunkSize; offset += 4096) chunk[offset] = (produced + offset) % 251;
        expected.update(chunk);
        produced += 1;
        controller.enqueue(chunk);
      },
    });
    const path = `${orgA}/connectors/upload/c1/2025-02-04/video/big.mp4`;
    const upload = await as(alice).storage.from(bucket).upload(path, body, { contentType: 'video/mp4' });
    expect(upload.error).toBeNull();
    expect(sawPartialFile).toBe(true);
    expect((await objectRow(path))?.metadata).toMatchObject({ size: total * chunkSize });

    const download = await as(amir).storage.from(bucket).download(path).asStream();
    expect(download.error).toBeNull();
    const actual = createHash('sha256');
    let size = 0;
    for await (const chunk of download.data as unknown as AsyncIterable<Uint8Array>) {
      actual.update(chunk);
      size += chunk.byteLength;
    }
    expect(size).toBe(total * chunkSize);
    expect(actual.digest('hex')).toBe(expected.digest('hex'));
  }, 120_000);
});

describe('Storage API: list, signed URLs and odd requests', () => {
  it('lists one folder level with files and folders, honouring search, limit and offset', async () => {
    const base = `${orgB}/connectors/upload/c2/2025-03-01`;
    for (const name of ['pdf/a.pdf', 'pdf/b.pdf', 'txt/readme.txt', 'index.json']) {
      const type = name.endsWith('.pdf')
        ? 'application/pdf'
        : name.endsWith('.json')
          ? 'application/json'
          : 'text/plain';
      expect(
        (await as(bob).storage.from(bucket).upload(`${base}/${name}`, streamOf(name), { contentType: type }))
          .error,
      ).toBeNull();
    }
    const top = await as(bob).storage.from(bucket).list(base);
    expect(top.error).toBeNull();
    expect(top.data?.map((entry) => [entry.name, entry.id === null])).toEqual([
      ['index.json', false],
      ['pdf', true],
      ['txt', true],
    ]);
    expect(top.data?.[0]?.metadata).toMatchObject({ size: 10, mimetype: 'application/json' });
    const pdfs = await as(bob).storage.from(bucket).list(`${base}/pdf/`);
    expect(pdfs.data?.map((entry) => entry.name)).toEqual(['a.pdf', 'b.pdf']);
    const searched = await as(bob).storage.from(bucket).list(`${base}/pdf`, { search: 'B' });
    expect(searched.data?.map((entry) => entry.name)).toEqual(['b.pdf']);
    const paged = await as(bob).storage.from(bucket).list(base, { limit: 1, offset: 1 });
    expect(paged.data?.map((entry) => entry.name)).toEqual(['pdf']);
    // The service role sees every organisation's folder.
    const all = await service.storage.from(bucket).list('');
    expect(all.data?.map((entry) => entry.name)).toEqual(expect.arrayContaining([orgA, orgB]));
  });

  it('creates signed URLs that serve the object without a key, and refuses a tampered token', async () => {
    const path = `${orgB}/connectors/upload/c2/2025-03-02/txt/shared.txt`;
    expect(
      (await as(bob).storage.from(bucket).upload(path, streamOf('shared'), { contentType: 'text/plain' }))
        .error,
    ).toBeNull();
    const signed = await as(bob).storage.from(bucket).createSignedUrl(path, 60);
    expect(signed.error).toBeNull();
    const signedUrl = signed.data?.signedUrl ?? '';
    expect(signedUrl).toMatch(/\/storage\/v1\/object\/sign\/connector-imports\/.+\?token=/);
    const response = await fetch(signedUrl);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('shared');
    const tampered = await fetch(signedUrl.replace(/token=.{5}/, 'token=xxxxx'));
    expect(tampered.status).toBe(400);
    expect(await tampered.json()).toMatchObject({ statusCode: '401', code: 'InvalidJWT' });
  });

  it('answers a missing bucket, an invalid key and a missing object in Storage’s shapes', async () => {
    const missingBucket = await as(alice).storage.from('nope').download(`${orgA}/a.txt`);
    expect(missingBucket.error).toMatchObject({
      statusCode: '404',
      code: 'NoSuchBucket',
      message: 'Bucket not found',
    });
    const unicode = await as(alice)
      .storage.from(bucket)
      .upload(`${orgA}/résumé.txt`, streamOf('x'), { contentType: 'text/plain' });
    expect(unicode.error).toMatchObject({ statusCode: '400', code: 'InvalidKey' });
    // fetch would resolve "%2E%2E" itself: send the raw path.
    const traversal = await new Promise<string>((resolve, reject) => {
      const { hostname, port } = new URL(api.url);
      const request = httpRequest({
        hostname,
        port,
        path: `/storage/v1/object/${bucket}/${orgA}/%2E%2E/escape.txt`,
        method: 'POST',
        headers: { Authorization: `Bearer ${api.serviceRoleKey}`, 'Content-Type': 'text/plain' },
      });
      request.on('response', (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (piece: Buffer) => chunks.push(piece));
        response.on('end', () => resolve(Buffer.concat(chunks).toString()));
      });
      request.on('error', reject);
      request.end('x');
    });
    expect(JSON.parse(traversal)).toMatchObject({ statusCode: '400', code: 'InvalidKey' });
    expect(await readdir(directory)).toEqual([bucket]);
    const missing = await as(alice).storage.from(bucket).download(`${orgA}/not-there.txt`);
    expect(missing.error).toMatchObject({ statusCode: '404', code: 'NoSuchKey' });
  });
});
