// Fault injection (@tributary/testkit's injectFaults on the fake Notion server): one request in ten
// answers 429 with Retry-After, 500/502/503, stalls past the connector's per-attempt timeout, or
// has its connection reset, drawn from a seeded sequence. Every page and row still arrives,
// retries stay bounded (each fault costs exactly one more attempt), and the sync log tells the
// truth about the run.
import { injectFaults } from '@tributary/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { block } from './support/notion-fixtures.js';
import { type NotionHarness, pipeline, startNotionHarness } from './support/notion-harness.js';

let harness: NotionHarness;
beforeEach(async () => {
  harness = await startNotionHarness();
});
afterEach(() => harness.close());

/** A stalled request is abandoned after this long (the fault holds it much longer). */
const TIMEOUT_MS = 1_500;

describe('a flaky Notion (10% of requests fail)', () => {
  it('stores every page and row, with attempts = clean requests + injected faults, and an honest sync log', async () => {
    const { fake } = harness;
    const { store } = fake;
    const root = store.addPage({ title: 'Harbour', blocks: [block.paragraph('Welcome aboard')] });
    for (let index = 0; index < 30; index += 1) {
      store.addPage({
        title: `Berth ${index}`,
        parentPageId: root,
        blocks: [
          block.heading(2, `Berth ${index}`),
          block.bullet('moorings', [block.bullet(`ring ${index}`)]),
        ],
      });
    }
    const crew = store.addDataSource({ title: 'Crew', schema: { Role: 'select' } });
    for (let index = 0; index < 10; index += 1) {
      store.addRow(crew, {
        title: `Sailor ${index}`,
        values: { Role: 'Deckhand' },
        blocks: [block.paragraph('aye')],
      });
    }
    const expected = [...store.pages.keys()].sort();

    // A clean run first, to count the requests a full sync needs.
    const settings = { timeoutMs: TIMEOUT_MS };
    const clean = pipeline(harness, {}, settings);
    expect((await clean.sync({ mode: 'full' })).counts.inserted).toBe(expected.length);
    const cleanRequests = fake.total;
    fake.resetCounts();

    const faults = injectFaults(fake.server, {
      rate: 0.1,
      seed: 7,
      retryAfter: '0',
      // Longer than the connector's per-attempt timeout: the client gives up first.
      hangMs: TIMEOUT_MS * 4,
    });
    const flaky = pipeline(harness, {}, settings);
    const summary = await flaky.sync({ mode: 'full' });
    faults.restore();

    expect(faults.total()).toBeGreaterThan(0);
    expect(faults.injected['429']).toBeGreaterThan(0);
    expect(faults.injected.timeout + faults.injected.reset).toBeGreaterThan(0);
    expect(summary.status, summary.error).toBe('success');
    expect(flaky.live()).toEqual(expected);
    expect(summary.counts).toMatchObject({ inserted: expected.length, failed: 0 });
    // The connector_sync_logs row: success, every document, no failure, every attempt counted.
    const run = await flaky.repository.getSyncRun(summary.runId);
    expect(run).toMatchObject({
      status: 'success',
      documentsSynced: expected.length,
      documentsFailed: 0,
      errorMessage: null,
    });
    expect(run?.apiCallsMade).toBe(cleanRequests + faults.total());
    // Bounded: every injected fault was retried exactly once more, nothing else was repeated.
    expect(fake.total).toBe(cleanRequests);
    expect(faults.requests()).toBe(cleanRequests + faults.total());
  });
});
