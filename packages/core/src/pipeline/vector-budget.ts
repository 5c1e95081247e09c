/**
 * How many embedded vectors may be held in memory before they are written. A group asks for room
 * for all the inputs it is about to embed and gives it back once its chunks are written (or
 * failed), so when writes are the bottleneck (HNSW inserts) embedding waits for them instead of
 * piling up vectors: at 1536 dimensions each one is ~12 KB. Requests are served in order; one
 * larger than the whole budget is let through alone, so nothing can wait forever.
 */
export class VectorBudget {
  readonly #max: number;
  #used = 0;
  #writing = 0;
  readonly #waiting: { count: number; grant: () => void }[] = [];

  constructor(max: number) {
    this.#max = max;
  }

  /** Vectors held now (granted and not yet released). */
  get used(): number {
    return this.#used;
  }

  /** A holder has its vectors and is writing them: room comes back without further embedding. */
  startWriting(): () => void {
    this.#writing += 1;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.#writing -= 1;
    };
  }

  /**
   * True while a group waits for room that a write in progress will give back: inputs are about to
   * come, so a partly filled embedding request should wait for them rather than leave half empty.
   */
  roomComing(): boolean {
    return this.#waiting.length > 0 && this.#writing > 0;
  }

  /** True when a request for `count` would wait. */
  wouldWait(count: number): boolean {
    return this.#waiting.length > 0 || !this.#fits(count);
  }

  /** Waits for room for `count` vectors; the returned function gives it back (call it once). */
  async acquire(count: number, signal?: AbortSignal): Promise<() => void> {
    if (count <= 0) return () => {};
    if (!this.wouldWait(count)) return this.#take(count);
    await new Promise<void>((resolve, reject) => {
      const entry = {
        count,
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        const index = this.#waiting.indexOf(entry);
        if (index >= 0) this.#waiting.splice(index, 1);
        reject(signal?.reason ?? new Error('aborted'));
        this.#grantWaiting();
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiting.push(entry);
    });
    return this.#take(count, true);
  }

  #fits(count: number): boolean {
    return this.#used === 0 || this.#used + count <= this.#max;
  }

  #take(count: number, alreadyCounted = false): () => void {
    if (!alreadyCounted) this.#used += count;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#used -= count;
      this.#grantWaiting();
    };
  }

  /** Grants waiting requests in order while they fit. */
  #grantWaiting(): void {
    while (this.#waiting.length > 0) {
      const next = this.#waiting[0] as { count: number; grant: () => void };
      if (!this.#fits(next.count)) return;
      this.#waiting.shift();
      this.#used += next.count;
      next.grant();
    }
  }
}
