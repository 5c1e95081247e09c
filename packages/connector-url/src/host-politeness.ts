import { TokenBucket } from '@tributary/core';

export interface HostPolitenessOptions {
  /** Requests started per second, per host. */
  requestsPerSecond: number;
  /** Requests in flight at once, per host. */
  concurrency: number;
}

/**
 * Per-host politeness: at most `concurrency` requests in flight to one host, started no faster
 * than `requestsPerSecond` (evenly spaced: the bucket holds one token). `acquire` resolves with a
 * release function once both allow the request.
 */
export interface HostPoliteness {
  acquire(host: string, signal: AbortSignal): Promise<() => void>;
  /** Slows a host down further (a robots.txt `Crawl-delay`, in seconds). */
  setCrawlDelay(host: string, seconds: number): void;
}

interface HostState {
  bucket: TokenBucket;
  active: number;
  waiting: (() => void)[];
}

export function createHostPoliteness(options: HostPolitenessOptions): HostPoliteness {
  const hosts = new Map<string, HostState>();
  const stateOf = (host: string): HostState => {
    let state = hosts.get(host);
    if (!state) {
      state = {
        bucket: new TokenBucket({ requestsPerSecond: options.requestsPerSecond, burst: 1 }),
        active: 0,
        waiting: [],
      };
      hosts.set(host, state);
    }
    return state;
  };

  return {
    async acquire(host, signal) {
      const state = stateOf(host);
      if (state.active >= options.concurrency) {
        await new Promise<void>((resolve, reject) => {
          const onAbort = () => {
            state.waiting = state.waiting.filter((entry) => entry !== wake);
            reject(signal.reason);
          };
          const wake = () => {
            signal.removeEventListener('abort', onAbort);
            resolve();
          };
          if (signal.aborted) {
            reject(signal.reason);
            return;
          }
          signal.addEventListener('abort', onAbort, { once: true });
          state.waiting.push(wake);
        });
      } else {
        state.active += 1;
      }
      // The slot is ours (handed over by a release, or taken above); now the rate.
      try {
        await state.bucket.take(1, signal);
      } catch (error) {
        release(state);
        throw error;
      }
      let released = false;
      return () => {
        if (released) return;
        released = true;
        release(state);
      };
    },
    setCrawlDelay(host, seconds) {
      if (!(seconds > 0) || !Number.isFinite(seconds)) return;
      const state = stateOf(host);
      const rate = Math.min(options.requestsPerSecond, 1 / seconds);
      if (rate < state.bucket.requestsPerSecond) {
        state.bucket = new TokenBucket({ requestsPerSecond: rate, burst: 1 });
      }
    },
  };
}

/** Hands the slot to the next waiter, or frees it. */
function release(state: HostState): void {
  const next = state.waiting.shift();
  if (next) next();
  else state.active -= 1;
}
