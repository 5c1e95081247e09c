// Credentials and Notion's limits through the real SDK: a revoked token ends the run failed with
// an AuthError that says to reconnect (nothing stored is lost); 429 and 529 bursts are survived by
// the one retry owner (the SDK's own retries are off), Retry-After is read, a hanging call times
// out, every call carries the pinned Notion-Version, and the budget goes through the injected
// rate limiter with a per-workspace key.
import { AuthError, createConnectorInstance, RateLimitError, type RateLimiter } from '@tributary/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createNotionApi, rateLimitKeyOf } from '../src/index.js';
import { INTERNAL_TOKEN } from './support/fake-notion-server.js';
import { block } from './support/notion-fixtures.js';
import { CREDENTIALS, type NotionHarness, pipeline, startNotionHarness } from './support/notion-harness.js';

let harness: NotionHarness;

beforeEach(async () => {
  harness = await startNotionHarness();
  for (let index = 0; index < 12; index++) {
    harness.fake.store.addPage({ title: `Page ${index}`, blocks: [block.paragraph(`Body ${index}`)] });
  }
});
afterEach(() => harness.close());

describe('credentials', () => {
  it('a revoked token ends the run failed with an AuthError saying to reconnect, keeping what was stored', async () => {
    const run = pipeline(harness, {});
    expect((await run.sync({ mode: 'full' })).status).toBe('success');
    const stored = run.live();
    const searchesBefore = harness.fake.count('POST /v1/search');
    harness.fake.revoke(INTERNAL_TOKEN);
    const summary = await run.sync({ mode: 'full' });
    expect(summary.status).toBe('failed');
    expect(summary.error).toMatch(
      /^\[tributary\] \[notion\] Notion rejected the integration token .*HTTP 401 unauthorized/,
    );
    expect(summary.error).toContain('Reconnect the Notion workspace');
    expect(summary.error).not.toContain(INTERNAL_TOKEN);
    expect(run.live()).toEqual(stored);
    // One attempt: an auth failure is not retried.
    expect(harness.fake.count('POST /v1/search')).toBe(searchesBefore + 1);
  });

  it('check() makes one cheap call and throws AuthError for a revoked token', async () => {
    const instance = createConnectorInstance(harness.connector(), { config: {}, credentials: CREDENTIALS });
    await instance.check();
    expect(harness.fake.count('GET /v1/users/me')).toBe(1);
    harness.fake.revoke(INTERNAL_TOKEN);
    const error = await instance.check().catch((caught: unknown) => caught);
    expect(AuthError.isInstance(error)).toBe(true);
  });

  it('refuses malformed credentials, naming the field', () => {
    expect(() =>
      createConnectorInstance(harness.connector(), {
        config: {},
        credentials: { type: 'internal', token: 'hunter2' },
      }),
    ).toThrow(/token/);
  });
});

describe('limits', () => {
  it('survives a burst of 429s (Retry-After) and of 529s, with exactly one retry layer', async () => {
    const run = pipeline(harness, {});
    harness.fake.failNext(4, 429, { retryAfter: '0' });
    const afterRateLimits = await run.sync({ mode: 'full' });
    expect(afterRateLimits.status, afterRateLimits.error).toBe('success');
    expect(run.live().length).toBe(12);
    // Every attempt is a request the fake saw and an API call the run counted: 4 more than without faults.
    expect(afterRateLimits.apiCalls).toBe(harness.fake.total);
    harness.fake.resetCounts();
    harness.fake.failNext(4, 529);
    const afterOverload = await run.sync({ mode: 'full' });
    expect(afterOverload.status, afterOverload.error).toBe('success');
    const withFaults = harness.fake.total;
    harness.fake.resetCounts();
    await run.sync({ mode: 'full' });
    expect(withFaults).toBe(harness.fake.total + 4);
  });

  it('the SDK does not retry on its own: with retries off, one 429 is one request and a RateLimitError', async () => {
    const api = createNotionApi({
      credentials: CREDENTIALS,
      settings: { ...harness.settings, retry: { retries: 0 } },
    });
    harness.fake.failNext(1, 429, { retryAfter: '0' });
    const error = await api.me().catch((caught: unknown) => caught);
    expect(RateLimitError.isInstance(error)).toBe(true);
    expect(harness.fake.total).toBe(1);
  });

  it('reads Retry-After: a wait longer than maxRetryAfterMs is a RateLimitError at once, not a sleep', async () => {
    const api = createNotionApi({
      credentials: CREDENTIALS,
      settings: { ...harness.settings, retry: { maxRetryAfterMs: 500 } },
    });
    harness.fake.failNext(1, 429, { retryAfter: '120' });
    const error = (await api.me().catch((caught: unknown) => caught)) as RateLimitError;
    expect(RateLimitError.isInstance(error)).toBe(true);
    expect(error.retryAfterMs).toBe(120_000);
    expect(harness.fake.total).toBe(1);
  });

  it('a hanging call times out and is retried: the sync completes', async () => {
    const run = pipeline(harness, {}, { timeoutMs: 300 });
    harness.fake.hangNext(2);
    const summary = await run.sync({ mode: 'full' });
    expect(summary.status, summary.error).toBe('success');
    expect(run.live().length).toBe(12);
  });

  it('a cancelled run aborts the hanging call itself (no timeout needed to end it)', async () => {
    const run = pipeline(harness, {}, { timeoutMs: 600_000 });
    harness.fake.hangNext(1);
    const controller = new AbortController();
    const pending = run.sync({ mode: 'full', signal: controller.signal });
    // The first request is the one that hangs: abort once the fake holds it.
    while (harness.fake.total === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    controller.abort();
    const summary = await pending;
    expect(summary.status).toBe('cancelled');
  });

  it('a response of another shape fails the run with an error naming the field, not a TypeError', async () => {
    harness.fake.malformedNext({
      object: 'list',
      results: [{ object: 'page', id: 'x' }],
      has_more: false,
      next_cursor: null,
    });
    const summary = await pipeline(harness, {}).sync({ mode: 'full' });
    expect(summary.status).toBe('failed');
    expect(summary.error).toMatch(
      /^\[tributary\] \[notion\] search returned an unexpected shape at "results\[0\]/,
    );
  });

  it('sends the pinned Notion-Version on every call (the fake refuses any other)', async () => {
    await pipeline(harness, {}).sync({ mode: 'full' });
    expect(harness.fake.versions).toEqual(new Set(['2025-09-03']));
  });

  it('acquires a token of the injected rate limiter before every attempt, keyed per workspace', async () => {
    const keys: string[] = [];
    const rateLimiter: RateLimiter = {
      async acquire(key) {
        keys.push(key);
      },
    };
    harness.fake.failNext(2, 529);
    const summary = await pipeline(harness, {}, { rateLimiter }).sync({ mode: 'full' });
    expect(summary.status).toBe('success');
    expect(keys.length).toBe(harness.fake.total);
    expect(new Set(keys)).toEqual(new Set([rateLimitKeyOf(CREDENTIALS)]));
    expect(keys[0]).toMatch(/^notion:token-[0-9a-f]{16}$/);
    expect(rateLimitKeyOf({ type: 'oauth', accessToken: 'x', workspaceId: 'ws-1', botId: 'bot' })).toBe(
      'notion:ws-1',
    );
  });

  it('keeps under an enforced budget without a single 429', async () => {
    await harness.close();
    harness = await startNotionHarness({ requestsPerSecond: 40, burst: 4 });
    for (let index = 0; index < 20; index++)
      harness.fake.store.addPage({ title: `P${index}`, blocks: [block.paragraph('x')] });
    const summary = await pipeline(harness, {}, { requestsPerSecond: 20, burst: 2 }).sync({ mode: 'full' });
    expect(summary.status).toBe('success');
    expect(harness.fake.rateLimited).toBe(0);
  });
});
