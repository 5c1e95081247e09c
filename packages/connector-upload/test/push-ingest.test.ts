// The uploader on core's push API (startPushIngest): files are pushed into one running ingest as
// intake stores them, embedded together across files, with back-pressure and the connector's lease
// respected. PGlite with pgvector; the lexical embedder behind a counter.
import { randomUUID } from 'node:crypto';
import type { PGlite } from '@electric-sql/pglite';
import { createLexicalEmbedder, type Embedder } from '@tributary/core';
import { createPgliteRepository } from '@tributary/core/pglite';
import { fromPglite } from '@tributary/sql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeUploader, migratedPglite, removeTempBlobRoots } from './harness.js';

let pglite: PGlite;
const db = () => fromPglite(pglite);

beforeAll(async () => {
  pglite = await migratedPglite();
}, 60_000);

afterAll(async () => {
  await removeTempBlobRoots();
  await pglite?.close();
});

function countingEmbedder(): Embedder & { requests: number; inputs: number } {
  const inner = createLexicalEmbedder();
  const counter = {
    ...inner,
    requests: 0,
    inputs: 0,
    async embed(texts: readonly string[], options?: { signal?: AbortSignal }) {
      counter.requests += 1;
      counter.inputs += texts.length;
      return inner.embed(texts, options);
    },
  };
  return counter;
}

function textFiles(count: number, topic: string) {
  return Array.from({ length: count }, (_, index) => ({
    name: `${topic}-${index}.md`,
    data: Buffer.from(
      `# ${topic} ${index}\n\nField note ${index} on ${topic}: ${'wading birds and tides. '.repeat(8)}`,
    ),
  }));
}

async function syncRuns(connectorId: string) {
  // The uploader writes each document's row before the pipeline indexes it: the run counts it updated.
  const { rows } = await pglite.query<{ status: string; documents: number; connector_type: string }>(
    `select l.status, l.documents_synced + l.documents_updated as documents, c.connector_type
     from public.connector_sync_logs l
     join public.connector_configs c on c.id = l.connector_id where l.connector_id = $1 order by l.started_at`,
    [connectorId],
  );
  return rows;
}

describe('uploader on the push ingest', () => {
  it('indexes a batch in one run, embedding many files per request', async () => {
    const embedder = countingEmbedder();
    const { uploader } = await makeUploader(db(), createPgliteRepository(pglite), {
      embedder,
      // One file at a time: before the push ingest, every file was a run and a request of its own.
      concurrency: 1,
      idleFlushMs: 60_000,
    });
    const files = textFiles(24, 'herons');
    const handle = await uploader.createBatch({ orgId: randomUUID(), userId: randomUUID(), files });
    const final = await handle.done;
    expect(final.status).toBe('completed');
    expect(final.processedFiles).toBe(24);
    expect(final.files.every((file) => file.status === 'completed')).toBe(true);
    const runs = await syncRuns(handle.connectorId);
    expect(runs).toEqual([{ status: 'success', documents: 24, connector_type: 'upload' }]);
    expect(embedder.inputs).toBeGreaterThanOrEqual(24);
    expect(embedder.requests).toBeLessThan(24);
  });

  it('finishes every file when the ingest takes one at a time (maxPendingFiles 1: push waits, never stalls)', async () => {
    const { uploader } = await makeUploader(db(), createPgliteRepository(pglite), {
      concurrency: 4,
      maxPendingFiles: 1,
      idleFlushMs: 5,
    });
    const handle = await uploader.createBatch({
      orgId: randomUUID(),
      userId: randomUUID(),
      files: textFiles(16, 'storks'),
    });
    const final = await handle.done;
    expect(final.status).toBe('completed');
    expect(final.processedFiles).toBe(16);
    expect(final.files.filter((file) => file.status === 'completed')).toHaveLength(16);
  });

  it('waits while another run holds the connector lease, then indexes the files', async () => {
    const repository = createPgliteRepository(pglite);
    const { uploader, batches } = await makeUploader(db(), repository, { leaseRetryMs: 20 });
    const orgId = randomUUID();
    const connectorId = await batches.ensureUploadConnector(orgId);
    const other = await repository.startSync({
      connectorId,
      syncType: 'manual',
      syncMode: 'incremental',
      leaseSeconds: 60,
    });
    expect(other.status).toBe('started');
    const handle = await uploader.createBatch({ orgId, userId: randomUUID(), files: textFiles(3, 'ibises') });
    // The ingest found the lease taken: nothing indexed while it is held.
    for await (const event of handle.events) if (event.type === 'file-stored') break;
    await new Promise((resolve) => setTimeout(resolve, 100));
    const { rows } = await pglite.query<{ n: number }>(
      `select count(*)::int as n from public.imported_documents where org_id = $1 and processing_status = 'completed'`,
      [orgId],
    );
    expect(rows[0]?.n).toBe(0);
    await repository.finishSync(other.syncRunId, { status: 'success' });
    const final = await handle.done;
    expect(final.status).toBe('completed');
    expect(final.processedFiles).toBe(3);
    const runs = await syncRuns(connectorId);
    expect(runs.map((run) => run.status)).toEqual(['success', 'success']);
    expect(runs[1]?.documents).toBe(3);
  });
});
