// The Supabase path: real supabase-js against the PostgREST + Storage endpoint of
// @tributary/testkit-postgres on a migrated PostgreSQL server (objects on disk, rows in
// storage.objects under the connector-imports policies), with pgvector: text is indexed through
// supabase-js too; this file covers storage, batches, indexing and RLS.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import { BlobNotFoundError, createLexicalEmbedder } from '@tributary/core';
import { createSupabaseBlobStore, createSupabaseRepository } from '@tributary/core/supabase';
import { fromPg, migrate } from '@tributary/sql';
import {
  type PostgresServer,
  type PostgrestServer,
  startPostgresServer,
  startPostgrestServer,
} from '@tributary/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUploader, UploadBatchError } from '../src/index.js';
import { createSupabaseUploadBatchStore } from '../src/supabase.js';
import { makeIsoMedia, makePng, makeWav } from './fixtures/corpus.js';

const auth = { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false };

let postgres: PostgresServer;
let pool: ReturnType<PostgresServer['pool']>;
let api: PostgrestServer;
let directory: string;
let service: SupabaseClient;

const orgA = randomUUID();
const orgB = randomUUID();
const alice = randomUUID(); // member of A
const carol = randomUUID(); // member of A
const bob = randomUUID(); // member of B

async function clientFor(userId: string): Promise<SupabaseClient> {
  return createClient(api.url, api.anonKey, {
    auth,
    global: { headers: { Authorization: `Bearer ${await api.signUserToken(userId)}` } },
  });
}

function makeSupabaseUploader(options: { createBatchesAs?: 'user' | 'server' } = {}) {
  const blobStore = createSupabaseBlobStore({ client: service });
  const batches = createSupabaseUploadBatchStore(service, { clientForUser: clientFor });
  const uploader = createUploader({
    repository: createSupabaseRepository(service),
    batches,
    blobStore,
    embedder: createLexicalEmbedder(),
    leaseRetryMs: 50,
    ...options,
  });
  return { uploader, blobStore, batches };
}

beforeAll(async () => {
  postgres = await startPostgresServer();
  pool = postgres.pool(await postgres.createDatabase(), { max: 12 });
  await migrate(fromPg(pool));
  directory = await mkdtemp(join(tmpdir(), 'tributary-upload-storage-'));
  api = await startPostgrestServer({ pool, storage: { directory } });
  service = createClient(api.url, api.serviceRoleKey, { auth });
  for (const [user, org] of [
    [alice, orgA],
    [carol, orgA],
    [bob, orgB],
  ]) {
    await pool.query(
      "insert into tributary_private.memberships (user_id, org_id, role) values ($1, $2, 'member')",
      [user, org],
    );
  }
}, 120_000);

afterAll(async () => {
  await api?.stop();
  await postgres?.stop();
  if (directory) await rm(directory, { recursive: true, force: true });
});

describe('uploads through supabase-js and Supabase Storage', () => {
  it('stores files in the org folder of connector-imports and counts the batch', async () => {
    const { uploader, blobStore } = makeSupabaseUploader();
    const png = makePng(4, 4);
    const handle = await uploader.createBatch({
      orgId: orgA,
      userId: alice,
      files: [
        { name: 'diagram.png', data: png },
        { name: 'standup.wav', data: makeWav(0.2) },
        { name: 'Résumé final.mp4', data: makeIsoMedia('isom', 2048) },
        { name: 'diagram copy.png', data: png },
        { name: 'notes.txt', data: Buffer.from('notes about the capybara project') },
      ],
    });
    const final = await handle.done;
    expect(final.processedFiles).toBe(5);
    // The two identical images race: whichever is stored first is the document, the other its duplicate.
    const images = [final.files[0], final.files[3]];
    expect(images.map((f) => f?.status).sort()).toEqual(['duplicate', 'stored']);
    expect(images[0]?.documentId).toBe(images[1]?.documentId);
    expect(final.files.map((f) => f.status).slice(1, 3)).toEqual([
      'awaiting_transcription',
      'awaiting_transcription',
    ]);
    expect(final.files[4]?.status).toBe('completed');
    expect(final.failedFiles).toBe(0);
    expect(final.status).toBe('completed');
    const embedded = await pool.query<{ n: number }>(
      'select count(*)::int as n from public.document_chunks where document_id = $1 and embedding is not null',
      [final.files[4]?.documentId],
    );
    expect(embedded.rows[0]?.n).toBeGreaterThan(0);

    const { rows } = await pool.query<{ name: string; owner_id: string | null; mimetype: string }>(
      "select name, owner_id, metadata ->> 'mimetype' as mimetype from storage.objects where bucket_id = 'connector-imports' and name like $1 order by name",
      [`${orgA}/%`],
    );
    // The duplicate was removed again: one object per distinct file.
    expect(rows).toHaveLength(4);
    for (const row of rows) {
      expect(row.name).toMatch(
        new RegExp(
          `^${orgA}/connectors/upload/${handle.connectorId}/\\d{4}-\\d{2}-\\d{2}/(images|audio|videos|documents)/`,
        ),
      );
    }
    const video = rows.find((row) => row.name.includes('/videos/'));
    expect(video?.name).toMatch(/-Resume final\.mp4$/);
    const image = rows.find((row) => row.name.includes('/images/')) as { name: string };
    expect((await blobStore.head(image.name))?.contentType).toBe('image/png');

    // The batch row, read back through PostgREST by the member who uploaded.
    const asAlice = createSupabaseUploadBatchStore(await clientFor(alice));
    expect(await asAlice.getBatch(handle.batchId)).toMatchObject({
      status: 'completed',
      processedFiles: 5,
      failedFiles: 0,
    });
  }, 60_000);

  it('keeps another organisation out of the files, the batch and the documents', async () => {
    const { uploader } = makeSupabaseUploader();
    const handle = await uploader.createBatch({
      orgId: orgA,
      userId: alice,
      files: [{ name: 'plan.png', data: makePng(9, 9) }],
    });
    const final = await handle.done;
    const documentId = final.files[0]?.documentId as string;
    const { rows } = await pool.query<{ storage_path: string }>(
      'select storage_path from public.imported_documents where id = $1',
      [documentId],
    );
    const path = rows[0]?.storage_path as string;

    const bobStore = createSupabaseBlobStore({ client: await clientFor(bob) });
    await expect(bobStore.get(path)).rejects.toSatisfy((error) => BlobNotFoundError.isInstance(error));
    expect(await bobStore.head(path)).toBeUndefined();
    const carolStore = createSupabaseBlobStore({ client: await clientFor(carol) });
    expect(await carolStore.head(path)).toBeDefined();

    const bobBatches = createSupabaseUploadBatchStore(await clientFor(bob));
    expect(await bobBatches.getBatch(handle.batchId)).toBeUndefined();
    const bobDocuments = await (await clientFor(bob))
      .from('imported_documents')
      .select('id')
      .eq('id', documentId);
    expect(bobDocuments.data).toEqual([]);
  }, 60_000);

  it('lets a user add batches only to their own organisation, and delete only what they uploaded', async () => {
    const { uploader } = makeSupabaseUploader({ createBatchesAs: 'user' });
    const refused = await uploader
      .createBatch({ orgId: orgA, userId: bob, files: [{ name: 'x.png', data: makePng(2, 2) }] })
      .catch((error: unknown) => error);
    expect(UploadBatchError.isInstance(refused)).toBe(true);
    expect((refused as UploadBatchError).reason).toBe('not_allowed');

    const handle = await uploader.createBatch({
      orgId: orgA,
      userId: alice,
      files: [{ name: 'mine.png', data: makePng(3, 5) }],
    });
    const documentId = (await handle.done).files[0]?.documentId as string;
    const asCarol = await clientFor(carol);
    const carolDelete = await asCarol.from('imported_documents').delete().eq('id', documentId).select('id');
    expect(carolDelete.data).toEqual([]);
    const asAlice = await clientFor(alice);
    const aliceDelete = await asAlice.from('imported_documents').delete().eq('id', documentId).select('id');
    expect(aliceDelete.data).toEqual([{ id: documentId }]);
  }, 60_000);
});

describe('the Supabase batch store across processes', () => {
  // Each store stands for another process: separate supabase-js clients, no shared memory.
  const processes = () =>
    Array.from({ length: 6 }, () =>
      createSupabaseUploadBatchStore(createClient(api.url, api.serviceRoleKey, { auth })),
    );

  it('creates one upload connector when six processes ask for a new organisation at once', async () => {
    const orgId = randomUUID();
    const ids = await Promise.all(processes().map((store) => store.ensureUploadConnector(orgId)));
    expect(new Set(ids).size).toBe(1);
    const { rows } = await pool.query<{ n: number }>(
      "select count(*)::int as n from public.connector_configs where org_id = $1 and connector_type = 'upload'",
      [orgId],
    );
    expect(rows[0]?.n).toBe(1);
  });

  it('keeps every per-file entry when six processes record files of one batch at once', async () => {
    const stores = processes();
    const at = (index: number) => stores[index % stores.length] as (typeof stores)[number];
    const orgId = randomUUID();
    const connectorId = await at(0).ensureUploadConnector(orgId);
    const batch = await at(0).createBatch({ orgId, userId: alice, connectorId, totalFiles: 60 });
    await Promise.all(
      Array.from({ length: 60 }, (_, index) =>
        at(index).recordFile(batch.id, index, {
          status: index % 6 === 0 ? 'failed' : 'completed',
          name: `file-${index}.txt`,
          message: index % 6 === 0 ? 'broken' : undefined,
        }),
      ),
    );
    const final = await at(1).getBatch(batch.id);
    expect(final).toMatchObject({ status: 'completed_with_errors', processedFiles: 60, failedFiles: 10 });
    expect(final?.files.size).toBe(60);
    expect(final?.files.get(6)).toEqual({
      status: 'failed',
      name: 'file-6.txt',
      message: 'broken',
      documentId: undefined,
    });
    // A file recorded after the batch ended is not counted twice.
    expect(await at(2).recordFile(batch.id, 0, { status: 'completed' })).toBeUndefined();
    expect((await at(2).getBatch(batch.id))?.processedFiles).toBe(60);
  });
});
