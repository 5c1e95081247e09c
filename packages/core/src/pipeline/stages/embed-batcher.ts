import pLimit, { type LimitFunction } from 'p-limit';
import type { Embedder } from '../../embedding/embedder.js';
import { isFatalError } from '../../errors/is-fatal-error.js';
import { type RunControl, StopRun } from '../run-control.js';
import type { StageClock } from '../stage-timings.js';
import type { SyncEmbeddingCounts } from '../types.js';

/** One text to embed, keyed by the hash of its chunk. */
export interface EmbedItem {
  hash: string;
  text: string;
  tokens: number;
}

export interface EmbedBatcherOptions {
  embedder: Embedder;
  /** Most inputs per request (the embedder's limit, or tighter). */
  maxInputs: number;
  /** Most tokens per request (the embedder's limit, or tighter). */
  maxTokens: number;
  /** A batch that is not full is sent once no input has arrived for this long (while listing)... */
  flushDelayMs: number;
  /** ...or this long after its first input, whichever comes first (also once the listing ended). */
  maxWaitMs: number;
  /** Requests in flight at once. */
  concurrency: number;
  control: RunControl;
  clock: StageClock;
  counts: SyncEmbeddingCounts;
  /** True while every slot for groups is taken (the listing waits): nothing new can arrive until a flush. */
  saturated: () => boolean;
  /**
   * True while inputs are sure to come without this batch going out (a write in progress will make
   * room for a group waiting on the vector budget): the batch keeps waiting past `maxWaitMs`.
   */
  moreComing?: (() => boolean) | undefined;
}

/** A vector as float32 (what pgvector stores; half the bytes of a number[]), or why there is none. */
type Outcome = Float32Array | Error;

interface Waiting extends EmbedItem {
  settle: (outcome: Outcome) => void;
}

/**
 * Fills embedding requests to the provider's limits across documents and groups: callers hand in
 * their chunks and wait; a request goes out when the next input would break the input or token
 * limit, when no input has arrived for `flushDelayMs` (not once the listing has ended), when the
 * oldest has waited `maxWaitMs` (a group that stays busy, e.g. a slow download, delays the others'
 * writes by at most that), or as soon as no producer (a group between its start and its embedding
 * call) can add more: the listing has ended, or every group slot is taken by groups already
 * waiting here, and no group waits for vector-budget room that a write in progress will free. A hash already waiting or in flight is not sent twice. A failed request fails
 * only its own inputs (fatal errors halt the run).
 */
export class EmbedBatcher {
  readonly #options: EmbedBatcherOptions;
  readonly #limit: LimitFunction;
  #batch: Waiting[] = [];
  #batchTokens = 0;
  #timer: NodeJS.Timeout | undefined;
  #firstAt = 0;
  readonly #pending = new Map<string, Promise<Outcome>>();
  #producers = 0;
  #closed = false;

  constructor(options: EmbedBatcherOptions) {
    this.#options = options;
    this.#limit = pLimit(Math.max(1, options.concurrency));
  }

  /** Vectors (or the error that prevented one) for every item, by hash. */
  async embed(items: readonly EmbedItem[]): Promise<Map<string, Outcome>> {
    const waits = items.map(async (item) => [item.hash, await this.#enqueue(item)] as const);
    return new Map(await Promise.all(waits));
  }

  /** A group started: it may add inputs until `leave`. */
  enter(): void {
    this.#producers += 1;
  }

  /** A group has added all it will add (call once per `enter`). */
  leave(): void {
    this.#producers -= 1;
    this.#sendIfNothingMoreCanCome();
  }

  /** The listing ended: once the groups still producing are done, what waits goes out. */
  close(): void {
    this.#closed = true;
    this.#schedule();
    this.#sendIfNothingMoreCanCome();
  }

  /**
   * Once the listing ended, a group still waiting on the vector budget for room that a write in
   * progress will give back is sure to add inputs: the batch waits for it (the idle timer sends it
   * once no write is in progress), so each later group does not send its own partial request.
   */
  #sendIfNothingMoreCanCome(): void {
    if (this.#producers > 0 || this.#options.moreComing?.()) return;
    if (this.#closed || this.#options.saturated()) this.#send();
  }

  #enqueue(item: EmbedItem): Promise<Outcome> {
    const known = this.#pending.get(item.hash);
    if (known) return known;
    const promise = new Promise<Outcome>((settle) => {
      if (
        this.#batch.length > 0 &&
        (this.#batch.length + 1 > this.#options.maxInputs ||
          this.#batchTokens + item.tokens > this.#options.maxTokens)
      ) {
        this.#send();
      }
      this.#batch.push({ ...item, settle });
      this.#batchTokens += item.tokens;
      if (this.#batch.length >= this.#options.maxInputs || this.#batchTokens >= this.#options.maxTokens) {
        this.#send();
      } else {
        if (this.#batch.length === 1) this.#firstAt = Date.now();
        this.#schedule();
      }
    });
    this.#pending.set(item.hash, promise);
    void promise.finally(() => this.#pending.delete(item.hash));
    return promise;
  }

  /**
   * Idle timer, restarted by every input, never past maxWaitMs from the first. Once the listing has
   * ended only the cap applies: otherwise the last producer to finish sends the rest.
   */
  #schedule(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#batch.length === 0) return;
    this.#armTimer(this.#nextWait());
  }

  #nextWait(): number {
    const left = this.#firstAt + this.#options.maxWaitMs - Date.now();
    return this.#closed ? left : Math.min(this.#options.flushDelayMs, left);
  }

  /**
   * The idle flush. While a group is still producing (between its start and its embedding call) it
   * may add inputs soon: the timer waits again, up to maxWaitMs from the first input, so batches
   * fill across groups instead of leaving whenever one group takes longer than flushDelayMs.
   */
  #armTimer(wait: number): void {
    this.#timer = setTimeout(
      () => {
        const left = this.#firstAt + this.#options.maxWaitMs - Date.now();
        if (this.#options.moreComing?.()) this.#armTimer(this.#options.flushDelayMs);
        else if (this.#producers > 0 && left > 0) this.#armTimer(this.#nextWait());
        else this.#send();
      },
      Math.max(0, wait),
    );
    this.#timer.unref?.();
  }

  #send(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#batch;
    if (batch.length === 0) return;
    this.#batch = [];
    this.#batchTokens = 0;
    void this.#limit(() => this.#request(batch));
  }

  async #request(batch: Waiting[]): Promise<void> {
    const { embedder, control, clock, counts } = this.#options;
    try {
      control.check();
      const texts = batch.map((item) => item.text);
      const result = await clock.time('embed', () => embedder.embed(texts, { signal: control.signal }));
      counts.requests += 1;
      counts.inputs += texts.length;
      counts.tokens += result.usage.tokens;
      for (const [index, item] of batch.entries()) {
        const vector = result.vectors[index];
        if (!vector) item.settle(new Error('the embedder returned fewer vectors than inputs'));
        else if (vector.length !== embedder.dimensions) {
          item.settle(
            new Error(`the embedder returned ${vector.length} dimensions, not ${embedder.dimensions}`),
          );
        } else item.settle(Float32Array.from(vector));
      }
    } catch (error) {
      if (isFatalError(error)) {
        // Quota or credentials: every later request would fail the same way.
        control.halt(new StopRun('failed', error instanceof Error ? error.message : String(error)));
      }
      const failure = control.stopped ?? (error instanceof Error ? error : new Error(String(error)));
      for (const item of batch) item.settle(failure);
    }
  }
}
