import PQueue from 'p-queue';
import type { RunControl } from './run-control.js';
import { StopRun } from './run-control.js';

/**
 * Runs groups concurrently (at most `concurrency`, with at most as many waiting: `submit` blocks
 * the listing beyond that, which is the back-pressure), and keeps durability order: a checkpoint
 * commits only after every group submitted before it is stored, and checkpoints commit in order.
 */
export class GroupScheduler {
  readonly #queue: PQueue;
  readonly #concurrency: number;
  readonly #control: RunControl;
  readonly #byId = new Map<string, Promise<void>>();
  /** Groups not yet settled (a failed one halts the run before it leaves this set). */
  readonly #unsettled = new Set<Promise<void>>();
  #checkpoints: Promise<void> = Promise.resolve();
  readonly #maxParkedWeight: number;
  #parkedWeight = 0;
  #parked = 0;

  /**
   * @param maxParkedWeight How much parked groups may hold at once (in embedding inputs): a group
   *   that waits on the embedding batcher gives its slot to the next group while the total stays
   *   under this, so a batch fills across many groups (a re-sync where few documents changed)
   *   with memory bounded by about one request's inputs and their vectors.
   */
  constructor(concurrency: number, control: RunControl, maxParkedWeight = 0) {
    this.#concurrency = concurrency;
    this.#queue = new PQueue({ concurrency });
    this.#control = control;
    this.#maxParkedWeight = maxParkedWeight;
  }

  /** Every slot runs a group (whatever else is submitted waits). */
  saturated(): boolean {
    return this.#queue.pending >= this.#queue.concurrency;
  }

  /**
   * A running group waits on something other groups feed (the embedding batcher): if `weight` fits
   * under the parking bound, one more group may run until the returned release is called (when the
   * group has stored what it waited for). Returns a no-op release when it does not fit.
   */
  park(weight: number): () => void {
    if (weight <= 0 || this.#parkedWeight + weight > this.#maxParkedWeight) return () => {};
    this.#parkedWeight += weight;
    this.#parked += 1;
    this.#queue.concurrency = this.#concurrency + this.#parked;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#parkedWeight -= weight;
      this.#parked -= 1;
      this.#queue.concurrency = this.#concurrency + this.#parked;
    };
  }

  /** Queues a group; waits while the queue is full. */
  async submit(ids: readonly string[], run: () => Promise<void>): Promise<void> {
    await this.#queue.onSizeLessThan(this.#concurrency);
    this.#control.check();
    const done = this.#queue.add(run).then(() => undefined);
    // A failing group halts the run (the first reason wins); its rejection is seen by checkpoints.
    done.catch((error: unknown) => {
      this.#control.halt(
        error instanceof StopRun
          ? error
          : new StopRun('failed', error instanceof Error ? error.message : String(error)),
      );
    });
    for (const id of ids) this.#byId.set(id, done);
    this.#unsettled.add(done);
    done
      .finally(() => {
        this.#unsettled.delete(done);
        for (const id of ids) if (this.#byId.get(id) === done) this.#byId.delete(id);
      })
      .catch(() => undefined);
  }

  /** Waits for the groups holding any of these ids (an id is never in two stages at once). */
  async waitFor(ids: Iterable<string>): Promise<void> {
    const holding = new Set<Promise<void>>();
    for (const id of ids) {
      const group = this.#byId.get(id);
      if (group) holding.add(group);
    }
    if (holding.size > 0) await Promise.all(holding);
  }

  /** Commits `commit` once everything submitted so far is stored, after earlier checkpoints. */
  checkpoint(commit: () => Promise<void>): Promise<void> {
    const before = Promise.all(this.#unsettled);
    // Seen by the chain below; until then a failure must not count as unhandled.
    before.catch(() => undefined);
    this.#checkpoints = this.#checkpoints.then(async () => {
      await before;
      this.#control.check();
      await commit();
    });
    this.#checkpoints.catch(() => undefined);
    return this.#checkpoints;
  }

  /** Everything submitted and every checkpoint done; rejects with the first failure. */
  async drain(): Promise<void> {
    await this.#queue.onIdle();
    await Promise.all(this.#unsettled);
    this.#control.check();
    await this.#checkpoints;
  }

  /** Waits for whatever is running to settle, failures included (used when the run stops). */
  async settle(): Promise<void> {
    await this.#queue.onIdle().catch(() => undefined);
    await Promise.allSettled(this.#unsettled);
    await this.#checkpoints.catch(() => undefined);
  }
}
