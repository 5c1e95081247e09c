import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../src/index.js';
import { createFakeClock } from './scripted-server.js';

describe('TokenBucket', () => {
  it('lets a burst through, then paces at requestsPerSecond, then refills up to burst', async () => {
    const clock = createFakeClock();
    const bucket = new TokenBucket({ requestsPerSecond: 2, burst: 3, clock });
    await bucket.take();
    await bucket.take();
    await bucket.take();
    expect(clock.sleeps).toEqual([]);
    await bucket.take();
    expect(clock.sleeps).toEqual([500]);
    await bucket.take();
    expect(clock.sleeps).toEqual([500, 500]);

    clock.advance(10_000);
    expect(bucket.available).toBe(3);
    expect(bucket.tryTake()).toBe(true);
    expect(bucket.tryTake(2)).toBe(true);
    expect(bucket.tryTake()).toBe(false);
    clock.advance(499);
    expect(bucket.tryTake()).toBe(false);
    clock.advance(1);
    expect(bucket.tryTake()).toBe(true);
  });

  it('serves concurrent takers first come, first served without oversubscribing', async () => {
    // Time stands still while all three ask at the same instant.
    const sleeps: number[] = [];
    const clock = { now: () => 1_000_000, sleep: async (ms: number) => void sleeps.push(ms) };
    const bucket = new TokenBucket({ requestsPerSecond: 1, burst: 1, clock });
    await Promise.all([bucket.take(), bucket.take(), bucket.take()]);
    // Reservations: now, +1 s, +2 s.
    expect(sleeps).toEqual([1000, 2000]);
  });

  it('returns the token when a waiting taker is aborted', async () => {
    const clock = createFakeClock();
    const bucket = new TokenBucket({ requestsPerSecond: 1, burst: 1, clock });
    await bucket.take();
    const controller = new AbortController();
    controller.abort();
    await expect(bucket.take(1, controller.signal)).rejects.toBeDefined();
    clock.advance(1000);
    expect(bucket.available).toBe(1);
  });

  it('rejects nonsense settings', () => {
    expect(() => new TokenBucket({ requestsPerSecond: 0 })).toThrow(
      /requestsPerSecond must be a positive number/,
    );
    expect(() => new TokenBucket({ requestsPerSecond: 1, burst: 0.5 })).toThrow(/burst/);
  });
});
