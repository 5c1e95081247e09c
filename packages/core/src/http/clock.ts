/**
 * Time source for waits and rate limits. Injected in tests so backoff and token refills are
 * asserted exactly, with no wall-clock thresholds.
 */
export interface Clock {
  /** Milliseconds since the epoch (`Date.now()`); also used to read `Retry-After` dates. */
  now(): number;
  /** Resolves after `ms`; rejects with `signal.reason` as soon as `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Abortable `setTimeout` sleep. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The real clock. */
export const systemClock: Clock = Object.freeze({ now: () => Date.now(), sleep });
