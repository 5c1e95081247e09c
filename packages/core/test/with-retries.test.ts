import { describe, expect, it } from 'vitest';
import {
  ConnectorApiError,
  computeBackoffDelay,
  createConsoleLogger,
  isRetryableFailure,
  parseRetryAfter,
  QuotaExceededError,
  RateLimitError,
  silentLogger,
  withRetries,
} from '../src/index.js';
import { createFakeClock } from './scripted-server.js';

const fastPolicy = { minDelayMs: 100, maxDelayMs: 1000, factor: 2, jitter: 'none' as const };

describe('withRetries (for vendor SDK calls)', () => {
  it('retries an SDK error by its status and Retry-After header (Headers instance)', async () => {
    const clock = createFakeClock();
    let calls = 0;
    const notices: number[] = [];
    const result = await withRetries(
      async ({ attemptNumber }) => {
        calls += 1;
        if (attemptNumber === 1) {
          throw Object.assign(new Error('rate limited'), {
            status: 429,
            headers: new Headers({ 'retry-after': '7' }),
          });
        }
        if (attemptNumber === 2) throw Object.assign(new Error('bad gateway'), { response: { status: 502 } });
        return 'ok';
      },
      { ...fastPolicy, clock, provider: 'notion', onRetry: (notice) => notices.push(notice.delayMs) },
    );
    expect(result).toBe('ok');
    expect(calls).toBe(3);
    expect(clock.sleeps).toEqual([7000, 200]);
    expect(notices).toEqual([7000, 200]);
  });

  it('retries network errors by code and converts the final one', async () => {
    const clock = createFakeClock();
    let calls = 0;
    const error = await withRetries(
      async () => {
        calls += 1;
        throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
      },
      { ...fastPolicy, retries: 2, clock, provider: 'google_drive' },
    ).catch((caught: unknown) => caught);
    expect(calls).toBe(3);
    expect(ConnectorApiError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain(
      '[tributary] [google_drive] API call failed before any response arrived (network error: ECONNRESET)',
    );
  });

  it('does not retry a 400 or a programming error, and rethrows a bug unchanged', async () => {
    const clock = createFakeClock();
    let calls = 0;
    const bug = new RangeError('index out of range');
    await expect(
      withRetries(
        async () => {
          calls += 1;
          throw bug;
        },
        { clock },
      ),
    ).rejects.toBe(bug);
    const badRequest = await withRetries(
      async () => {
        calls += 1;
        throw Object.assign(new Error('validation failed'), { status: 400 });
      },
      { clock, provider: 'notion' },
    ).catch((caught: unknown) => caught);
    expect(calls).toBe(2);
    expect(badRequest).toMatchObject({ status: 400, isRetryable: false, connector: 'notion' });
    expect(clock.sleeps).toEqual([]);
  });

  it('maps an exhausted quota to QuotaExceededError and a long Retry-After to RateLimitError', async () => {
    const clock = createFakeClock();
    const quota = await withRetries(
      async () => {
        throw Object.assign(new Error('You exceeded your current quota (insufficient_quota)'), {
          status: 429,
        });
      },
      { clock },
    ).catch((caught: unknown) => caught);
    expect(QuotaExceededError.isInstance(quota)).toBe(true);

    const long = await withRetries(
      async () => {
        throw Object.assign(new Error('slow down'), { status: 429, headers: { 'Retry-After': '601' } });
      },
      { clock, maxRetryAfterMs: 600_000 },
    ).catch((caught: unknown) => caught);
    expect(RateLimitError.isInstance(long)).toBe(true);
    expect(long).toMatchObject({ retryAfterMs: 601_000 });
    expect(clock.sleeps).toEqual([]);
  });
});

describe('retry building blocks', () => {
  it('computeBackoffDelay grows by factor, caps at maxDelayMs, jitters in [0, cap]', () => {
    const policy = { minDelayMs: 500, maxDelayMs: 3000, factor: 2, jitter: 'none' as const };
    expect([1, 2, 3, 4, 5].map((retry) => computeBackoffDelay(retry, policy))).toEqual([
      500, 1000, 2000, 3000, 3000,
    ]);
    expect(computeBackoffDelay(3, { ...policy, jitter: 'full' }, () => 0.25)).toBe(500);
    expect(computeBackoffDelay(3, { ...policy, jitter: 'full' }, () => 0)).toBe(0);
  });

  it('parseRetryAfter reads seconds and HTTP dates', () => {
    const now = Date.UTC(2025, 0, 1, 0, 0, 0);
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Tue, 31 Dec 2024 23:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });

  it('isRetryableFailure: 408/425/429/5xx and network yes; 409, 4xx, aborts no', () => {
    for (const status of [408, 425, 429, 500, 503, 529]) expect(isRetryableFailure({ status })).toBe(true);
    for (const status of [400, 401, 403, 404, 409]) expect(isRetryableFailure({ status })).toBe(false);
    expect(isRetryableFailure(new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } }))).toBe(true);
    expect(isRetryableFailure(new DOMException('aborted', 'AbortError'))).toBe(false);
    expect(isRetryableFailure(new Error('anything'))).toBe(false);
  });
});

describe('loggers', () => {
  it('createConsoleLogger filters by level and adds base fields; silentLogger drops all', () => {
    const lines: unknown[][] = [];
    const sink = {
      debug: (...args: unknown[]) => lines.push(['debug', ...args]),
      info: (...args: unknown[]) => lines.push(['info', ...args]),
      warn: (...args: unknown[]) => lines.push(['warn', ...args]),
      error: (...args: unknown[]) => lines.push(['error', ...args]),
    };
    const logger = createConsoleLogger({ level: 'info', console: sink, fields: { connector: 'zoom' } });
    logger.debug('hidden');
    logger.info('listed', { count: 3 });
    logger.error('failed');
    expect(lines).toEqual([
      ['info', '[tributary] listed', { connector: 'zoom', count: 3 }],
      ['error', '[tributary] failed', { connector: 'zoom' }],
    ]);
    expect(() => silentLogger.error('x')).not.toThrow();
  });
});
