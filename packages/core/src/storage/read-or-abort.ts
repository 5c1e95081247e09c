/**
 * `read`, or a rejection with `abortError()` as soon as `signal` aborts, whichever comes first.
 * The abort listener lives only as long as this one read. (Racing every read against one
 * long-lived "aborted" promise would keep each chunk reachable from that promise until the signal
 * fires: a 2 GB upload held in memory.)
 */
export function readOrAbort<T>(
  read: Promise<T>,
  signal: AbortSignal | undefined,
  abortError: () => Error,
): Promise<T> {
  if (!signal) return read;
  if (signal.aborted) {
    read.catch(() => {});
    return Promise.reject(abortError());
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError());
    signal.addEventListener('abort', onAbort, { once: true });
    read.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
