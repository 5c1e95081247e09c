/** `ChangeReader.next` gave up waiting: the deadline came first (the request stays outstanding). */
export const DEADLINE_PASSED: unique symbol = Symbol('deadline passed');

/** What one `next()` of the source's iterator came to, and how long the source took to answer. */
export type ReadChange<T> =
  | { ok: true; result: IteratorResult<T>; listMs: number }
  | { ok: false; error: unknown };

/**
 * Reads a connector's iterator with at most one `next()` outstanding, so the listing can stop
 * waiting for a slow source when a deadline passes (to hand out a group whose time is up) and come
 * back for the same answer: a change asked for is delivered exactly once, never lost, never asked
 * for twice. Failures of `next()` are delivered as values, so a request left outstanding when the
 * listing stops never becomes an unhandled rejection.
 */
export class ChangeReader<T> {
  readonly #iterator: AsyncIterator<T>;
  #pending: Promise<ReadChange<T>> | undefined;

  constructor(iterator: AsyncIterator<T>) {
    this.#iterator = iterator;
  }

  /**
   * The next change. With `deadline` (a `performance.now()` time), resolves with `DEADLINE_PASSED`
   * once it passes first (at once if it already has); the source keeps working on the change it was
   * asked for and the next call returns it. The deadline's timer does not keep the process alive and
   * is cleared before this returns.
   */
  async next(deadline?: number): Promise<ReadChange<T> | typeof DEADLINE_PASSED> {
    this.#pending ??= this.#ask();
    const pending = this.#pending;
    if (deadline === undefined) return this.#take(await pending);
    const wait = deadline - performance.now();
    if (wait <= 0) return DEADLINE_PASSED;
    let timer: NodeJS.Timeout | undefined;
    const passed = new Promise<typeof DEADLINE_PASSED>((resolve) => {
      timer = setTimeout(() => resolve(DEADLINE_PASSED), wait);
      timer.unref?.();
    });
    try {
      const first = await Promise.race([pending, passed]);
      return first === DEADLINE_PASSED ? first : this.#take(first);
    } finally {
      clearTimeout(timer);
    }
  }

  #take(read: ReadChange<T>): ReadChange<T> {
    this.#pending = undefined;
    return read;
  }

  #ask(): Promise<ReadChange<T>> {
    const asked = performance.now();
    let request: Promise<IteratorResult<T>>;
    try {
      request = Promise.resolve(this.#iterator.next());
    } catch (error) {
      request = Promise.reject(error);
    }
    return request.then(
      (result): ReadChange<T> => ({ ok: true, result, listMs: performance.now() - asked }),
      (error: unknown): ReadChange<T> => ({ ok: false, error }),
    );
  }
}
