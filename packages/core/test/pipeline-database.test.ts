// runSync end to end on migrated PGlite (through `@tributary/core/pglite`) and on a real PostgreSQL
// server with pgvector (through `@tributary/core/postgres` and node-postgres): ingest with vectors,
// re-run, deletes and sweep, search finds the right document, and an auth error recorded on the
// connector (`error_count`).
import { randomUUID } from 'node:crypto';
import { fromPg, fromPglite, migrate } from '@tributary/sql';
import { createPgliteDatabase, startPostgresServer } from '@tributary/testkit-postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AuthError,
  type ConnectorChange,
  createChunker,
  createLexicalEmbedder,
  defineConnector,
  type Embedder,
  type KnowledgeRepository,
  runSync,
} from '../src/index.js';
import { createPgliteRepository } from '../src/pglite.js';
import { createNodePostgresRepository } from '../src/postgres.js';
import { migrationsFingerprint } from './repository-database-fixture.js';

interface Page {
  title: string;
  text: string;
  version: string;
}

function createWiki() {
  const pages = new Map<string, Page>();
  const stats = { loads: 0 };
  let authBroken = false;
  const connector = defineConnector({
    type: 'wiki',
    async check() {},
    async *sync(): AsyncIterable<ConnectorChange> {
      for (const [externalId, page] of [...pages.entries()].sort(([a], [b]) => a.localeCompare(b))) {
        yield {
          kind: 'upsert',
          document: {
            externalId,
            title: page.title,
            version: page.version,
            mimeType: 'text/markdown',
            externalUrl: `https://wiki.example.com/${externalId}`,
            content: {
              kind: 'lazy',
              async load() {
                stats.loads += 1;
                if (authBroken) throw new AuthError({ connector: 'wiki', status: 401 });
                return { kind: 'text', text: page.text };
              },
            },
          },
        };
      }
      yield { kind: 'checkpoint', cursor: { pages: pages.size } };
      yield { kind: 'listing-complete', complete: true };
    },
  });
  return {
    pages,
    stats,
    connector,
    breakAuth() {
      authBroken = true;
    },
  };
}

/**
 * A source of `count` pages listed in order, a checkpoint `{ after }` every `every` pages. A full run
 * resumes after the committed cursor of an interrupted listing; `failAfter` makes the listing throw
 * once that many pages of this run were listed (a crash after a checkpoint).
 */
function createPagedSource(count: number, every: number) {
  const pages = new Set(Array.from({ length: count }, (_, n) => `p${String(n).padStart(2, '0')}`));
  const all = [...pages];
  const stats = { loads: 0, listed: [] as string[] };
  let failAfter: number | undefined;
  const connector = defineConnector({
    type: 'paged',
    async check() {},
    async *sync(ctx): AsyncIterable<ConnectorChange> {
      const cursor = ctx.cursor as { after?: number } | undefined;
      const from = typeof cursor?.after === 'number' ? cursor.after : 0;
      let listed = 0;
      for (let index = from; index < all.length; index++) {
        const externalId = all[index] as string;
        if (pages.has(externalId)) {
          stats.listed.push(externalId);
          yield {
            kind: 'upsert',
            document: {
              externalId,
              title: externalId,
              version: '1',
              mimeType: 'text/plain',
              content: {
                kind: 'lazy',
                async load() {
                  stats.loads += 1;
                  return { kind: 'text', text: `Page ${externalId} about river ${externalId} stones.` };
                },
              },
            },
          };
        }
        listed += 1;
        if ((index + 1) % every === 0) {
          // Written state makes the pipeline commit the checkpoint before listing further, so a
          // failure right after it always finds it committed.
          ctx.state.set('listing', 'position', index + 1);
          yield { kind: 'checkpoint', cursor: { after: index + 1 } };
        }
        if (failAfter !== undefined && listed >= failAfter)
          throw new Error('the source went away mid-listing');
      }
      yield { kind: 'checkpoint', cursor: {} };
      yield { kind: 'listing-complete', complete: true };
    },
  });
  return {
    pages,
    stats,
    connector,
    failAfter(n: number | undefined) {
      failAfter = n;
    },
  };
}

function countingEmbedder() {
  const inner = createLexicalEmbedder();
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

interface Backend {
  repository: KnowledgeRepository;
  query<T>(sql: string, params: unknown[]): Promise<{ rows: T[] }>;
  close(): Promise<void>;
}

const backends: [string, () => Promise<Backend>][] = [
  [
    'PGlite',
    async () => {
      const pglite = await createPgliteDatabase({
        snapshot: {
          key: `tributary-core-repository-${migrationsFingerprint()}`,
          prepare: async (fresh) => {
            await migrate(fromPglite(fresh));
          },
        },
      });
      return {
        repository: createPgliteRepository(pglite, { actor: { role: 'service_role' } }),
        query: (sql, params) => pglite.query(sql, params),
        close: () => pglite.close(),
      };
    },
  ],
  [
    'a PostgreSQL server with pgvector',
    async () => {
      const server = await startPostgresServer();
      const pool = server.pool(await server.createDatabase(), { max: 8 });
      await migrate(fromPg(pool));
      return {
        repository: createNodePostgresRepository(pool),
        query: async <T>(sql: string, params: unknown[]) => ({
          rows: (await pool.query(sql, params)).rows as T[],
        }),
        close: () => server.stop(),
      };
    },
  ],
];

describe.each(backends)('runSync on %s', (_name, start) => {
  let backend: Backend;
  let repository: KnowledgeRepository;
  const orgId = randomUUID();
  let connectorId = '';

  beforeAll(async () => {
    backend = await start();
    repository = backend.repository;
    const { rows } = await backend.query<{ id: string }>(
      `insert into public.connector_configs (org_id, connector_type, name) values ($1, 'wiki', 'Wiki') returning id`,
      [orgId],
    );
    connectorId = rows[0]?.id ?? '';
  });
  afterAll(async () => {
    await backend?.close();
  });

  it('ingests, finds the right document, re-runs for free, sweeps, and records an auth failure', async () => {
    const wiki = createWiki();
    for (const [id, text] of Object.entries(topics)) {
      wiki.pages.set(id, { title: id.replace('-', ' '), text: `# ${id}\n\n${text}`, version: '1' });
    }
    const { embedder, stats, inner } = countingEmbedder();
    const options = {
      connector: wiki.connector,
      connectorId,
      repository,
      embedder,
      chunker: createChunker({ maxTokens: 128 }),
    };

    const first = await runSync(options);
    expect(first.status).toBe('success');
    expect(first.counts).toMatchObject({ seen: 4, inserted: 4, failed: 0 });
    expect(stats.inputs).toBeGreaterThanOrEqual(4);
    const run = await repository.getSyncRun(first.runId);
    expect(run).toMatchObject({ status: 'success', documentsSynced: 4, documentsFailed: 0 });
    expect((await repository.getConnector(connectorId))?.syncCursor).toEqual({ pages: 4 });

    // Search (full text and lexical vectors) finds the right document.
    const query = 'why do salmon swim upstream';
    const [queryEmbedding] = (await inner.embed([query])).vectors;
    const hits = await repository.search({
      orgId,
      queryText: 'salmon spawn',
      queryEmbedding,
      embeddingModel: inner.id,
      limit: 5,
    });
    expect(hits[0]?.title).toBe('salmon migration');
    expect(hits[0]?.externalUrl).toBe('https://wiki.example.com/salmon-migration');
    // The vectors are stored (pgvector), not only the text.
    const stored = await backend.query<{ n: number }>(
      `select count(*)::int as n from public.document_chunks c join public.imported_documents d on d.id = c.document_id
       where d.connector_id = $1 and c.embedding is not null`,
      [connectorId],
    );
    expect(stored.rows[0]?.n).toBeGreaterThanOrEqual(4);
    const vectorOnly = await repository.search({ orgId, queryEmbedding, embeddingModel: inner.id, limit: 1 });
    expect(vectorOnly[0]?.title).toBe('salmon migration');
    const textOnly = await repository.search({ orgId, queryText: 'beavers dams' });
    expect(textOnly[0]?.title).toBe('beaver dams');

    // Nothing changed: no loads, no embeddings.
    wiki.stats.loads = 0;
    stats.requests = 0;
    const second = await runSync(options);
    expect(second.counts).toMatchObject({ skippedByVersion: 4, inserted: 0, updated: 0 });
    expect(wiki.stats.loads).toBe(0);
    expect(stats.requests).toBe(0);

    // One page changed, one removed from the source: re-embedded and swept.
    (wiki.pages.get('glacier-melt') as Page).text =
      '# glacier-melt\n\nGlacier meltwater now peaks in late spring.';
    (wiki.pages.get('glacier-melt') as Page).version = '2';
    wiki.pages.delete('delta-sediment');
    const third = await runSync(options);
    expect(third.counts).toMatchObject({ updated: 1, skippedByVersion: 2, deleted: 1 });
    expect(third.sweep).toMatchObject({ swept: 1, unseen: 1, total: 4, refused: false });
    expect(await repository.search({ orgId, queryText: 'sediment' })).toEqual([]);
    expect((await repository.search({ orgId, queryText: 'spring' }))[0]?.title).toBe('glacier melt');

    // Revoked credentials: the run fails, the connector counts the error, nothing is deleted.
    wiki.breakAuth();
    (wiki.pages.get('beaver-dams') as Page).version = '2';
    const failed = await runSync(options);
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/credentials/);
    const connector = await repository.getConnector(connectorId);
    expect(connector).toMatchObject({ lastSyncStatus: 'failed', errorCount: 1 });
    expect((await repository.getSyncRun(failed.runId))?.status).toBe('failed');
    expect((await repository.search({ orgId, queryText: 'beavers' }))[0]?.title).toBe('beaver dams');
  });

  it('marks unchanged documents by id (0023): the sweep keeps every listed one, deletes exactly the unlisted, and a resumed listing keeps its marks', async () => {
    const { rows } = await backend.query<{ id: string }>(
      `insert into public.connector_configs (org_id, connector_type, name) values ($1, 'paged', 'Paged') returning id`,
      [orgId],
    );
    const pagedId = rows[0]?.id ?? '';
    const source = createPagedSource(20, 5);
    const { embedder, stats } = countingEmbedder();
    const options = { connector: source.connector, connectorId: pagedId, repository, embedder, groupSize: 4 };
    // Earlier listings happened a minute ago (PGlite's clock is coarse: two quick runs could share a now()).
    const backdate = () =>
      backend.query(
        `update public.imported_documents set last_seen_at = last_seen_at - interval '1 minute' where connector_id = $1`,
        [pagedId],
      );
    const rowsNow = async () =>
      (
        await backend.query<{
          external_id: string;
          is_deleted: boolean;
          sync_count: number;
          last_seen_at: Date;
        }>(
          `select external_id, is_deleted, sync_count, last_seen_at from public.imported_documents
           where connector_id = $1 order by external_id`,
          [pagedId],
        )
      ).rows;
    const live = async () => (await rowsNow()).filter((row) => !row.is_deleted).map((row) => row.external_id);

    const first = await runSync(options);
    expect(first.counts).toMatchObject({ inserted: 20, failed: 0 });
    await backdate();

    // Unchanged re-sync with p04 and p11 gone from the source: nothing loaded or embedded, no
    // document row rewritten, exactly the two unlisted documents swept.
    source.pages.delete('p04');
    source.pages.delete('p11');
    const before = await rowsNow();
    source.stats.loads = 0;
    stats.requests = 0;
    const unchanged = await runSync(options);
    expect(unchanged.status).toBe('success');
    expect(unchanged.counts).toMatchObject({ skippedByVersion: 18, inserted: 0, updated: 0, deleted: 2 });
    expect(unchanged.sweep).toEqual({ swept: 2, unseen: 2, total: 20, refused: false });
    expect(source.stats.loads).toBe(0);
    expect(stats.requests).toBe(0);
    const after = await rowsNow();
    expect(after.filter((row) => row.is_deleted).map((row) => row.external_id)).toEqual(['p04', 'p11']);
    // last_seen_at and sync_count stay where the first run left them (the behaviour change of 0023).
    expect(after.filter((row) => !row.is_deleted)).toEqual(
      before.filter((row) => !['p04', 'p11'].includes(row.external_id)),
    );
    const marks = await backend.query<{ n: number }>(
      `select coalesce(sum(cardinality(m.document_ids)), 0)::int as n from tributary_private.listing_seen_marks m
       join public.connector_sync_logs s on s.connector_id = m.connector_id and s.listing_started_at = m.listing_started_at
       where s.id = $1`,
      [unchanged.runId],
    );
    expect(marks.rows[0]?.n).toBe(18);
    await backdate();

    // An interrupted listing: the run lists p00-p09 (p04 is gone), commits {after: 10}, then the source
    // fails. p16 leaves the source meanwhile.
    source.failAfter(10);
    source.stats.listed = [];
    const interrupted = await runSync(options);
    expect(interrupted.status).toBe('failed');
    expect(interrupted.sweep?.refused).toBe(true);
    expect(source.stats.listed).toEqual(['p00', 'p01', 'p02', 'p03', 'p05', 'p06', 'p07', 'p08', 'p09']);
    source.failAfter(undefined);
    source.pages.delete('p16');
    source.stats.listed = [];
    // The next full run resumes after p09: its own 8 marks alone would leave 10 of 18 unseen (refused
    // by the 0.5 guard); with the interrupted run's 9 marks, only p16 is unseen.
    const resumed = await runSync(options);
    expect(resumed.status).toBe('success');
    expect(source.stats.listed).toEqual(['p10', 'p12', 'p13', 'p14', 'p15', 'p17', 'p18', 'p19']);
    expect(resumed.sweep).toEqual({ swept: 1, unseen: 1, total: 18, refused: false });
    expect(await live()).toEqual([
      'p00',
      'p01',
      'p02',
      'p03',
      'p05',
      'p06',
      'p07',
      'p08',
      'p09',
      'p10',
      'p12',
      'p13',
      'p14',
      'p15',
      'p17',
      'p18',
      'p19',
    ]);
    expect(source.stats.loads).toBe(0);
    expect(stats.requests).toBe(0);
    // The completed sweep dropped the marks of the earlier listing; this listing's remain.
    const listings = await backend.query<{ n: number }>(
      'select count(distinct listing_started_at)::int as n from tributary_private.listing_seen_marks where connector_id = $1',
      [pagedId],
    );
    expect(listings.rows[0]?.n).toBe(1);
  });
});
