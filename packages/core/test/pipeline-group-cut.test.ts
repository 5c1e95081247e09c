// The time-based group cut (`groupMaxWaitMs`) on migrated PGlite: a slow source that yields fewer
// than `groupSize` documents and no checkpoint has them stored and searchable while it still lists
// (the listing stops waiting on the source's pending next() to hand the group out, then takes that
// change: nothing lost, nothing twice); a fast source's groups and embedding requests are what they
// are without the cut; a cancel mid-listing keeps what was cut. The sources wait for what they
// expect to see (with a 20 s way out that fails the test) instead of the test timing anything.
// Below, the reader that lets the list stage stop waiting on a pending next(), on its own.
import { randomUUID } from 'node:crypto';
import { fromPglite, migrate } from '@tributary/sql';
import { createPgliteDatabase } from '@tributary/testkit-postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ConnectorChange,
  createLexicalEmbedder,
  defineConnector,
  type Embedder,
  InvalidConfigError,
  type KnowledgeRepository,
  runSync,
  type SyncProgressEvent,
} from '../src/index.js';
import { createPgliteRepository } from '../src/pglite.js';
import { ChangeReader, DEADLINE_PASSED } from '../src/pipeline/change-reader.js';
import { migrationsFingerprint } from './repository-database-fixture.js';

const WAY_OUT_MS = 20_000;

/** Polls `check` until it returns true, or gives up after WAY_OUT_MS (returns false). */
async function eventually(check: () => Promise<boolean>): Promise<boolean> {
  const until = Date.now() + WAY_OUT_MS;
  while (Date.now() < until) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return false;
}

function countingEmbedder(maxInputsPerRequest?: number) {
  const inner = createLexicalEmbedder();
  const stats = { requests: 0, inputs: 0 };
  const embedder: Embedder = {
    ...inner,
    ...(maxInputsPerRequest ? { maxInputsPerRequest } : {}),
    async embed(texts, options) {
      stats.requests += 1;
      stats.inputs += texts.length;
      return inner.embed(texts, options);
    },
  };
  return { embedder, stats };
}

/** A document whose text names a word only it has (`word`), so search finds exactly it. */
function note(externalId: string, word: string): ConnectorChange {
  return {
    kind: 'upsert',
    document: {
      externalId,
      title: `Note ${externalId}`,
      version: '1',
      mimeType: 'text/markdown',
      content: { kind: 'text', text: `# ${externalId}\n\nThe ${word} crossed the river at dawn.` },
    },
  };
}

const WORDS = ['heron', 'otter', 'kingfisher', 'salmon', 'beaver', 'dragonfly', 'mayfly', 'pike'];

describe('runSync: time-based group cut on PGlite', () => {
  let repository: KnowledgeRepository;
  let close: () => Promise<void>;
  let query: <T>(sql: string, params: unknown[]) => Promise<{ rows: T[] }>;

  beforeAll(async () => {
    const pglite = await createPgliteDatabase({
      snapshot: {
        key: `tributary-core-repository-${migrationsFingerprint()}`,
        prepare: async (fresh) => {
          await migrate(fromPglite(fresh));
        },
      },
    });
    repository = createPgliteRepository(pglite, { actor: { role: 'service_role' } });
    query = async <T>(sql: string, params: unknown[]) => ({
      rows: (await pglite.query(sql, params)).rows as T[],
    });
    close = () => pglite.close();
  });
  afterAll(async () => {
    await close?.();
  });

  /** A connector row in an organisation of its own (no cross-source copies between tests). */
  async function newConnector(type: string) {
    const orgId = randomUUID();
    const { rows } = await query<{ id: string }>(
      `insert into public.connector_configs (org_id, connector_type, name) values ($1, $2, $2) returning id`,
      [orgId, type],
    );
    return { orgId, connectorId: rows[0]?.id ?? '' };
  }

  async function completed(connectorId: string, ids: readonly string[]): Promise<string[]> {
    const versions = await repository.getDocumentVersions(connectorId, ids);
    return ids.filter((id) => {
      const version = versions.get(id);
      return version?.processingStatus === 'completed' && !version.isDeleted;
    });
  }

  async function finds(orgId: string, word: string): Promise<string | undefined> {
    const hits = await repository.search({ orgId, queryText: word, limit: 1 });
    return hits[0]?.title ?? undefined;
  }

  it('with the default wait, stores and indexes a slow source’s documents before its listing ends', async () => {
    const { orgId, connectorId } = await newConnector('slow_default');
    const ids = ['a', 'b', 'c'];
    let storedWhileListing: string[] = [];
    let searchableWhileListing: (string | undefined)[] = [];
    const connector = defineConnector({
      type: 'slow_default',
      async check() {},
      async *sync(): AsyncIterable<ConnectorChange> {
        for (const [index, id] of ids.entries()) yield note(id, WORDS[index] ?? id);
        // Fewer than groupSize (200) documents and no checkpoint: before the cut, nothing was stored
        // until the listing ended, so this wait ran out.
        await eventually(async () => (await completed(connectorId, ids)).length === ids.length);
        storedWhileListing = await completed(connectorId, ids);
        searchableWhileListing = await Promise.all(ids.map((_, index) => finds(orgId, WORDS[index] ?? '')));
        yield { kind: 'checkpoint', cursor: ids.length };
        yield { kind: 'listing-complete', complete: true };
      },
    });
    const { embedder } = countingEmbedder();
    const summary = await runSync({ connector, connectorId, repository, embedder });
    expect(summary.status).toBe('success');
    expect(storedWhileListing).toEqual(ids);
    expect(searchableWhileListing).toEqual(['Note a', 'Note b', 'Note c']);
    expect(summary.counts).toMatchObject({ seen: 3, inserted: 3, failed: 0 });
    expect((await repository.getConnector(connectorId))?.syncCursor).toBe(3);
  });

  it('cuts while the source is slow to answer: each document stored before the next is listed, none lost or repeated, the checkpoint after them', async () => {
    const { orgId, connectorId } = await newConnector('slow_each');
    const ids = ['d1', 'd2', 'd3', 'd4', 'd5'];
    const storedBeforeNext: boolean[] = [];
    const connector = defineConnector({
      type: 'slow_each',
      async check() {},
      async *sync(): AsyncIterable<ConnectorChange> {
        for (const [index, id] of ids.entries()) {
          yield note(id, WORDS[index] ?? id);
          // The pipeline is now waiting on this generator for the next change: it must cut the
          // group holding `id` without it.
          storedBeforeNext.push(
            await eventually(async () => (await completed(connectorId, [id])).length === 1),
          );
        }
        yield { kind: 'checkpoint', cursor: { after: ids.length } };
        yield { kind: 'listing-complete', complete: true };
      },
    });
    const events: SyncProgressEvent[] = [];
    const { embedder, stats } = countingEmbedder();
    const summary = await runSync({
      connector,
      connectorId,
      repository,
      embedder,
      groupMaxWaitMs: 20,
      onProgress: (event) => events.push(event),
    });
    expect(summary.status).toBe('success');
    expect(storedBeforeNext).toEqual([true, true, true, true, true]);
    // Every change was taken once: five groups of one, five documents inserted, five embedded.
    const committed = events.filter((event) => event.type === 'group-committed');
    expect(committed.map((event) => event.type === 'group-committed' && event.documents)).toEqual([
      1, 1, 1, 1, 1,
    ]);
    expect(summary.counts).toMatchObject({ seen: 5, inserted: 5, updated: 0, failed: 0 });
    expect(stats.inputs).toBe(5);
    // Durability order: the checkpoint commits after every group before it is stored.
    const checkpointAt = events.findIndex((event) => event.type === 'checkpoint');
    expect(checkpointAt).toBeGreaterThan(events.findLastIndex((event) => event.type === 'group-committed'));
    expect((await repository.getConnector(connectorId))?.syncCursor).toEqual({ after: 5 });
    for (const [index] of ids.entries())
      expect(await finds(orgId, WORDS[index] ?? '')).toBe(`Note d${index + 1}`);

    // Deletes wait on the same clock: a slow incremental listing applies one before it ends.
    let goneWhileListing = false;
    const deleting = defineConnector({
      type: 'slow_each',
      capabilities: { incremental: true },
      async check() {},
      async *sync(): AsyncIterable<ConnectorChange> {
        yield { kind: 'delete', externalId: 'd2' };
        goneWhileListing = await eventually(async () => {
          const version = (await repository.getDocumentVersions(connectorId, ['d2'])).get('d2');
          return version === undefined || version.isDeleted;
        });
        yield { kind: 'checkpoint', cursor: { after: ids.length, deleted: 1 } };
      },
    });
    const again = await runSync({
      connector: deleting,
      connectorId,
      repository,
      embedder,
      mode: 'incremental',
      groupMaxWaitMs: 20,
    });
    expect(again.status).toBe('success');
    expect(goneWhileListing).toBe(true);
    expect(again.counts.deleted).toBe(1);
    expect(await finds(orgId, WORDS[1] ?? '')).toBeUndefined();
  });

  it('leaves a fast source’s groups and embedding requests as they are without the cut', async () => {
    const outcomes: { requests: number; inputs: number; groups: number[] }[] = [];
    for (const groupMaxWaitMs of [undefined, Number.POSITIVE_INFINITY]) {
      const { connectorId } = await newConnector('fast_notes');
      const connector = defineConnector({
        type: 'fast_notes',
        async check() {},
        async *sync(): AsyncIterable<ConnectorChange> {
          for (let index = 0; index < 40; index += 1) yield note(`f${index}`, `word${index}`);
          yield { kind: 'checkpoint', cursor: 40 };
          yield { kind: 'listing-complete', complete: true };
        },
      });
      const groups: number[] = [];
      const { embedder, stats } = countingEmbedder(16);
      const summary = await runSync({
        connector,
        connectorId,
        repository,
        embedder,
        groupSize: 10,
        groupMaxWaitMs,
        onProgress: (event) => {
          if (event.type === 'group-committed' && event.documents > 0) groups.push(event.documents);
        },
      });
      expect(summary.status).toBe('success');
      outcomes.push({ requests: stats.requests, inputs: stats.inputs, groups: groups.sort() });
    }
    const [withCut, withoutCut] = outcomes;
    expect(withCut?.groups).toEqual([10, 10, 10, 10]);
    expect(withCut).toEqual(withoutCut);
    // Requests filled across groups to the embedder's 16 inputs.
    expect(withCut?.requests).toBe(Math.ceil(40 / 16));
  });

  it('a cancel mid-listing keeps the documents already cut and drops the one still held', async () => {
    const { orgId, connectorId } = await newConnector('slow_cancel');
    const controller = new AbortController();
    let cutBeforeCancel = false;
    let listingSawAbort = false;
    const connector = defineConnector({
      type: 'slow_cancel',
      async check() {},
      async *sync(ctx): AsyncIterable<ConnectorChange> {
        yield note('kept-1', 'heron');
        yield note('kept-2', 'otter');
        cutBeforeCancel = await eventually(
          async () => (await completed(connectorId, ['kept-1', 'kept-2'])).length === 2,
        );
        yield note('held', 'salmon');
        // The run is cancelled while `held` waits in its group (no checkpoint came).
        controller.abort();
        listingSawAbort = ctx.signal.aborted;
        yield { kind: 'checkpoint', cursor: 3 };
      },
    });
    const { embedder } = countingEmbedder();
    const summary = await runSync({
      connector,
      connectorId,
      repository,
      embedder,
      groupMaxWaitMs: 20,
      signal: controller.signal,
    });
    expect(summary.status).toBe('cancelled');
    expect(cutBeforeCancel).toBe(true);
    expect(listingSawAbort).toBe(true);
    expect(await completed(connectorId, ['kept-1', 'kept-2', 'held'])).toEqual(['kept-1', 'kept-2']);
    expect(await finds(orgId, 'heron')).toBe('Note kept-1');
    expect(await finds(orgId, 'otter')).toBe('Note kept-2');
    expect(await finds(orgId, 'salmon')).toBeUndefined();
    // No checkpoint was listed before the cancel: the next run lists from the start again.
    expect((await repository.getConnector(connectorId))?.syncCursor ?? null).toBeNull();
  });

  it('refuses a negative or NaN groupMaxWaitMs before a run starts', async () => {
    const { connectorId } = await newConnector('fast_notes');
    const connector = defineConnector({
      type: 'fast_notes',
      async check() {},
      async *sync(): AsyncIterable<ConnectorChange> {
        yield { kind: 'listing-complete', complete: true };
      },
    });
    const { embedder } = countingEmbedder();
    for (const groupMaxWaitMs of [-1, Number.NaN]) {
      const error = await runSync({ connector, connectorId, repository, embedder, groupMaxWaitMs }).catch(
        (caught: unknown) => caught,
      );
      expect(InvalidConfigError.isInstance(error)).toBe(true);
      expect((error as InvalidConfigError).fieldPath).toBe('groupMaxWaitMs');
    }
    const runs = await query<{ n: number }>(
      'select count(*)::int as n from public.connector_sync_logs where connector_id = $1',
      [connectorId],
    );
    expect(runs.rows[0]?.n).toBe(0);
  });

  it('refuses tuning options that cannot be meant, naming every bad field, before a run starts', async () => {
    const { connectorId } = await newConnector('fast_notes');
    const connector = defineConnector({
      type: 'fast_notes',
      async check() {},
      async *sync(): AsyncIterable<ConnectorChange> {
        yield note('tuned-1', 'heron');
        yield { kind: 'listing-complete', complete: true };
      },
    });
    const { embedder, stats } = countingEmbedder();
    const error = await runSync({
      connector,
      connectorId,
      repository,
      embedder,
      // Before, each of these was replaced by its default without a word.
      concurrency: { write: 0, load: 2.5 },
      groupSize: -5,
      embedBatch: { maxWaitMs: Number.NaN, maxInputs: 0 },
      rateLimitPause: { maxRetries: -1 },
    }).catch((caught: unknown) => caught);
    expect(InvalidConfigError.isInstance(error)).toBe(true);
    const invalid = error as InvalidConfigError;
    expect(invalid.issues.map((issue) => issue.fieldPath).sort()).toEqual(
      [
        'concurrency.load',
        'concurrency.write',
        'embedBatch.maxInputs',
        'embedBatch.maxWaitMs',
        'groupSize',
        'rateLimitPause.maxRetries',
      ].sort(),
    );
    expect(invalid.message).toContain('concurrency.load');
    const runs = await query<{ n: number }>(
      'select count(*)::int as n from public.connector_sync_logs where connector_id = $1',
      [connectorId],
    );
    expect(runs.rows[0]?.n).toBe(0);
    expect(stats.requests).toBe(0);

    // Infinity is a limit's "none"; valid values run as before.
    const summary = await runSync({
      connector,
      connectorId,
      repository,
      embedder,
      concurrency: { write: 1, load: 1 },
      groupSize: 1,
      maxContentBytes: Number.POSITIVE_INFINITY,
      embedBatch: { maxWaitMs: 0, maxHeldVectors: Number.POSITIVE_INFINITY },
    });
    expect(summary.status).toBe('success');
    expect(summary.counts.inserted).toBe(1);
  });
});

describe('ChangeReader: waiting on a slow source with a deadline', () => {
  /** An iterator whose answers the test releases one by one; counts the next() calls it got. */
  function heldIterator() {
    const calls = { next: 0 };
    const answers: { resolve(result: IteratorResult<string>): void; reject(error: Error): void }[] = [];
    const iterator: AsyncIterator<string> = {
      next: () => {
        calls.next += 1;
        return new Promise((resolve, reject) => answers.push({ resolve, reject }));
      },
    };
    return { iterator, calls, answers };
  }

  it('gives up at the deadline and hands over the same answer later: asked once, delivered once', async () => {
    const { iterator, calls, answers } = heldIterator();
    const reader = new ChangeReader(iterator);
    expect(await reader.next(performance.now() + 5)).toBe(DEADLINE_PASSED);
    expect(await reader.next(performance.now() - 1)).toBe(DEADLINE_PASSED);
    expect(calls.next).toBe(1);
    answers[0]?.resolve({ done: false, value: 'first' });
    expect(await reader.next(performance.now() + 60_000)).toMatchObject({
      ok: true,
      result: { done: false, value: 'first' },
    });
    expect(calls.next).toBe(1);
    // The next call asks for the next change.
    const second = reader.next();
    expect(calls.next).toBe(2);
    answers[1]?.resolve({ done: true, value: undefined });
    expect(await second).toMatchObject({ ok: true, result: { done: true } });
  });

  it('delivers a failure of a next() left waiting as a value (no unhandled rejection)', async () => {
    const { iterator, answers } = heldIterator();
    const reader = new ChangeReader(iterator);
    expect(await reader.next(performance.now() + 5)).toBe(DEADLINE_PASSED);
    answers[0]?.reject(new Error('the source went away'));
    // Let the rejection settle while nobody awaits it.
    await new Promise((resolve) => setTimeout(resolve, 0));
    const read = await reader.next();
    expect(read).toMatchObject({ ok: false });
    expect(read !== DEADLINE_PASSED && !read.ok && (read.error as Error).message).toBe(
      'the source went away',
    );
  });
});
