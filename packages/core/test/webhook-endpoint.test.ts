// The framework-neutral webhook endpoint and its adapters (Node listener, Express-style middleware,
// Next.js route handlers) on the memory repository: handshakes, real HMAC signatures over the raw
// bytes, size and rate limits, and the enqueue hook.
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type AcceptedDelivery,
  createWebhookEndpoint,
  defineConnector,
  toNextRouteHandlers,
  toNodeListener,
  toNodeMiddleware,
  WebhookVerificationError,
} from '../src/index.js';
import { createMemoryRepository } from '../src/testing.js';

const SECRET = 'whsec_endpoint';
const sign = (body: string, secret = SECRET) => createHmac('sha256', secret).update(body).digest('hex');

const connector = defineConnector({
  type: 'hooks',
  async check() {},
  async *sync() {},
  webhooks: {
    handshake(request) {
      const token = new URL(request.url).searchParams.get('validationToken');
      return token
        ? { response: { status: 200, headers: { 'content-type': 'text/plain' }, body: token } }
        : null;
    },
    verify(request, secret) {
      const expected = createHmac('sha256', secret).update(request.rawBody).digest();
      const given = Buffer.from(request.headers['x-signature'] ?? '', 'hex');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        throw new WebhookVerificationError({ connector: 'hooks', reason: 'signature mismatch' });
      }
    },
    parse(request) {
      const event = JSON.parse(new TextDecoder().decode(request.rawBody)) as { id: string; page: string };
      return [
        { eventId: event.id, eventType: 'page.updated', action: { kind: 'refetch', externalId: event.page } },
      ];
    },
  },
});

function setup(options: Partial<Parameters<typeof createWebhookEndpoint>[0]> = {}) {
  const repository = createMemoryRepository();
  const connectorId = repository.addConnector({ orgId: randomUUID(), connectorType: 'hooks' }).id;
  const queued: AcceptedDelivery[] = [];
  const endpoint = createWebhookEndpoint({
    repository,
    resolve: (id) => (id === connectorId ? { connector, secret: SECRET } : undefined),
    enqueue: (delivery) => {
      queued.push(delivery);
    },
    ...options,
  });
  const deliver = (body: string, signature = sign(body), init: RequestInit = {}) =>
    endpoint(
      new Request(`https://hooks.example/webhooks/${connectorId}`, {
        method: 'POST',
        headers: { 'x-signature': signature, 'content-type': 'application/json' },
        body,
        ...init,
      }),
    );
  return { repository, connectorId, endpoint, queued, deliver };
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

async function listen(server: Server): Promise<string> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('createWebhookEndpoint', () => {
  it('records a verified delivery once, queues it, and answers 200', async () => {
    const { deliver, queued, repository } = setup();
    const body = JSON.stringify({ id: 'evt-1', page: 'p1' });
    const first = await deliver(body);
    expect(first.status).toBe(200);
    expect(queued).toHaveLength(1);
    expect(queued[0]?.events.map((event) => [event.eventId, event.isNew])).toEqual([['evt-1', true]]);
    // A redelivery of an event not yet processed is queued again (the queue keeps one job per connector).
    const again = await deliver(body);
    expect(again.status).toBe(200);
    expect(queued[1]?.events[0]?.isNew).toBe(false);
    // Once processed, a redelivery is answered and not queued.
    await repository.completeWebhookEvent(queued[0]?.events[0]?.webhookEventId as string);
    expect((await deliver(body)).status).toBe(200);
    expect(queued).toHaveLength(2);
  });

  it('refuses a forged delivery with 401 and records nothing', async () => {
    const { deliver, queued, repository, connectorId } = setup();
    const body = JSON.stringify({ id: 'evt-forged', page: 'p1' });
    const response = await deliver(body, sign(body, 'guessed'));
    expect(response.status).toBe(401);
    expect(await response.text()).toBe('signature mismatch');
    expect(queued).toHaveLength(0);
    const recorded = await repository.recordWebhookEvent({
      connectorId,
      eventSource: 'hooks',
      eventId: 'evt-forged',
      eventType: 'page.updated',
      payload: {},
    });
    expect(recorded.isNew).toBe(true);
  });

  it('answers a provider handshake without recording or queueing', async () => {
    const { endpoint, queued, connectorId } = setup();
    const response = await endpoint(
      new Request(`https://hooks.example/webhooks/${connectorId}?validationToken=abc%20123`, {
        method: 'POST',
      }),
    );
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('abc 123');
    expect(queued).toHaveLength(0);
  });

  it('answers 413 for a streamed body over the limit, 404 for unknown connectors, 405 for other methods', async () => {
    const { deliver, endpoint } = setup({ maxBodyBytes: 64 });
    const chunks = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 10; i += 1) controller.enqueue(new Uint8Array(16));
        controller.close();
      },
    });
    const response = await deliver('', 'x', { body: chunks, duplex: 'half' } as RequestInit);
    expect(response.status).toBe(413);
    expect(
      (await endpoint(new Request(`https://h/webhooks/${randomUUID()}`, { method: 'POST', body: '{}' })))
        .status,
    ).toBe(404);
    expect(
      (await endpoint(new Request('https://h/webhooks/not-an-id', { method: 'POST', body: '{}' }))).status,
    ).toBe(404);
    expect(
      (await endpoint(new Request(`https://h/webhooks/${randomUUID()}`, { method: 'DELETE' }))).status,
    ).toBe(405);
  });

  it('limits deliveries per connector with 429 and Retry-After', async () => {
    const { deliver } = setup({ rateLimit: { requestsPerSecond: 0.001, burst: 2 } });
    const statuses = [];
    for (let i = 0; i < 3; i += 1) {
      const body = JSON.stringify({ id: `evt-${i}`, page: 'p' });
      const response = await deliver(body);
      statuses.push([response.status, response.headers.get('retry-after')]);
    }
    expect(statuses).toEqual([
      [200, null],
      [200, null],
      [429, '1'],
    ]);
  });

  it('answers 503 when the work cannot be queued (the provider redelivers)', async () => {
    const { deliver } = setup({
      enqueue: () => {
        throw new Error('queue down');
      },
    });
    const response = await deliver(JSON.stringify({ id: 'evt-q', page: 'p' }));
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('5');
  });
});

describe('adapters', () => {
  it('toNodeListener passes the raw bytes of a Node request', async () => {
    const { endpoint, queued, connectorId } = setup();
    const url = await listen(createServer(toNodeListener(endpoint)));
    // Whitespace a JSON parser would drop: the signature covers these exact bytes.
    const body = '{ "id" : "evt-node",   "page": "p" }\n';
    const response = await fetch(`${url}/webhooks/${connectorId}`, {
      method: 'POST',
      headers: { 'x-signature': sign(body) },
      body,
    });
    expect(response.status).toBe(200);
    expect(queued[0]?.events[0]?.eventId).toBe('evt-node');
  });

  it('toNodeMiddleware uses req.params and a raw Buffer body, and refuses a body a JSON parser consumed', async () => {
    const { endpoint, connectorId } = setup();
    const middleware = toNodeMiddleware(endpoint);
    const errors: unknown[] = [];
    const url = await listen(
      createServer(
        async (request: IncomingMessage & { body?: unknown; params?: Record<string, string> }, response) => {
          const chunks: Buffer[] = [];
          for await (const chunk of request) chunks.push(chunk as Buffer);
          const raw = Buffer.concat(chunks);
          // What express.raw() or express.json() would leave on the request.
          request.body = request.url?.startsWith('/json/') ? JSON.parse(raw.toString()) : raw;
          request.params = { connectorId };
          middleware(request, response, (error) => errors.push(error));
        },
      ),
    );
    const body = JSON.stringify({ id: 'evt-mw', page: 'p' });
    const raw = await fetch(`${url}/raw/anything`, {
      method: 'POST',
      headers: { 'x-signature': sign(body) },
      body,
    });
    expect(raw.status).toBe(200);
    const parsed = await fetch(`${url}/json/anything`, {
      method: 'POST',
      headers: { 'x-signature': sign(body) },
      body,
    });
    expect(parsed.status).toBe(500);
    expect(await parsed.text()).toMatch(/Mount the webhook middleware before express\.json\(\)/);
    expect(errors).toEqual([]);
  });

  it('toNextRouteHandlers reads the connector id from the route params', async () => {
    const { endpoint, connectorId, queued } = setup();
    const { POST } = toNextRouteHandlers(endpoint);
    const body = JSON.stringify({ id: 'evt-next', page: 'p' });
    const response = await POST(
      new Request('https://app.example/api/webhooks/ignored', {
        method: 'POST',
        headers: { 'x-signature': sign(body) },
        body,
      }),
      { params: Promise.resolve({ connectorId }) },
    );
    expect(response.status).toBe(200);
    expect(queued[0]?.connectorId).toBe(connectorId);
  });
});
