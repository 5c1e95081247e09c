/**
 * How far the source's listing got, told while it lists: groups are handed out every `groupSize`
 * documents, at a checkpoint or after `groupMaxWaitMs`, so without this nothing moves until a group
 * is stored. Calls `emit` at most once per `intervalMs` while documents are listed (the last count is
 * always told, on a trailing timer), and once more with `listing: false` when the listing ends.
 */
export class ListingProgress {
  readonly #emit: (listed: number, listing: boolean) => void;
  readonly #count: () => number;
  readonly #intervalMs: number;
  #listing = true;
  #lastEmit = Number.NEGATIVE_INFINITY;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: {
    /** Documents listed so far (the run's `counts.seen`). */
    count: () => number;
    emit: (listed: number, listing: boolean) => void;
    intervalMs?: number | undefined;
  }) {
    this.#emit = options.emit;
    this.#count = options.count;
    this.#intervalMs = options.intervalMs ?? 250;
  }

  /** True until `end()`. */
  get listing(): boolean {
    return this.#listing;
  }

  /** A document was listed. */
  listed(): void {
    if (!this.#listing) return;
    const since = Date.now() - this.#lastEmit;
    if (since >= this.#intervalMs) this.#fire();
    else if (!this.#timer) {
      this.#timer = setTimeout(() => this.#fire(), this.#intervalMs - since);
      this.#timer.unref?.();
    }
  }

  /** The listing ended (complete, cancelled or failed): one last event, then nothing. */
  end(): void {
    if (!this.#listing) return;
    this.#listing = false;
    this.#fire();
  }

  #fire(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#lastEmit = Date.now();
    this.#emit(this.#count(), this.#listing);
  }
}
