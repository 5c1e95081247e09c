// Fault injection: one API request in ten to the fake Zoom answers 429 (with and without
// Retry-After), 500/502/503, stalls past the client's timeout, or has its connection reset
// (seeded, so a failure replays); the OAuth token endpoint refuses every other attempt. Every
// document still arrives, retries stay bounded (each injected fault costs exactly one extra
// request), and the sync log tells the truth.
import { injectFaults } from '@tributary/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { zoomVtt } from './support/fake-zoom-server.js';
import { daysAgo, pipeline, startZoomHarness, type ZoomHarness } from './support/zoom-harness.js';

// Above what a loaded CI machine needs for a real answer (a clean run must never time out), and
// below the injected stall, so a `timeout` fault is the client's timeout firing.
const TIMEOUT_MS = 4000;

let harness: ZoomHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const isToken = (url: string | undefined) => (url ?? '').startsWith('/oauth/token');

describe('a flaky Zoom (10% of API requests fail)', () => {
  it('stores every document, with requests = clean requests + injected faults, and an honest sync log', async () => {
    harness = await startZoomHarness();
    const { fake } = harness;
    const hosts = [fake.addUser('ada@example.com'), fake.addUser('grace@example.com')];
    for (let index = 0; index < 12; index++) {
      fake.addRecording({
        hostId: hosts[index % 2] as string,
        topic: `Weekly ${index}`,
        startTime: daysAgo(index * 3, 10),
        transcript: zoomVtt([
          ['Ada', `point ${index}`],
          ['Grace', `answer ${index}`],
        ]),
        chat: `10:00:0${index % 10}\tAda:\tlink ${index}`,
        participants: [{ name: 'Grace', email: 'grace@example.com' }],
      });
    }
    const config = { users: hosts };
    const settings = { pageSize: 2, timeoutMs: TIMEOUT_MS };
    const apiRequests = () =>
      Object.entries(fake.calls())
        .filter(([route]) => !route.startsWith('token:') && !route.startsWith('download-auth:'))
        .reduce((sum, [, value]) => sum + value, 0);

    // A clean run first, to count what a full sync needs.
    const clean = pipeline(harness, config, harness.s2s, settings);
    const cleanSummary = await clean.sync();
    expect(cleanSummary.status, cleanSummary.error).toBe('success');
    const expected = clean.live();
    expect(expected).toHaveLength(12);
    const cleanRequests = apiRequests();
    expect(cleanSummary.apiCalls).toBe(cleanRequests);
    fake.resetCalls();

    const faults = injectFaults(fake.server, {
      rate: 0.1,
      seed: 10,
      hangMs: TIMEOUT_MS + 500,
      faults: ['429', '429-bare', '500', '502', '503', 'timeout', 'reset'],
      shouldInject: (request) => !isToken(request.url),
    });
    // The token endpoint: the first attempt of each grant fails, its retry goes through.
    const tokenFaults = injectFaults(fake.server, {
      rate: 1,
      seed: 1,
      faults: ['503', 'reset'],
      maxConsecutivePerRequest: 1,
      shouldInject: (request) => isToken(request.url),
    });
    const flaky = pipeline(harness, config, harness.s2s, settings);
    const summary = await flaky.sync();
    tokenFaults.restore();
    faults.restore();

    expect(faults.total()).toBeGreaterThan(3);
    expect(tokenFaults.total()).toBeGreaterThan(0);
    expect(faults.injected['429']).toBeGreaterThan(0);
    expect(faults.injected['429-bare']).toBeGreaterThan(0);
    expect(faults.injected.timeout + faults.injected.reset).toBeGreaterThan(0);
    expect(flaky.live()).toEqual(expected);
    expect(summary.status, summary.error).toBe('success');
    expect(summary.counts).toMatchObject({ inserted: 12, failed: 0 });
    expect(summary.sweep?.refused).toBe(false);

    // The server did the same work as in the clean run; each fault cost exactly one more request.
    expect(apiRequests()).toBe(cleanRequests);
    expect(fake.callCount('token:account_credentials')).toBe(1);
    // The connector_sync_logs row: success, every document, no failure, every API attempt counted.
    expect(summary.apiCalls).toBe(cleanRequests + faults.total());
    const run = await flaky.repository.getSyncRun(summary.runId);
    expect(run).toMatchObject({
      status: 'success',
      documentsSynced: 12,
      documentsFailed: 0,
      errorMessage: null,
      apiCallsMade: cleanRequests + faults.total(),
    });
  });
});
