// The bound on embedded vectors held until written: the VectorBudget on its own (order, a request
// larger than the budget, abort), then runSync with writes slower than embedding, where the vectors
// embedded but not yet written never exceed `embedBatch.maxHeldVectors`, and every chunk arrives.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  type ConnectorChange,
  createChunker,
  createLexicalEmbedder,
  defineConnector,
  type Embedder,
  type ReplaceChunksEntry,
  runSync,
} from '../src/index.js';
import { VectorBudget } from '../src/pipeline/vector-budget.js';
import { createMemoryRepository } from '../src/testing.js';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('VectorBudget', () => {
  it('grants in order while requests fit, and lets waiting ones in as room is given back', async () => {
    const budget = new VectorBudget(10);
    const releaseA = await budget.acquire(6);
    const order: string[] = [];
    const b = budget.acquire(5).then((release) => {
      order.push('b');
      return release;
    });
    // c fits on its own but must not overtake b.
    const c = budget.acquire(3).then((release) => {
      order.push('c');
      return release;
    });
    await tick();
    expect(order).toEqual([]);
    expect(budget.used).toBe(6);
    releaseA();
    const releaseB = await b;
    const releaseC = await c;
    expect(order).toEqual(['b', 'c']);
    expect(budget.used).toBe(8);
    releaseB();
    releaseB(); // a second call gives nothing back twice
    releaseC();
    expect(budget.used).toBe(0);
  });

  it('lets a request larger than the whole budget through alone', async () => {
    const budget = new VectorBudget(4);
    const small = await budget.acquire(1);
    let granted = false;
    const big = budget.acquire(9).then((release) => {
      granted = true;
      return release;
    });
    await tick();
    expect(granted).toBe(false);
    small();
    (await big)();
    expect(granted).toBe(true);
    expect(budget.used).toBe(0);
  });

  it('an aborted wait rejects, takes nothing and lets the next one in', async () => {
    const budget = new VectorBudget(4);
    const held = await budget.acquire(4);
    const controller = new AbortController();
    const aborted = budget.acquire(2, controller.signal);
    const next = budget.acquire(1);
    controller.abort(new Error('run cancelled'));
    await expect(aborted).rejects.toThrow('run cancelled');
    held();
    (await next)();
    expect(budget.used).toBe(0);
  });
});

describe('runSync: embedded vectors held until written stay within maxHeldVectors', () => {
  const chunker = createChunker({ maxTokens: 48, overlapTokens: 0 });

  /** Revision 2 rewrites part 0 only: the other chunks' vectors are reused on a re-sync. */
  function article(index: number, revision = 1): ConnectorChange {
    const paragraphs = Array.from(
      { length: 4 },
      (_, p) =>
        `## Part ${p}\n\nDocument ${index} part ${p}${p === 0 && revision > 1 ? ` revised ${revision}` : ''}: ${'river delta basin current estuary '.repeat(6)}`,
    );
    return {
      kind: 'upsert',
      document: {
        externalId: `doc-${index}`,
        title: `Document ${index}`,
        version: String(revision),
        mimeType: 'text/markdown',
        content: { kind: 'text', text: `# Document ${index}\n\n${paragraphs.join('\n\n')}` },
      },
    };
  }

  /**
   * Syncs 24 documents at `revision` (above 1: after an untracked, unbounded first sync at
   * revision 1) while writes are slow, counting vectors in hand (embedded, not yet written),
   * written, and chunks written as copies of stored vectors.
   */
  async function ingest(maxHeldVectors: number | undefined, revision = 1) {
    const memory = createMemoryRepository();
    const orgId = randomUUID();
    const record = memory.addConnector({ orgId, connectorType: 'held_source', name: 'Held' });
    const inner = createLexicalEmbedder();
    const held = { embedded: 0, written: 0, copied: 0, most: 0, tracking: false };
    const inHand = () => held.embedded - held.written;
    const embedder: Embedder = {
      ...inner,
      maxInputsPerRequest: 12,
      async embed(texts, options) {
        const result = await inner.embed(texts, options);
        if (held.tracking) {
          held.embedded += texts.length;
          held.most = Math.max(held.most, inHand());
        }
        return result;
      },
    };
    // Writes are the bottleneck: each statement waits a few turns of the event loop.
    const repository = new Proxy(memory, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (property !== 'replaceChunksBatch') return value;
        return async (batch: ReplaceChunksEntry[]) => {
          for (let turn = 0; turn < 20; turn++) await tick();
          const result = await (value as (b: unknown) => Promise<unknown>).call(target, batch);
          if (held.tracking) {
            for (const entry of batch) {
              held.written += entry.chunks.filter((chunk) => chunk.embedding != null).length;
              held.copied += entry.chunks.filter((chunk) => chunk.reuseEmbedding).length;
            }
          }
          return result;
        };
      },
    });
    const sync = (at: number, budget: number | undefined) =>
      runSync({
        repository,
        connector: defineConnector({
          type: 'held_source',
          async check() {},
          async *sync() {
            for (let index = 0; index < 24; index++) yield article(index, at);
          },
        }),
        connectorId: record.id,
        embedder,
        chunker,
        groupSize: 2,
        ...(budget === undefined ? {} : { embedBatch: { maxHeldVectors: budget } }),
      });
    if (revision > 1) await sync(1, 100_000);
    held.tracking = true;
    const summary = await sync(revision, maxHeldVectors);
    return { summary, held, memory, connectorId: record.id };
  }

  it('never holds more than the budget, and stores every chunk', async () => {
    // Each group of two documents embeds 16 chunks: room for two groups at a time.
    const bounded = await ingest(40);
    expect(bounded.summary.status).toBe('success');
    expect(bounded.summary.counts.inserted).toBe(24);
    expect(bounded.held.written).toBe(bounded.held.embedded);
    expect(bounded.held.embedded).toBeGreaterThan(24 * 4);
    expect(bounded.held.most).toBeLessThanOrEqual(40);

    // The same run with room for everything: the slow writes let vectors pile up past that bound,
    // so the bound above is the budget's doing.
    const unbounded = await ingest(100_000);
    expect(unbounded.summary.status).toBe('success');
    expect(unbounded.held.written).toBe(bounded.held.written);
    expect(unbounded.held.most).toBeGreaterThan(40);
  });

  it('keeps requests full after the listing ended while groups wait for room', async () => {
    // The listing ends at once and most groups wait for room. Room for 3 groups (48 chunks) is 4
    // full requests of 12; each later group's 16 inputs join the next request instead of leaving
    // in a partial one of their own (before: 22 requests where 16 carry every input).
    const aligned = await ingest(48);
    expect(aligned.summary.status).toBe('success');
    expect(aligned.held.most).toBeLessThanOrEqual(48);
    expect(aligned.summary.embeddings.requests).toBe(Math.ceil(aligned.held.embedded / 12));
  });

  it('holds only the vectors it embeds on a re-sync: reused ones are copied inside the store', async () => {
    // Every document changed one part: most of its chunks are stored already.
    const bounded = await ingest(12, 2);
    expect(bounded.summary.status).toBe('success');
    expect(bounded.summary.counts.updated).toBe(24);
    expect(bounded.summary.embeddings.reused).toBe(bounded.held.copied);
    expect(bounded.held.copied).toBeGreaterThan(bounded.held.embedded);
    expect(bounded.held.written).toBe(bounded.held.embedded);
    // Room for two groups' changed chunks, however many chunks they reuse.
    expect(bounded.held.most).toBeLessThanOrEqual(12);

    // Every chunk holds a vector, copied or embedded.
    const documents = bounded.memory.listDocuments(bounded.connectorId);
    expect(documents).toHaveLength(24);
    for (const document of documents) expect(document.embeddedChunks).toBe(document.chunkCount);
  });
});
