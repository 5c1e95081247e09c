// Dedup layer 5 end to end (runSync over two connectors of one organisation), on migrated PGlite and
// on a real PostgreSQL server: an exact copy from the second connector is linked and embedded
// zero times whatever its title, two copies in one batch are embedded once, a lightly edited copy
// is linked as a near duplicate, search can collapse a group, and a deleted original hands its
// role to a copy.
import { randomUUID } from 'node:crypto';
import { fromPg, fromPglite, migrate } from '@tributary/sql';
import { createPgliteDatabase, startPostgresServer } from '@tributary/testkit-postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ConnectorChange,
  createChunker,
  createLexicalEmbedder,
  defineConnector,
  type Embedder,
  InvalidConfigError,
  type KnowledgeRepository,
  runSync,
  search,
} from '../src/index.js';
import { createPgliteRepository } from '../src/pglite.js';
import { createNodePostgresRepository } from '../src/postgres.js';
import { migrationsFingerprint } from './repository-database-fixture.js';

interface Page {
  title: string;
  text: string;
}

function createSource(type: string, pages: Map<string, Page>) {
  return defineConnector({
    type,
    async check() {},
    async *sync(): AsyncIterable<ConnectorChange> {
      for (const [externalId, page] of [...pages.entries()].sort(([a], [b]) => a.localeCompare(b))) {
        yield {
          kind: 'upsert',
          document: {
            externalId,
            title: page.title,
            version: page.text.length.toString(),
            mimeType: 'text/plain',
            content: { kind: 'text', text: page.text },
          },
        };
      }
      yield { kind: 'listing-complete', complete: true };
    },
  });
}

function recordingEmbedder() {
  const inner = createLexicalEmbedder({ dimensions: 1536 });
  const texts: string[] = [];
  const embedder: Embedder = {
    ...inner,
    async embed(batch, options) {
      texts.push(...batch);
      return inner.embed(batch, options);
    },
  };
  return { embedder, texts };
}

const meeting =
  'Weekly planning for the harbour project. Mira opened with the budget: the dredging contract came in ' +
  'under estimate, so the team will add a second survey of the northern quay before the winter storms. ' +
  'Jonas raised the permit delay from the port authority and agreed to call their office on Tuesday. ' +
  'Priya presented the new tide model, which predicts higher water at the eastern berth than the old ' +
  'tables did, and asked for sensor readings from the last three months to check it. The group chose to ' +
  'move the crane inspection to the first week of next month and to share the revised schedule with the ' +
  'contractors by Friday. Action items: Mira sends the survey brief, Jonas follows up on the permit, ' +
  'Priya collects the sensor data and circulates a short note on the model.';
const edited = meeting.replace('Tuesday', 'Wednesday').replace('by Friday', 'by Thursday');
const policy =
  'Security policy: every laptop uses full disk encryption and a screen lock after five minutes.';
const twin = 'Office hours: the front desk is staffed from eight to six on weekdays, and closed on holidays.';

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
      const pool = server.pool(await server.createDatabase(), { max: 4 });
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

describe.each(backends)('duplicates across connectors on %s', (_name, start) => {
  let backend: Backend;
  const orgId = randomUUID();
  const connectors: Record<'drive' | 'zoom', string> = { drive: '', zoom: '' };

  beforeAll(async () => {
    backend = await start();
    for (const type of ['drive', 'zoom'] as const) {
      const { rows } = await backend.query<{ id: string }>(
        `insert into public.connector_configs (org_id, connector_type, name) values ($1, $2, $2) returning id`,
        [orgId, type],
      );
      connectors[type] = rows[0]?.id ?? '';
    }
  }, 120_000);
  afterAll(async () => backend?.close());

  const documentId = async (connector: string, externalId: string) =>
    (
      await backend.query<{ id: string }>(
        'select id from public.imported_documents where connector_id = $1 and external_id = $2',
        [connector, externalId],
      )
    ).rows[0]?.id ?? '';

  it('links exact and near copies from a second connector and embeds no copy', async () => {
    const { repository } = backend;
    const { embedder, texts } = recordingEmbedder();
    const chunker = createChunker({ maxTokens: 512 });
    const drivePages = new Map<string, Page>([
      ['policy.md', { title: 'Security policy', text: policy }],
      ['planning.txt', { title: 'Harbour planning notes', text: meeting }],
    ]);
    const first = await runSync({
      connector: createSource('drive', drivePages),
      connectorId: connectors.drive,
      repository,
      embedder,
      chunker,
    });
    expect(first.status).toBe('success');
    expect(first.dedup).toMatchObject({ exactCopies: 0, nearDuplicates: 0, duplicateLinkFailures: 0 });
    const embeddedByDrive = texts.length;
    expect(embeddedByDrive).toBe(2);

    const zoomPages = new Map<string, Page>([
      // Same content, another title and connector: linked, its chunks taken from the original.
      ['copy-of-policy', { title: 'Policy (exported copy)', text: policy }],
      // The same meeting as Zoom transcribed it, lightly different: a near duplicate.
      ['meeting-2026-03-02', { title: 'Harbour weekly (Zoom)', text: edited }],
      // Two identical new documents in one batch: embedded once.
      ['hours-a', { title: 'Office hours', text: twin }],
      ['hours-b', { title: 'Front desk hours', text: twin }],
    ]);
    texts.length = 0;
    const second = await runSync({
      connector: createSource('zoom', zoomPages),
      connectorId: connectors.zoom,
      repository,
      embedder,
      chunker,
    });
    expect(second.status).toBe('success');
    expect(second.counts).toMatchObject({ inserted: 4, failed: 0 });
    expect(second.dedup).toMatchObject({ exactCopies: 2, nearDuplicates: 1, duplicateLinkFailures: 0 });
    // Only the edited meeting and one office-hours text reached the embedder.
    expect(texts).toHaveLength(2);
    expect(texts.some((text) => text.includes('Wednesday'))).toBe(true);
    expect(texts.filter((text) => text.includes('front desk'))).toHaveLength(1);
    expect(texts.some((text) => text.includes('disk encryption'))).toBe(false);

    const copyId = await documentId(connectors.zoom, 'copy-of-policy');
    const originalId = await documentId(connectors.drive, 'policy.md');
    const group = await repository.listDuplicates({ orgId, documentId: copyId });
    expect(group.map((m) => [m.documentId, m.isCanonical, m.kind])).toEqual([
      [originalId, true, null],
      [copyId, false, 'exact'],
    ]);
    const [copyRow] = (
      await backend.query<{ title: string; processing_status: string; chunk_count: number }>(
        'select title, processing_status, chunk_count from public.imported_documents where id = $1',
        [copyId],
      )
    ).rows;
    expect(copyRow).toEqual({
      title: 'Policy (exported copy)',
      processing_status: 'completed',
      chunk_count: 1,
    });
    const meetingGroup = await repository.listDuplicates({
      orgId,
      documentId: await documentId(connectors.zoom, 'meeting-2026-03-02'),
    });
    expect(meetingGroup.map((m) => [m.externalId, m.kind])).toEqual([
      ['planning.txt', null],
      ['meeting-2026-03-02', 'near'],
    ]);
    expect(meetingGroup[1]?.similarity).toBeGreaterThan(0.7);
    expect(meetingGroup[1]?.similarity).toBeLessThan(1);

    // Search: both copies without collapsing, one result with its alternative with it.
    const plain = await search({ repository, orgId, query: 'laptop disk encryption', embedder, limit: 10 });
    const policyHits = plain.hits.filter((hit) => hit.documentId === copyId || hit.documentId === originalId);
    expect(policyHits).toHaveLength(2);
    const collapsed = await search({
      repository,
      orgId,
      query: 'laptop disk encryption',
      embedder,
      limit: 10,
      collapseDuplicates: true,
    });
    const policyCollapsed = collapsed.hits.filter((hit) => [copyId, originalId].includes(hit.documentId));
    expect(policyCollapsed).toHaveLength(1);
    expect(policyCollapsed[0]?.alternatives?.map((a) => a.documentId)).toEqual(
      [originalId, copyId].filter((id) => id !== policyCollapsed[0]?.documentId),
    );

    // The original is removed at the source: the copy becomes the canonical.
    drivePages.delete('policy.md');
    const third = await runSync({
      connector: createSource('drive', drivePages),
      connectorId: connectors.drive,
      repository,
      embedder,
      chunker,
      maxSweepFraction: 0.9,
    });
    expect(third.counts.deleted).toBe(1);
    const after = await repository.listDuplicates({ orgId, documentId: copyId });
    expect(after).toEqual([]);
    const [copyNow] = (
      await backend.query<{ duplicate_of: string | null }>(
        'select duplicate_of from public.imported_documents where id = $1',
        [copyId],
      )
    ).rows;
    expect(copyNow?.duplicate_of).toBeNull();
    const hoursGroup = await repository.listDuplicates({
      orgId,
      documentId: await documentId(connectors.zoom, 'hours-b'),
    });
    expect(hoursGroup.map((m) => m.externalId)).toEqual(['hours-a', 'hours-b']);
  }, 120_000);

  it('indexes every copy itself when detection is off, and refuses a bad threshold before the run', async () => {
    const { repository } = backend;
    const { embedder, texts } = recordingEmbedder();
    const { rows } = await backend.query<{ id: string }>(
      `insert into public.connector_configs (org_id, connector_type, name) values ($1, 'notes', 'Notes') returning id`,
      [orgId],
    );
    const connectorId = rows[0]?.id ?? '';
    const pages = new Map<string, Page>([['again', { title: 'Twin again', text: twin }]]);
    const off = await runSync({
      connector: createSource('notes', pages),
      connectorId,
      repository,
      embedder,
      duplicates: { enabled: false },
    });
    expect(off.dedup).toMatchObject({ exactCopies: 0, nearDuplicates: 0 });
    expect(texts).toHaveLength(1);
    await expect(
      runSync({
        connector: createSource('notes', pages),
        connectorId,
        repository,
        embedder,
        duplicates: { threshold: 1.5 },
      }),
    ).rejects.toBeInstanceOf(InvalidConfigError);
  }, 60_000);
});
