// ctx.state through runSync and instance.sync: writes wait for the next checkpoint and commit
// with its cursor (a crash in between loses them together), reads see the run's own writes, an
// iteration merges stored pages with pending writes, and the pending buffer is bounded.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  type ConnectorChange,
  createConnectorInstance,
  createLexicalEmbedder,
  createMemoryConnectorStateStore,
  defineConnector,
  type KnowledgeRepository,
  runSync,
  type SyncContext,
} from '../src/index.js';
import { createMemoryRepository } from '../src/testing.js';

const embedder = createLexicalEmbedder({ dimensions: 16 });

async function keysOf(ctx: SyncContext, namespace: string, prefix?: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const entry of ctx.state.iterate(namespace, { prefix, pageSize: 2 })) keys.push(entry.key);
  return keys;
}

describe('ctx.state in runSync', () => {
  it('commits writes with the next checkpoint, shows pending writes to reads, drops writes after the last checkpoint', async () => {
    const seen: Record<string, unknown> = {};
    const connector = defineConnector({
      type: 'stateful',
      async check() {},
      async *sync(ctx): AsyncIterable<ConnectorChange> {
        seen.before = await keysOf(ctx, 'files');
        ctx.state.set('files', 'b', { version: 2 });
        ctx.state.set('files', 'a', { version: 1 });
        ctx.state.delete('files', 'stale');
        seen.pendingGet = Object.fromEntries(await ctx.state.get('files', ['a', 'b', 'stale', 'kept']));
        seen.merged = await keysOf(ctx, 'files');
        yield {
          kind: 'upsert',
          document: { externalId: 'a', title: 'A', content: { kind: 'text', text: 'alpha' } },
        };
        yield { kind: 'checkpoint', cursor: { step: 1 } };
        ctx.state.clear('files');
        ctx.state.set('files', 'c', 3);
        seen.afterClear = await keysOf(ctx, 'files');
        // Never checkpointed: discarded.
        yield { kind: 'listing-complete', complete: true };
      },
    });
    const repository = createMemoryRepository();
    const { id: connectorId } = repository.addConnector({ orgId: randomUUID() });
    // What an earlier run committed.
    const earlier = await repository.startSync({ connectorId });
    await repository.commitCheckpoint(
      earlier.syncRunId,
      { step: 0 },
      {
        upserts: [
          { namespace: 'files', key: 'stale', value: 0 },
          { namespace: 'files', key: 'kept', value: 'k' },
          { namespace: 'files', key: 'aa', value: 'x' },
        ],
      },
    );
    await repository.finishSync(earlier.syncRunId, { status: 'success' });

    const summary = await runSync({ connector, connectorId, repository, embedder, mode: 'full' });
    expect(summary.status).toBe('success');
    expect(seen.before).toEqual(['aa', 'kept', 'stale']);
    expect(seen.pendingGet).toEqual({ a: { version: 1 }, b: { version: 2 }, kept: 'k' });
    expect(seen.merged).toEqual(['a', 'aa', 'b', 'kept']);
    expect(seen.afterClear).toEqual(['c']);
    const stored = await repository.listState(connectorId, 'files');
    expect(stored).toEqual([
      { key: 'a', value: { version: 1 } },
      { key: 'aa', value: 'x' },
      { key: 'b', value: { version: 2 } },
      { key: 'kept', value: 'k' },
    ]);
    expect((await repository.getConnector(connectorId))?.syncCursor).toEqual({ step: 1 });
  });

  it('loses the writes of a run that dies before its checkpoint is committed, together with the cursor', async () => {
    const connector = defineConnector({
      type: 'stateful',
      async check() {},
      async *sync(ctx): AsyncIterable<ConnectorChange> {
        const step = typeof ctx.cursor === 'number' ? ctx.cursor : 0;
        for (let index = step; index < 4; index += 1) {
          ctx.state.set('steps', String(index), index);
          yield { kind: 'checkpoint', cursor: index + 1 };
        }
      },
    });
    const repository = createMemoryRepository();
    const { id: connectorId } = repository.addConnector({ orgId: randomUUID() });
    let commits = 0;
    // The process dies during the third commit: nothing of it is stored.
    const dying: KnowledgeRepository = {
      ...repository,
      commitCheckpoint: async (...args) => {
        commits += 1;
        if (commits === 3) throw new Error('connection lost');
        return repository.commitCheckpoint(...args);
      },
    };
    const first = await runSync({ connector, connectorId, repository: dying, embedder, mode: 'incremental' });
    expect(first.status).toBe('failed');
    expect((await repository.getConnector(connectorId))?.syncCursor).toBe(2);
    expect((await repository.listState(connectorId, 'steps')).map((entry) => entry.key)).toEqual(['0', '1']);
    const second = await runSync({ connector, connectorId, repository, embedder, mode: 'incremental' });
    expect(second.status).toBe('success');
    expect((await repository.listState(connectorId, 'steps')).map((entry) => entry.key)).toEqual([
      '0',
      '1',
      '2',
      '3',
    ]);
  });

  it('fails the run with a clear error when a connector buffers more writes than one checkpoint carries', async () => {
    const connector = defineConnector({
      type: 'stateful',
      async check() {},
      async *sync(ctx): AsyncIterable<ConnectorChange> {
        for (let index = 0; index <= 50_000; index += 1) ctx.state.set('n', String(index), index);
        yield { kind: 'checkpoint', cursor: 1 };
      },
    });
    const repository = createMemoryRepository();
    const { id: connectorId } = repository.addConnector({ orgId: randomUUID() });
    const summary = await runSync({ connector, connectorId, repository, embedder });
    expect(summary.status).toBe('failed');
    expect(summary.error).toMatch(/50000 changes since the last checkpoint/);
    expect(await repository.listState(connectorId, 'n')).toEqual([]);
  });
});

describe('ctx.state in instance.sync', () => {
  it('commits to the given store as each checkpoint passes, so the next call resumes with it', async () => {
    const connector = defineConnector({
      type: 'stateful',
      async check() {},
      async *sync(ctx): AsyncIterable<ConnectorChange> {
        const known = await ctx.state.get('n', ['runs']);
        ctx.state.set('n', 'runs', ((known.get('runs') as number | undefined) ?? 0) + 1);
        yield { kind: 'checkpoint', cursor: 'c' };
        ctx.state.set('n', 'lost', true);
      },
    });
    const stateStore = createMemoryConnectorStateStore();
    const instance = createConnectorInstance(connector);
    for (let run = 0; run < 2; run += 1) for await (const _ of instance.sync({ stateStore })) void _;
    expect(await stateStore.get('n', ['runs', 'lost'])).toEqual(new Map([['runs', 2]]));
  });
});
