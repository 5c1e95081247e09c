// Fault injection: one request in ten to the fake Drive answers 429/5xx, stalls then drops, or
// has its connection reset. Every document still arrives, retries stay bounded (each injected
// fault costs exactly one extra request), and the sync log tells the truth.
import { injectFaults } from '@tributary/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type DriveHarness, pipeline, startDriveHarness } from './support/drive-harness.js';

let harness: DriveHarness;
beforeEach(async () => {
  harness = await startDriveHarness();
});
afterEach(() => harness.close());

describe('a flaky Drive (10% of requests fail)', () => {
  it('stores every document, with requests = clean requests + injected faults, and an honest sync log', async () => {
    const { fake } = harness;
    const folder = fake.addFolder('Flaky', fake.rootFolderId);
    for (let index = 0; index < 40; index += 1) {
      fake.addFile({
        name: `note-${index}.txt`,
        parent: folder,
        content: `Note ${index}: the pump at station ${index} was serviced.`,
      });
    }
    const expected = [...fake.files.values()]
      .filter((file) => file.name.startsWith('note-'))
      .map((file) => file.id)
      .sort();

    // A clean run first, to count the requests a full sync needs.
    const clean = pipeline(harness, { folderIds: [folder] }, harness.serviceAccount);
    await clean.sync();
    const cleanRequests = fake.callCount('api');
    fake.resetCalls();

    const faults = injectFaults(fake.server, {
      rate: 0.1,
      seed: 42,
      hangMs: 20,
      // The token endpoint has its own failure tests; here the API is flaky.
      shouldInject: (request) => !(request.url ?? '').startsWith('/token'),
    });
    const flaky = pipeline(harness, { folderIds: [folder] }, harness.serviceAccount);
    const summary = await flaky.sync();
    faults.restore();

    expect(faults.total()).toBeGreaterThan(0);
    expect(flaky.live()).toEqual(expected);
    expect(summary.status).toBe('success');
    expect(summary.counts).toMatchObject({ inserted: expected.length, failed: 0 });
    const run = await flaky.repository.getSyncRun(summary.runId);
    // The connector_sync_logs row: success, every document, no failure, every attempt counted.
    expect(run).toMatchObject({
      status: 'success',
      documentsSynced: expected.length,
      documentsFailed: 0,
      errorMessage: null,
    });
    expect(run?.apiCallsMade).toBe(cleanRequests + faults.total());
    // Every injected fault was retried exactly once more; nothing else was repeated.
    expect(fake.callCount('api')).toBe(cleanRequests);
    expect(faults.requests() - faults.total()).toBeGreaterThanOrEqual(cleanRequests);
    expect(faults.requests()).toBe(cleanRequests + faults.total() + fake.callCount('token'));
  });
});
