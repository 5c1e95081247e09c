// Recovery of batches whose process died mid-way, on migrated PGlite, on a real PostgreSQL server
// and through supabase-js (PostgREST over that server). A dead process is an uploader abandoned
// while some of its files hang (their bytes never arrive) after others were counted; a second
// uploader then settles the batch. Clocks are passed in (`now`), computed from the database's own
// timestamps, so nothing depends on elapsed time.
import { randomUUID } from 'node:crypto';
import type { PGlite } from '@electric-sql/pglite';
import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import type { KnowledgeRepository, SqlDatabase } from '@tributary/core';
import { createPgliteRepository } from '@tributary/core/pglite';
import { createNodePostgresRepository } from '@tributary/core/postgres';
import { fromPg, fromPglite, migrate } from '@tributary/sql';
import {
  type PostgresServer,
  type PostgrestServer,
  startPostgresServer,
  startPostgrestServer,
} from '@tributary/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createSqlUploadBatchStore,
  UPLOAD_INTERRUPTED_MESSAGE,
  type UploadBatchRecord,
  type UploadEvent,
  type UploaderSettings,
  type UploadFileInput,
} from '../src/index.js';
import { createSupabaseUploadBatchStore } from '../src/supabase.js';
import { makePng } from './fixtures/corpus.js';
import { makeUploader, migratedPglite, removeTempBlobRoots } from './harness.js';

const HOUR = 60 * 60 * 1000;

/** A file whose bytes arrive only when `open()` is called: until then its upload hangs. */
function gatedFile(name: string, bytes: Uint8Array) {
  let open: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  async function* data() {
    await gate;
    yield bytes;
  }
  return { file: { name, data: data() } satisfies UploadFileInput, open };
}

/**
 * Starts a batch of 4 images in `deadUploader`: two are counted, two hang. Returns once the two
 * are counted; the uploader is then left alone, as if its process had died.
 */
async function startDyingBatch(backend: Backend, orgId: string) {
  const dead = await makeUploader(backend.db, backend.repository, backend.settings?.());
  const hanging = [gatedFile('c.png', makePng(3, 3)), gatedFile('d.png', makePng(4, 4))];
  const counted = new Promise<void>((resolve) => {
    let finished = 0;
    dead.uploader.subscribe((event: UploadEvent) => {
      if (event.type !== 'file-finished') return;
      finished += 1;
      if (finished === 2) resolve();
    });
  });
  const handle = await dead.uploader.createBatch({
    orgId,
    userId: randomUUID(),
    files: [
      { name: 'a.png', data: makePng(1, 1) },
      { name: 'b.png', data: makePng(2, 2) },
      hanging[0]?.file as UploadFileInput,
      hanging[1]?.file as UploadFileInput,
    ],
  });
  await counted;
  const record = (await dead.batches.getBatch(handle.batchId)) as UploadBatchRecord;
  return {
    dead,
    handle,
    record,
    wake: () => {
      for (const file of hanging) file.open();
    },
  };
}

/** The `now` at which a batch last updated at `updatedAt` is just past `olderThanMs`. */
const justAfter = (updatedAt: Date, olderThanMs: number) => new Date(updatedAt.getTime() + olderThanMs + 1);

interface Backend {
  db: SqlDatabase;
  repository: KnowledgeRepository;
  /** Uploader settings of this backend (its batch store). */
  settings?: () => Partial<UploaderSettings>;
}

afterAll(async () => {
  await removeTempBlobRoots();
});

function recoveryTests(context: () => Backend) {
  it('settles a batch whose uploader died: counted files stay, the rest fail with the message', async () => {
    const backend = context();
    const { db, repository } = backend;
    const orgId = randomUUID();
    const { dead, handle, record, wake } = await startDyingBatch(backend, orgId);
    expect(record).toMatchObject({ status: 'processing', processedFiles: 2, failedFiles: 0 });

    // A batch created now, in another organisation: newer than any threshold used below.
    const otherOrg = randomUUID();
    const fresh = await dead.batches.createBatch({
      orgId: otherOrg,
      userId: randomUUID(),
      connectorId: await dead.batches.ensureUploadConnector(otherOrg),
      totalFiles: 2,
    });

    const second = await makeUploader(db, repository, backend.settings?.());
    // At the fresh batch's own time, nothing is an hour old: neither batch is touched.
    expect(
      await second.uploader.recoverInterruptedBatches({ olderThanMs: HOUR, now: fresh.createdAt }),
    ).toEqual([]);
    // The dead uploader itself never settles a batch it is running, however old.
    expect(
      await dead.uploader.recoverInterruptedBatches({
        olderThanMs: HOUR,
        orgId,
        now: justAfter(record.updatedAt, HOUR),
      }),
    ).toEqual([]);
    expect(await dead.batches.getBatch(handle.batchId)).toMatchObject({
      status: 'processing',
      processedFiles: 2,
    });

    const recovered = await second.uploader.recoverInterruptedBatches({
      olderThanMs: HOUR,
      orgId,
      now: justAfter(record.updatedAt, HOUR),
    });
    expect(recovered).toHaveLength(1);
    expect(recovered[0]).toMatchObject({
      id: handle.batchId,
      status: 'completed_with_errors',
      totalFiles: 4,
      processedFiles: 4,
      failedFiles: 2,
      percent: 100,
      interruptedFiles: 2,
      recoveredFiles: 0,
    });
    const progress = await second.uploader.getBatch(handle.batchId);
    expect(progress?.completedAt).toBeInstanceOf(Date);
    expect(progress?.files.map((file) => [file.index, file.status, file.message ?? null])).toEqual([
      [0, 'stored', expect.any(String)],
      [1, 'stored', expect.any(String)],
      [2, 'failed', UPLOAD_INTERRUPTED_MESSAGE],
      [3, 'failed', UPLOAD_INTERRUPTED_MESSAGE],
    ]);
    // The counted files' documents are untouched.
    const documents = await db.query<{ processing_status: string }>(
      'select processing_status from public.imported_documents where org_id = $1 order by title',
      [orgId],
    );
    expect(documents.rows.map((row) => row.processing_status)).toEqual(['completed', 'completed']);

    // Running it again settles nothing; the fresh batch is still untouched.
    expect(
      await second.uploader.recoverInterruptedBatches({
        olderThanMs: HOUR,
        orgId,
        now: justAfter(record.updatedAt, HOUR),
      }),
    ).toEqual([]);
    expect(await dead.batches.getBatch(fresh.id)).toMatchObject({
      status: 'uploading',
      processedFiles: 0,
      failedFiles: 0,
      completedAt: null,
    });

    // The "dead" process wakes up after all: the database refuses its late files, nothing is counted twice.
    wake();
    await handle.done;
    expect(await dead.batches.getBatch(handle.batchId)).toMatchObject({
      status: 'completed_with_errors',
      processedFiles: 4,
      failedFiles: 2,
    });
  });

  it('ends a batch with no file counted as failed', async () => {
    const { db, repository, settings } = context();
    const orgId = randomUUID();
    const { batches, uploader } = await makeUploader(db, repository, settings?.());
    const batch = await batches.createBatch({
      orgId,
      userId: randomUUID(),
      connectorId: await batches.ensureUploadConnector(orgId),
      totalFiles: 3,
    });
    const [recovered] = await uploader.recoverInterruptedBatches({
      olderThanMs: 0,
      orgId,
      now: justAfter(batch.updatedAt, 0),
    });
    expect(recovered).toMatchObject({
      status: 'failed',
      processedFiles: 3,
      failedFiles: 3,
      interruptedFiles: 3,
    });
    expect(recovered?.completedAt).toBeInstanceOf(Date);
  });
}

function concurrentRecoveryTest(context: () => Backend) {
  it('two processes recovering at once settle each batch once, with exact counts', async () => {
    const backend = context();
    const { db, repository } = backend;
    const orgId = randomUUID();
    const dying = await startDyingBatch(backend, orgId);
    // More interrupted batches of 10 files: 4 counted (one of them failed), 6 never counted.
    const store = createSqlUploadBatchStore(db);
    const connectorId = await store.ensureUploadConnector(orgId);
    const others: UploadBatchRecord[] = [];
    for (let n = 0; n < 5; n += 1) {
      const batch = await store.createBatch({ orgId, userId: randomUUID(), connectorId, totalFiles: 10 });
      for (let index = 0; index < 4; index += 1) {
        await store.recordFile(
          batch.id,
          index,
          index === 0 ? { status: 'failed', message: 'broken' } : { status: 'stored', name: `${index}.png` },
        );
      }
      others.push(batch);
    }
    const latest = (await store.getBatch(others[others.length - 1]?.id as string)) as UploadBatchRecord;
    const now = justAfter(latest.updatedAt, HOUR);

    const first = await makeUploader(db, repository, backend.settings?.());
    const second = await makeUploader(db, repository, backend.settings?.());
    const results = await Promise.all([
      first.uploader.recoverInterruptedBatches({ olderThanMs: HOUR, orgId, now }),
      second.uploader.recoverInterruptedBatches({ olderThanMs: HOUR, orgId, now }),
    ]);
    const settled = results.flat();
    expect(settled.map((batch) => batch.id).sort()).toEqual(
      [dying.handle.batchId, ...others.map((b) => b.id)].sort(),
    );
    expect(settled.reduce((sum, batch) => sum + batch.interruptedFiles, 0)).toBe(2 + 5 * 6);

    expect(await store.getBatch(dying.handle.batchId)).toMatchObject({
      status: 'completed_with_errors',
      processedFiles: 4,
      failedFiles: 2,
    });
    for (const batch of others) {
      const final = (await store.getBatch(batch.id)) as UploadBatchRecord;
      expect(final).toMatchObject({ status: 'completed_with_errors', processedFiles: 10, failedFiles: 7 });
      expect(final.completedAt).toBeInstanceOf(Date);
      expect(final.files.size).toBe(10);
      expect(
        [...final.files.values()].filter((file) => file.message === UPLOAD_INTERRUPTED_MESSAGE),
      ).toHaveLength(6);
    }
    dying.wake();
    await dying.handle.done;
    expect(await store.getBatch(dying.handle.batchId)).toMatchObject({ processedFiles: 4, failedFiles: 2 });
  });
}

function documentRecoveryTest(context: () => Backend) {
  it('counts files that became documents but were never counted from their documents', async () => {
    const { db, repository, settings } = context();
    const { batches, uploader } = await makeUploader(db, repository, settings?.());
    const orgId = randomUUID();
    const connectorId = await batches.ensureUploadConnector(orgId);
    const batch = await batches.createBatch({ orgId, userId: randomUUID(), connectorId, totalFiles: 4 });
    await batches.recordFile(batch.id, 0, { status: 'completed', name: 'a.md' });
    // The process died after these documents were written and before their files were counted:
    // an image (finished when written) and a document whose indexing never ended.
    const upload = (fileIndex: number, kind: string) => ({ upload: { batchId: batch.id, fileIndex, kind } });
    const written = await repository.upsertDocuments(connectorId, [
      {
        externalId: 'sha-image',
        title: 'b.png',
        mimeType: 'image/png',
        metadata: upload(1, 'image'),
        sourceMetadata: upload(1, 'image'),
        processingStatus: 'completed',
      },
      {
        externalId: 'sha-document',
        title: 'c.md',
        mimeType: 'text/markdown',
        metadata: upload(2, 'document'),
        sourceMetadata: upload(2, 'document'),
        processingStatus: 'processing',
      },
    ]);
    const current = (await batches.getBatch(batch.id)) as UploadBatchRecord;
    const [recovered] = await uploader.recoverInterruptedBatches({
      olderThanMs: HOUR,
      orgId,
      now: justAfter(current.updatedAt, HOUR),
    });
    expect(recovered).toMatchObject({
      status: 'completed_with_errors',
      processedFiles: 4,
      failedFiles: 2,
      interruptedFiles: 2,
      recoveredFiles: 1,
    });
    expect(recovered?.files.map((file) => [file.status, file.documentId ?? null])).toEqual([
      ['completed', null],
      ['stored', written[0]?.documentId],
      ['failed', written[1]?.documentId],
      ['failed', null],
    ]);
    // The half-indexed document is failed, so uploading the same bytes again imports it again.
    const { rows } = await db.query<{
      title: string;
      processing_status: string;
      processing_error: string | null;
    }>(
      'select title, processing_status, processing_error from public.imported_documents where org_id = $1 order by title',
      [orgId],
    );
    expect(rows).toEqual([
      { title: 'b.png', processing_status: 'completed', processing_error: null },
      { title: 'c.md', processing_status: 'failed', processing_error: UPLOAD_INTERRUPTED_MESSAGE },
    ]);
  });
}

describe('recovering interrupted batches on PGlite', () => {
  let pglite: PGlite;
  beforeAll(async () => {
    pglite = await migratedPglite();
  }, 60_000);
  afterAll(async () => {
    await pglite?.close();
  });

  recoveryTests(() => ({ db: fromPglite(pglite), repository: createPgliteRepository(pglite) }));

  documentRecoveryTest(() => ({ db: fromPglite(pglite), repository: createPgliteRepository(pglite) }));
});

describe('recovering interrupted batches on a PostgreSQL server', () => {
  let server: PostgresServer;
  let pool: ReturnType<PostgresServer['pool']>;
  beforeAll(async () => {
    server = await startPostgresServer();
    const database = await server.createDatabase();
    pool = server.pool(database, { max: 8 });
    await migrate(fromPg(pool));
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  });

  const backend = (): Backend => ({ db: fromPg(pool), repository: createNodePostgresRepository(pool) });
  recoveryTests(backend);
  documentRecoveryTest(backend);
  concurrentRecoveryTest(backend);
});

describe('recovering interrupted batches with the Supabase batch store (supabase-js, PostgREST)', () => {
  let server: PostgresServer;
  let pool: ReturnType<PostgresServer['pool']>;
  let api: PostgrestServer;
  let service: SupabaseClient;
  beforeAll(async () => {
    server = await startPostgresServer();
    pool = server.pool(await server.createDatabase(), { max: 8 });
    await migrate(fromPg(pool));
    api = await startPostgrestServer({ pool });
    service = createClient(api.url, api.serviceRoleKey, {
      auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    });
  }, 120_000);
  afterAll(async () => {
    await api?.stop();
    await server?.stop();
  });

  const backend = (): Backend => ({
    db: fromPg(pool),
    repository: createNodePostgresRepository(pool),
    settings: () => ({ batches: createSupabaseUploadBatchStore(service) }),
  });
  recoveryTests(backend);
  documentRecoveryTest(backend);
  concurrentRecoveryTest(backend);
});
