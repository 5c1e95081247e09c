// Pipeline v2 failure semantics on real Postgres (migrated PGlite) and the memory repository:
// a document that fails to load keeps its indexed version searchable with the error beside it,
// dedup lookups fail open and say so, rate limits pause the run (or end it `partial` with a
// resume time), content over the size cap is refused before or while it is read, and every run
// records per-stage figures.
import { randomUUID } from 'node:crypto';
import { fromPglite, migrate } from '@tributary/sql';
import { createPgliteDatabase } from '@tributary/testkit-postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConnectorApiError,
  type ConnectorChange,
  createChunker,
  createLexicalEmbedder,
  defineConnector,
  type Embedder,
  type KnowledgeRepository,
  RateLimitError,
  type RunSyncOptions,
  runSync,
  type SourceDocument,
} from '../src/index.js';
import { createPgliteRepository } from '../src/pglite.js';
import { createMemoryRepository } from '../src/testing.js';
import { migrationsFingerprint } from './repository-database-fixture.js';

interface Page {
  text: string;
  version: string;
  /** What load() throws, if anything. */
  loadError?: (() => Error | undefined) | undefined;
  /** A stream instead of text. */
  stream?: { sizeBytes?: number; chunks: number; chunkBytes: number } | undefined;
}

function createWiki() {
  const pages = new Map<string, Page>();
  const stats = { loads: new Map<string, number>(), pulled: 0 };
  const connector = defineConnector({
    type: 'wiki',
    async check() {},
    async *sync(): AsyncIterable<ConnectorChange> {
      const sorted = [...pages.entries()].sort(([a], [b]) => a.localeCompare(b));
      for (const [index, [externalId, page]] of sorted.entries()) {
        const document: SourceDocument = {
          externalId,
          title: externalId,
          version: page.version,
          mimeType: page.stream ? 'text/plain' : 'text/markdown',
          content: {
            kind: 'lazy',
            async load() {
              stats.loads.set(externalId, (stats.loads.get(externalId) ?? 0) + 1);
              const error = page.loadError?.();
              if (error) throw error;
              const spec = page.stream;
              if (spec) {
                let sent = 0;
                const stream = new ReadableStream<Uint8Array>({
                  pull(controller) {
                    stats.pulled += 1;
                    if (sent >= spec.chunks) return controller.close();
                    sent += 1;
                    controller.enqueue(new Uint8Array(spec.chunkBytes).fill(97));
                  },
                });
                return { kind: 'stream', stream, sizeBytes: spec.sizeBytes };
              }
              return { kind: 'text', text: page.text };
            },
          },
        };
        yield { kind: 'upsert', document };
        if ((index + 1) % 2 === 0) yield { kind: 'checkpoint', cursor: index + 1 };
      }
      yield { kind: 'checkpoint', cursor: pages.size };
      yield { kind: 'listing-complete', complete: true };
    },
  });
  return { pages, stats, connector };
}

function countingEmbedder() {
  const inner = createLexicalEmbedder({ dimensions: 1536 });
  const stats = { requests: 0, inputs: 0 };
  const embedder: Embedder = {
    ...inner,
    async embed(texts, options) {
      stats.requests += 1;
      stats.inputs += texts.length;
      return inner.embed(texts, options);
    },
  };
  return { embedder, stats, inner };
}

const topics: Record<string, string> = {
  'salmon-migration': 'Salmon swim upstream to spawn in the gravel beds where they hatched.',
  'glacier-melt': 'Glacier meltwater feeds the river through the dry summer months.',
  'beaver-dams': 'Beavers build dams of sticks and mud that slow the current and form ponds.',
  'delta-sediment': 'The delta grows as the river drops its sediment where it meets the sea.',
};

function fillWiki(wiki: ReturnType<typeof createWiki>) {
  for (const [id, text] of Object.entries(topics)) {
    wiki.pages.set(id, { text: `# ${id}\n\n${text}`, version: '1' });
  }
}

describe('runSync failure semantics on migrated PGlite', () => {
  let pglite: Awaited<ReturnType<typeof createPgliteDatabase>>;
  let repository: KnowledgeRepository;
  const orgId = randomUUID();

  beforeAll(async () => {
    pglite = await createPgliteDatabase({
      snapshot: {
        key: `tributary-core-repository-${migrationsFingerprint()}`,
        prepare: async (fresh) => {
          await migrate(fromPglite(fresh));
        },
      },
    });
    repository = createPgliteRepository(pglite, { actor: { role: 'service_role' } });
  });
  afterAll(async () => {
    await pglite?.close();
  });

  async function newConnector(): Promise<string> {
    const { rows } = await pglite.query<{ id: string }>(
      `insert into public.connector_configs (org_id, connector_type, name) values ($1, 'wiki', 'Wiki') returning id`,
      [orgId],
    );
    return rows[0]?.id ?? '';
  }

  async function documentRow(connectorId: string, externalId: string) {
    const { rows } = await pglite.query<{
      processing_status: string;
      processing_error: string | null;
      source_version: string | null;
      content: string | null;
      metadata: Record<string, unknown>;
    }>(
      `select processing_status, processing_error, source_version, content, metadata
       from public.imported_documents where connector_id = $1 and external_id = $2`,
      [connectorId, externalId],
    );
    return rows[0];
  }

  it('a transient load failure keeps the indexed version searchable, the error beside it; the next run heals it', async () => {
    const connectorId = await newConnector();
    const wiki = createWiki();
    fillWiki(wiki);
    const { embedder, inner } = countingEmbedder();
    const options: RunSyncOptions = {
      connector: wiki.connector,
      connectorId,
      repository,
      embedder,
      chunker: createChunker({ maxTokens: 128 }),
    };
    expect((await runSync(options)).status).toBe('success');

    // A new version appears, but its download fails with a 503; a brand-new page fails too.
    const salmon = wiki.pages.get('salmon-migration') as Page;
    salmon.version = '2';
    salmon.text = '# salmon-migration\n\nSalmon now also leap over weirs.';
    salmon.loadError = () => new ConnectorApiError({ connector: 'wiki', status: 503, method: 'GET' });
    wiki.pages.set('new-page', {
      text: 'never loads',
      version: '1',
      loadError: () => new ConnectorApiError({ connector: 'wiki', status: 503, method: 'GET' }),
    });
    const failed = await runSync(options);
    expect(failed.status).toBe('partial');
    expect(failed.counts).toMatchObject({ failed: 2, failedKeptPrevious: 1 });

    const kept = await documentRow(connectorId, 'salmon-migration');
    expect(kept?.processing_status).toBe('completed');
    expect(kept?.processing_error).toMatch(/503/);
    expect(kept?.source_version).toBe('1');
    expect(kept?.content).toContain('gravel beds');
    expect((kept?.metadata.lastFailure as { error?: string } | undefined)?.error).toMatch(/503/);
    const placeholder = await documentRow(connectorId, 'new-page');
    expect(placeholder).toMatchObject({ processing_status: 'failed', content: null });

    // Still found by search (the earlier version), text and vectors.
    const [queryEmbedding] = (await inner.embed(['salmon spawn gravel'])).vectors;
    const hits = await repository.search({
      orgId,
      connectorIds: [connectorId],
      queryText: 'salmon spawn',
      queryEmbedding,
      embeddingModel: inner.id,
    });
    expect(hits[0]?.title).toBe('salmon-migration');
    expect(hits[0]?.content).toContain('gravel beds');

    // The provider recovers: the new version replaces the old and the failure note goes away.
    salmon.loadError = undefined;
    const healed = await runSync(options);
    expect(healed.counts).toMatchObject({ updated: 1 });
    const now = await documentRow(connectorId, 'salmon-migration');
    expect(now).toMatchObject({
      processing_status: 'completed',
      processing_error: null,
      source_version: '2',
    });
    expect(now?.metadata.lastFailure).toBeUndefined();
    expect(now?.content).toContain('weirs');
  });

  it('a long Retry-After ends the run partial with a resume time instead of failing documents one by one', async () => {
    const connectorId = await newConnector();
    const wiki = createWiki();
    for (let i = 0; i < 12; i += 1)
      wiki.pages.set(`page-${String(i).padStart(2, '0')}`, {
        text: `# Page ${i}\n\nBody ${i}.`,
        version: '1',
      });
    const { embedder } = countingEmbedder();
    const options: RunSyncOptions = {
      connector: wiki.connector,
      connectorId,
      repository,
      embedder,
      groupSize: 2,
      concurrency: { load: 1, groups: 1 },
    };
    // From page 6 on, the provider answers 429 with Retry-After: 1 hour.
    for (let i = 6; i < 12; i += 1) {
      const page = wiki.pages.get(`page-${String(i).padStart(2, '0')}`) as Page;
      page.loadError = () => new RateLimitError({ connector: 'wiki', retryAfterMs: 3_600_000 });
    }
    const before = Date.now();
    const summary = await runSync(options);
    expect(summary.status).toBe('partial');
    expect(summary.counts.failed).toBe(0);
    expect(summary.error).toMatch(/Retry-After/);
    expect(summary.resumeAt?.getTime()).toBeGreaterThanOrEqual(before + 3_600_000);
    // One throttled call stopped the run: the other throttled pages were never asked for.
    const throttledLoads = [...wiki.stats.loads.entries()].filter(([id]) => Number(id.slice(5)) >= 6);
    expect(throttledLoads).toEqual([['page-06', 1]]);
    // The checkpoint before the throttled page is kept; the log says when to resume.
    expect((await repository.getConnector(connectorId))?.syncCursor).toBe(6);
    const run = await repository.getSyncRun(summary.runId);
    expect(run?.status).toBe('partial');
    const { rows } = await pglite.query<{ metadata: { resumeAt?: string } }>(
      'select metadata from public.connector_sync_logs where id = $1',
      [summary.runId],
    );
    expect(rows[0]?.metadata.resumeAt).toBe(summary.resumeAt?.toISOString());
  });

  it('records per-stage timings and counts in the summary and in connector_sync_logs', async () => {
    const connectorId = await newConnector();
    const wiki = createWiki();
    fillWiki(wiki);
    const { embedder, stats } = countingEmbedder();
    const summary = await runSync({ connector: wiki.connector, connectorId, repository, embedder });
    expect(summary.stages.list.count).toBe(summary.counts.seen + 3 + 1); // upserts, checkpoints, listing end
    expect(summary.stages.load.count).toBe(4);
    expect(summary.stages.extract.count).toBe(4);
    expect(summary.stages.embed.count).toBe(stats.requests);
    expect(summary.stages.write.count).toBeGreaterThanOrEqual(3); // upsert, chunks, status
    const { rows } = await pglite.query<{
      metadata: { stages?: Record<string, { count: number; ms: number }> };
    }>('select metadata from public.connector_sync_logs where id = $1', [summary.runId]);
    expect(rows[0]?.metadata.stages?.load).toEqual(summary.stages.load);
  });
});

describe('runSync failure semantics (memory repository)', () => {
  function setup() {
    const memory = createMemoryRepository();
    const orgId = randomUUID();
    const record = memory.addConnector({ orgId, connectorType: 'wiki', name: 'Wiki' });
    return { memory, orgId, connectorId: record.id };
  }

  it('a broken version lookup fails open, is counted, and a failed load in that group never blanks the stored version', async () => {
    const env = setup();
    const wiki = createWiki();
    fillWiki(wiki);
    const { embedder } = countingEmbedder();
    const base = { connector: wiki.connector, connectorId: env.connectorId, embedder };
    expect((await runSync({ ...base, repository: env.memory })).status).toBe('success');
    const before = await env.memory.getDocumentVersions(env.connectorId, ['glacier-melt']);

    const broken = new Proxy(env.memory, {
      get(target, property, receiver) {
        if (property === 'getDocumentVersions') return () => Promise.reject(new Error('connection reset'));
        if (property === 'findReusableEmbeddingHashes')
          return () => Promise.reject(new Error('statement timeout'));
        return Reflect.get(target, property, receiver);
      },
    });
    (wiki.pages.get('glacier-melt') as Page).loadError = () => new Error('socket hang up');
    const summary = await runSync({ ...base, repository: broken });
    expect(summary.status).toBe('partial');
    // One per group: the checkpoint after every second page cuts the 4 pages into 2 groups.
    expect(summary.dedup.versionLookupFailures).toBe(2);
    // Every page was loaded (fail open), the unchanged ones kept as they were.
    expect(summary.counts).toMatchObject({ unchanged: 3, failed: 1, failedKeptPrevious: 1 });
    const after = await env.memory.getDocumentVersions(env.connectorId, ['glacier-melt']);
    expect(after.get('glacier-melt')).toMatchObject({
      contentHash: before.get('glacier-melt')?.contentHash,
      processingStatus: 'completed',
    });
  });

  it('a broken reuse lookup embeds everything and says so', async () => {
    const env = setup();
    const wiki = createWiki();
    fillWiki(wiki);
    const { embedder, stats } = countingEmbedder();
    const broken = new Proxy(env.memory, {
      get(target, property, receiver) {
        if (property === 'findReusableEmbeddingHashes')
          return () => Promise.reject(new Error('statement timeout'));
        return Reflect.get(target, property, receiver);
      },
    });
    const summary = await runSync({
      connector: wiki.connector,
      connectorId: env.connectorId,
      embedder,
      repository: broken,
    });
    expect(summary.status).toBe('success');
    expect(summary.dedup.reuseLookupFailures).toBeGreaterThanOrEqual(1);
    expect(stats.inputs).toBeGreaterThanOrEqual(4);
  });

  it('embeds reused chunks after all when their stored vectors vanished before the write', async () => {
    const env = setup();
    const wiki = createWiki();
    fillWiki(wiki);
    const { embedder, stats } = countingEmbedder();
    // The lookup says every chunk is stored; nothing is (as if another writer had just deleted
    // the last copies), so every write comes back with the hashes it could not copy.
    let claimed = 0;
    const stale = new Proxy(env.memory, {
      get(target, property, receiver) {
        if (property === 'findReusableEmbeddingHashes') {
          return async (_orgId: string, _model: string, hashes: readonly string[]) => {
            claimed += hashes.length;
            return new Set(hashes);
          };
        }
        return Reflect.get(target, property, receiver);
      },
    });
    const summary = await runSync({
      connector: wiki.connector,
      connectorId: env.connectorId,
      embedder,
      repository: stale,
    });
    expect(summary.status).toBe('success');
    expect(claimed).toBeGreaterThanOrEqual(4);
    expect(summary.counts.inserted).toBe(4);
    expect(summary.embeddings.reused).toBe(0);
    expect(stats.inputs).toBe(claimed);
    const documents = env.memory.listDocuments(env.connectorId);
    expect(documents).toHaveLength(4);
    for (const document of documents) {
      expect(document).toMatchObject({ processingStatus: 'completed', embeddedChunks: document.chunkCount });
    }
  });

  it('a short Retry-After pauses every load, then the throttled document is loaded again', async () => {
    const env = setup();
    const wiki = createWiki();
    fillWiki(wiki);
    let throttled = 2;
    (wiki.pages.get('beaver-dams') as Page).loadError = () => {
      if (throttled <= 0) return undefined;
      throttled -= 1;
      return new RateLimitError({ connector: 'wiki', retryAfterMs: 30 });
    };
    const { embedder } = countingEmbedder();
    const summary = await runSync({
      connector: wiki.connector,
      connectorId: env.connectorId,
      embedder,
      repository: env.memory,
    });
    expect(summary.status).toBe('success');
    expect(summary.counts.failed).toBe(0);
    expect(wiki.stats.loads.get('beaver-dams')).toBe(3);
    expect(summary.rateLimit.pauses).toBeGreaterThanOrEqual(1);
    expect(summary.rateLimit.pausedMs).toBeGreaterThan(0);
  });

  it('content over the size cap is refused before download (sizeBytes) or while streaming', async () => {
    const env = setup();
    const wiki = createWiki();
    // Announced as 2 GB: never read.
    wiki.pages.set('huge-announced', {
      text: '',
      version: '1',
      stream: { sizeBytes: 2 * 1024 ** 3, chunks: 1_000_000, chunkBytes: 64 * 1024 },
    });
    const { embedder } = countingEmbedder();
    const first = await runSync({
      connector: wiki.connector,
      connectorId: env.connectorId,
      embedder,
      repository: env.memory,
      maxContentBytes: 1024 * 1024,
    });
    expect(first.counts.failed).toBe(1);
    expect(first.errors[0]?.message).toMatch(/over the 1\.0 MB content limit; not downloaded/);
    expect(wiki.stats.pulled).toBeLessThanOrEqual(1);

    // No size announced: stopped once 1 MB has been passed (17 pulls of 64 KB at most).
    wiki.pages.clear();
    wiki.pages.set('huge-unannounced', {
      text: '',
      version: '1',
      stream: { chunks: 1_000_000, chunkBytes: 64 * 1024 },
    });
    wiki.stats.pulled = 0;
    const second = await runSync({
      connector: wiki.connector,
      connectorId: env.connectorId,
      embedder,
      repository: env.memory,
      maxContentBytes: 1024 * 1024,
    });
    expect(second.counts.failed).toBe(1);
    expect(second.errors[0]?.message).toMatch(/download stopped/);
    expect(wiki.stats.pulled).toBeLessThanOrEqual(20);
  });

  it('fills embedding requests across groups: as few requests as the limits allow', async () => {
    const env = setup();
    const wiki = createWiki();
    for (let i = 0; i < 20; i += 1) {
      wiki.pages.set(`page-${String(i).padStart(2, '0')}`, {
        text: `# Page ${i}\n\nUnique body number ${i}.`,
        version: '1',
      });
    }
    const { embedder: inner, stats } = countingEmbedder();
    const embedder: Embedder = { ...inner, maxInputsPerRequest: 8 };
    const summary = await runSync({
      connector: wiki.connector,
      connectorId: env.connectorId,
      embedder,
      repository: env.memory,
      groupSize: 2,
      concurrency: { groups: 16 },
      // Never flushed by the delay: only full requests, and the rest once no group can add more.
      embedBatch: { flushDelayMs: 60_000 },
    });
    expect(summary.status).toBe('success');
    expect(stats.requests).toBe(Math.ceil(stats.inputs / 8));
    expect(stats.inputs).toBeGreaterThanOrEqual(20);
  });
});
