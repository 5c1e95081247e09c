import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type Socket } from 'node:net';
import {
  AbortError,
  ConnectorApiError,
  type Logger,
  type RetryPolicy,
  retryAfterFromHeaders,
  type SyncMetrics,
  TimeoutError,
  TributaryError,
  UnsafeUrlError,
  withRetries,
} from '@tributary/core';
import { Agent, buildConnector, fetch as undiciFetch } from 'undici';
import { unsafeAddressReason } from './address-policy.js';
import type { HostPoliteness } from './host-politeness.js';

/** Connector type, used in error messages and logs. */
export const URL_CONNECTOR_TYPE = 'url';

/**
 * A DNS resolver with the signature of `dns.lookup` (it is called with `{ all: true }`). Injectable
 * so tests and hosts with their own resolver decide what a name resolves to.
 */
export type LookupFunction = (
  hostname: string,
  options: { all: true },
  callback: (
    error: NodeJS.ErrnoException | null,
    addresses: LookupAddress[] | string,
    family?: number,
  ) => void,
) => void;

export interface SafeFetcherOptions {
  userAgent: string;
  /** One attempt (headers and body). */
  timeoutMs: number;
  maxBytes: number;
  maxRedirects: number;
  /** Skip every address check (an intranet deployment that trusts all its hosts). */
  allowPrivateNetworks: boolean;
  /** `host` or `host:port` (IPv6 in brackets) allowed even when they resolve to private addresses. */
  allowedHosts: readonly string[];
  lookup: LookupFunction | undefined;
  politeness: HostPoliteness;
  retry: Partial<RetryPolicy>;
  logger: Logger;
  metrics: SyncMetrics | undefined;
  signal: AbortSignal;
}

export interface FetchRequest {
  /** Extra request headers (conditional headers: `if-none-match`, `if-modified-since`). */
  headers?: Record<string, string> | undefined;
  /** Decides from the final response's headers whether to read the body (default: read it). */
  wantsBody?: ((response: FetchedHead) => boolean) | undefined;
  /** Byte cap for this request; default the fetcher's `maxBytes`. */
  maxBytes?: number | undefined;
}

export interface FetchedHead {
  /** Final status: 2xx, 304, 404 or 410 (other errors are thrown). */
  readonly status: number;
  /** URL of the final hop. */
  readonly url: string;
  readonly headers: Headers;
  /** Media type without parameters, lower case; `''` when absent. */
  readonly mediaType: string;
}

export interface FetchedResponse extends FetchedHead {
  /** The body, when it was read. */
  readonly body: Uint8Array | undefined;
  /** Every URL visited, the requested one first. */
  readonly chain: readonly string[];
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** Statuses answered to the caller instead of thrown. */
const ANSWERED_STATUSES = new Set([304, 404, 410]);

/**
 * Fetches public http(s) URLs only. Every hop of a redirect chain is checked; the address checked
 * is the address connected to (the connector resolves the name, refuses private answers, and
 * connects to exactly that address), so DNS rebinding between a check and the connection cannot
 * reach a private network. The socket's remote address is checked once more after connecting.
 */
export interface SafeFetcher {
  fetch(url: string, request?: FetchRequest): Promise<FetchedResponse>;
  /** Throws `UnsafeUrlError` when the URL may not be fetched (scheme, address, allow-list). */
  assertAllowed(url: string): Promise<URL>;
  close(): Promise<void>;
}

export function createSafeFetcher(options: SafeFetcherOptions): SafeFetcher {
  const lookup: LookupFunction = options.lookup ?? (dnsLookup as unknown as LookupFunction);
  const allowed = new Set(options.allowedHosts.map((entry) => entry.toLowerCase()));
  const isHostAllowed = (hostname: string, port: string) => {
    const host = hostname.includes(':') && !hostname.startsWith('[') ? `[${hostname}]` : hostname;
    return allowed.has(host.toLowerCase()) || allowed.has(`${host}:${port}`.toLowerCase());
  };
  const checksAddresses = (hostname: string, port: string) =>
    !options.allowPrivateNetworks && !isHostAllowed(hostname, port);

  /** Resolves a host name to the one address to connect to, refusing unsafe answers. */
  const resolveSafely = async (url: string, hostname: string, port: string): Promise<string> => {
    const bare = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
    const check = checksAddresses(hostname, port);
    if (isIP(bare) !== 0) {
      const reason = check ? unsafeAddressReason(bare) : undefined;
      if (reason) throw unsafe(url, reason);
      return bare;
    }
    if (check && (bare === 'localhost' || bare.endsWith('.localhost'))) {
      throw unsafe(url, `${bare} is a loopback name`);
    }
    const addresses = await resolveAll(lookup, bare);
    if (addresses.length === 0) throw unsafe(url, `${bare} did not resolve to any address`);
    if (check) {
      // Every answer must be public: a name answering one public and one private address is refused.
      for (const address of addresses) {
        const reason = unsafeAddressReason(address.address);
        if (reason)
          throw unsafe(url, `${bare} resolves to ${reason.replace(/^\S+ is /, '')} (${address.address})`);
      }
    }
    return (addresses[0] as LookupAddress).address;
  };

  const baseConnect = buildConnector({ timeout: options.timeoutMs });
  const dispatcher = new Agent({
    connections: 8,
    keepAliveTimeout: 4_000,
    connect(connectOptions, callback) {
      const { hostname, protocol } = connectOptions;
      const port = connectOptions.port || (protocol === 'https:' ? '443' : '80');
      const origin = `${protocol}//${hostname}:${port}/`;
      resolveSafely(origin, hostname, port).then(
        (address) => {
          const bare = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
          baseConnect(
            {
              ...connectOptions,
              // Connect to the address just checked, never to a second resolution of the name.
              hostname: address,
              servername: isIP(bare) === 0 ? bare : (connectOptions.servername ?? undefined),
            } as Parameters<typeof baseConnect>[0],
            (error, socket) => {
              if (error || !socket) {
                callback(error ?? new Error('connection failed'), null);
                return;
              }
              const remote = (socket as Socket).remoteAddress;
              const reason =
                checksAddresses(hostname, port) && remote ? unsafeAddressReason(remote) : undefined;
              if (reason) {
                socket.destroy();
                callback(unsafe(origin, `connected to ${reason}`), null);
                return;
              }
              callback(null, socket);
            },
          );
        },
        (error: unknown) => callback(error instanceof Error ? error : new Error(String(error)), null),
      );
    },
  });

  const assertAllowed = async (url: string): Promise<URL> => {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch (error) {
      throw unsafe(url, 'it is not a valid absolute URL', error);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw unsafe(url, `scheme ${parsed.protocol} is not allowed (http and https only)`);
    }
    // Checked before any connection for a clear error; the connection checks again what it connects to.
    const port = parsed.port || (parsed.protocol === 'https:' ? '443' : '80');
    await resolveSafely(parsed.href, parsed.hostname, port);
    return parsed;
  };

  /** One attempt at one hop: politeness, timeout, status mapping, capped body. */
  const attempt = async (url: URL, request: FetchRequest, signal: AbortSignal) => {
    const release = await options.politeness.acquire(url.host, signal);
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, options.timeoutMs);
    const attemptSignal = AbortSignal.any([signal, controller.signal]);
    const failure = (error: unknown): unknown => {
      const unsafeError = findUnsafe(error);
      if (unsafeError) return unsafeError;
      if (TributaryError.isInstance(error)) return error;
      if (signal.aborted) {
        return new AbortError({
          connector: URL_CONNECTOR_TYPE,
          operation: `GET ${url.href}`,
          cause: signal.reason,
        });
      }
      if (timedOut) {
        return new TimeoutError({
          connector: URL_CONNECTOR_TYPE,
          timeoutMs: options.timeoutMs,
          method: 'GET',
          url: url.href,
          cause: error,
        });
      }
      return new ConnectorApiError({
        connector: URL_CONNECTOR_TYPE,
        method: 'GET',
        url: url.href,
        message: `GET ${url.href} failed before a complete response arrived (${describe(error)})`,
        isRetryable: true,
        cause: error,
      });
    };
    try {
      options.metrics?.apiCalls.count();
      let response: Awaited<ReturnType<typeof undiciFetch>>;
      try {
        response = await undiciFetch(url, {
          method: 'GET',
          redirect: 'manual',
          headers: {
            'user-agent': options.userAgent,
            accept: 'text/html,application/xhtml+xml,application/pdf,text/plain;q=0.9,*/*;q=0.5',
            ...request.headers,
          },
          signal: attemptSignal,
          dispatcher,
        });
      } catch (error) {
        throw failure(error);
      }
      const status = response.status;
      const headers = response.headers as unknown as Headers;
      const mediaType = (headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
      const head: FetchedHead = { status, url: url.href, headers, mediaType };
      if (REDIRECT_STATUSES.has(status) || ANSWERED_STATUSES.has(status) || status >= 400) {
        await response.body?.cancel().catch(() => {});
        if (status >= 400 && !ANSWERED_STATUSES.has(status)) {
          throw new ConnectorApiError({
            connector: URL_CONNECTOR_TYPE,
            status,
            statusText: response.statusText,
            method: 'GET',
            url: url.href,
            retryAfterMs: retryAfterFromHeaders(headers, Date.now()),
            hint:
              status >= 500 || status === 429
                ? 'The site is failing or throttling; the sync retries it next time'
                : 'Check that the page is public and the URL is right',
          });
        }
        return { head, body: undefined };
      }
      if (!(request.wantsBody?.(head) ?? true)) {
        await response.body?.cancel().catch(() => {});
        return { head, body: undefined };
      }
      try {
        const body = await readCapped(response.body, request.maxBytes ?? options.maxBytes, url.href, headers);
        options.metrics?.bytes.count(body.byteLength);
        return { head, body };
      } catch (error) {
        throw failure(error);
      }
    } finally {
      clearTimeout(timer);
      release();
    }
  };

  const fetchUrl = async (start: string, request: FetchRequest = {}): Promise<FetchedResponse> => {
    const chain: string[] = [];
    let current = start;
    for (let hop = 0; ; hop += 1) {
      const url = await assertAllowed(current);
      chain.push(url.href);
      const result = await withRetries(() => attempt(url, request, options.signal), {
        ...options.retry,
        provider: URL_CONNECTOR_TYPE,
        operation: `GET ${url.href}`,
        signal: options.signal,
        logger: options.logger,
      });
      const { head, body } = result;
      if (!REDIRECT_STATUSES.has(head.status)) return { ...head, body, chain };
      const location = head.headers.get('location');
      if (!location) {
        throw new ConnectorApiError({
          connector: URL_CONNECTOR_TYPE,
          status: head.status,
          method: 'GET',
          url: url.href,
          isRetryable: false,
          message: `GET ${url.href} redirected without a Location header`,
        });
      }
      if (hop >= options.maxRedirects) {
        throw new ConnectorApiError({
          connector: URL_CONNECTOR_TYPE,
          status: head.status,
          method: 'GET',
          url: start,
          isRetryable: false,
          message: `GET ${start} redirected more than ${options.maxRedirects} times`,
          hint: 'Import the final URL directly, or raise maxRedirects',
        });
      }
      current = new URL(location, url).href;
    }
  };

  return {
    fetch: fetchUrl,
    assertAllowed,
    close: () => dispatcher.close(),
  };
}

function unsafe(url: string, reason: string, cause?: unknown): UnsafeUrlError {
  return new UnsafeUrlError({ connector: URL_CONNECTOR_TYPE, url, reason, cause });
}

function findUnsafe(error: unknown): UnsafeUrlError | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 6 && typeof current === 'object' && current !== null; depth++) {
    if (UnsafeUrlError.isInstance(current)) return current;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function resolveAll(lookup: LookupFunction, hostname: string): Promise<LookupAddress[]> {
  return new Promise((resolve, reject) => {
    lookup(hostname, { all: true }, (error, addresses, family) => {
      if (error) {
        reject(
          new ConnectorApiError({
            connector: URL_CONNECTOR_TYPE,
            message: `could not resolve ${hostname} (${error.code ?? error.message})`,
            isRetryable: error.code === 'EAI_AGAIN',
            cause: error,
          }),
        );
        return;
      }
      if (typeof addresses === 'string') resolve([{ address: addresses, family: family ?? isIP(addresses) }]);
      else resolve(addresses);
    });
  });
}

async function readCapped(
  body: ReadableStream<Uint8Array> | null,
  maxBytes: number,
  url: string,
  headers: Headers,
): Promise<Uint8Array> {
  const declared = Number(headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await body?.cancel().catch(() => {});
    throw tooLarge(url, maxBytes, declared);
  }
  if (body === null) return new Uint8Array();
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge(url, maxBytes);
    }
    chunks.push(value);
  }
  const joined = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    joined.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return joined;
}

function tooLarge(url: string, maxBytes: number, declared?: number): TributaryError {
  return new TributaryError({
    code: 'content_too_large',
    connector: URL_CONNECTOR_TYPE,
    message: `${url} is larger than maxBytes (${maxBytes} bytes${declared ? `; it declares ${declared}` : ''})`,
    hint: 'Raise maxBytes in the connector config if this document is wanted',
  });
}

function describe(error: unknown): string {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return error instanceof Error ? error.message : String(error);
}
