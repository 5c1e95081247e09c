// Progress while the source is still listing, and how soon a slow source's first document is
// stored. Groups are handed out every `groupSize` documents (or at a checkpoint) and embeddings
// are batched across groups, so before issue 16's change nothing moved in the run row until a group
// was stored, and a source that kept a group busy wrote nothing until its listing ended.
// - The run row: the heartbeat stores `metadata.progress` (documents listed, still listing) while
//   the listing stalls, before any document is stored; in memory and on a real PostgreSQL server
//   (heartbeat_connector_sync, get_sync_run).
// - The embedding batcher's default flush policy: a batch waiting on a group that is still busy
//   goes out within `maxWaitMs` (5 s), so the first document is stored while the listing goes on.
// The sources wait (with a 20 s way out that fails the test) instead of the test timing anything.
import { randomUUID } from 'node:crypto';
import { fromPg, migrate } from '@tributary/sql';
import { startPostgresServer } from '@tributary/testkit-postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ConnectorChange,
  createLexicalEmbedder,
  defineConnector,
  type Embedder,
  type KnowledgeRepository,
  runSync,
  type SyncLiveProgress,
  type SyncProgressEvent,
} from '../src/index.js';
import { createNodePostgresRepository } from '../src/postgres.js';
import { createMemoryRepository } from '../src/testing.js';

const WAY_OUT_MS = 20_000;

/** Polls `check` until it returns a value, or gives up after WAY_OUT_MS (returns undefined). */
async function waitFor<T>(check: () => Promise<T | undefined>): Promise<T | undefined> {
  const until = Date.now() + WAY_OUT_MS;
  while (Date.now() < until) {
    const value = await check();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return undefined;
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
  return { embedder, stats };
}

function note(externalId: string, load?: () => Promise<void>) {
  return {
    kind: 'upsert' as const,
    document: {
      externalId,
      title: `Note ${externalId}`,
      version: '1',
      mimeType: 'text/markdown',
      content: {
        kind: 'lazy' as const,
        async load() {
          await load?.();
          return {
            kind: 'text' as const,
            text: `# ${externalId}\n\nThe river ${externalId} runs to the sea.`,
          };
        },
      },
    },
  };
}

interface Backend {
  repository: KnowledgeRepository;
  connectorId: string;
  /** metadata.progress of the run as stored, read without the repository (server only). */
  storedProgress?: (runId: string) => Promise<unknown>;
  close(): Promise<void>;
}

const backends: [string, () => Promise<Backend>][] = [
  [
    'the memory repository',
    async () => {
      const memory = createMemoryRepository();
      const record = memory.addConnector({ orgId: randomUUID(), connectorType: 'slow_notes', name: 'Notes' });
      return { repository: memory, connectorId: record.id, close: async () => undefined };
    },
  ],
  [
    'a PostgreSQL server',
    async () => {
      const server = await startPostgresServer();
      const pool = server.pool(await server.createDatabase(), { max: 4 });
      await migrate(fromPg(pool));
      const { rows } = await pool.query(
        `insert into public.connector_configs (org_id, connector_type, name) values ($1, 'slow_notes', 'Notes') returning id`,
        [randomUUID()],
      );
      return {
        repository: createNodePostgresRepository(pool),
        connectorId: rows[0].id,
        storedProgress: async (runId) =>
          (
            await pool.query(
              `select metadata -> 'progress' as progress from connector_sync_logs where id = $1`,
              [runId],
            )
          ).rows[0]?.progress,
        close: async () => {
          await pool.end();
          await server.stop();
        },
      };
    },
  ],
];

describe.each(backends)('live progress on %s', (_name, start) => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await start();
  });
  afterAll(async () => {
    await backend?.close();
  });

  it('the run row shows the documents listed so far while the source is still listing, before any is stored', async () => {
    const { repository, connectorId } = backend;
    const ids = ['n1', 'n2', 'n3', 'n4', 'n5'];
    let runId = '';
    let seenInRow: { progress: SyncLiveProgress; stored: number } | undefined;
    const connector = defineConnector({
      type: 'slow_notes',
      async check() {},
      async *sync(): AsyncIterable<ConnectorChange> {
        for (const id of ids) yield note(id);
        // Still listing (no checkpoint, the group of 200 is not full): wait for the run row.
        seenInRow = await waitFor(async () => {
          const run = await repository.getSyncRun(runId);
          if (run?.progress?.listed !== ids.length) return undefined;
          const versions = await repository.getDocumentVersions(connectorId, ids);
          return { progress: run.progress, stored: versions.size };
        });
        yield { kind: 'checkpoint', cursor: ids.length };
        yield { kind: 'listing-complete', complete: true };
      },
    });
    const events: SyncProgressEvent[] = [];
    const { embedder } = countingEmbedder();
    const summary = await runSync({
      connector,
      connectorId,
      repository,
      embedder,
      // The listing stalls with the group held: no time-based cut (pipeline-group-cut.test.ts), so
      // this shows the progress of a run that has stored nothing yet.
      groupMaxWaitMs: Number.POSITIVE_INFINITY,
      onProgress: (event) => {
        if (event.type === 'run-started') runId = event.runId;
        events.push(event);
      },
    });
    expect(summary.status).toBe('success');
    expect(seenInRow).toEqual({
      progress: { listed: 5, listing: true, at: expect.any(String) },
      stored: 0,
    });
    expect(Number.isNaN(Date.parse(seenInRow?.progress.at ?? ''))).toBe(false);

    // In process: listing-progress events come before any group is stored, the last says it ended.
    const listingEvents = events.filter((event) => event.type === 'listing-progress');
    const firstCommit = events.findIndex((event) => event.type === 'group-committed');
    expect(events.findIndex((event) => event.type === 'listing-progress')).toBeLessThan(firstCommit);
    expect(listingEvents.at(-1)).toMatchObject({ listed: 5, listing: false });
    expect(listingEvents.some((event) => event.listed === 5 && event.listing)).toBe(true);

    // Finished: the stored progress says the listing is over.
    const finished = await repository.getSyncRun(runId);
    expect(finished?.status).toBe('success');
    expect(finished?.progress).toMatchObject({ listed: 5, listing: false });
    if (backend.storedProgress) {
      expect(await backend.storedProgress(runId)).toMatchObject({ listed: 5, listing: false });
    }
  });
});

describe('embedding flush policy (defaults)', () => {
  it('stores the first document while a later group is still busy, and still fills big runs', async () => {
    const memory = createMemoryRepository();
    const record = memory.addConnector({ orgId: randomUUID(), connectorType: 'slow_notes', name: 'Notes' });
    let firstStoredWhileBusy: boolean | undefined;
    const firstStored = async () => {
      const version = (await memory.getDocumentVersions(record.id, ['first'])).get('first');
      return version?.processingStatus === 'completed' ? true : undefined;
    };
    const connector = defineConnector({
      type: 'slow_notes',
      async check() {},
      async *sync(): AsyncIterable<ConnectorChange> {
        yield note('first');
        yield { kind: 'checkpoint', cursor: 1 };
        // This group stays busy (its load waits) until the first document is stored: a batch that
        // waited for busy groups until the listing ended (or 30 s) would never let it finish.
        yield note('second', async () => {
          firstStoredWhileBusy = (await waitFor(firstStored)) ?? false;
        });
        yield { kind: 'checkpoint', cursor: 2 };
        yield { kind: 'listing-complete', complete: true };
      },
    });
    const { embedder, stats } = countingEmbedder();
    const summary = await runSync({ connector, connectorId: record.id, repository: memory, embedder });
    expect(summary.status).toBe('success');
    expect(firstStoredWhileBusy).toBe(true);
    // One request for the first document's chunks, one for the second's.
    expect(stats.requests).toBe(2);

    // A bigger run whose groups keep coming: only full requests, and one for the rest.
    const many = createMemoryRepository();
    const manyRecord = many.addConnector({ orgId: randomUUID(), connectorType: 'many_notes', name: 'Many' });
    const bulk = defineConnector({
      type: 'many_notes',
      async check() {},
      async *sync(): AsyncIterable<ConnectorChange> {
        for (let index = 0; index < 300; index += 1) {
          yield note(`note-${index}`);
          if ((index + 1) % 7 === 0) yield { kind: 'checkpoint', cursor: index + 1 };
        }
        yield { kind: 'checkpoint', cursor: 300 };
        yield { kind: 'listing-complete', complete: true };
      },
    });
    const counted = countingEmbedder();
    const limited: Embedder = { ...counted.embedder, maxInputsPerRequest: 64 };
    const big = await runSync({
      connector: bulk,
      connectorId: manyRecord.id,
      repository: many,
      embedder: limited,
      groupSize: 10,
    });
    expect(big.status).toBe('success');
    expect(counted.stats.inputs).toBe(300);
    expect(counted.stats.requests).toBe(Math.ceil(300 / 64));
  });
});
