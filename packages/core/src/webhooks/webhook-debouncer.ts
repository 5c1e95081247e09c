/** Timers the debouncer uses; tests pass their own to drive it without waiting. */
export interface DebouncerTimers {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface WebhookDebouncerOptions<T> {
  /** Quiet period: `run` starts once no item was added for this long. */
  delayMs: number;
  /** Upper bound from the first waiting item to the start of its run, however busy the stream. Default: no bound. */
  maxWaitMs?: number | undefined;
  /** Processes one batch. Runs never overlap: items added meanwhile wait for the next batch. */
  run: (items: T[]) => Promise<void> | void;
  /** Called when `run` throws or rejects (default: ignored). The batch is not retried. */
  onError?: ((error: unknown, items: T[]) => void) | undefined;
  /** Default: the global timers and `Date.now`. */
  timers?: DebouncerTimers | undefined;
}

export interface WebhookDebouncer<T> {
  /** Queues items (e.g. recorded webhook events) and (re)starts the quiet period. */
  add(...items: T[]): void;
  /** Starts the waiting batch now (if any) and resolves when no run is in flight. */
  flush(): Promise<void>;
  /** Drops the waiting items and the timer; a run in flight finishes. Returns the dropped items. */
  cancel(): T[];
  /** Items waiting for the next run. */
  readonly pending: number;
  /** True while `run` is in flight. */
  readonly running: boolean;
}

const systemTimers: DebouncerTimers = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => {
    const handle = setTimeout(callback, ms);
    (handle as { unref?: () => void }).unref?.();
    return handle;
  },
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * Collects items arriving in bursts and processes them in batches: a batch starts after `delayMs`
 * without new items, or at the latest `maxWaitMs` after its first item, and never while the
 * previous batch is still running. Generic: hosts use it to turn a burst of webhook deliveries
 * into one `processWebhookEvents` call (which itself runs at most one sync for all `sync` events).
 *
 * @example
 * const debouncer = createWebhookDebouncer<RecordedWebhookEvent>({
 *   delayMs: 2_000,
 *   maxWaitMs: 30_000,
 *   run: async (events) => {
 *     const result = await processWebhookEvents({ ...syncOptions, events });
 *     if (result.pending.length > 0) debouncer.add(...result.pending);
 *   },
 * });
 * debouncer.add(...intake.events);
 */
export function createWebhookDebouncer<T>(options: WebhookDebouncerOptions<T>): WebhookDebouncer<T> {
  const delayMs = nonNegative(options.delayMs, 'delayMs');
  const maxWaitMs = options.maxWaitMs === undefined ? undefined : nonNegative(options.maxWaitMs, 'maxWaitMs');
  const timers = options.timers ?? systemTimers;
  let items: T[] = [];
  let firstAddedAt = 0;
  let timer: unknown;
  let hasTimer = false;
  let inFlight: Promise<void> | undefined;
  let dueWhileRunning = false;

  const clear = () => {
    if (hasTimer) timers.clearTimeout(timer);
    hasTimer = false;
  };
  const schedule = () => {
    clear();
    if (items.length === 0) return;
    const now = timers.now();
    let wait = delayMs;
    if (maxWaitMs !== undefined) wait = Math.min(wait, Math.max(0, firstAddedAt + maxWaitMs - now));
    timer = timers.setTimeout(fire, wait);
    hasTimer = true;
  };
  const fire = () => {
    hasTimer = false;
    if (inFlight) {
      dueWhileRunning = true;
      return;
    }
    start();
  };
  const execute = async (batch: T[]) => {
    try {
      await options.run(batch);
    } catch (error) {
      try {
        options.onError?.(error, batch);
      } catch {
        // An onError that throws must not stop the debouncer.
      }
    }
  };
  const start = () => {
    if (items.length === 0) return;
    const batch = items;
    items = [];
    clear();
    // `run` may finish synchronously (or throw), so the bookkeeping happens in a reaction that
    // always runs after `inFlight` is set.
    const current = execute(batch);
    inFlight = current;
    void current.then(() => {
      inFlight = undefined;
      const due = dueWhileRunning;
      dueWhileRunning = false;
      if (items.length === 0) return;
      if (due) start();
      else schedule();
    });
  };

  return {
    add(...added: T[]) {
      if (added.length === 0) return;
      if (items.length === 0) firstAddedAt = timers.now();
      items.push(...added);
      if (inFlight) return; // scheduled when the running batch ends
      schedule();
    },
    async flush() {
      while (inFlight || items.length > 0) {
        if (!inFlight) start();
        await inFlight;
      }
    },
    cancel() {
      clear();
      const dropped = items;
      items = [];
      dueWhileRunning = false;
      return dropped;
    },
    get pending() {
      return items.length;
    },
    get running() {
      return inFlight !== undefined;
    },
  };
}

function nonNegative(value: number, name: string): number {
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(
      `[tributary] [webhooks] ${name} must be a finite number of milliseconds >= 0, got ${value}`,
    );
  }
  return value;
}
