// Rate limits: 429s without Retry-After are answered with backoff; every request takes a token
// from its account's category (`zoom:<account>:<category>`) of the limiter, which can be shared
// across processes; the default limiter gives each category its share of the plan's limit.
import type { Clock, RateLimiter } from '@tributary/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createZoomRateLimiter, effectiveLimits, ZOOM_PLAN_LIMITS } from '../src/index.js';
import { zoomVtt } from './support/fake-zoom-server.js';
import { daysAgo, pipeline, startZoomHarness, type ZoomHarness } from './support/zoom-harness.js';

let harness: ZoomHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

/** A clock whose sleeps only advance time (and are recorded). */
function manualClock(): Clock & { sleeps: number[] } {
  let now = 0;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    async sleep(ms) {
      sleeps.push(ms);
      now += ms;
    },
  };
}

describe('429 and 5xx', () => {
  it('survives a burst of 429s without Retry-After and a 503, and stores everything once', async () => {
    harness = await startZoomHarness();
    const { fake } = harness;
    const host = fake.addUser('ada@example.com');
    for (let index = 0; index < 6; index++) {
      fake.addRecording({
        hostId: host,
        startTime: daysAgo(index),
        transcript: zoomVtt([['Ada', `m${index}`]]),
      });
    }
    const apiRequests = () =>
      Object.entries(fake.calls())
        .filter(([route]) => !route.startsWith('token:') && !route.startsWith('download-auth:'))
        .reduce((sum, [, value]) => sum + value, 0);
    const clean = await pipeline(harness, { users: [host] }, harness.s2s, { pageSize: 2 }).sync();
    const cleanRequests = apiRequests();
    expect(clean.apiCalls).toBe(cleanRequests);
    fake.resetCalls();

    const run = pipeline(harness, { users: [host] }, harness.s2s, { pageSize: 2 });
    fake.failNext(4, 429);
    fake.failNext(1, 503);
    const summary = await run.sync();
    expect(summary.status).toBe('success');
    expect(run.live().length).toBe(6);
    // The 5 refused attempts were each retried (and counted), nothing else changed.
    expect(apiRequests()).toBe(cleanRequests + 5);
    expect(summary.apiCalls).toBe(cleanRequests + 5);
  });

  it('gives up with a RateLimitError after the retries are spent, and the run ends failed', async () => {
    harness = await startZoomHarness();
    const { fake } = harness;
    const host = fake.addUser('ada@example.com');
    fake.addRecording({ hostId: host, startTime: daysAgo(1), transcript: zoomVtt([['Ada', 'x']]) });
    const run = pipeline(harness, { users: [host] }, harness.s2s, {
      retry: { retries: 2, minDelayMs: 1, maxDelayMs: 2 },
    });
    fake.failNext(10, 429);
    const summary = await run.sync();
    expect(summary.status).toBe('failed');
    expect(summary.error).toMatch(/rate/i);
    expect(run.live()).toEqual([]);
  });
});

describe('the limiter seam', () => {
  it('every request acquires a token under zoom:<account>:<category> from an injected limiter', async () => {
    harness = await startZoomHarness();
    const { fake } = harness;
    const host = fake.addUser('ada@example.com');
    fake.addRecording({
      hostId: host,
      startTime: daysAgo(1),
      transcript: zoomVtt([['Ada', 'x']]),
      chat: '00:00:01\t From  Ada : hi\n',
      participants: [{ name: 'Grace', email: 'g@example.com' }],
    });
    const keys: string[] = [];
    const shared: RateLimiter = {
      async acquire(key) {
        keys.push(key);
      },
    };
    const run = pipeline(harness, { users: [host], startDate: daysAgo(10).slice(0, 10) }, harness.s2s, {
      rateLimiter: shared,
    });
    expect((await run.sync()).status).toBe('success');
    const byKey = Object.fromEntries(
      [...new Set(keys)].map((key) => [key, keys.filter((candidate) => candidate === key).length]),
    );
    expect(byKey).toEqual({
      'zoom:s2s:acct_FAKE123:medium': 2, // one recordings page, one participants page
      'zoom:s2s:acct_FAKE123:download': 2, // transcript and chat
    });
  });

  it('the default limiter gives each category its fraction of the plan limit', async () => {
    expect(effectiveLimits({})).toEqual({ light: 15, medium: 10, heavy: 5, download: 15 });
    expect(effectiveLimits({ plan: 'business', rateLimitFraction: 0.25 }).medium).toBe(
      ZOOM_PLAN_LIMITS.business.medium / 4,
    );
    expect(() => effectiveLimits({ rateLimitFraction: 0 })).toThrow(/rateLimitFraction/);
    const clock = manualClock();
    const limiter = createZoomRateLimiter({ rateLimitFraction: 0.5 }, clock);
    // Medium on Pro: 20/s, half of it ours: 10 at once, then one every 100 ms.
    for (let index = 0; index < 10; index++) await limiter.acquire('zoom:s2s:a:medium');
    expect(clock.sleeps).toEqual([]);
    await limiter.acquire('zoom:s2s:a:medium');
    expect(clock.sleeps).toEqual([100]);
    // Another account, and another category, have buckets of their own.
    await limiter.acquire('zoom:s2s:b:medium');
    await limiter.acquire('zoom:s2s:a:light');
    expect(clock.sleeps).toEqual([100]);
  });
});
