// The contract every KnowledgeRepository adapter runs (memory, PGlite, a real PostgreSQL server).
// Each case creates its own organisation and connectors, so cases never see each other's rows and
// one fixture serves the whole file. Capabilities say what the adapter's database can do; a case
// that needs a missing capability asserts the documented error instead of being skipped.
import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type DocumentInput,
  type KnowledgeRepository,
  RepositoryError,
  type RepositoryErrorReason,
} from '../src/index.js';
import { defineStateContract } from './repository-contract-state.js';

export interface RepositoryCapabilities {
  /** Embeddings and search (pgvector and 0007_vector_search present). */
  vectors: boolean;
}

export interface RepositoryContractFixture {
  /** The repository under test, acting as the server (service role or the connection's role). */
  repository: KnowledgeRepository;
  capabilities: RepositoryCapabilities;
  /** Creates a connector as the host would (superuser / admin UI). */
  createConnector(orgId: string, options?: { isActive?: boolean }): Promise<string>;
  addMember(userId: string, orgId: string, role: 'owner' | 'admin' | 'member'): Promise<void>;
  /** Makes the run's lease expire now (a worker that stopped heartbeating). */
  expireLease(syncRunId: string): Promise<void>;
  /** Moves the connector's documents' last-seen time into the past (they were listed by an earlier run). */
  backdateDocuments(connectorId: string): Promise<void>;
  close(): Promise<void>;
}

/** The dimension of `document_chunks.embedding` in the bundled schema. */
export const EMBEDDING_DIMENSIONS = 1536;

/** A unit-ish vector with the given axis weights (values exactly representable in float4). */
export function axisVector(axes: Record<number, number>): number[] {
  const values = new Array<number>(EMBEDDING_DIMENSIONS).fill(0);
  for (const [axis, value] of Object.entries(axes)) values[Number(axis)] = value;
  return values;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function doc(externalId: string, text: string, extra: Partial<DocumentInput> = {}): DocumentInput {
  return {
    externalId,
    title: `Title of ${externalId}`,
    externalUrl: `https://example.com/${externalId}`,
    sourceVersion: 'v1',
    content: text,
    contentHash: sha256(text),
    mimeType: 'text/plain',
    ...extra,
  };
}

async function expectRepositoryError(
  promise: Promise<unknown>,
  reason: RepositoryErrorReason,
): Promise<RepositoryError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(RepositoryError.isInstance(error), `expected a RepositoryError, got ${String(error)}`).toBe(true);
  expect((error as RepositoryError).reason).toBe(reason);
  expect((error as RepositoryError).message).toMatch(/^\[tributary\] \[repository\] /);
  return error as RepositoryError;
}

export function defineRepositoryContract(
  name: string,
  factory: () => Promise<RepositoryContractFixture>,
): void {
  describe(`KnowledgeRepository contract: ${name}`, () => {
    let fixture: RepositoryContractFixture;
    let repo: KnowledgeRepository;

    beforeAll(async () => {
      fixture = await factory();
      repo = fixture.repository;
    });
    afterAll(async () => {
      await fixture?.close();
    });

    /** A fresh organisation with one connector. */
    async function freshConnector() {
      const orgId = randomUUID();
      const connectorId = await fixture.createConnector(orgId);
      return { orgId, connectorId };
    }

    /** Stores a document with chunks and marks it completed, so search sees it. */
    async function indexedDocument(
      connectorId: string,
      externalId: string,
      chunks: Array<{ content: string; axes?: Record<number, number> }>,
    ) {
      const [result] = await repo.upsertDocuments(connectorId, [
        doc(externalId, chunks.map((c) => c.content).join('\n')),
      ]);
      if (!result) throw new Error('no upsert result');
      await repo.replaceChunks(
        result.documentId,
        chunks.map((chunk, index) => ({
          index,
          content: chunk.content,
          contentHash: sha256(chunk.content),
          tokenCount: chunk.content.split(' ').length,
          ...(chunk.axes && fixture.capabilities.vectors
            ? { embedding: axisVector(chunk.axes), embeddingModel: 'test-model' }
            : {}),
        })),
      );
      await repo.setProcessingStatus([result.documentId], 'completed');
      return result.documentId;
    }

    describe('connectors', () => {
      it('says whether it can store embeddings (pgvector present), as a user too', async () => {
        expect(await repo.storesEmbeddings()).toBe(fixture.capabilities.vectors);
        expect(await repo.withUser(randomUUID()).storesEmbeddings()).toBe(fixture.capabilities.vectors);
      });

      it('gets a connector by id with its cursor, and lists by organisation', async () => {
        const { orgId, connectorId } = await freshConnector();
        const second = await fixture.createConnector(orgId, { isActive: false });
        const connector = await repo.getConnector(connectorId);
        expect(connector).toMatchObject({
          id: connectorId,
          orgId,
          isActive: true,
          syncCursor: null,
          errorCount: 0,
        });
        expect(await repo.getConnector(randomUUID())).toBeUndefined();
        const listed = await repo.listConnectors({ orgId });
        expect(listed.map((c) => c.id).sort()).toEqual([connectorId, second].sort());
        expect((await repo.listConnectors({ orgId, isActive: false })).map((c) => c.id)).toEqual([second]);
      });
    });

    describe('documents', () => {
      it('reports inserted, then unchanged, then updated by content hash, in input order', async () => {
        const { connectorId } = await freshConnector();
        const first = await repo.upsertDocuments(connectorId, [
          doc('b', 'beta'),
          doc('a', 'alpha'),
          doc('c', 'gamma'),
        ]);
        expect(first.map((r) => [r.externalId, r.action])).toEqual([
          ['b', 'inserted'],
          ['a', 'inserted'],
          ['c', 'inserted'],
        ]);
        expect(new Set(first.map((r) => r.documentId)).size).toBe(3);

        const again = await repo.upsertDocuments(connectorId, [
          doc('a', 'alpha'),
          doc('b', 'beta'),
          doc('c', 'gamma'),
        ]);
        expect(again.map((r) => r.action)).toEqual(['unchanged', 'unchanged', 'unchanged']);
        expect(again.map((r) => r.documentId)).toEqual([
          first[1]?.documentId,
          first[0]?.documentId,
          first[2]?.documentId,
        ]);

        const changed = await repo.upsertDocuments(connectorId, [
          doc('a', 'alpha v2', { sourceVersion: 'v2' }),
        ]);
        expect(changed).toEqual([
          {
            documentId: first[1]?.documentId,
            externalId: 'a',
            action: 'updated',
            previousContentHash: sha256('alpha'),
          },
        ]);
        const versions = await repo.getDocumentVersions(connectorId, ['a']);
        expect(versions.get('a')).toMatchObject({ sourceVersion: 'v2', contentHash: sha256('alpha v2') });
      });

      it('rejects duplicate external ids in one call before writing anything', async () => {
        const { connectorId } = await freshConnector();
        await expectRepositoryError(
          repo.upsertDocuments(connectorId, [doc('x', 'one'), doc('x', 'two')]),
          'invalid_input',
        );
        expect((await repo.getDocumentVersions(connectorId, ['x'])).size).toBe(0);
      });

      it('refuses a version lookup for an unknown connector instead of answering nothing', async () => {
        await expectRepositoryError(repo.getDocumentVersions(randomUUID(), ['a']), 'not_found');
        expect((await repo.getDocumentVersions(randomUUID(), [])).size).toBe(0);
      });

      it('upserts more than one batch and looks up 1000 versions in one call', async () => {
        const { connectorId } = await freshConnector();
        const documents = Array.from({ length: 1500 }, (_, i) =>
          doc(`file-${i}`, `content ${i}`, { sourceVersion: `rev-${i}` }),
        );
        const results = await repo.upsertDocuments(connectorId, documents);
        expect(results).toHaveLength(1500);
        expect(results.every((r) => r.action === 'inserted')).toBe(true);
        expect(results.map((r) => r.externalId)).toEqual(documents.map((d) => d.externalId));

        const wanted = [
          ...Array.from({ length: 1000 }, (_, i) => `file-${i * 1 + 250}`),
          'missing-1',
          'missing-2',
        ];
        const versions = await repo.getDocumentVersions(connectorId, wanted);
        expect(versions.size).toBe(1000);
        expect(versions.has('missing-1')).toBe(false);
        expect(versions.get('file-250')).toEqual({
          id: results[250]?.documentId,
          sourceVersion: 'rev-250',
          contentHash: sha256('content 250'),
          isDeleted: false,
          processingStatus: 'pending',
        });
        expect(versions.get('file-1249')?.sourceVersion).toBe('rev-1249');
      });

      it('keeps the processing state when the content hash is unchanged, and resets it when it changes', async () => {
        const { connectorId } = await freshConnector();
        const documentId = await indexedDocument(connectorId, 'report', [{ content: 'quarterly report' }]);
        const unchanged = await repo.upsertDocuments(connectorId, [
          doc('report', 'quarterly report', { sourceVersion: 'v9', title: 'Renamed' }),
        ]);
        expect(unchanged[0]?.action).toBe('unchanged');
        expect((await repo.getDocumentVersions(connectorId, ['report'])).get('report')).toMatchObject({
          id: documentId,
          sourceVersion: 'v9',
          processingStatus: 'completed',
        });

        await repo.upsertDocuments(connectorId, [doc('report', 'quarterly report, revised')]);
        expect(
          (await repo.getDocumentVersions(connectorId, ['report'])).get('report')?.processingStatus,
        ).toBe('pending');
      });

      it('records a failure with setProcessingStatus and counts only existing documents', async () => {
        const { connectorId } = await freshConnector();
        const [result] = await repo.upsertDocuments(connectorId, [doc('broken', 'x')]);
        const updated = await repo.setProcessingStatus(
          [result?.documentId ?? '', randomUUID()],
          'failed',
          'bad PDF',
        );
        expect(updated).toBe(1);
        expect(
          (await repo.getDocumentVersions(connectorId, ['broken'])).get('broken')?.processingStatus,
        ).toBe('failed');
        await expectRepositoryError(
          repo.setProcessingStatus([randomUUID()], 'done' as never),
          'invalid_input',
        );
      });

      it('soft-deletes, marks seen, and revives a deleted document as updated', async () => {
        const { connectorId } = await freshConnector();
        await repo.upsertDocuments(connectorId, [doc('a', 'alpha'), doc('b', 'beta')]);
        expect(await repo.softDeleteDocuments(connectorId, ['a', 'nope'])).toBe(1);
        expect(await repo.softDeleteDocuments(connectorId, ['a'])).toBe(0);
        expect(await repo.markDocumentsSeen(connectorId, ['a', 'b'])).toBe(1);
        expect((await repo.getDocumentVersions(connectorId, ['a'])).get('a')?.isDeleted).toBe(true);
        const revived = await repo.upsertDocuments(connectorId, [doc('a', 'alpha')]);
        expect(revived[0]?.action).toBe('updated');
        expect((await repo.getDocumentVersions(connectorId, ['a'])).get('a')?.isDeleted).toBe(false);
      });
    });

    describe('chunks', () => {
      it('replaces chunks, shrinking removes the positions that are gone', async () => {
        const { orgId, connectorId } = await freshConnector();
        const [result] = await repo.upsertDocuments(connectorId, [doc('doc', 'text')]);
        const documentId = result?.documentId ?? '';
        const chunk = (index: number, content: string) => ({ index, content, contentHash: sha256(content) });
        expect(
          await repo.replaceChunks(documentId, [
            chunk(0, 'zebra one'),
            chunk(1, 'zebra two'),
            chunk(2, 'zebra three'),
          ]),
        ).toEqual({ chunkCount: 3, removed: 0, embeddingsGenerated: false });
        expect(await repo.replaceChunks(documentId, [chunk(0, 'okapi one'), chunk(1, 'okapi two')])).toEqual({
          chunkCount: 2,
          removed: 1,
          embeddingsGenerated: false,
        });
        await expectRepositoryError(repo.replaceChunks(randomUUID(), [chunk(0, 'x')]), 'not_found');
        await expectRepositoryError(
          repo.replaceChunks(documentId, [chunk(0, 'x'), chunk(0, 'y')]),
          'invalid_input',
        );

        if (fixture.capabilities.vectors) {
          await repo.setProcessingStatus([documentId], 'completed');
          expect(await repo.search({ orgId, queryText: 'zebra' })).toEqual([]);
          const found = await repo.search({ orgId, queryText: 'okapi' });
          expect(found.map((r) => [r.chunkIndex, r.content]).sort()).toEqual([
            [0, 'okapi one'],
            [1, 'okapi two'],
          ]);
        }
        expect(await repo.replaceChunks(documentId, [])).toEqual({
          chunkCount: 0,
          removed: 2,
          embeddingsGenerated: true,
        });
      });

      it('finds stored embeddings by model and chunk hash within the organisation', async () => {
        const { orgId, connectorId } = await freshConnector();
        const [result] = await repo.upsertDocuments(connectorId, [doc('doc', 'text')]);
        const documentId = result?.documentId ?? '';
        const stored = [
          {
            index: 0,
            content: 'first',
            contentHash: sha256('first'),
            embedding: axisVector({ 0: 0.5, 1: 0.25 }),
            embeddingModel: 'model-a',
          },
          {
            index: 1,
            content: 'second',
            contentHash: sha256('second'),
            embedding: axisVector({ 2: 1 }),
            embeddingModel: 'model-a',
          },
        ];
        if (!fixture.capabilities.vectors) {
          // Documented: without pgvector, storing embeddings fails and nothing is reusable.
          await expectRepositoryError(repo.replaceChunks(documentId, stored), 'unavailable');
          expect(await repo.replaceChunks(documentId, [])).toMatchObject({ removed: 0 });
          expect((await repo.findReusableEmbeddings(orgId, 'model-a', [sha256('first')])).size).toBe(0);
          return;
        }
        expect(await repo.replaceChunks(documentId, stored)).toMatchObject({
          chunkCount: 2,
          embeddingsGenerated: true,
        });
        const reuse = await repo.findReusableEmbeddings(orgId, 'model-a', [
          sha256('first'),
          sha256('second'),
          sha256('other'),
        ]);
        expect([...reuse.keys()].sort()).toEqual([sha256('first'), sha256('second')].sort());
        expect(reuse.get(sha256('first'))).toEqual(axisVector({ 0: 0.5, 1: 0.25 }));
        expect((await repo.findReusableEmbeddings(orgId, 'model-b', [sha256('first')])).size).toBe(0);
        expect((await repo.findReusableEmbeddings(randomUUID(), 'model-a', [sha256('first')])).size).toBe(0);
      });

      it('copies stored vectors for chunks written with reuseEmbedding, and leaves a document whose vector vanished as it was', async () => {
        const { orgId, connectorId } = await freshConnector();
        const [a, b] = await repo.upsertDocuments(connectorId, [doc('a', 'text a'), doc('b', 'text b')]);
        const first = a?.documentId ?? '';
        const second = b?.documentId ?? '';
        const reused = (index: number, content: string) => ({
          index,
          content,
          contentHash: sha256(content),
          reuseEmbedding: true,
          embeddingModel: 'model-a',
        });
        if (!fixture.capabilities.vectors) {
          expect((await repo.findReusableEmbeddingHashes(orgId, 'model-a', [sha256('intro')])).size).toBe(0);
          await expectRepositoryError(repo.replaceChunks(first, [reused(0, 'intro')]), 'unavailable');
          return;
        }
        const intro = axisVector({ 0: 0.5, 1: 0.25 });
        const footer = axisVector({ 3: 1 });
        await repo.replaceChunks(first, [
          {
            index: 0,
            content: 'intro',
            contentHash: sha256('intro'),
            embedding: intro,
            embeddingModel: 'model-a',
          },
          {
            index: 1,
            content: 'footer',
            contentHash: sha256('footer'),
            embedding: footer,
            embeddingModel: 'model-a',
          },
        ]);
        const hashes = await repo.findReusableEmbeddingHashes(orgId, 'model-a', [
          sha256('intro'),
          sha256('footer'),
          sha256('other'),
        ]);
        expect([...hashes].sort()).toEqual([sha256('intro'), sha256('footer')].sort());
        expect((await repo.findReusableEmbeddingHashes(orgId, 'model-b', [sha256('intro')])).size).toBe(0);
        expect(
          (await repo.findReusableEmbeddingHashes(randomUUID(), 'model-a', [sha256('intro')])).size,
        ).toBe(0);

        // One batch: the first document drops its intro and moves the footer to position 0 (copied
        // from its own chunk while it is replaced); the second copies the intro the first drops.
        const results = await repo.replaceChunksBatch([
          { documentId: first, chunks: [reused(0, 'footer')] },
          { documentId: second, chunks: [reused(0, 'intro'), reused(1, 'footer')] },
        ]);
        expect(results).toEqual([
          { chunkCount: 1, removed: 1, embeddingsGenerated: true },
          { chunkCount: 2, removed: 0, embeddingsGenerated: true },
        ]);
        const vectors = await repo.findReusableEmbeddings(orgId, 'model-a', [
          sha256('intro'),
          sha256('footer'),
        ]);
        expect(vectors.get(sha256('intro'))).toEqual(intro);
        expect(vectors.get(sha256('footer'))).toEqual(footer);

        // The intro is stored only in the second document now; once it rewrites its chunks without
        // it, reusing the intro finds nothing: that document is left as it was and named.
        await repo.replaceChunks(second, [reused(0, 'footer')]);
        const vanished = await repo.replaceChunksBatch([
          { documentId: first, chunks: [reused(0, 'footer'), reused(1, 'intro')] },
        ]);
        expect(vanished).toEqual([
          { chunkCount: 1, removed: 0, embeddingsGenerated: true, missingEmbeddings: [sha256('intro')] },
        ]);
        expect((await repo.findReusableEmbeddingHashes(orgId, 'model-a', [sha256('intro')])).size).toBe(0);

        await expectRepositoryError(
          repo.replaceChunks(first, [{ ...reused(0, 'footer'), embedding: footer }]),
          'invalid_input',
        );
        await expectRepositoryError(
          repo.replaceChunks(first, [{ ...reused(0, 'footer'), embeddingModel: null }]),
          'invalid_input',
        );
      });
    });

    describe('sync runs and leases', () => {
      it('refuses a second start while one run holds the lease', async () => {
        const { connectorId } = await freshConnector();
        const first = await repo.startSync({ connectorId, syncMode: 'full', workerId: 'worker-1' });
        expect(first.status).toBe('started');
        expect(first.cursor).toBeNull();
        const second = await repo.startSync({ connectorId, workerId: 'worker-2' });
        expect(second).toMatchObject({ status: 'alreadyRunning', syncRunId: first.syncRunId });
        const renewed = await repo.heartbeat(first.syncRunId, {
          leaseSeconds: 600,
          progress: { documentsSynced: 7 },
        });
        expect(renewed.getTime()).toBeGreaterThan(first.leaseExpiresAt.getTime());
        expect(await repo.getSyncRun(first.syncRunId)).toMatchObject({
          status: 'running',
          documentsSynced: 7,
        });
      });

      it('commits checkpoints under the lease, refuses them after it expired, and hands the cursor to the next run', async () => {
        const { connectorId } = await freshConnector();
        const run = await repo.startSync({ connectorId });
        await repo.commitCheckpoint(run.syncRunId, { page: 3, token: 'abc' });
        expect((await repo.getConnector(connectorId))?.syncCursor).toEqual({ page: 3, token: 'abc' });

        await fixture.expireLease(run.syncRunId);
        await expectRepositoryError(repo.commitCheckpoint(run.syncRunId, { page: 4 }), 'lease_lost');
        await expectRepositoryError(repo.heartbeat(run.syncRunId), 'lease_lost');
        expect((await repo.getConnector(connectorId))?.syncCursor).toEqual({ page: 3, token: 'abc' });

        const next = await repo.startSync({ connectorId });
        expect(next).toMatchObject({ status: 'started', cursor: { page: 3, token: 'abc' } });
        expect(next.syncRunId).not.toBe(run.syncRunId);
        expect((await repo.getSyncRun(run.syncRunId))?.status).toBe('failed');

        const finished = await repo.finishSync(next.syncRunId, {
          status: 'partial',
          counts: { documentsSynced: 10, documentsFailed: 1 },
          errorMessage: 'one file failed',
        });
        expect(finished).toMatchObject({
          status: 'partial',
          documentsSynced: 10,
          documentsFailed: 1,
          leaseExpiresAt: null,
        });
        expect(await repo.getConnector(connectorId)).toMatchObject({
          lastSyncStatus: 'partial',
          lastError: 'one file failed',
        });
        await expectRepositoryError(repo.finishSync(next.syncRunId, { status: 'success' }), 'lease_lost');
      });

      it('refuses to start an inactive connector and reports unknown ones', async () => {
        const orgId = randomUUID();
        const inactive = await fixture.createConnector(orgId, { isActive: false });
        await expectRepositoryError(repo.startSync({ connectorId: inactive }), 'wrong_state');
        await expectRepositoryError(repo.startSync({ connectorId: randomUUID() }), 'not_found');
        await expectRepositoryError(
          repo.startSync({ connectorId: inactive, leaseSeconds: 1 }),
          'invalid_input',
        );
      });

      it('refuses a worker id over 200 characters instead of truncating it (0012_input_guards)', async () => {
        const connectorId = await fixture.createConnector(randomUUID());
        await expectRepositoryError(
          repo.startSync({ connectorId, workerId: `w${'x'.repeat(200)}` }),
          'invalid_input',
        );
        const workerId = `w${'y'.repeat(199)}`;
        const started = await repo.startSync({ connectorId, workerId });
        expect(started.status).toBe('started');
        expect(await repo.getSyncRun(started.syncRunId)).toMatchObject({ workerId });
      });

      it('reports an unknown connector when marking documents seen or deleting them (0012_input_guards)', async () => {
        const unknown = randomUUID();
        await expectRepositoryError(repo.markDocumentsSeen(unknown, ['a']), 'not_found');
        await expectRepositoryError(repo.softDeleteDocuments(unknown, ['a']), 'not_found');
      });
    });

    describe('sweep', () => {
      it('soft-deletes documents a full listing did not see', async () => {
        const { connectorId } = await freshConnector();
        await repo.upsertDocuments(
          connectorId,
          ['a', 'b', 'c', 'd'].map((id) => doc(id, `text ${id}`)),
        );
        await fixture.backdateDocuments(connectorId);
        const run = await repo.startSync({ connectorId, syncMode: 'full' });
        await repo.markDocumentsSeen(connectorId, ['a', 'b']);
        await repo.upsertDocuments(connectorId, [doc('c', 'text c changed')]);
        expect(await repo.sweepUnseenDocuments(run.syncRunId, 0.5)).toEqual({
          swept: 1,
          unseen: 1,
          total: 4,
          refused: false,
        });
        const versions = await repo.getDocumentVersions(connectorId, ['a', 'b', 'c', 'd']);
        expect([...versions].filter(([, v]) => v.isDeleted).map(([id]) => id)).toEqual(['d']);
      });

      it('counts what an interrupted full run listed as seen when the next full run resumes it', async () => {
        const { connectorId } = await freshConnector();
        await repo.upsertDocuments(
          connectorId,
          ['a', 'b', 'c', 'd', 'e', 'f'].map((id) => doc(id, `text ${id}`)),
        );
        await fixture.backdateDocuments(connectorId);
        // The first full run lists a-c, commits a checkpoint, and dies.
        const interrupted = await repo.startSync({ connectorId, syncMode: 'full' });
        await repo.markDocumentsSeen(connectorId, ['a', 'b', 'c']);
        await repo.commitCheckpoint(interrupted.syncRunId, { after: 'c' });
        await repo.finishSync(interrupted.syncRunId, { status: 'failed', errorMessage: 'worker crashed' });
        // The next full run resumes after c and lists d and e: only f was not listed.
        const resumed = await repo.startSync({ connectorId, syncMode: 'full' });
        expect(resumed.status === 'started' && resumed.cursor).toEqual({ after: 'c' });
        await repo.markDocumentsSeen(connectorId, ['d', 'e']);
        expect(await repo.sweepUnseenDocuments(resumed.syncRunId, 0.5)).toEqual({
          swept: 1,
          unseen: 1,
          total: 6,
          refused: false,
        });
        await repo.finishSync(resumed.syncRunId, { status: 'success' });
        // After a finished full run, the next one lists afresh: e, seen only before it, is swept.
        const fresh = await repo.startSync({ connectorId, syncMode: 'full' });
        await repo.markDocumentsSeen(connectorId, ['a', 'b', 'c', 'd']);
        expect(await repo.sweepUnseenDocuments(fresh.syncRunId, 0.5)).toEqual({
          swept: 1,
          unseen: 1,
          total: 5,
          refused: false,
        });
        const versions = await repo.getDocumentVersions(connectorId, ['a', 'b', 'c', 'd', 'e', 'f']);
        expect(
          [...versions]
            .filter(([, v]) => v.isDeleted)
            .map(([id]) => id)
            .sort(),
        ).toEqual(['e', 'f']);
      });

      /** The ids `getDocumentVersions` reports, in the order asked. */
      async function idsOf(connectorId: string, externalIds: string[]): Promise<string[]> {
        const versions = await repo.getDocumentVersions(connectorId, externalIds);
        return externalIds.map((externalId) => {
          const id = versions.get(externalId)?.id;
          if (!id) throw new Error(`no document ${externalId}`);
          return id;
        });
      }

      async function deletedOf(connectorId: string, externalIds: string[]): Promise<string[]> {
        const versions = await repo.getDocumentVersions(connectorId, externalIds);
        return [...versions]
          .filter(([, v]) => v.isDeleted)
          .map(([id]) => id)
          .sort();
      }

      it('counts documents marked seen by id (0023) as listed by that listing only', async () => {
        const { orgId, connectorId } = await freshConnector();
        const other = await fixture.createConnector(orgId);
        await repo.upsertDocuments(
          connectorId,
          ['a', 'b', 'c', 'd', 'e'].map((id) => doc(id, `text ${id}`)),
        );
        await repo.upsertDocuments(other, [doc('x', 'text x')]);
        await fixture.backdateDocuments(connectorId);
        const [a, b, c] = await idsOf(connectorId, ['a', 'b', 'c']);
        const [x] = await idsOf(other, ['x']);
        const run = await repo.startSync({ connectorId, syncMode: 'full' });
        // Repeated ids count once; another connector's document is stored but never swept or kept.
        expect(await repo.markDocumentsSeenById(run.syncRunId, [a, b, c, a, x] as string[])).toBe(4);
        expect(await repo.markDocumentsSeenById(run.syncRunId, [])).toBe(0);
        expect(await repo.sweepUnseenDocuments(run.syncRunId, 0.5)).toEqual({
          swept: 2,
          unseen: 2,
          total: 5,
          refused: false,
        });
        expect(await deletedOf(connectorId, ['a', 'b', 'c', 'd', 'e'])).toEqual(['d', 'e']);
        await repo.finishSync(run.syncRunId, { status: 'success' });
        // x's mark belongs to the other connector's listing: a full listing of its own that does
        // not list x sweeps it.
        await fixture.backdateDocuments(other);
        const otherRun = await repo.startSync({ connectorId: other, syncMode: 'full' });
        expect(await repo.sweepUnseenDocuments(otherRun.syncRunId, 1)).toMatchObject({ swept: 1, total: 1 });
        expect(await deletedOf(other, ['x'])).toEqual(['x']);

        // The next full run is a new listing: the marks above do not count for it.
        await fixture.backdateDocuments(connectorId);
        const next = await repo.startSync({ connectorId, syncMode: 'full' });
        expect(await repo.markDocumentsSeenById(next.syncRunId, [a] as string[])).toBe(1);
        // A deleted document's mark does not bring it back.
        const [d] = await idsOf(connectorId, ['d']);
        expect(await repo.markDocumentsSeenById(next.syncRunId, [d] as string[])).toBe(1);
        expect(await repo.sweepUnseenDocuments(next.syncRunId, 1)).toEqual({
          swept: 2,
          unseen: 2,
          total: 3,
          refused: false,
        });
        expect(await deletedOf(connectorId, ['a', 'b', 'c', 'd', 'e'])).toEqual(['b', 'c', 'd', 'e']);
      });

      it("keeps an interrupted listing's id marks for the full run that resumes it", async () => {
        const { connectorId } = await freshConnector();
        await repo.upsertDocuments(
          connectorId,
          ['a', 'b', 'c', 'd'].map((id) => doc(id, `text ${id}`)),
        );
        await fixture.backdateDocuments(connectorId);
        const [a, b, c] = await idsOf(connectorId, ['a', 'b', 'c']);
        const interrupted = await repo.startSync({ connectorId, syncMode: 'full' });
        expect(await repo.markDocumentsSeenById(interrupted.syncRunId, [a, b] as string[])).toBe(2);
        await repo.commitCheckpoint(interrupted.syncRunId, { after: 'b' });
        await repo.finishSync(interrupted.syncRunId, { status: 'cancelled', errorMessage: 'stopped' });
        const resumed = await repo.startSync({ connectorId, syncMode: 'full' });
        expect(resumed.status === 'started' && resumed.cursor).toEqual({ after: 'b' });
        expect(await repo.markDocumentsSeenById(resumed.syncRunId, [c] as string[])).toBe(1);
        expect(await repo.sweepUnseenDocuments(resumed.syncRunId, 0.5)).toEqual({
          swept: 1,
          unseen: 1,
          total: 4,
          refused: false,
        });
        expect(await deletedOf(connectorId, ['a', 'b', 'c', 'd'])).toEqual(['d']);
      });

      it('refuses marks by id that are not ids or whose run lost its lease; an incremental run keeps none', async () => {
        const { connectorId } = await freshConnector();
        await repo.upsertDocuments(connectorId, [doc('a', 'text a'), doc('b', 'text b')]);
        await fixture.backdateDocuments(connectorId);
        const [a] = await idsOf(connectorId, ['a']);
        const incremental = await repo.startSync({ connectorId, syncMode: 'incremental' });
        const refused = await expectRepositoryError(
          repo.markDocumentsSeenById(incremental.syncRunId, ['a']),
          'invalid_input',
        );
        expect(refused.message).toMatch(/documentIds\[0\] is not a document id/);
        expect(await repo.markDocumentsSeenById(incremental.syncRunId, [a] as string[])).toBe(0);
        await repo.finishSync(incremental.syncRunId, { status: 'success' });
        await expectRepositoryError(
          repo.markDocumentsSeenById(incremental.syncRunId, [a] as string[]),
          'lease_lost',
        );
        await expectRepositoryError(repo.markDocumentsSeenById(randomUUID(), [a] as string[]), 'not_found');
        // The incremental run's mark does not count for a full listing.
        const full = await repo.startSync({ connectorId, syncMode: 'full' });
        expect(await repo.sweepUnseenDocuments(full.syncRunId, 1)).toMatchObject({ swept: 2, unseen: 2 });
      });

      it('refuses to sweep when the listing covered too little, and sweeps nothing after the lease is gone', async () => {
        const { connectorId } = await freshConnector();
        await repo.upsertDocuments(
          connectorId,
          ['a', 'b', 'c', 'd'].map((id) => doc(id, `text ${id}`)),
        );
        await fixture.backdateDocuments(connectorId);
        const run = await repo.startSync({ connectorId, syncMode: 'full' });
        await repo.markDocumentsSeen(connectorId, ['a']);
        expect(await repo.sweepUnseenDocuments(run.syncRunId, 0.5)).toEqual({
          swept: 0,
          unseen: 3,
          total: 4,
          refused: true,
        });
        const versions = await repo.getDocumentVersions(connectorId, ['a', 'b', 'c', 'd']);
        expect([...versions.values()].some((v) => v.isDeleted)).toBe(false);
        await expectRepositoryError(repo.sweepUnseenDocuments(run.syncRunId, 2), 'invalid_input');

        await repo.finishSync(run.syncRunId, { status: 'success' });
        await expectRepositoryError(repo.sweepUnseenDocuments(run.syncRunId, 1), 'lease_lost');
      });
    });

    describe('webhook events', () => {
      it('records a delivery once per connector, source and event id', async () => {
        const { orgId, connectorId } = await freshConnector();
        const other = await fixture.createConnector(orgId);
        const event = {
          eventSource: 'notion',
          eventId: 'evt-1',
          eventType: 'page.updated',
          payload: { page: 'p1' },
        };
        const first = await repo.recordWebhookEvent({
          connectorId,
          ...event,
          headers: { Authorization: 'secret' },
        });
        expect(first).toMatchObject({ isNew: true, processed: false });
        const duplicate = await repo.recordWebhookEvent({ connectorId, ...event });
        expect(duplicate).toEqual({ id: first.id, isNew: false, processed: false });
        const elsewhere = await repo.recordWebhookEvent({ connectorId: other, ...event });
        expect(elsewhere.isNew).toBe(true);
        expect(elsewhere.id).not.toBe(first.id);

        await repo.completeWebhookEvent(first.id, 'temporary failure');
        expect((await repo.recordWebhookEvent({ connectorId, ...event })).processed).toBe(false);
        await repo.completeWebhookEvent(first.id);
        expect(await repo.recordWebhookEvent({ connectorId, ...event })).toEqual({
          id: first.id,
          isNew: false,
          processed: true,
        });
        await expectRepositoryError(repo.completeWebhookEvent(randomUUID()), 'not_found');
        await expectRepositoryError(
          repo.recordWebhookEvent({ connectorId: randomUUID(), ...event }),
          'not_found',
        );
      });
    });

    describe('search', () => {
      it('searches one organisation, only live completed documents, fusing text and vector ranks', async () => {
        const { orgId, connectorId } = await freshConnector();
        const other = await freshConnector();
        if (!fixture.capabilities.vectors) {
          // Documented: search needs unified_content_search, which arrives with pgvector.
          await expectRepositoryError(repo.search({ orgId, queryText: 'salmon' }), 'unavailable');
          return;
        }
        const grilled = await indexedDocument(connectorId, 'grilled', [
          { content: 'Grilled salmon: wild salmon with lemon and dill', axes: { 0: 1 } },
          { content: 'Serve with boiled potatoes', axes: { 1: 1 } },
        ]);
        const smoked = await indexedDocument(connectorId, 'smoked', [
          { content: 'Smoked salmon on rye bread', axes: { 0: 0.5, 1: 0.5 } },
        ]);
        const gone = await indexedDocument(connectorId, 'gone', [
          { content: 'Salmon tartare', axes: { 0: 1 } },
        ]);
        await repo.softDeleteDocuments(connectorId, ['gone']);
        const pending = await repo.upsertDocuments(connectorId, [doc('pending', 'Salmon pending')]);
        await repo.replaceChunks(pending[0]?.documentId ?? '', [
          { index: 0, content: 'Salmon pending', contentHash: sha256('Salmon pending') },
        ]);
        const foreign = await indexedDocument(other.connectorId, 'foreign', [
          { content: 'Salmon from another org', axes: { 0: 1 } },
        ]);

        const text = await repo.search({ orgId, queryText: 'salmon' });
        expect(new Set(text.map((r) => r.documentId))).toEqual(new Set([grilled, smoked]));
        expect(text.every((r) => r.fullTextRank !== null && r.semanticRank === null)).toBe(true);
        expect(text.map((r) => r.documentId)).not.toContain(gone);
        expect(text.map((r) => r.documentId)).not.toContain(foreign);
        expect(text[0]?.snippet.toLowerCase()).toContain('**salmon**');
        expect(text[0]).toMatchObject({
          title: expect.stringContaining('Title of'),
          externalUrl: expect.stringContaining('https://example.com/'),
        });

        const hybrid = await repo.search({
          orgId,
          queryText: 'salmon',
          queryEmbedding: axisVector({ 0: 1 }),
          embeddingModel: 'test-model',
          limit: 10,
        });
        // The grilled chunk says "salmon" twice and points exactly along the query: first in both halves.
        expect(hybrid[0]).toMatchObject({
          documentId: grilled,
          chunkIndex: 0,
          fullTextRank: 1,
          semanticRank: 1,
        });
        expect(hybrid[0]?.score).toBeCloseTo(2 / 61, 10);
        expect(hybrid.map((r) => r.documentId)).not.toContain(foreign);
        expect(hybrid.map((r) => r.documentId)).not.toContain(gone);
        const scores = hybrid.map((r) => r.score);
        expect(scores).toEqual([...scores].sort((a, b) => b - a));

        expect(await repo.search({ orgId, queryText: 'salmon', connectorIds: [randomUUID()] })).toEqual([]);
        await expectRepositoryError(repo.search({ orgId }), 'invalid_input');
      });
    });

    defineStateContract({
      repo: () => repo,
      fixture: () => fixture,
      freshConnector,
      expectRepositoryError,
    });

    describe('acting as a user', () => {
      it('lets a member read only their organisation and write nothing', async () => {
        const a = await freshConnector();
        const b = await freshConnector();
        const member = randomUUID();
        await fixture.addMember(member, a.orgId, 'member');
        const [docA] = await repo.upsertDocuments(a.connectorId, [doc('shared', 'alpha text')]);
        await repo.upsertDocuments(b.connectorId, [doc('shared', 'beta text')]);
        const asMember = repo.withUser(member);

        expect((await asMember.getConnector(a.connectorId))?.id).toBe(a.connectorId);
        expect(await asMember.getConnector(b.connectorId)).toBeUndefined();
        const visibleOrgs = new Set((await asMember.listConnectors()).map((c) => c.orgId));
        expect(visibleOrgs).toEqual(new Set([a.orgId]));
        expect((await asMember.getDocumentVersions(a.connectorId, ['shared'])).get('shared')?.id).toBe(
          docA?.documentId,
        );
        // Another organisation's connector does not exist for this member.
        await expectRepositoryError(asMember.getDocumentVersions(b.connectorId, ['shared']), 'not_found');
        expect(await repo.withUser(randomUUID()).listConnectors({ orgId: a.orgId })).toEqual([]);

        await expectRepositoryError(
          asMember.upsertDocuments(a.connectorId, [doc('new', 'x')]),
          'not_allowed',
        );
        await expectRepositoryError(asMember.startSync({ connectorId: a.connectorId }), 'not_allowed');
        await expectRepositoryError(
          asMember.setProcessingStatus([docA?.documentId ?? ''], 'failed'),
          'not_allowed',
        );
        await expectRepositoryError(
          asMember.replaceChunks(docA?.documentId ?? '', [
            { index: 0, content: 'x', contentHash: sha256('x') },
          ]),
          'not_allowed',
        );
        await expectRepositoryError(
          asMember.recordWebhookEvent({
            connectorId: a.connectorId,
            eventSource: 's',
            eventId: 'e',
            eventType: 't',
            payload: {},
          }),
          'not_allowed',
        );
        expect((await repo.getDocumentVersions(a.connectorId, ['new'])).size).toBe(0);
        if (fixture.capabilities.vectors) {
          await expectRepositoryError(asMember.search({ orgId: b.orgId, queryText: 'beta' }), 'not_allowed');
        }
        // The service view is untouched by withUser.
        expect((await repo.getConnector(b.connectorId))?.id).toBe(b.connectorId);
      });
    });
  });
}
