import {
  type Clock,
  type Logger,
  type RateLimiter,
  type RateLimitSettings,
  silentLogger,
  systemClock,
} from '@tributary/core';
import type { SqlClient } from './sql-client.js';
import { WorkerError } from './worker-error.js';

export interface PostgresRateLimiterOptions {
  /** A node-postgres `Pool` (or anything with `query`) on a database migrated with `@tributary/sql` 0017+. */
  db: SqlClient;
  /** The budget of a key; `undefined` lets requests through unlimited. Default: `defaultBudget` for every key. */
  budgetFor?: ((key: string) => RateLimitSettings | undefined) | undefined;
  /** The budget of keys `budgetFor` does not answer for. */
  defaultBudget?: RateLimitSettings | undefined;
  /** Most send times reserved in one round trip (default 16). */
  maxBatch?: number | undefined;
  /** Send times reserved ahead of demand, so a steady caller rarely waits for a round trip (default 0). */
  prefetch?: number | undefined;
  /**
   * A reserved send time is used at most this late (default 25 ms), else dropped unused: a time
   * used late would bunch with other workers' times and break the budget.
   */
  slotGraceMs?: number | undefined;
  /** Waiting on the database after an error before trying again (default 1,000 ms). */
  retryDelayMs?: number | undefined;
  clock?: Clock | undefined;
  logger?: Logger | undefined;
}

export interface PostgresRateLimiter extends RateLimiter {
  /** A limiter that spends `budgetKey`'s budget whatever key the caller passes (a provider account). */
  forBudget(budgetKey: string, budget?: RateLimitSettings | undefined): RateLimiter;
  /** Round trips to the database and requests let through, for metrics and tests. */
  readonly stats: { readonly roundTrips: number; readonly granted: number; readonly dropped: number };
}

interface Waiter {
  resolve(): void;
  reject(error: unknown): void;
  signal: AbortSignal | undefined;
  onAbort?: (() => void) | undefined;
}

interface KeyState {
  budget: RateLimitSettings;
  /** Reserved send times (local clock, ascending). */
  slots: number[];
  waiters: Waiter[];
  reserving: boolean;
}

/**
 * A `RateLimiter` whose budget lives in Postgres (`reserve_rate_tokens`, GCRA): every worker on
 * the database spends the same budget per key, so two workers on one Notion integration stay
 * under its 3 requests/s together. The local fast path: callers waiting at the same moment share
 * one round trip (up to `maxBatch` send times at once), and each then waits locally for its time.
 * While the database is unreachable, callers wait (the budget is never exceeded by guessing).
 */
export function createPostgresRateLimiter(options: PostgresRateLimiterOptions): PostgresRateLimiter {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const maxBatch = Math.max(1, Math.min(1000, Math.floor(options.maxBatch ?? 16)));
  const prefetch = Math.max(0, Math.floor(options.prefetch ?? 0));
  const graceMs = Math.max(0, options.slotGraceMs ?? 25);
  const retryDelayMs = Math.max(1, options.retryDelayMs ?? 1000);
  const states = new Map<string, KeyState>();
  const stats = { roundTrips: 0, granted: 0, dropped: 0 };

  const budgetOf = (key: string, explicit?: RateLimitSettings): RateLimitSettings | undefined => {
    const budget = explicit ?? options.budgetFor?.(key) ?? options.defaultBudget;
    if (budget === undefined) return undefined;
    if (!(budget.requestsPerSecond > 0) || !Number.isFinite(budget.requestsPerSecond)) {
      throw new WorkerError({
        reason: 'invalid_options',
        message: `the rate budget of ${key} has requestsPerSecond ${budget.requestsPerSecond}`,
        hint: 'Give a positive number of requests per second',
      });
    }
    return budget;
  };

  const pump = (key: string, state: KeyState): void => {
    const now = clock.now();
    while (state.waiters.length > 0 && state.slots.length > 0) {
      const slot = state.slots.shift() as number;
      if (slot < now - graceMs) {
        stats.dropped += 1;
        continue;
      }
      const waiter = state.waiters.shift() as Waiter;
      if (waiter.onAbort) waiter.signal?.removeEventListener('abort', waiter.onAbort);
      stats.granted += 1;
      clock.sleep(Math.max(0, slot - now), waiter.signal).then(waiter.resolve, waiter.reject);
    }
    // Prefetched times nobody used in time are dropped; the next caller reserves afresh.
    while (state.slots.length > 0 && (state.slots[0] as number) < now - graceMs) {
      state.slots.shift();
      stats.dropped += 1;
    }
    if (state.waiters.length === 0 || state.reserving) return;
    state.reserving = true;
    const count = Math.min(maxBatch, state.waiters.length + prefetch);
    const burst = Math.max(1, Math.floor(state.budget.burst ?? Math.max(1, state.budget.requestsPerSecond)));
    stats.roundTrips += 1;
    options.db
      .query<{ waits: number[] }>('select public.reserve_rate_tokens($1, $2, $3, $4) as waits', [
        key,
        count,
        state.budget.requestsPerSecond,
        burst,
      ])
      .then(
        (result) => {
          const at = clock.now();
          const waits = result.rows[0]?.waits ?? [];
          state.slots.push(...waits.map((wait) => at + Number(wait)));
          state.slots.sort((a, b) => a - b);
          state.reserving = false;
          pump(key, state);
        },
        (error: unknown) => {
          logger.warn('shared rate budget unavailable; waiting before trying again', {
            budget: key,
            error: error instanceof Error ? error.message : String(error),
          });
          clock.sleep(retryDelayMs).then(() => {
            state.reserving = false;
            pump(key, state);
          });
        },
      );
  };

  const acquireFor = (key: string, explicit?: RateLimitSettings) => (signal?: AbortSignal) => {
    signal?.throwIfAborted();
    let state = states.get(key);
    if (state === undefined) {
      const budget = budgetOf(key, explicit);
      if (budget === undefined) return Promise.resolve();
      state = { budget, slots: [], waiters: [], reserving: false };
      states.set(key, state);
    }
    const current = state;
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, signal };
      if (signal) {
        waiter.onAbort = () => {
          const index = current.waiters.indexOf(waiter);
          if (index >= 0) current.waiters.splice(index, 1);
          reject(signal.reason);
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      current.waiters.push(waiter);
      pump(key, current);
    });
  };

  return {
    acquire: (key, signal) => acquireFor(key)(signal),
    forBudget: (budgetKey, budget) => {
      const acquire = acquireFor(budgetKey, budget);
      return { acquire: (_key, signal) => acquire(signal) };
    },
    stats,
  };
}
