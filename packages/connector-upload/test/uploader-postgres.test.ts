// The uploader and the batch store on a real PostgreSQL server with pgvector (several connections,
// real concurrency): text is extracted, chunked, embedded and stored as vectors; images are stored.
import { randomUUID } from 'node:crypto';
import { createNodePostgresRepository } from '@tributary/core/postgres';
import { fromPg, migrate } from '@tributary/sql';
import { type PostgresServer, startPostgresServer } from '@tributary/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqlUploadBatchStore, type RecordedFileOutcome } from '../src/index.js';
import { makePng } from './fixtures/corpus.js';
import { makeUploader, removeTempBlobRoots } from './harness.js';

let server: PostgresServer;
let pool: ReturnType<PostgresServer['pool']>;

beforeAll(async () => {
  server = await startPostgresServer();
  const database = await server.createDatabase();
  pool = server.pool(database, { max: 12 });
  await migrate(fromPg(pool));
}, 120_000);

afterAll(async () => {
  await removeTempBlobRoots();
  await server?.stop();
});

describe('on a PostgreSQL server', () => {
  it('counts 200 files recorded at once exactly, and keeps every per-file entry', async () => {
    const store = createSqlUploadBatchStore(fromPg(pool));
    const orgId = randomUUID();
    const connectorId = await store.ensureUploadConnector(orgId);
    // Ensuring again, concurrently, still gives one connector.
    const again = await Promise.all(Array.from({ length: 5 }, () => store.ensureUploadConnector(orgId)));
    expect(new Set(again)).toEqual(new Set([connectorId]));
    const batch = await store.createBatch({ orgId, userId: randomUUID(), connectorId, totalFiles: 200 });
    const outcomes: RecordedFileOutcome[] = Array.from({ length: 200 }, (_, index) =>
      index % 10 === 0
        ? { status: 'failed', name: `f${index}.txt`, message: 'broken' }
        : { status: 'completed', name: `f${index}.txt` },
    );
    await Promise.all(outcomes.map((outcome, index) => store.recordFile(batch.id, index, outcome)));
    const final = await store.getBatch(batch.id);
    expect(final).toMatchObject({
      status: 'completed_with_errors',
      processedFiles: 200,
      failedFiles: 20,
      progressPercent: 100,
    });
    expect(final?.completedAt).toBeInstanceOf(Date);
    expect(final?.files.size).toBe(200);
    expect([...(final?.files.values() ?? [])].filter((f) => f.status === 'failed')).toHaveLength(20);
    // A file counted after the end is refused, not counted twice.
    expect(await store.recordFile(batch.id, 0, { status: 'completed' })).toBeUndefined();
    expect((await store.getBatch(batch.id))?.processedFiles).toBe(200);
  });

  it('counts every file of a batch too large for per-file entries in the row', async () => {
    const store = createSqlUploadBatchStore(fromPg(pool));
    const orgId = randomUUID();
    const connectorId = await store.ensureUploadConnector(orgId);
    const total = 600;
    const batch = await store.createBatch({ orgId, userId: randomUUID(), connectorId, totalFiles: total });
    const name = (index: number) => `${'quarterly-report-'.repeat(6)}${index}.pdf`;
    for (let start = 0; start < total; start += 100) {
      await Promise.all(
        Array.from({ length: 100 }, (_, offset) =>
          store.recordFile(batch.id, start + offset, {
            status: 'failed',
            name: name(start + offset),
            message: 'x'.repeat(300),
          }),
        ),
      );
    }
    const final = await store.getBatch(batch.id);
    expect(final).toMatchObject({ status: 'failed', processedFiles: total, failedFiles: total });
    const entries = [...(final?.files.values() ?? [])];
    // Entries until the row's metadata is full, then files are counted without one.
    expect(entries.length).toBeGreaterThan(0);
    expect(entries.length).toBeLessThan(total);
    expect(entries.every((entry) => entry.status === 'failed')).toBe(true);
  }, 120_000);

  it('runs a mixed batch at concurrency 16 over 12 connections to exact counts', async () => {
    const repository = createNodePostgresRepository(pool);
    const { uploader } = await makeUploader(fromPg(pool), repository, { concurrency: 16 });
    const orgId = randomUUID();
    const files = [
      ...Array.from({ length: 24 }, (_, i) => ({
        name: `doc-${i}.txt`,
        data: Buffer.from(`document ${i} about tapirs`),
      })),
      ...Array.from({ length: 16 }, (_, i) => ({ name: `img-${i}.png`, data: makePng(i + 1, 2) })),
    ];
    const final = await (await uploader.createBatch({ orgId, userId: randomUUID(), files })).done;
    expect(final.status).toBe('completed');
    expect(final.processedFiles).toBe(40);
    expect(final.failedFiles).toBe(0);
    expect(final.files.filter((f) => f.status === 'completed')).toHaveLength(24);
    expect(final.files.filter((f) => f.status === 'stored')).toHaveLength(16);
    const { rows } = await pool.query<{ count: number }>(
      'select count(*)::int as count from public.imported_documents where org_id = $1',
      [orgId],
    );
    expect(rows[0]?.count).toBe(40);
    // Every text document has its chunks embedded as pgvector vectors on the server.
    const vectors = await pool.query<{ documents: number; dims: number }>(
      `select count(distinct c.document_id)::int as documents, min(extensions.vector_dims(c.embedding))::int as dims
       from public.document_chunks c where c.org_id = $1 and c.embedding is not null`,
      [orgId],
    );
    expect(vectors.rows[0]?.documents).toBe(24);
    expect(vectors.rows[0]?.dims).toBeGreaterThan(0);
  }, 120_000);
});
