// A local website for the tests: pages served from a map the tests change, ETag and
// Last-Modified with real conditional-request semantics (304), and a log of every request so
// the SSRF tests can prove nothing reached it.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SitePage {
  body: string | Uint8Array;
  contentType?: string | undefined;
  /** Default 200. */
  status?: number | undefined;
  headers?: Record<string, string> | undefined;
  /** Send no validators (no ETag, no Last-Modified). */
  noValidators?: boolean | undefined;
  /** Wait this long before answering. */
  delayMs?: number | undefined;
}

export type SiteHandler = (request: IncomingMessage, response: ServerResponse) => void;

export interface LoggedRequest {
  path: string;
  headers: IncomingMessage['headers'];
  status: number;
  bytes: number;
}

export interface Site {
  readonly origin: string;
  /** The HTTP server itself (for `injectFaults` from @tributary/testkit). */
  readonly server: Server;
  /** host:port, for the connector's allowlist. */
  readonly host: string;
  readonly port: number;
  readonly pages: Map<string, SitePage>;
  /** Custom handlers, checked before `pages`. */
  readonly handlers: Map<string, SiteHandler>;
  readonly requests: LoggedRequest[];
  /** The next `count` requests answer `status` (429 carries `Retry-After: 0`). */
  failNext(count: number, status: number): void;
  url(path: string): string;
  /** Bytes of response bodies sent so far. */
  bytesSent(): number;
  close(): Promise<void>;
}

const LAST_MODIFIED = 'Mon, 02 Nov 2026 10:00:00 GMT';

export async function startSite(): Promise<Site> {
  const pages = new Map<string, SitePage>();
  const handlers = new Map<string, SiteHandler>();
  const requests: LoggedRequest[] = [];
  const failures: number[] = [];
  let bytes = 0;

  const server: Server = createServer((request, response) => {
    const path = request.url ?? '/';
    const entry: LoggedRequest = { path, headers: request.headers, status: 0, bytes: 0 };
    requests.push(entry);
    const originalWrite = response.write.bind(response);
    const originalEnd = response.end.bind(response);
    const count = (chunk: unknown) => {
      if (typeof chunk === 'string') entry.bytes += Buffer.byteLength(chunk);
      else if (chunk instanceof Uint8Array) entry.bytes += chunk.byteLength;
    };
    response.write = ((chunk: unknown, ...rest: unknown[]) => {
      count(chunk);
      return (originalWrite as (...a: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof response.write;
    response.end = ((chunk?: unknown, ...rest: unknown[]) => {
      if (chunk !== undefined && typeof chunk !== 'function') count(chunk);
      entry.status = response.statusCode;
      bytes += entry.bytes;
      return (originalEnd as (...a: unknown[]) => ServerResponse)(chunk, ...rest);
    }) as typeof response.end;

    const failure = failures.shift();
    if (failure !== undefined) {
      response.statusCode = failure;
      if (failure === 429) response.setHeader('retry-after', '0');
      response.end('failing on purpose');
      return;
    }
    const handler = handlers.get(path);
    if (handler) {
      handler(request, response);
      return;
    }
    const page = pages.get(path);
    if (!page) {
      response.statusCode = 404;
      response.setHeader('content-type', 'text/plain');
      response.end('not found');
      return;
    }
    const answer = () => {
      const body = typeof page.body === 'string' ? Buffer.from(page.body) : Buffer.from(page.body);
      const status = page.status ?? 200;
      response.setHeader('content-type', page.contentType ?? 'text/html; charset=utf-8');
      for (const [name, value] of Object.entries(page.headers ?? {})) response.setHeader(name, value);
      if (!page.noValidators && status === 200) {
        const etag = `"${createHash('sha1').update(body).digest('hex').slice(0, 16)}"`;
        response.setHeader('etag', etag);
        response.setHeader('last-modified', LAST_MODIFIED);
        if (request.headers['if-none-match'] === etag) {
          response.statusCode = 304;
          response.end();
          return;
        }
      }
      response.statusCode = status;
      response.setHeader('content-length', String(body.byteLength));
      response.end(body);
    };
    if (page.delayMs) {
      const timer = setTimeout(answer, page.delayMs);
      request.on('close', () => clearTimeout(timer));
    } else answer();
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return {
    server,
    origin,
    host: `127.0.0.1:${port}`,
    port,
    pages,
    handlers,
    requests,
    failNext(count, status) {
      for (let index = 0; index < count; index += 1) failures.push(status);
    },
    url: (path) => `${origin}${path}`,
    bytesSent: () => bytes,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A real-looking article page: navigation and footer around the main content. */
export function articlePage(options: {
  title: string;
  paragraphs: string[];
  links?: string[];
  canonical?: string;
  description?: string;
  lang?: string;
}): string {
  const nav = (options.links ?? []).map((href) => `<li><a href="${href}">${href}</a></li>`).join('');
  return `<!doctype html>
<html lang="${options.lang ?? 'en'}">
<head>
<meta charset="utf-8">
<title>${options.title} | River Atlas</title>
${options.description ? `<meta name="description" content="${options.description}">` : ''}
${options.canonical ? `<link rel="canonical" href="${options.canonical}">` : ''}
<style>body { font-family: serif }</style>
<script>window.analytics = { track() {} };</script>
</head>
<body>
<header><a href="/">River Atlas</a> <nav><ul>${nav}</ul></nav></header>
<main>
<article>
<h1>${options.title}</h1>
${options.paragraphs.map((text) => `<p>${text}</p>`).join('\n')}
</article>
</main>
<footer><p>Copyright River Atlas. All rights reserved.</p></footer>
</body>
</html>`;
}

/** A paragraph long enough for Readability to treat the article as content. */
export function prose(topic: string, sentences = 6): string {
  const parts: string[] = [];
  for (let index = 0; index < sentences; index += 1) {
    parts.push(
      `The ${topic} carries water from the highlands to the coast, shaping its valley over season ${index + 1}, and the people along its banks depend on it for fishing, farming and travel.`,
    );
  }
  return parts.join(' ');
}
