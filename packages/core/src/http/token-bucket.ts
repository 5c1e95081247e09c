import { type Clock, systemClock } from './clock.js';

export interface TokenBucketOptions {
  /** Steady refill rate. */
  requestsPerSecond: number;
  /** Bucket size: how many requests may go at once after a quiet period. Default `max(1, requestsPerSecond)`. */
  burst?: number | undefined;
  clock?: Clock | undefined;
}

/**
 * A token bucket: holds up to `burst` tokens, refills `requestsPerSecond` per second, and each
 * request takes one. `take()` reserves its token at once (the balance may go negative) and then
 * waits for the refill, so concurrent callers are served first come, first served and never
 * oversubscribe the rate. A caller aborted while waiting gives its token back.
 */
export class TokenBucket {
  readonly requestsPerSecond: number;
  readonly burst: number;
  private readonly clock: Clock;
  private tokens: number;
  private updatedAt: number;

  constructor(options: TokenBucketOptions) {
    if (!(options.requestsPerSecond > 0) || !Number.isFinite(options.requestsPerSecond)) {
      throw new RangeError(
        `[tributary] [http] requestsPerSecond must be a positive number, got ${options.requestsPerSecond}.`,
      );
    }
    const burst = options.burst ?? Math.max(1, options.requestsPerSecond);
    if (!(burst >= 1) || !Number.isFinite(burst)) {
      throw new RangeError(`[tributary] [http] burst must be a number >= 1, got ${burst}.`);
    }
    this.requestsPerSecond = options.requestsPerSecond;
    this.burst = burst;
    this.clock = options.clock ?? systemClock;
    this.tokens = burst;
    this.updatedAt = this.clock.now();
  }

  /** Tokens available now (negative while reservations wait). */
  get available(): number {
    this.refill();
    return this.tokens;
  }

  /** Takes `count` tokens if they are available now, without waiting. */
  tryTake(count = 1): boolean {
    this.refill();
    if (this.tokens < count) return false;
    this.tokens -= count;
    return true;
  }

  /** Takes `count` tokens, waiting for the refill when the bucket is empty. */
  async take(count = 1, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    this.refill();
    this.tokens -= count;
    if (this.tokens >= 0) return;
    const waitMs = Math.ceil((-this.tokens / this.requestsPerSecond) * 1000);
    try {
      await this.clock.sleep(waitMs, signal);
    } catch (error) {
      this.tokens += count;
      throw error;
    }
  }

  private refill(): void {
    const now = this.clock.now();
    const elapsed = now - this.updatedAt;
    if (elapsed > 0) {
      this.tokens = Math.min(this.burst, this.tokens + (elapsed / 1000) * this.requestsPerSecond);
    }
    this.updatedAt = now;
  }
}
