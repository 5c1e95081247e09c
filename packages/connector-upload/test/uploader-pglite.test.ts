// The uploader end to end on migrated PGlite (PostgreSQL with pgvector) and the local blob store:
// every allowed type, dedup, the object path, batch counts from the database, broken files, a
// 100-file batch, cancellation, streaming size limits and the in-process events.
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { PGlite } from '@electric-sql/pglite';
import { createPgliteRepository } from '@tributary/core/pglite';
import { fromPglite } from '@tributary/sql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type UploadEvent, UploadRejectedError } from '../src/index.js';
import { brokenCorpus, makePdf, validCorpus } from './fixtures/corpus.js';
import { makeUploader, migratedPglite, removeTempBlobRoots, tempBlobRoot } from './harness.js';

let pglite: PGlite;
const db = () => fromPglite(pglite);

beforeAll(async () => {
  pglite = await migratedPglite();
}, 60_000);

afterAll(async () => {
  await removeTempBlobRoots();
  await pglite?.close();
});

async function documentsOf(orgId: string) {
  const { rows } = await pglite.query<{
    id: string;
    title: string;
    mime_type: string;
    storage_path: string | null;
    processing_status: string;
    processing_error: string | null;
    uploaded_by: string | null;
    chunk_count: number;
    metadata: Record<string, unknown>;
    external_id: string;
    file_size_bytes: number;
  }>('select * from public.imported_documents where org_id = $1 order by title', [orgId]);
  return rows;
}

describe('uploader on PGlite with the local blob store', () => {
  it('stores, extracts and indexes one file of every allowed type', async () => {
    const orgId = randomUUID();
    const userId = randomUUID();
    const repository = createPgliteRepository(pglite);
    const { uploader, blobStore } = await makeUploader(db(), repository);
    const corpus = validCorpus();
    const handle = await uploader.createBatch({
      orgId,
      userId,
      files: corpus.map((file) => ({ name: file.name, data: file.bytes })),
    });
    expect(handle.batchId).toMatch(/^[0-9a-f-]{36}$/);
    const final = await handle.done;

    expect(final.status).toBe('completed');
    expect(final.totalFiles).toBe(corpus.length);
    expect(final.processedFiles).toBe(corpus.length);
    expect(final.failedFiles).toBe(0);
    expect(final.percent).toBe(100);
    expect(final.completedAt).toBeInstanceOf(Date);
    const statusByName = Object.fromEntries(final.files.map((file) => [file.name, file.status]));
    for (const file of corpus) {
      const expected = file.marker
        ? 'completed'
        : file.mimeType.startsWith('image/')
          ? 'stored'
          : 'awaiting_transcription';
      expect(statusByName[file.name], file.name).toBe(expected);
    }

    const documents = await documentsOf(orgId);
    expect(documents).toHaveLength(corpus.length);
    const day = new Date().toISOString().slice(0, 10);
    for (const document of documents) {
      expect(document.uploaded_by).toBe(userId);
      expect(document.storage_path).toMatch(
        new RegExp(
          `^${orgId}/connectors/upload/${handle.connectorId}/${day}/(documents|images|audio|videos)/[0-9a-f-]{36}-${document.title.replace('.', '\\.')}$`,
        ),
      );
      expect(await blobStore.head(document.storage_path as string)).toBeDefined();
    }
    const byTitle = Object.fromEntries(documents.map((d) => [d.title, d]));
    expect(byTitle['logo.png']?.metadata.image).toEqual({ width: 3, height: 2 });
    expect(byTitle['photo.jpg']?.metadata.image).toEqual({ width: 640, height: 480 });
    expect(byTitle['logo.png']?.chunk_count).toBe(0);
    expect(byTitle['call.wav']?.metadata.transcription).toEqual({ status: 'awaiting' });
    expect(byTitle['call.wav']?.processing_status).toBe('pending');
    expect(byTitle['demo.mp4']?.storage_path).toContain('/videos/');
    expect(byTitle['memo.mp3']?.storage_path).toContain('/audio/');

    // Every document's text is searchable by its marker word, and finds only that document.
    for (const file of corpus.filter((f) => f.marker)) {
      const results = await repository.search({ orgId, queryText: file.marker as string });
      expect(
        results.map((r) => r.title),
        file.name,
      ).toEqual([file.name]);
    }
  });

  it('dedups identical bytes in one organisation: linked to the existing document, stored and embedded once', async () => {
    const orgId = randomUUID();
    const userId = randomUUID();
    const repository = createPgliteRepository(pglite);
    const { uploader, blobStore } = await makeUploader(db(), repository);
    const pdf = makePdf('Unique quokka report');
    const first = await (
      await uploader.createBatch({ orgId, userId, files: [{ name: 'quokka.pdf', data: pdf }] })
    ).done;
    expect(first.files[0]?.status).toBe('completed');
    const original = first.files[0]?.documentId;

    // Same bytes again, under other names, in a later batch and twice within one batch.
    const second = await (
      await uploader.createBatch({
        orgId,
        userId,
        files: [
          { name: 'quokka-copy.pdf', data: pdf },
          { name: 'other.txt', data: Buffer.from('a different file about wombats') },
          { name: 'quokka-again.pdf', data: pdf },
        ],
      })
    ).done;
    expect(second.status).toBe('completed');
    expect(second.processedFiles).toBe(3);
    expect(second.failedFiles).toBe(0);
    expect(second.files.map((f) => f.status)).toEqual(['duplicate', 'completed', 'duplicate']);
    expect(second.files[0]?.documentId).toBe(original);
    expect(second.files[2]?.documentId).toBe(original);

    const documents = await documentsOf(orgId);
    expect(documents.map((d) => d.title).sort()).toEqual(['other.txt', 'quokka.pdf']);
    const objects: string[] = [];
    for await (const info of blobStore.list(`${orgId}/`)) objects.push(info.path);
    expect(objects).toHaveLength(2);
    const { rows } = await pglite.query<{ count: number }>(
      'select count(*)::int as count from public.document_chunks where org_id = $1',
      [orgId],
    );
    // One chunk per document: the duplicate was not chunked or embedded again.
    expect(rows[0]?.count).toBe(2);

    // Six identical files arriving at once (concurrency 4): one document, five duplicates.
    const burstOrg = randomUUID();
    const burst = await (
      await uploader.createBatch({
        orgId: burstOrg,
        userId,
        files: Array.from({ length: 6 }, (_, i) => ({ name: `same-${i}.pdf`, data: pdf })),
      })
    ).done;
    const statuses = burst.files.map((f) => f.status).sort();
    expect(statuses).toEqual(['completed', 'duplicate', 'duplicate', 'duplicate', 'duplicate', 'duplicate']);
    expect(new Set(burst.files.map((f) => f.documentId)).size).toBe(1);
    expect(await documentsOf(burstOrg)).toHaveLength(1);

    // Another organisation uploading the same bytes gets its own document.
    const otherOrg = randomUUID();
    const third = await (
      await uploader.createBatch({ orgId: otherOrg, userId, files: [{ name: 'q.pdf', data: pdf }] })
    ).done;
    expect(third.files[0]?.status).toBe('completed');
    expect(third.files[0]?.documentId).not.toBe(original);
  });

  it('refuses broken files with clear per-file errors and finishes the batch', async () => {
    const orgId = randomUUID();
    const userId = randomUUID();
    const repository = createPgliteRepository(pglite);
    const { uploader } = await makeUploader(db(), repository);
    const broken = brokenCorpus();
    const good = { name: 'fine.md', bytes: Buffer.from('# Fine\n\nThe narwhal survives.\n') };
    const handle = await uploader.createBatch({
      orgId,
      userId,
      files: [...broken, good].map((file) => ({ name: file.name, data: file.bytes })),
    });
    const final = await handle.done;
    expect(final.status).toBe('completed_with_errors');
    expect(final.processedFiles).toBe(broken.length + 1);
    expect(final.failedFiles).toBe(broken.length);
    for (const [index, file] of broken.entries()) {
      const progress = final.files[index];
      expect(progress?.status, file.name).toBe('failed');
      expect(progress?.message, file.name).toMatch(file.expected);
    }
    expect(final.files[broken.length]?.status).toBe('completed');
    expect((await repository.search({ orgId, queryText: 'narwhal' })).map((r) => r.title)).toEqual([
      'fine.md',
    ]);
    // The database keeps the per-file errors (what another process's getBatch sees).
    const fresh = await makeUploader(db(), repository);
    const seen = await fresh.uploader.getBatch(handle.batchId);
    expect(seen?.files.map((f) => f.status)).toEqual([...broken.map(() => 'failed'), 'completed']);
    expect(seen?.files[2]?.message).toMatch(/Linux executable/);
  }, 60_000);

  it('runs a 100-file batch with 10 duplicates and 5 broken files to exact counts', async () => {
    const orgId = randomUUID();
    const userId = randomUUID();
    const repository = createPgliteRepository(pglite);
    const { uploader } = await makeUploader(db(), repository, { concurrency: 8 });
    const files: { name: string; data: Uint8Array }[] = [];
    for (let index = 0; index < 85; index += 1) {
      files.push({
        name: `note-${index}.txt`,
        data: Buffer.from(`Note ${index}: the heron count is ${index * 7}.\n`),
      });
    }
    for (let index = 0; index < 10; index += 1) {
      files.push({
        name: `copy-of-note-${index}.txt`,
        data: Buffer.from(`Note ${index}: the heron count is ${index * 7}.\n`),
      });
    }
    const broken = brokenCorpus()
      .filter((file) => file.name !== 'bomb.docx')
      .slice(0, 5);
    for (const file of broken) files.push({ name: file.name, data: file.bytes });
    expect(files).toHaveLength(100);

    const events: UploadEvent[] = [];
    const unsubscribe = uploader.subscribe((event) => events.push(event));
    const handle = await uploader.createBatch({ orgId, userId, files });
    const final = await handle.done;
    unsubscribe();

    expect(final.status).toBe('completed_with_errors');
    expect(final.processedFiles).toBe(100);
    expect(final.failedFiles).toBe(5);
    const counts = final.files.reduce<Record<string, number>>((acc, file) => {
      acc[file.status] = (acc[file.status] ?? 0) + 1;
      return acc;
    }, {});
    expect(counts).toEqual({ completed: 85, duplicate: 10, failed: 5 });
    // The truncated PDF was stored before extraction failed: it stays as a failed document.
    const documents = await documentsOf(orgId);
    expect(documents.filter((d) => d.processing_status === 'completed')).toHaveLength(85);
    expect(documents.filter((d) => d.processing_status === 'failed').map((d) => d.title)).toEqual([
      'truncated.pdf',
    ]);
    const { rows } = await pglite.query<Record<string, unknown>>(
      'select * from public.file_upload_batches where id = $1',
      [handle.batchId],
    );
    expect(rows[0]).toMatchObject({
      status: 'completed_with_errors',
      processed_files: 100,
      failed_files: 5,
      total_files: 100,
    });
    expect(rows[0]?.completed_at).not.toBeNull();

    const finished = events.filter((e) => e.type === 'file-finished');
    expect(finished).toHaveLength(100);
    expect(new Set(finished.map((e) => (e.type === 'file-finished' ? e.index : -1))).size).toBe(100);
    expect(events.at(-1)).toMatchObject({
      type: 'batch-finished',
      status: 'completed_with_errors',
      processedFiles: 100,
    });
  }, 120_000);

  it('checks the size limit while streaming a file of unknown size, and stores nothing of it', async () => {
    const orgId = randomUUID();
    const repository = createPgliteRepository(pglite);
    const { uploader, blobStore } = await makeUploader(db(), repository, { maxFileBytes: 1024 * 1024 });
    async function* big() {
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      for (let index = 0; index < 32; index += 1) yield chunk;
    }
    const handle = await uploader.createBatch({
      orgId,
      userId: randomUUID(),
      files: [
        { name: 'big.txt', data: big() },
        { name: 'small.txt', data: Buffer.from('small file about a pelican') },
      ],
    });
    const final = await handle.done;
    expect(final.files[0]).toMatchObject({ status: 'failed' });
    expect(final.files[0]?.message).toMatch(/big\.txt is larger than the 1\.0 MB upload limit/);
    expect(final.files[1]?.status).toBe('completed');
    const objects: string[] = [];
    for await (const info of blobStore.list(`${orgId}/`)) objects.push(info.path);
    expect(objects).toHaveLength(1);
    expect(objects[0]).toMatch(/small\.txt$/);
  });

  it('accepts files as File, Blob, web stream, Node stream, ArrayBuffer and path', async () => {
    const orgId = randomUUID();
    const repository = createPgliteRepository(pglite);
    const { uploader } = await makeUploader(db(), repository);
    const directory = await tempBlobRoot();
    const onDisk = join(directory, 'from-disk.md');
    await writeFile(onDisk, '# Disk\n\nA file read from a path about lemurs.\n');
    const final = await (
      await uploader.createBatch({
        orgId,
        userId: randomUUID(),
        files: [
          new File(['a File about badgers'], 'file.txt', { type: 'text/plain' }),
          { name: 'blob.txt', data: new Blob(['a Blob about otters']) },
          { name: 'web.txt', data: new Blob(['a web stream about beavers']).stream() },
          {
            name: 'node.txt',
            data: Readable.from([Buffer.from('a Node stream about '), Buffer.from('moles')]),
          },
          { name: 'buffer.txt', data: new TextEncoder().encode('an ArrayBuffer about voles').buffer },
          { path: onDisk },
          { path: join(directory, 'missing.txt') },
        ],
      })
    ).done;
    expect(final.files.map((f) => [f.name, f.status])).toEqual([
      ['file.txt', 'completed'],
      ['blob.txt', 'completed'],
      ['web.txt', 'completed'],
      ['node.txt', 'completed'],
      ['buffer.txt', 'completed'],
      ['from-disk.md', 'completed'],
      ['missing.txt', 'failed'],
    ]);
    expect(final.files[6]?.message).toMatch(/ENOENT/);
    for (const word of ['badgers', 'otters', 'beavers', 'moles', 'voles', 'lemurs']) {
      expect(await repository.search({ orgId, queryText: word }), word).toHaveLength(1);
    }
  });

  it('streams the in-process events of one batch in order', async () => {
    const repository = createPgliteRepository(pglite);
    const { uploader } = await makeUploader(db(), repository);
    const handle = await uploader.createBatch({
      orgId: randomUUID(),
      userId: randomUUID(),
      files: [{ name: 'a.txt', data: Buffer.from('alpha event file') }],
    });
    const types: string[] = [];
    for await (const event of handle.events) types.push(event.type);
    expect(types).toEqual(['file-started', 'file-stored', 'file-finished', 'batch-finished']);
  });

  it('watchBatch yields progress from the database until the batch ends', async () => {
    const repository = createPgliteRepository(pglite);
    const { uploader } = await makeUploader(db(), repository);
    const handle = await uploader.createBatch({
      orgId: randomUUID(),
      userId: randomUUID(),
      files: Array.from({ length: 6 }, (_, i) => ({
        name: `w${i}.txt`,
        data: Buffer.from(`watch file ${i}`),
      })),
    });
    const seen: number[] = [];
    for await (const progress of uploader.watchBatch(handle.batchId, { intervalMs: 20 }))
      seen.push(progress.processedFiles);
    expect(seen.at(-1)).toBe(6);
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);
    expect((await uploader.getBatch(handle.batchId))?.status).toBe('completed');
  });

  it('cancels a batch: the rest of its files stop and the batch ends cancelled', async () => {
    const orgId = randomUUID();
    const repository = createPgliteRepository(pglite);
    const { uploader, blobStore } = await makeUploader(db(), repository, { concurrency: 1 });
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    async function* slow() {
      yield Buffer.from('first part of a slow upload about otters ');
      await gate;
      yield Buffer.from('second part');
    }
    const handle = await uploader.createBatch({
      orgId,
      userId: randomUUID(),
      files: [
        { name: 'slow.txt', data: slow() },
        { name: 'never.txt', data: Buffer.from('never processed') },
      ],
    });
    // Wait until the first file is being read, then cancel.
    for await (const event of handle.events) if (event.type === 'file-started') break;
    const cancelled = await uploader.cancelBatch(handle.batchId);
    release();
    expect(cancelled?.status).toBe('cancelled');
    const final = await handle.done;
    expect(final.status).toBe('cancelled');
    expect(final.completedAt).toBeInstanceOf(Date);
    expect(await documentsOf(orgId)).toHaveLength(0);
    const objects: string[] = [];
    for await (const info of blobStore.list(`${orgId}/`)) objects.push(info.path);
    expect(objects).toHaveLength(0);
  });

  it('stops a batch cancelled by another process at its next file', async () => {
    const orgId = randomUUID();
    const repository = createPgliteRepository(pglite);
    const worker = await makeUploader(db(), repository, { concurrency: 1 });
    const elsewhere = await makeUploader(db(), repository);
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    async function* slow() {
      yield Buffer.from('a slow upload about ibises ');
      await gate;
      yield Buffer.from('that finishes after the cancel');
    }
    const handle = await worker.uploader.createBatch({
      orgId,
      userId: randomUUID(),
      files: [
        { name: 'slow.txt', data: slow() },
        { name: 'second.txt', data: Buffer.from('second file about storks') },
        { name: 'third.txt', data: Buffer.from('third file about cranes') },
      ],
    });
    for await (const event of handle.events) if (event.type === 'file-started') break;
    expect((await elsewhere.uploader.cancelBatch(handle.batchId))?.status).toBe('cancelled');
    release();
    const final = await handle.done;
    expect(final.status).toBe('cancelled');
    // The file in flight finished (its count was refused: the batch had ended); the rest never started.
    expect((await documentsOf(orgId)).map((d) => d.title)).toEqual(['slow.txt']);
    expect(final.processedFiles).toBe(0);
  });

  it('rejects an empty batch with a typed error', async () => {
    const repository = createPgliteRepository(pglite);
    const { uploader } = await makeUploader(db(), repository);
    await expect(
      uploader.createBatch({ orgId: randomUUID(), userId: randomUUID(), files: [] }),
    ).rejects.toThrow(/files/);
    expect(UploadRejectedError.isInstance(new Error('x'))).toBe(false);
  });
});
