import type { Clock } from './clock.js';
import { TokenBucket } from './token-bucket.js';

/** A request budget: steady rate plus burst. */
export interface RateLimitSettings {
  readonly requestsPerSecond: number;
  /** Default `max(1, requestsPerSecond)`. */
  readonly burst?: number | undefined;
}

/**
 * Gate every request passes before it is sent. `key` is the provider (or a finer key such as
 * `notion:<workspace>`). The in-process limiter keeps a token bucket per key; a limiter shared
 * across workers (a budget in Postgres) implements the same interface.
 */
export interface RateLimiter {
  acquire(key: string, signal?: AbortSignal): Promise<void>;
}

export interface CreateRateLimiterOptions extends RateLimitSettings {
  clock?: Clock | undefined;
}

/** An in-process rate limiter: one `TokenBucket` per key, created on first use. */
export function createRateLimiter(options: CreateRateLimiterOptions): RateLimiter {
  const buckets = new Map<string, TokenBucket>();
  return {
    acquire(key, signal) {
      let bucket = buckets.get(key);
      if (bucket === undefined) {
        bucket = new TokenBucket(options);
        buckets.set(key, bucket);
      }
      return bucket.take(1, signal);
    },
  };
}

export function isRateLimiter(value: unknown): value is RateLimiter {
  return typeof value === 'object' && value !== null && typeof (value as RateLimiter).acquire === 'function';
}

// Settings objects map to one limiter each, so every client created with the same `rateLimit`
// object shares one bucket per key (a connector's `rateLimit` is one frozen object).
const limiters = new WeakMap<object, RateLimiter>();

/** The shared limiter for a settings object (created on first use), or the limiter itself. */
export function resolveRateLimiter(
  rateLimit: RateLimitSettings | RateLimiter | undefined,
  clock?: Clock,
): RateLimiter | undefined {
  if (rateLimit === undefined) return undefined;
  if (isRateLimiter(rateLimit)) return rateLimit;
  let limiter = limiters.get(rateLimit);
  if (limiter === undefined) {
    limiter = createRateLimiter({ ...rateLimit, clock });
    limiters.set(rateLimit, limiter);
  }
  return limiter;
}
