import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { WebhookEndpoint } from './webhook-endpoint.js';

/** What Express, Fastify (`req.raw`), Connect and plain Node hand a middleware. */
export type NodeRequest = IncomingMessage & {
  /** Set by body parsers. A `Buffer`/`Uint8Array` (`express.raw()`) is used as the raw body. */
  body?: unknown;
  /** Set by some frameworks' raw-body plugins (e.g. fastify-raw-body). */
  rawBody?: unknown;
  /** Express: the mount path's parameters (`/webhooks/:connectorId`). */
  params?: Record<string, string | undefined>;
  originalUrl?: string;
};

function rawBodyOf(request: NodeRequest): Uint8Array | undefined {
  if (request.rawBody instanceof Uint8Array) return request.rawBody;
  if (request.body instanceof Uint8Array) return request.body;
  return undefined;
}

/** A Web `Request` over a Node request, streaming its body (or the raw body a parser already read). */
export function toWebRequest(request: NodeRequest, signal?: AbortSignal): Request {
  const host = request.headers.host ?? 'localhost';
  const protocol = (request.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
  const url = new URL(request.originalUrl ?? request.url ?? '/', `${protocol}://${host}`);
  const headers = new Headers();
  for (const [name, value] of Object.entries(request.headers)) {
    if (typeof value === 'string') headers.set(name, value);
    else if (Array.isArray(value)) for (const item of value) headers.append(name, item);
  }
  const method = request.method ?? 'GET';
  if (method === 'GET' || method === 'HEAD') return new Request(url, { method, headers, signal });
  const raw = rawBodyOf(request);
  if (raw === undefined && request.body !== undefined && request.readableEnded) {
    // A JSON or text parser consumed the stream: the bytes the signature covers are gone.
    return new Request(url, {
      method,
      headers,
      body: new Uint8Array(0),
      signal,
      duplex: 'half',
    } as RequestInit);
  }
  const body = raw ?? (Readable.toWeb(request) as ReadableStream<Uint8Array>);
  return new Request(url, { method, headers, body, signal, duplex: 'half' } as RequestInit);
}

/** Writes a Web `Response` to a Node response. */
export async function writeWebResponse(response: Response, target: ServerResponse): Promise<void> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  target.writeHead(response.status, headers);
  target.end(response.body ? Buffer.from(await response.arrayBuffer()) : undefined);
}

/**
 * A Node `http` request listener: `createServer(toNodeListener(endpoint))`. The connector id is the
 * last path segment (`POST /webhooks/<connector id>`).
 */
export function toNodeListener(
  endpoint: WebhookEndpoint,
): (request: IncomingMessage, response: ServerResponse) => void {
  return (request, response) => {
    handle(endpoint, request as NodeRequest, response, undefined).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      response.end(response.writableEnded ? undefined : 'internal error');
      void error;
    });
  };
}

/**
 * Express/Connect/Fastify-style middleware `(req, res, next)`. Mount it BEFORE any JSON body
 * parser (or use `express.raw({ type: '*\/*' })`): signatures are computed over the raw bytes.
 * The connector id is `req.params.connectorId` when routed as `/webhooks/:connectorId`, else the
 * last path segment. Errors go to `next(error)`.
 */
export function toNodeMiddleware(
  endpoint: WebhookEndpoint,
): (request: NodeRequest, response: ServerResponse, next: (error?: unknown) => void) => void {
  return (request, response, next) => {
    handle(endpoint, request, response, request.params?.connectorId).catch(next);
  };
}

async function handle(
  endpoint: WebhookEndpoint,
  request: NodeRequest,
  response: ServerResponse,
  connectorId: string | undefined,
): Promise<void> {
  const controller = new AbortController();
  response.once('close', () => {
    if (!response.writableFinished) controller.abort();
  });
  if (rawBodyOf(request) === undefined && request.body !== undefined && request.readableEnded) {
    response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
    response.end(
      '[tributary] [webhooks] a body parser consumed the webhook body before Tributary saw it. Mount the webhook middleware before express.json(), or use express.raw().',
    );
    return;
  }
  const webResponse = await endpoint(toWebRequest(request, controller.signal), { connectorId });
  await writeWebResponse(webResponse, response);
}
