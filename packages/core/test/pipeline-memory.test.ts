// runSync against the in-memory repository: the dedup layers, deletes and the sweep's guard,
// checkpoints and resume, leases, failures. Connectors are in-memory sources whose contents the
// tests change between runs; `load()` and the embedder count what they are asked to do.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  AuthError,
  type ConnectorChange,
  createChunker,
  createExtractorRegistry,
  createLexicalEmbedder,
  defineConnector,
  type Embedder,
  type KnowledgeRepository,
  QuotaExceededError,
  type RunSyncOptions,
  reportSyncTotal,
  runSync,
  type SyncContext,
  type SyncProgressEvent,
} from '../src/index.js';
import { createMemoryRepository, type MemoryKnowledgeRepository } from '../src/testing.js';

interface SourceDoc {
  title: string;
  text?: string | undefined;
  bytes?: Uint8Array | undefined;
  version?: string | undefined;
  mimeType?: string | undefined;
  loadError?: Error | undefined;
}

interface SourceOptions {
  incremental?: boolean;
  /** Yield a checkpoint (cursor = index of the next document) after every n documents. */
  checkpointEvery?: number;
  listing?: 'complete' | 'incomplete' | 'none';
  /** Called after each upsert is yielded (and consumed). */
  afterYield?: (index: number, ctx: SyncContext<unknown, unknown>) => void | Promise<void>;
  reportTotal?: boolean;
}

/** An in-memory source: documents in a map, deletes queued for the next incremental sync. */
function createSource(options: SourceOptions = {}) {
  const docs = new Map<string, SourceDoc>();
  const pendingDeletes: string[] = [];
  const stats = { loads: 0, syncs: 0, loaded: [] as string[] };
  const connector = defineConnector({
    type: 'memory_source',
    capabilities: { incremental: options.incremental ?? false, deletions: true },
    async check() {},
    async *sync(ctx): AsyncIterable<ConnectorChange> {
      stats.syncs += 1;
      const entries = [...docs.entries()].sort(([a], [b]) => a.localeCompare(b));
      if (options.reportTotal) reportSyncTotal(ctx, entries.length);
      const from = ctx.mode === 'incremental' && typeof ctx.cursor === 'number' ? ctx.cursor : 0;
      for (let index = from; index < entries.length; index += 1) {
        const [externalId, doc] = entries[index] as [string, SourceDoc];
        yield {
          kind: 'upsert',
          document: {
            externalId,
            title: doc.title,
            version: doc.version,
            mimeType: doc.mimeType ?? 'text/markdown',
            content: {
              kind: 'lazy',
              async load() {
                stats.loads += 1;
                stats.loaded.push(externalId);
                if (doc.loadError) throw doc.loadError;
                if (doc.bytes) return { kind: 'bytes', bytes: doc.bytes };
                return { kind: 'text', text: doc.text ?? '' };
              },
            },
          },
        };
        await options.afterYield?.(index, ctx);
        if (options.checkpointEvery && (index + 1) % options.checkpointEvery === 0) {
          yield { kind: 'checkpoint', cursor: index + 1 };
        }
      }
      if (ctx.mode === 'incremental') {
        for (const externalId of pendingDeletes.splice(0)) yield { kind: 'delete', externalId };
      }
      yield { kind: 'checkpoint', cursor: entries.length };
      const listing = options.listing ?? 'complete';
      if (listing === 'complete') yield { kind: 'listing-complete', complete: true };
      if (listing === 'incomplete') {
        yield { kind: 'listing-complete', complete: false, reason: 'folder "Archive" could not be listed' };
      }
    },
  });
  return { docs, pendingDeletes, stats, connector };
}

/** The lexical embedder, counting requests and inputs (and optionally with a small batch limit). */
function countingEmbedder(maxInputsPerRequest?: number) {
  const inner = createLexicalEmbedder({ dimensions: 64 });
  const stats = { requests: 0, inputs: 0, texts: [] as string[] };
  const embedder: Embedder = {
    ...inner,
    maxInputsPerRequest: maxInputsPerRequest ?? inner.maxInputsPerRequest,
    async embed(texts, embedOptions) {
      stats.requests += 1;
      stats.inputs += texts.length;
      stats.texts.push(...texts);
      return inner.embed(texts, embedOptions);
    },
  };
  return { embedder, stats };
}

type Calls = Record<string, unknown[][]>;

/** Wraps a repository, recording every call (and letting a test replace a method). */
function spyOn(
  target: MemoryKnowledgeRepository,
  overrides: Partial<Record<keyof KnowledgeRepository, (...args: never[]) => unknown>> = {},
) {
  const calls: Calls = {};
  const repository = new Proxy(target, {
    get(object, property, receiver) {
      const value = Reflect.get(object, property, receiver);
      if (typeof property !== 'string' || typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const list = calls[property] ?? [];
        calls[property] = list;
        list.push(args);
        const override = overrides[property as keyof KnowledgeRepository] as
          | ((...a: unknown[]) => unknown)
          | undefined;
        return override ? override(...args) : (value as (...a: unknown[]) => unknown).apply(object, args);
      };
    },
  });
  const count = (method: string) => calls[method]?.length ?? 0;
  const reset = () => {
    for (const key of Object.keys(calls)) delete calls[key];
  };
  return { repository, calls, count, reset };
}

const chunker = createChunker({ maxTokens: 48, overlapTokens: 0 });

function setup(options: { now?: () => number } = {}) {
  const memory = createMemoryRepository({ now: options.now });
  const orgId = randomUUID();
  const record = memory.addConnector({ orgId, connectorType: 'memory_source', name: 'Test source' });
  const spy = spyOn(memory);
  return { memory, orgId, connectorId: record.id, ...spy };
}

/** A multi-section Markdown document: each paragraph lands in its own chunk. */
function article(topic: string, paragraphs = 4): string {
  const words = ['river', 'delta', 'basin', 'current', 'estuary', 'channel', 'meander', 'tributary'];
  const parts = [`# ${topic}`];
  for (let p = 0; p < paragraphs; p += 1) {
    const body = Array.from({ length: 18 }, (_, w) => words[(w + p) % words.length]).join(' ');
    parts.push(`## ${topic} part ${p}`, `${topic} paragraph ${p}: ${body}.`);
  }
  return parts.join('\n\n');
}

function fill(source: ReturnType<typeof createSource>, n: number, version = 'v1') {
  for (let i = 0; i < n; i += 1) {
    const id = `doc-${String(i).padStart(3, '0')}`;
    source.docs.set(id, { title: `Document ${i}`, text: article(`Topic ${i}`), version });
  }
}

async function states(repository: KnowledgeRepository, connectorId: string, ids: readonly string[]) {
  const versions = await repository.getDocumentVersions(connectorId, ids);
  return [...versions.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([externalId, v]) => ({
      externalId,
      contentHash: v.contentHash,
      sourceVersion: v.sourceVersion,
      isDeleted: v.isDeleted,
      processingStatus: v.processingStatus,
    }));
}

const registry = createExtractorRegistry();

/** The chunk hashes the pipeline will compute for a Markdown text (extracted, then chunked). */
async function uniqueChunkHashes(text: string, title: string): Promise<Set<string>> {
  const extracted = await registry.extract({ text, claimedMimeType: 'text/markdown', fileName: title });
  const chunks = await chunker.chunk(extracted.text, { title, structure: extracted.structure });
  return new Set(chunks.map((c) => c.hash));
}

function baseOptions(
  env: ReturnType<typeof setup>,
  source: ReturnType<typeof createSource>,
  embedder: Embedder,
): RunSyncOptions {
  return {
    connector: source.connector as RunSyncOptions['connector'],
    connectorId: env.connectorId,
    repository: env.repository,
    embedder,
    chunker,
  };
}

describe('runSync: dedup layers', () => {
  it('first run inserts and embeds everything; an unchanged second run loads and embeds nothing', async () => {
    const env = setup();
    const source = createSource();
    fill(source, 12);
    const { embedder, stats } = countingEmbedder();
    const events: SyncProgressEvent[] = [];

    const first = await runSync({ ...baseOptions(env, source, embedder), onProgress: (e) => events.push(e) });
    expect(first.status).toBe('success');
    expect(first.mode).toBe('full');
    expect(first.counts).toMatchObject({ seen: 12, inserted: 12, updated: 0, unchanged: 0, failed: 0 });
    expect(source.stats.loads).toBe(12);
    let expectedChunks = 0;
    for (const doc of source.docs.values()) {
      expectedChunks += (await uniqueChunkHashes(doc.text ?? '', doc.title)).size;
    }
    expect(stats.inputs).toBe(expectedChunks);
    expect(first.embeddings).toMatchObject({ inputs: expectedChunks, reused: 0, requests: stats.requests });
    // Batched across documents: one request for the whole group (the lexical embedder takes 10,000).
    expect(stats.requests).toBe(1);
    const stored = await states(env.repository, env.connectorId, [...source.docs.keys()]);
    expect(stored.every((d) => d.processingStatus === 'completed' && !d.isDeleted)).toBe(true);
    expect(events[0]?.type).toBe('run-started');
    expect(events.at(-1)).toMatchObject({ type: 'run-finished', status: 'success' });
    expect(events.filter((e) => e.type === 'document-finished')).toHaveLength(12);
    const run = await env.repository.getSyncRun(first.runId);
    expect(run).toMatchObject({ status: 'success', documentsSynced: 12, documentsFailed: 0 });

    source.stats.loads = 0;
    stats.requests = 0;
    stats.inputs = 0;
    env.reset();
    const second = await runSync({
      ...baseOptions(env, source, embedder),
      onProgress: (e) => events.push(e),
    });
    expect(second.status).toBe('success');
    expect(second.counts).toMatchObject({
      seen: 12,
      skippedByVersion: 12,
      inserted: 0,
      updated: 0,
      unchanged: 0,
    });
    expect(source.stats.loads).toBe(0);
    expect(stats.requests).toBe(0);
    expect(env.count('upsertDocuments')).toBe(0);
    expect(env.count('replaceChunks')).toBe(0);
    expect(env.count('markDocumentsSeenById')).toBe(1);
    expect(env.count('markDocumentsSeen')).toBe(0);
    expect(second.sweep).toMatchObject({ swept: 0, refused: false });
  });

  it('10% changed: only those are loaded and only their new chunks are embedded', async () => {
    const env = setup();
    const source = createSource();
    fill(source, 20);
    const { embedder, stats } = countingEmbedder();
    await runSync(baseOptions(env, source, embedder));

    const changed = ['doc-003', 'doc-011'];
    let newChunks = 0;
    let changedChunks = 0;
    for (const id of changed) {
      const doc = source.docs.get(id) as SourceDoc;
      const before = await uniqueChunkHashes(doc.text ?? '', doc.title);
      // One paragraph of four rewritten: most chunks stay the same.
      doc.text = (doc.text ?? '').replace('paragraph 2:', 'paragraph 2 (revised):');
      doc.version = 'v2';
      const after = await uniqueChunkHashes(doc.text, doc.title);
      newChunks += [...after].filter((hash) => !before.has(hash)).length;
      changedChunks += after.size;
    }
    expect(newChunks).toBeGreaterThan(0);
    expect(newChunks).toBeLessThan(changedChunks);

    source.stats.loads = 0;
    source.stats.loaded = [];
    stats.inputs = 0;
    const summary = await runSync(baseOptions(env, source, embedder));
    expect(summary.status).toBe('success');
    expect(summary.counts).toMatchObject({ skippedByVersion: 18, updated: 2, inserted: 0 });
    expect(source.stats.loaded.sort()).toEqual(changed);
    expect(stats.inputs).toBe(newChunks);
    expect(summary.embeddings.reused).toBe(changedChunks - newChunks);
  });

  it('a few changes spread over many groups are embedded in one request (batches fill across groups)', async () => {
    const env = setup();
    const source = createSource();
    fill(source, 400);
    const { embedder, stats } = countingEmbedder();
    // Groups of 10: 40 groups, 8 at a time. Every other group holds one changed document.
    const options = { ...baseOptions(env, source, embedder), groupSize: 10 };
    await runSync(options);
    const changed = Array.from({ length: 20 }, (_, i) => `doc-${String(i * 20 + 5).padStart(3, '0')}`);
    for (const id of changed) {
      const doc = source.docs.get(id) as SourceDoc;
      doc.text = (doc.text ?? '').replace('paragraph 2:', 'paragraph 2 (revised):');
      doc.version = 'v2';
    }
    stats.requests = 0;
    stats.inputs = 0;
    const summary = await runSync(options);
    expect(summary.status).toBe('success');
    expect(summary.counts).toMatchObject({ updated: 20, skippedByVersion: 380 });
    expect(stats.inputs).toBeGreaterThanOrEqual(20);
    // Before, each group waiting on the batcher kept its slot: 8 waiting groups sent a request.
    expect(stats.requests).toBe(1);
  });

  it('a version change with the same content is loaded but neither re-chunked nor re-embedded', async () => {
    const env = setup();
    const source = createSource();
    fill(source, 3);
    const { embedder, stats } = countingEmbedder();
    await runSync(baseOptions(env, source, embedder));
    (source.docs.get('doc-001') as SourceDoc).version = 'v2';
    stats.inputs = 0;
    env.reset();
    const summary = await runSync(baseOptions(env, source, embedder));
    expect(summary.counts).toMatchObject({ unchanged: 1, skippedByVersion: 2 });
    expect(stats.inputs).toBe(0);
    expect(env.count('replaceChunks')).toBe(0);
    const [stored] = await states(env.repository, env.connectorId, ['doc-001']);
    expect(stored).toMatchObject({ sourceVersion: 'v2', processingStatus: 'completed' });
  });

  it('a chunk shared by two documents is embedded once, and reused by a third on a later run', async () => {
    const env = setup();
    const source = createSource();
    const text = article('Shared handbook', 3);
    source.docs.set('a', { title: 'Handbook', text, version: '1' });
    source.docs.set('b', { title: 'Handbook', text, version: '1' });
    const { embedder, stats } = countingEmbedder();
    await runSync(baseOptions(env, source, embedder));
    const unique = await uniqueChunkHashes(text, 'Handbook');
    expect(stats.inputs).toBe(unique.size);
    expect(new Set(stats.texts).size).toBe(stats.texts.length);

    source.docs.set('c', { title: 'Handbook', text, version: '1' });
    stats.inputs = 0;
    const summary = await runSync(baseOptions(env, source, embedder));
    expect(summary.counts.inserted).toBe(1);
    expect(stats.inputs).toBe(0);
    expect(summary.embeddings.reused).toBe(unique.size);
  });

  it('LangChain #21028: a document whose chunks span two embedding batches is not re-embedded or deleted on re-run', async () => {
    const env = setup();
    const source = createSource();
    // No versions: every run loads the content, so layer 3 (content hash) must do the work.
    source.docs.set('long', { title: 'Long', text: article('Long read', 6) });
    source.docs.set('short', { title: 'Short', text: article('Short note', 1) });
    const { embedder, stats } = countingEmbedder(3);
    const first = await runSync(baseOptions(env, source, embedder));
    const longChunks = await uniqueChunkHashes(article('Long read', 6), 'Long');
    expect(longChunks.size).toBeGreaterThan(3);
    expect(stats.requests).toBeGreaterThanOrEqual(2);
    expect(first.counts.inserted).toBe(2);

    stats.requests = 0;
    stats.inputs = 0;
    env.reset();
    const second = await runSync(baseOptions(env, source, embedder));
    expect(second.status).toBe('success');
    expect(second.counts).toMatchObject({ unchanged: 2, deleted: 0, updated: 0 });
    expect(stats.requests).toBe(0);
    expect(env.count('replaceChunks')).toBe(0);
    expect(env.count('softDeleteDocuments')).toBe(0);
    const reusable = await env.repository.findReusableEmbeddings(env.orgId, embedder.id, [...longChunks]);
    expect(reusable.size).toBe(longChunks.size);
  });

  it('fails open when the version lookup breaks: the group is processed as new, nothing dropped', async () => {
    const env = setup();
    const source = createSource();
    fill(source, 4);
    const { embedder, stats } = countingEmbedder();
    await runSync(baseOptions(env, source, embedder));
    const warnings: string[] = [];
    const broken = spyOn(env.memory, {
      getDocumentVersions: () => Promise.reject(new Error('connection reset')),
    });
    stats.inputs = 0;
    source.stats.loads = 0;
    const summary = await runSync({
      ...baseOptions(env, source, embedder),
      repository: broken.repository,
      logger: {
        debug() {},
        info() {},
        error() {},
        warn: (message) => warnings.push(message),
      },
    });
    expect(summary.status).toBe('success');
    expect(source.stats.loads).toBe(4);
    expect(summary.counts.seen).toBe(4);
    expect(warnings.some((w) => w.includes('fail open'))).toBe(true);
    // Content unknown to be processed → indexed again, but every embedding is reused.
    expect(stats.inputs).toBe(0);
    const stored = await states(env.memory, env.connectorId, [...source.docs.keys()]);
    expect(stored).toHaveLength(4);
    expect(stored.every((d) => d.processingStatus === 'completed')).toBe(true);
  });
});

describe('runSync: deletions and the sweep', () => {
  it('delete changes soft-delete documents', async () => {
    const env = setup();
    const source = createSource({ incremental: true, listing: 'none' });
    fill(source, 5);
    const { embedder } = countingEmbedder();
    await runSync(baseOptions(env, source, embedder));
    source.docs.delete('doc-002');
    source.pendingDeletes.push('doc-002');
    const summary = await runSync(baseOptions(env, source, embedder));
    expect(summary.mode).toBe('incremental');
    expect(summary.counts.deleted).toBe(1);
    expect(summary.sweep).toBeUndefined();
    const [gone] = await states(env.repository, env.connectorId, ['doc-002']);
    expect(gone?.isDeleted).toBe(true);
    const hits = await env.repository.search({ orgId: env.orgId, queryText: 'Topic 2 paragraph' });
    expect(hits.every((hit) => hit.title !== 'Document 2')).toBe(true);
  });

  it('a complete full listing sweeps documents no longer in the source', async () => {
    const env = setup();
    const source = createSource();
    fill(source, 10);
    const { embedder } = countingEmbedder();
    await runSync(baseOptions(env, source, embedder));
    source.docs.delete('doc-004');
    const summary = await runSync(baseOptions(env, source, embedder));
    expect(summary.sweep).toMatchObject({ swept: 1, unseen: 1, total: 10, refused: false });
    expect(summary.counts.deleted).toBe(1);
    const stored = await states(env.repository, env.connectorId, [...source.docs.keys(), 'doc-004']);
    expect(stored.filter((d) => d.isDeleted).map((d) => d.externalId)).toEqual(['doc-004']);
  });

  it('a shrunken listing (more than half missing) is refused: nothing is deleted, the log says why', async () => {
    const env = setup();
    const source = createSource();
    fill(source, 10);
    const { embedder } = countingEmbedder();
    await runSync(baseOptions(env, source, embedder));
    for (const id of ['doc-000', 'doc-001', 'doc-002', 'doc-003', 'doc-004', 'doc-005'])
      source.docs.delete(id);
    env.reset();
    const summary = await runSync(baseOptions(env, source, embedder));
    expect(summary.sweep).toMatchObject({ swept: 0, unseen: 6, total: 10, refused: true });
    expect(summary.sweep?.reason).toMatch(/6 of 10/);
    expect(summary.counts.deleted).toBe(0);
    const all = Array.from({ length: 10 }, (_, i) => `doc-${String(i).padStart(3, '0')}`);
    const stored = await states(env.repository, env.connectorId, all);
    expect(stored.filter((d) => d.isDeleted)).toHaveLength(0);
    const finish = env.calls.finishSync?.[0]?.[1] as { counts: { metadata: Record<string, unknown> } };
    expect(finish.counts.metadata.sweep).toMatchObject({ refused: true, unseen: 6 });
  });

  it.each([
    ['incomplete', /incomplete: folder "Archive" could not be listed/],
    ['none', /did not report/],
  ] as const)('an %s listing is not swept', async (listing, reason) => {
    const env = setup();
    const first = createSource();
    fill(first, 4);
    const { embedder } = countingEmbedder();
    await runSync(baseOptions(env, first, embedder));
    const source = createSource({ listing });
    fill(source, 3);
    env.reset();
    const summary = await runSync(baseOptions(env, source, embedder));
    expect(summary.status).toBe('success');
    expect(summary.sweep).toMatchObject({ swept: 0, refused: true });
    expect(summary.sweep?.reason).toMatch(reason);
    expect(env.count('sweepUnseenDocuments')).toBe(0);
    const [kept] = await states(env.repository, env.connectorId, ['doc-003']);
    expect(kept?.isDeleted).toBe(false);
    const finish = env.calls.finishSync?.[0]?.[1] as { counts: { metadata: Record<string, unknown> } };
    expect(finish.counts.metadata.sweep).toMatchObject({
      refused: true,
      reason: expect.stringMatching(reason),
    });
  });
});

describe('runSync: failures', () => {
  it('a corrupt document and a failed load end the run partial; the others are stored', async () => {
    const env = setup();
    const source = createSource();
    fill(source, 4);
    source.docs.set('broken.pdf', {
      title: 'broken.pdf',
      mimeType: 'application/pdf',
      bytes: new TextEncoder().encode('this is not a PDF at all'),
      version: '1',
    });
    source.docs.set('unreachable', {
      title: 'Unreachable',
      version: '1',
      loadError: new Error('socket hang up'),
    });
    const { embedder } = countingEmbedder();
    const summary = await runSync(baseOptions(env, source, embedder));
    expect(summary.status).toBe('partial');
    expect(summary.counts).toMatchObject({ seen: 6, inserted: 4, failed: 2 });
    expect(summary.errors.map((e) => e.externalId).sort()).toEqual(['broken.pdf', 'unreachable']);
    const stored = await states(env.repository, env.connectorId, [...source.docs.keys()]);
    expect(
      stored
        .filter((d) => d.processingStatus === 'failed')
        .map((d) => d.externalId)
        .sort(),
    ).toEqual(['broken.pdf', 'unreachable']);
    expect(stored.filter((d) => d.processingStatus === 'completed')).toHaveLength(4);
    const run = await env.repository.getSyncRun(summary.runId);
    expect(run).toMatchObject({ status: 'partial', documentsFailed: 2 });

    // Failed documents are retried on the next run (their version alone does not skip them).
    (source.docs.get('unreachable') as SourceDoc).loadError = undefined;
    (source.docs.get('unreachable') as SourceDoc).text = 'Back online.';
    const retry = await runSync(baseOptions(env, source, embedder));
    expect(retry.counts.failed).toBe(1);
    const [recovered] = await states(env.repository, env.connectorId, ['unreachable']);
    expect(recovered?.processingStatus).toBe('completed');
  });

  it('an auth error ends the run failed with the message, thrown to nobody', async () => {
    const env = setup();
    const source = createSource();
    fill(source, 3);
    (source.docs.get('doc-001') as SourceDoc).loadError = new AuthError({
      connector: 'memory_source',
      status: 401,
    });
    const { embedder } = countingEmbedder();
    const summary = await runSync(baseOptions(env, source, embedder));
    expect(summary.status).toBe('failed');
    expect(summary.error).toMatch(/credentials/);
    expect(summary.sweep?.refused).toBe(true);
    const connector = await env.repository.getConnector(env.connectorId);
    expect(connector).toMatchObject({ lastSyncStatus: 'failed', errorCount: 1 });
  });

  it('an embedding failure fails the documents that needed it (partial); a quota error fails the run', async () => {
    const env = setup();
    const source = createSource();
    fill(source, 3);
    const { embedder } = countingEmbedder();
    let failWith: Error | undefined = new Error('embedding service returned 500');
    const flaky: Embedder = {
      ...embedder,
      embed: (texts, options) => (failWith ? Promise.reject(failWith) : embedder.embed(texts, options)),
    };
    const partial = await runSync(baseOptions(env, source, flaky));
    expect(partial.status).toBe('partial');
    expect(partial.counts.failed).toBe(3);
    expect(partial.errors[0]?.message).toMatch(/500/);
    let stored = await states(env.repository, env.connectorId, [...source.docs.keys()]);
    expect(stored.every((d) => d.processingStatus === 'failed')).toBe(true);

    failWith = new QuotaExceededError({ message: 'monthly embedding quota exhausted' });
    const failed = await runSync(baseOptions(env, source, flaky));
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/quota/);

    failWith = undefined;
    const recovered = await runSync(baseOptions(env, source, flaky));
    expect(recovered.status).toBe('success');
    stored = await states(env.repository, env.connectorId, [...source.docs.keys()]);
    expect(stored.every((d) => d.processingStatus === 'completed')).toBe(true);
  });

  it('keeps the order of changes: an upsert after a delete of the same document brings it back', async () => {
    const env = setup();
    const { embedder } = countingEmbedder();
    const text = article('Phoenix', 1);
    const connector = defineConnector({
      type: 'ordered_source',
      async check() {},
      async *sync(): AsyncIterable<ConnectorChange> {
        const upsert = (externalId: string): ConnectorChange => ({
          kind: 'upsert',
          document: {
            externalId,
            title: externalId,
            mimeType: 'text/markdown',
            content: { kind: 'text', text },
          },
        });
        yield upsert('phoenix');
        yield upsert('ash');
        yield { kind: 'delete', externalId: 'phoenix' };
        yield { kind: 'delete', externalId: 'ash' };
        yield upsert('phoenix');
      },
    });
    const summary = await runSync({
      ...baseOptions(env, createSource(), embedder),
      connector: connector as RunSyncOptions['connector'],
    });
    expect(summary.counts.deleted).toBe(2);
    const stored = await states(env.repository, env.connectorId, ['ash', 'phoenix']);
    expect(stored.map((d) => [d.externalId, d.isDeleted, d.processingStatus])).toEqual([
      ['ash', true, 'completed'],
      ['phoenix', false, 'completed'],
    ]);
  });

  it('invalid config ends the run failed', async () => {
    const env = setup();
    const source = createSource();
    const { z } = await import('zod');
    const strict = defineConnector({
      type: 'strict_source',
      configSchema: z.object({ folder: z.string() }),
      async check() {},
      async *sync() {},
    });
    const { embedder } = countingEmbedder();
    const summary = await runSync({
      ...baseOptions(env, source, embedder),
      connector: strict as RunSyncOptions['connector'],
      config: { folder: 42 },
    });
    expect(summary.status).toBe('failed');
    expect(summary.error).toMatch(/folder/);
  });

  it('returns skipped without touching anything when another run holds the lease', async () => {
    const env = setup();
    const source = createSource();
    fill(source, 2);
    const other = await env.memory.startSync({ connectorId: env.connectorId });
    const { embedder } = countingEmbedder();
    env.reset();
    const summary = await runSync(baseOptions(env, source, embedder));
    expect(summary.status).toBe('skipped');
    expect(summary.runId).toBe(other.syncRunId);
    expect(source.stats.syncs).toBe(0);
    // vectorSettings: the read-only check of the embedder's size before the run starts.
    expect(Object.keys(env.calls).sort()).toEqual(['getConnector', 'startSync', 'vectorSettings']);
  });
});

describe('runSync: checkpoints, resume and leases', () => {
  it('commits a checkpoint only after everything before it is stored', async () => {
    const env = setup();
    const source = createSource({ incremental: true, checkpointEvery: 2, listing: 'none' });
    fill(source, 5);
    const { embedder } = countingEmbedder();
    const order: string[] = [];
    const traced = spyOn(env.memory, {});
    const repository = new Proxy(traced.repository, {
      get(object, property, receiver) {
        const value = Reflect.get(object, property, receiver);
        if (
          property === 'commitCheckpoint' ||
          property === 'setProcessingStatus' ||
          property === 'upsertDocuments'
        ) {
          return (...args: unknown[]) => {
            order.push(property === 'setProcessingStatus' ? `status:${String(args[1])}` : String(property));
            return (value as (...a: unknown[]) => unknown)(...args);
          };
        }
        return value;
      },
    });
    await runSync({ ...baseOptions(env, source, embedder), repository, groupSize: 50 });
    // Groups overlap now, so calls interleave; what must hold: the k-th checkpoint commits only
    // after the upsert and the completed status of the k groups (2 documents each) before it.
    const commits = order.flatMap((entry, index) => (entry === 'commitCheckpoint' ? [index] : []));
    expect(commits).toHaveLength(3);
    for (const [k, at] of commits.entries()) {
      const before = order.slice(0, at);
      expect(before.filter((e) => e === 'status:completed').length).toBeGreaterThanOrEqual(k + 1);
      expect(before.filter((e) => e === 'upsertDocuments').length).toBeGreaterThanOrEqual(k + 1);
    }
    expect(order.filter((e) => e === 'status:completed')).toHaveLength(3);
    expect((await env.memory.getConnector(env.connectorId))?.syncCursor).toBe(5);
  });

  it('abort mid-run, then run again: same final state as one clean run, no document embedded twice', async () => {
    const make = (abortAt?: { index: number; controller: AbortController }) => {
      const source = createSource({
        incremental: true,
        checkpointEvery: 1,
        listing: 'none',
        afterYield: (index) => {
          if (abortAt && index === abortAt.index) abortAt.controller.abort();
        },
      });
      fill(source, 10);
      return source;
    };

    // The clean reference run.
    const clean = setup();
    const cleanSource = make();
    const cleanEmbedder = countingEmbedder();
    const reference = await runSync(baseOptions(clean, cleanSource, cleanEmbedder.embedder));
    expect(reference.status).toBe('success');

    // Aborted after the sixth document was yielded (documents 0-4 committed with checkpoints).
    const env = setup();
    const controller = new AbortController();
    const source = make({ index: 5, controller });
    const { embedder, stats } = countingEmbedder();
    const aborted = await runSync({ ...baseOptions(env, source, embedder), signal: controller.signal });
    expect(aborted.status).toBe('cancelled');
    expect(aborted.error).toMatch(/cancelled/);
    expect((await env.memory.getConnector(env.connectorId))?.syncCursor).toBe(5);
    const run = await env.repository.getSyncRun(aborted.runId);
    expect(run?.status).toBe('cancelled');
    const firstInputs = stats.inputs;

    // The resumed run starts from the checkpoint and embeds only the unfinished documents.
    source.stats.loaded = [];
    stats.inputs = 0;
    const resumed = await runSync(baseOptions(env, source, embedder));
    expect(resumed.status).toBe('success');
    expect(source.stats.loaded).toEqual(['doc-005', 'doc-006', 'doc-007', 'doc-008', 'doc-009']);
    let expectedInputs = 0;
    for (const id of source.stats.loaded) {
      const doc = source.docs.get(id) as SourceDoc;
      expectedInputs += (await uniqueChunkHashes(doc.text ?? '', doc.title)).size;
    }
    expect(stats.inputs).toBe(expectedInputs);
    expect(firstInputs + stats.inputs).toBe(cleanEmbedder.stats.inputs);

    const ids = [...source.docs.keys()];
    expect(await states(env.repository, env.connectorId, ids)).toEqual(
      await states(clean.repository, clean.connectorId, ids),
    );
    for (const id of ids) {
      const doc = source.docs.get(id) as SourceDoc;
      const hashes = [...(await uniqueChunkHashes(doc.text ?? '', doc.title))];
      const found = await env.repository.findReusableEmbeddings(env.orgId, embedder.id, hashes);
      expect(found.size).toBe(hashes.length);
    }
  });

  it('a document left "processing" by a crash is indexed again on the next run (its version does not skip it)', async () => {
    const env = setup();
    const source = createSource();
    fill(source, 3);
    const { embedder, stats } = countingEmbedder();
    // Simulate a worker that died between upsertDocuments and replaceChunks.
    const crashing = spyOn(env.memory, {
      replaceChunksBatch: () => Promise.reject(new Error('worker killed')),
    });
    const crashed = await runSync({ ...baseOptions(env, source, embedder), repository: crashing.repository });
    expect(crashed.status).toBe('partial');
    await env.memory.setProcessingStatus(
      [...(await env.memory.getDocumentVersions(env.connectorId, ['doc-000'])).values()].map((v) => v.id),
      'processing',
    );
    stats.inputs = 0;
    const summary = await runSync(baseOptions(env, source, embedder));
    expect(summary.status).toBe('success');
    expect(summary.counts).toMatchObject({ skippedByVersion: 0, unchanged: 3 });
    // The vectors of the crashed run were never stored, so they are embedded once more.
    expect(stats.inputs).toBeGreaterThan(0);
    const stored = await states(env.repository, env.connectorId, [...source.docs.keys()]);
    expect(stored.every((d) => d.processingStatus === 'completed')).toBe(true);
  });

  it('stops at once when a checkpoint finds the lease lost, committing nothing more', async () => {
    let clock = Date.now();
    const env = setup({ now: () => clock });
    const source = createSource({
      checkpointEvery: 2,
      afterYield: (index) => {
        if (index === 2) clock += 60_000; // the lease (10 s) expires: another worker may take over
      },
    });
    fill(source, 8);
    const { embedder } = countingEmbedder();
    const summary = await runSync({ ...baseOptions(env, source, embedder), leaseSeconds: 10 });
    expect(summary.status).toBe('failed');
    expect(summary.error).toMatch(/lease/);
    // The lease expired while documents 2-3 were listed. Groups overlap, so the first checkpoint
    // (after 0-1) may already be committed or may be the one that finds the lease lost; either
    // way the first failing checkpoint is the last one tried and nothing after it is committed.
    const cursor = (await env.memory.getConnector(env.connectorId))?.syncCursor ?? null;
    expect([null, 2]).toContain(cursor);
    expect(env.count('commitCheckpoint')).toBe(cursor === 2 ? 2 : 1);
    expect(source.stats.loaded).toEqual(expect.arrayContaining(['doc-000', 'doc-001']));
    expect(env.count('finishSync')).toBe(0);
    expect(env.count('sweepUnseenDocuments')).toBe(0);
  });

  it('stops when a heartbeat reports the lease lost', async () => {
    let clock = Date.now();
    const env = setup({ now: () => clock });
    const source = createSource({
      afterYield: async (index, ctx) => {
        if (index !== 1) return;
        clock += 60_000;
        // Wait (no time limit) until the next heartbeat has found out and aborted the sync.
        while (!ctx.signal.aborted) await new Promise((resolve) => setTimeout(resolve, 2));
      },
    });
    fill(source, 6);
    const { embedder } = countingEmbedder();
    const summary = await runSync({
      ...baseOptions(env, source, embedder),
      leaseSeconds: 10,
      heartbeatIntervalMs: 1,
    });
    expect(summary.status).toBe('failed');
    expect(summary.error).toMatch(/lease/);
    expect(env.count('heartbeat')).toBeGreaterThan(0);
    expect(env.count('upsertDocuments')).toBe(0);
    expect(env.count('finishSync')).toBe(0);
    expect(source.stats.loads).toBe(0);
  });
});

describe('runSync: progress', () => {
  it('reports document events, checkpoints, the sweep and an ETA when the connector gives a total', async () => {
    const env = setup();
    const source = createSource({ reportTotal: true, checkpointEvery: 3 });
    fill(source, 6);
    (source.docs.get('doc-001') as SourceDoc).loadError = new Error('gone');
    const { embedder } = countingEmbedder();
    const events: SyncProgressEvent[] = [];
    await runSync({ ...baseOptions(env, source, embedder), onProgress: (e) => events.push(e) });
    const types = new Set(events.map((e) => e.type));
    for (const type of [
      'run-started',
      'document-started',
      'document-finished',
      'document-failed',
      'group-committed',
      'checkpoint',
      'sweep',
      'run-finished',
    ]) {
      expect(types.has(type as SyncProgressEvent['type'])).toBe(true);
    }
    const finished = events.filter((e) => e.type === 'document-finished');
    expect(finished.every((e) => e.total === 6 && typeof e.etaMs === 'number')).toBe(true);
    expect(finished.every((e) => e.type === 'document-finished' && e.bytes > 0)).toBe(true);
    expect(events.at(-1)?.counts).toMatchObject({ seen: 6, inserted: 5, failed: 1 });

    // Second run, versions unchanged: skipped events.
    const again: SyncProgressEvent[] = [];
    (source.docs.get('doc-001') as SourceDoc).loadError = undefined;
    await runSync({ ...baseOptions(env, source, embedder), onProgress: (e) => again.push(e) });
    expect(again.filter((e) => e.type === 'document-skipped')).toHaveLength(5);
  });
});
