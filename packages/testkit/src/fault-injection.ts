import type { IncomingMessage, Server, ServerResponse } from 'node:http';

/**
 * What a faulty request gets instead of the fake server's answer. `429-bare` is a 429 without
 * `Retry-After` (Graph and Zoom send both kinds); it is not among the defaults.
 */
export type InjectedFault = '429' | '429-bare' | '500' | '502' | '503' | 'timeout' | 'reset';

export interface FaultInjectionOptions {
  /** Share of requests that fail, 0..1. Default 0.1 (one in ten). */
  rate?: number | undefined;
  /** Seed of the pseudo-random sequence, so a failing run can be replayed. Default 1. */
  seed?: number | undefined;
  /** Faults to draw from, equally likely. Default every {@link InjectedFault} but `429-bare`. */
  faults?: readonly InjectedFault[] | undefined;
  /**
   * How long a `timeout` fault holds the request before dropping the connection. Set it above the
   * client's per-attempt timeout to see a client timeout, below it to see a stall then a reset.
   * Default 200 ms.
   */
  hangMs?: number | undefined;
  /** `Retry-After` sent with 429 and 503, in seconds. Default `'0'`. */
  retryAfter?: string | undefined;
  /** Requests this returns `false` for are never faulted (e.g. the OAuth token endpoint). */
  shouldInject?: ((request: IncomingMessage) => boolean) | undefined;
  /**
   * Most faults in a row for one method + URL: the next attempt of that request goes through, so
   * a client with at least this many retries always gets its answer. Default 2.
   */
  maxConsecutivePerRequest?: number | undefined;
}

export interface FaultInjector {
  /** Faults injected so far, by kind. */
  readonly injected: Readonly<Record<InjectedFault, number>>;
  /** Total faults injected so far. */
  total(): number;
  /** Requests seen so far (faulted or not). */
  requests(): number;
  /** Puts the server's own request listeners back. */
  restore(): void;
}

/**
 * Makes a running fake provider server unreliable the way real networks and APIs are: a share of
 * requests (10% by default, drawn from a seeded sequence) answer 429 with `Retry-After`, 500, 502
 * or 503, stall and then lose their connection (`timeout`), or have their connection reset at
 * once (`reset`). Every other request reaches the server unchanged. Wraps the server's existing
 * `request` listeners, so any `node:http` fake works without changes.
 *
 * @example
 * const faults = injectFaults(fakeDrive.server, { rate: 0.1, seed: 7 });
 * const summary = await runSync(...);       // every document still arrives
 * expect(faults.total()).toBeGreaterThan(0);
 */
export function injectFaults(server: Server, options: FaultInjectionOptions = {}): FaultInjector {
  const rate = options.rate ?? 0.1;
  if (!(rate >= 0 && rate <= 1))
    throw new RangeError('[tributary] [testkit] fault rate must be between 0 and 1');
  const kinds = options.faults ?? (['429', '500', '502', '503', 'timeout', 'reset'] as const);
  if (kinds.length === 0) throw new RangeError('[tributary] [testkit] give at least one fault kind');
  const hangMs = options.hangMs ?? 200;
  const maxConsecutive = options.maxConsecutivePerRequest ?? 2;
  const random = mulberry32(options.seed ?? 1);
  const injected: Record<InjectedFault, number> = {
    '429': 0,
    '429-bare': 0,
    '500': 0,
    '502': 0,
    '503': 0,
    timeout: 0,
    reset: 0,
  };
  const streaks = new Map<string, number>();
  let requests = 0;

  const original = server.listeners('request') as Array<
    (request: IncomingMessage, response: ServerResponse) => void
  >;
  server.removeAllListeners('request');
  const listener = (request: IncomingMessage, response: ServerResponse) => {
    requests += 1;
    const key = `${request.method} ${request.url}`;
    const streak = streaks.get(key) ?? 0;
    const eligible = (options.shouldInject?.(request) ?? true) && streak < maxConsecutive;
    if (!eligible || random() >= rate) {
      streaks.delete(key);
      for (const handler of original) handler.call(server, request, response);
      return;
    }
    streaks.set(key, streak + 1);
    const kind = kinds[Math.floor(random() * kinds.length)] as InjectedFault;
    injected[kind] += 1;
    request.resume(); // Drain the body so the socket is in a known state.
    if (kind === 'reset') {
      request.socket.destroy();
      return;
    }
    if (kind === 'timeout') {
      const timer = setTimeout(() => request.socket.destroy(), hangMs);
      request.socket.once('close', () => clearTimeout(timer));
      return;
    }
    const status = kind === '429-bare' ? 429 : Number(kind);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (kind === '429' || kind === '503') headers['retry-after'] = options.retryAfter ?? '0';
    response.writeHead(status, headers);
    response.end(JSON.stringify({ error: { code: status, message: `injected fault ${kind}` } }));
  };
  server.on('request', listener);

  return {
    injected,
    total: () => Object.values(injected).reduce((sum, count) => sum + count, 0),
    requests: () => requests,
    restore() {
      server.removeListener('request', listener);
      for (const handler of original) server.on('request', handler);
    },
  };
}

/** A small seeded PRNG (mulberry32): the same seed gives the same faults on the same requests. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}
