// Row level security through the SQL roles of the Supabase shim (PGlite), and transcription with
// the real openai client against a local fake server.
import { randomUUID } from 'node:crypto';
import type { PGlite } from '@electric-sql/pglite';
import { createPgliteRepository } from '@tributary/core/pglite';
import { fromPglite } from '@tributary/sql';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOpenAITranscriber, createSqlUploadBatchStore, UploadBatchError } from '../src/index.js';
import { type FakeOpenAIServer, startFakeOpenAIServer } from './fake-openai-server.js';
import { makeIsoMedia, makeWav } from './fixtures/corpus.js';
import { addMember, makeUploader, migratedPglite, removeTempBlobRoots } from './harness.js';

let pglite: PGlite;
let openai: FakeOpenAIServer;
const db = () => fromPglite(pglite);

beforeAll(async () => {
  pglite = await migratedPglite();
  openai = await startFakeOpenAIServer((name) => `Transcript of ${name}: the pangolin budget was approved.`);
}, 60_000);

afterAll(async () => {
  await removeTempBlobRoots();
  await openai?.close();
  await pglite?.close();
});

/** Runs `sql` as a signed-in user, the way PostgREST would (role + JWT claims). */
async function asUser<Row>(userId: string, sql: string, params: unknown[] = []): Promise<Row[]> {
  return pglite.transaction(async (tx) => {
    await tx.query(
      `select set_config('role', 'authenticated', true), set_config('request.jwt.claims', $1, true)`,
      [JSON.stringify({ sub: userId, role: 'authenticated' })],
    );
    return (await tx.query<Row>(sql, params)).rows;
  });
}

describe('security (row level security through the SQL roles)', () => {
  it('lets a user create batches only in their own organisation, as themselves', async () => {
    const orgA = randomUUID();
    const orgB = randomUUID();
    const alice = randomUUID();
    await addMember(db(), alice, orgA);
    const repository = createPgliteRepository(pglite);
    const { uploader } = await makeUploader(db(), repository, { createBatchesAs: 'user' });

    const own = await uploader.createBatch({
      orgId: orgA,
      userId: alice,
      files: [{ name: 'a.txt', data: Buffer.from('alpaca notes') }],
    });
    expect((await own.done).status).toBe('completed');

    const error = await uploader
      .createBatch({ orgId: orgB, userId: alice, files: [{ name: 'b.txt', data: Buffer.from('intrusion') }] })
      .catch((e: unknown) => e);
    expect(UploadBatchError.isInstance(error)).toBe(true);
    expect((error as UploadBatchError).reason).toBe('not_allowed');
    // Nothing was created for the other organisation, not even its upload connector.
    const { rows } = await pglite.query('select 1 from public.connector_configs where org_id = $1', [orgB]);
    expect(rows).toHaveLength(0);

    // A batch claiming another user as its creator is refused too.
    const store = createSqlUploadBatchStore(db());
    const connectorId = await store.ensureUploadConnector(orgA);
    const impersonation = await store
      .withActor({ role: 'authenticated', userId: alice })
      .createBatch({ orgId: orgA, userId: randomUUID(), connectorId, totalFiles: 1 })
      .catch((e: unknown) => e);
    expect((impersonation as UploadBatchError).reason).toBe('not_allowed');
  });

  it('keeps progress server-side and other organisations invisible', async () => {
    const orgA = randomUUID();
    const orgB = randomUUID();
    const alice = randomUUID();
    const bob = randomUUID();
    await addMember(db(), alice, orgA);
    await addMember(db(), bob, orgB);
    const repository = createPgliteRepository(pglite);
    const { uploader, batches } = await makeUploader(db(), repository);
    const handle = await uploader.createBatch({
      orgId: orgA,
      userId: alice,
      files: [{ name: 'secret.md', data: Buffer.from('# Secret\n\nThe ocelot plan.') }],
    });
    await handle.done;

    // Bob (another organisation) sees neither the batch nor the document nor its chunks.
    expect(
      await batches.withActor({ role: 'authenticated', userId: bob }).getBatch(handle.batchId),
    ).toBeUndefined();
    expect(
      await asUser(bob, 'select id from public.imported_documents where org_id = $1', [orgA]),
    ).toHaveLength(0);
    expect(await asUser(bob, 'select id from public.document_chunks where org_id = $1', [orgA])).toHaveLength(
      0,
    );
    await expect(repository.withUser(bob).search({ orgId: orgA, queryText: 'ocelot' })).rejects.toThrow();
    // Alice sees her batch but cannot move its counters: progress is the server's.
    const aliceStore = batches.withActor({ role: 'authenticated', userId: alice });
    expect((await aliceStore.getBatch(handle.batchId))?.status).toBe('completed');
    const fresh = await batches.createBatch({
      orgId: orgA,
      userId: alice,
      connectorId: handle.connectorId,
      totalFiles: 2,
    });
    const refused = await aliceStore
      .recordFile(fresh.id, 0, { status: 'completed' })
      .catch((e: unknown) => e);
    expect((refused as UploadBatchError).reason).toBe('not_allowed');
    expect((await batches.getBatch(fresh.id))?.processedFiles).toBe(0);
  });

  it('records uploaded_by so a member may delete what they uploaded, and only that', async () => {
    const orgId = randomUUID();
    const alice = randomUUID();
    const carol = randomUUID();
    await addMember(db(), alice, orgId);
    await addMember(db(), carol, orgId);
    const repository = createPgliteRepository(pglite);
    const { uploader } = await makeUploader(db(), repository);
    const handle = await uploader.createBatch({
      orgId,
      userId: alice,
      files: [{ name: 'mine.txt', data: Buffer.from('alice owns this gecko file') }],
    });
    const documentId = (await handle.done).files[0]?.documentId as string;

    expect(
      await asUser(carol, 'delete from public.imported_documents where id = $1 returning id', [documentId]),
    ).toHaveLength(0);
    expect(
      await asUser(alice, 'delete from public.imported_documents where id = $1 returning id', [documentId]),
    ).toHaveLength(1);
  });
});

describe('transcription', () => {
  it('transcribes audio and video with the openai client and indexes the transcript', async () => {
    const orgId = randomUUID();
    const repository = createPgliteRepository(pglite);
    const transcriber = createOpenAITranscriber({
      apiKey: 'sk-test-not-a-real-key',
      baseURL: openai.baseURL,
    });
    const { uploader } = await makeUploader(db(), repository, { transcriber });
    const before = openai.requests.length;
    const handle = await uploader.createBatch({
      orgId,
      userId: randomUUID(),
      files: [
        { name: 'standup.wav', data: makeWav(0.25) },
        { name: 'demo.mp4', data: makeIsoMedia('isom', 1024) },
      ],
    });
    const final = await handle.done;
    expect(final.files.map((f) => f.status)).toEqual(['completed', 'completed']);
    const requests = openai.requests.slice(before);
    expect(requests).toHaveLength(2);
    expect(requests.map((r) => r.fileName).sort()).toEqual(['demo.mp4', 'standup.wav']);
    expect(requests[0]?.model).toBe('whisper-1');
    expect(requests[0]?.authorization).toBe('Bearer sk-test-not-a-real-key');
    expect(requests.find((r) => r.fileName === 'standup.wav')?.fileBytes).toBe(makeWav(0.25).byteLength);
    const results = await repository.search({ orgId, queryText: 'pangolin' });
    expect(results.map((r) => r.title).sort()).toEqual(['demo.mp4', 'standup.wav']);
    const { rows } = await pglite.query<{ source_metadata: Record<string, unknown>; storage_path: string }>(
      'select source_metadata, storage_path from public.imported_documents where org_id = $1 and title = $2',
      [orgId, 'standup.wav'],
    );
    expect(rows[0]?.source_metadata.transcription).toMatchObject({
      transcriber: 'openai:whisper-1',
      durationSeconds: 1.5,
    });
    expect(rows[0]?.storage_path).toContain('/audio/');
  });

  it('reports files over the transcription limit as stored, not transcribed, and a refused key per file', async () => {
    const orgId = randomUUID();
    const repository = createPgliteRepository(pglite);
    const client = new OpenAI({ apiKey: 'sk-test-other', baseURL: openai.baseURL });
    const transcriber = createOpenAITranscriber({ client, maxBytes: 4096 });
    const { uploader } = await makeUploader(db(), repository, { transcriber });
    const before = openai.requests.length;
    const big = await (
      await uploader.createBatch({
        orgId,
        userId: randomUUID(),
        files: [{ name: 'long-call.wav', data: makeWav(1) }],
      })
    ).done;
    expect(big.files[0]?.status).toBe('stored');
    expect(big.files[0]?.message).toBe(
      'stored but not transcribed: 15.7 KB is over the 4.0 KB limit of openai:whisper-1',
    );
    expect(openai.requests.length).toBe(before);
    const { rows } = await pglite.query<{ metadata: Record<string, unknown> }>(
      'select metadata from public.imported_documents where org_id = $1',
      [orgId],
    );
    expect(rows[0]?.metadata.transcription).toMatchObject({ status: 'too_large', limitBytes: 4096 });

    openai.failWith(401, 'invalid_api_key');
    const refused = await (
      await uploader.createBatch({
        orgId,
        userId: randomUUID(),
        files: [{ name: 'short.wav', data: makeWav(0.1) }],
      })
    ).done;
    expect(refused.files[0]?.status).toBe('failed');
    expect(refused.files[0]?.message).toMatch(
      /transcription failed: .*OpenAI refused the transcription request \(401\)/,
    );
    expect(refused.files[0]?.message).not.toContain('sk-test-other');
    expect(refused.status).toBe('failed');
  });
});
