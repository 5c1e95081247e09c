/** A monotonically increasing counter. */
export interface Counter {
  /** Adds `amount` (default 1). Negative or non-finite amounts are ignored. */
  count(amount?: number): void;
  readonly value: number;
}

/**
 * Counters a sync run reports in `connector_sync_logs` (`ctx.metrics`). The HTTP kit counts
 * `apiCalls` (one per attempt, retries included) and `bytes` (response bodies as they are read);
 * a connector using a vendor SDK counts its own calls.
 */
export interface SyncMetrics {
  readonly apiCalls: Counter;
  readonly bytes: Counter;
}

export function createCounter(): Counter {
  let value = 0;
  return {
    count(amount = 1) {
      if (Number.isFinite(amount) && amount > 0) value += amount;
    },
    get value() {
      return value;
    },
  };
}

/** Fresh zeroed metrics for one run. */
export function createSyncMetrics(): SyncMetrics {
  return { apiCalls: createCounter(), bytes: createCounter() };
}
