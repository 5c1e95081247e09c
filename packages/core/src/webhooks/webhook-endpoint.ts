import type { RateLimitSettings } from '../http/rate-limiter.js';
import { TokenBucket } from '../http/token-bucket.js';
import type { KnowledgeRepository } from '../repository/knowledge-repository.js';
import { type Logger, silentLogger } from '../spec/logger.js';
import type { ConnectorV1 } from '../spec/v1/connector-v1.js';
import type { WebhookResponse } from '../spec/v1/connector-webhooks.js';
import { handleWebhook, type RecordedWebhookEvent } from './handle-webhook.js';
import { BodyTooLargeError, readLimitedBody } from './read-limited-body.js';
import { WebhookIntakeError } from './webhook-intake-error.js';

/** What the endpoint needs to know about a connector a delivery is addressed to. */
export interface WebhookEndpointTarget {
  // biome-ignore lint/suspicious/noExplicitAny: plugins of any config/credentials type
  connector: ConnectorV1<any, any>;
  /** The webhook secret (signing secret, verification token, client state); `undefined` until a handshake reveals it. */
  secret: string | undefined;
}

/** A verified delivery whose events are recorded: hand it to a queue. */
export interface AcceptedDelivery {
  connectorId: string;
  /** Every event of the delivery, with `isNew` / `processed` from the database. */
  events: readonly RecordedWebhookEvent[];
}

export interface WebhookEndpointOptions {
  repository: KnowledgeRepository;
  /** The connector plugin and secret for a connector id; `undefined` answers 404. */
  resolve(
    connectorId: string,
  ): Promise<WebhookEndpointTarget | undefined> | WebhookEndpointTarget | undefined;
  /**
   * Queues the work of a recorded delivery before the provider gets its 200 (e.g.
   * `worker.enqueueWebhookEvents(connectorId)`). Called when any event of the delivery is still
   * unprocessed (new, or recorded earlier and never completed). Throwing answers 503: the provider
   * redelivers, and recording is idempotent.
   */
  enqueue?: ((delivery: AcceptedDelivery) => Promise<unknown> | unknown) | undefined;
  /** Stores a secret a provider revealed in its handshake (Notion's `verification_token`). */
  onRevealedSecret?: ((connectorId: string, secret: string) => Promise<unknown> | unknown) | undefined;
  /** The connector id of a request; default: the last path segment (`/webhooks/<connector id>`). */
  connectorIdFrom?: ((request: Request) => string | undefined) | undefined;
  /** Largest body accepted (default 1 MiB); larger deliveries get 413 and are not read further. */
  maxBodyBytes?: number | undefined;
  /**
   * Deliveries per connector this process answers (default 50/s, burst 100); above it, 429 with
   * `Retry-After` (providers redeliver). `false` turns it off. In-process: each replica has its own.
   */
  rateLimit?: RateLimitSettings | false | undefined;
  /** Default `silentLogger`. Bodies, signatures and secrets are never logged. */
  logger?: Logger | undefined;
}

/** `(request) => response` on the Web Fetch API; adapters wrap it for Node, middleware and Next.js. */
export type WebhookEndpoint = (
  request: Request,
  context?: { connectorId?: string | undefined },
) => Promise<Response>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
const DEFAULT_RATE: RateLimitSettings = { requestsPerSecond: 50, burst: 100 };
const MAX_TRACKED_CONNECTORS = 10_000;

function text(status: number, body: string, headers: Record<string, string> = {}): Response {
  return new Response(body, { status, headers: { 'content-type': 'text/plain; charset=utf-8', ...headers } });
}

function fromWebhookResponse(response: WebhookResponse): Response {
  // 204/304 must not carry a body.
  const body = response.status === 204 || response.status === 304 ? null : (response.body ?? '');
  return new Response(body, { status: response.status, headers: response.headers });
}

function lastSegment(request: Request): string | undefined {
  const path = new URL(request.url).pathname.replace(/\/+$/, '');
  const segment = path.slice(path.lastIndexOf('/') + 1);
  return segment === '' ? undefined : decodeURIComponent(segment);
}

/**
 * A framework-neutral webhook endpoint on the Web `Request`/`Response` API: reads the raw body
 * (up to `maxBodyBytes`, else 413), limits deliveries per connector (429), answers provider
 * handshakes, verifies the signature over the raw bytes (401, nothing recorded), records each
 * event once (`handleWebhook`), queues the work (`enqueue`) and answers 200, all without doing
 * the work itself, so providers get their answer inside their deadline (Zoom 3 s, Graph 10 s).
 * Wrap it with `toNodeListener`, `toNodeMiddleware` or `toNextRouteHandlers`, or hand it to any
 * runtime that speaks `fetch` (Deno, Bun, Supabase Edge Functions, Cloudflare Workers).
 *
 * @example
 * const endpoint = createWebhookEndpoint({
 *   repository,
 *   resolve: async (connectorId) => ({ connector: notion, secret: await secretOf(connectorId) }),
 *   enqueue: ({ connectorId }) => worker.enqueueWebhookEvents(connectorId),
 * });
 * createServer(toNodeListener(endpoint)).listen(3000); // POST /webhooks/<connector id>
 */
export function createWebhookEndpoint(options: WebhookEndpointOptions): WebhookEndpoint {
  const logger = options.logger ?? silentLogger;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (!(Number.isInteger(maxBodyBytes) && maxBodyBytes > 0)) {
    throw new RangeError(
      `[tributary] [webhooks] maxBodyBytes must be a positive integer, got ${maxBodyBytes}.`,
    );
  }
  const rate = options.rateLimit === false ? undefined : (options.rateLimit ?? DEFAULT_RATE);
  const buckets = new Map<string, TokenBucket>();
  const admit = (connectorId: string): boolean => {
    if (rate === undefined) return true;
    let bucket = buckets.get(connectorId);
    if (bucket === undefined) {
      // Forget idle connectors rather than grow without bound.
      if (buckets.size >= MAX_TRACKED_CONNECTORS) buckets.clear();
      bucket = new TokenBucket(rate);
      buckets.set(connectorId, bucket);
    }
    return bucket.tryTake();
  };

  return async (request, context) => {
    if (request.method !== 'POST' && request.method !== 'GET') {
      return text(405, 'method not allowed', { allow: 'POST, GET' });
    }
    const connectorId = context?.connectorId ?? (options.connectorIdFrom ?? lastSegment)(request);
    if (connectorId === undefined || !UUID.test(connectorId)) return text(404, 'unknown connector');
    if (!admit(connectorId)) {
      logger.warn('webhook delivery refused: rate limit of the endpoint', { connectorId });
      return text(429, 'too many deliveries', { 'retry-after': '1' });
    }

    let rawBody: Uint8Array;
    try {
      rawBody = await readLimitedBody(request, maxBodyBytes);
    } catch (error) {
      if (BodyTooLargeError.isBodyTooLarge(error)) {
        logger.warn('webhook delivery refused: body too large', { connectorId, maxBodyBytes });
        return text(413, `body larger than ${maxBodyBytes} bytes`);
      }
      return text(400, 'unreadable body');
    }

    let target: WebhookEndpointTarget | undefined;
    try {
      target = await options.resolve(connectorId);
    } catch (error) {
      logger.error('webhook endpoint could not look up the connector', {
        connectorId,
        error: messageOf(error),
      });
      return text(503, 'temporarily unavailable', { 'retry-after': '5' });
    }
    if (!target) return text(404, 'unknown connector');

    try {
      const result = await handleWebhook({
        connector: target.connector,
        connectorId,
        repository: options.repository,
        secret: target.secret,
        logger,
        request: { method: request.method, url: request.url, headers: request.headers, rawBody },
      });
      if (result.outcome === 'handshake' && result.revealedSecret !== undefined) {
        await options.onRevealedSecret?.(connectorId, result.revealedSecret);
      }
      if (
        result.outcome === 'accepted' &&
        options.enqueue &&
        result.events.some((event) => !event.processed)
      ) {
        await options.enqueue({ connectorId, events: result.events });
      }
      return fromWebhookResponse(result.response);
    } catch (error) {
      if (WebhookIntakeError.isInstance(error)) {
        // A configuration problem on our side (no secret, no webhooks): the provider should retry later.
        logger.error('webhook endpoint misconfigured', {
          connectorId,
          reason: error.reason,
          error: error.message,
        });
        return text(503, 'endpoint not configured for this connector');
      }
      logger.error('webhook delivery could not be recorded or queued; the provider will redeliver', {
        connectorId,
        error: messageOf(error),
      });
      return text(503, 'temporarily unavailable', { 'retry-after': '5' });
    }
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
