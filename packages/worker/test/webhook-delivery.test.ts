import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLexicalEmbedder, createWebhookEndpoint, silentLogger, toNodeListener } from '@tributary/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorker, type Worker } from '../src/index.js';
import { createConnectors, startTestDatabase, type TestDatabase } from './support/database.js';
import { createHookConnector, signHook } from './support/hook-connector.js';

const SECRET = 'hook-signing-secret';
let database: TestDatabase;
let server: Server;
let baseUrl: string;
const workers: Worker[] = [];
const fetchCounts = new Map<string, number>();

/** Runs `tasks` with at most `limit` in flight. */
async function inParallel<T>(tasks: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < tasks.length) {
        const index = next++;
        results[index] = await (tasks[index] as () => Promise<T>)();
      }
    }),
  );
  return results;
}

beforeAll(async () => {
  database = await startTestDatabase();
  const connector = createHookConnector(fetchCounts);
  const options = {
    connectionString: database.connectionString,
    connectors: [connector],
    embedder: createLexicalEmbedder(),
    logger: silentLogger,
    pollingIntervalSeconds: 0.5,
    superviseIntervalSeconds: 1,
    schedule: false,
    retry: { limit: 5, delaySeconds: 1, maxDelaySeconds: 2 },
  };
  // One producer behind the endpoint (takes no jobs) and two workers doing the work.
  const producer = createWorker({ ...options, concurrency: 0 });
  workers.push(
    producer,
    createWorker({ ...options, webhookConcurrency: 2 }),
    createWorker({ ...options, webhookConcurrency: 2 }),
  );
  await Promise.all(workers.map((worker) => worker.start()));
  const endpoint = createWebhookEndpoint({
    repository: producer.repository,
    resolve: async () => ({ connector, secret: SECRET }),
    enqueue: ({ connectorId }) => producer.enqueueWebhookEvents(connectorId),
    rateLimit: false,
    maxBodyBytes: 4096,
  });
  server = createServer(toNodeListener(endpoint));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await Promise.allSettled(workers.map((worker) => worker.stop()));
  await database?.server.stop();
});

describe('webhook deliveries through the Node adapter', () => {
  it('processes each of 700 events exactly once out of 1,000 concurrent deliveries with 30% duplicates, and records no forged one', async () => {
    const connectorIds = await createConnectors(database.pool, {
      orgId: randomUUID(),
      count: 10,
      type: 'hooks',
    });
    const unique = Array.from({ length: 700 }, (_, index) => ({
      connectorId: connectorIds[index % connectorIds.length] as string,
      body: JSON.stringify({ id: `evt-${index}`, docId: `doc-${index}` }),
    }));
    const duplicates = Array.from(
      { length: 300 },
      (_, index) => unique[(index * 7) % unique.length] as (typeof unique)[number],
    );
    const deliveries = [...unique, ...duplicates].sort(() => Math.random() - 0.5);
    const forged = Array.from({ length: 50 }, (_, index) => ({
      connectorId: connectorIds[index % connectorIds.length] as string,
      body: JSON.stringify({ id: `forged-${index}`, docId: `forged-doc-${index}` }),
    }));

    const send = (delivery: { connectorId: string; body: string }, signature: string) => async () => {
      const response = await fetch(`${baseUrl}/webhooks/${delivery.connectorId}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-hook-signature': signature },
        body: delivery.body,
      });
      await response.arrayBuffer();
      return response.status;
    };
    const statuses = await inParallel(
      [
        ...deliveries.map((delivery) => send(delivery, signHook(SECRET, delivery.body))),
        ...forged.map((delivery) => send(delivery, signHook('not-the-secret', delivery.body))),
      ],
      64,
    );
    expect(statuses.slice(0, 1000).every((status) => status === 200)).toBe(true);
    expect(statuses.slice(1000).every((status) => status === 401)).toBe(true);

    // Wait for the workers to process everything (polling the database, not the clock).
    for (;;) {
      const { rows } = await database.pool.query(
        `select count(*) filter (where processed)::int as done, count(*)::int as total from connector_webhook_events`,
      );
      expect(rows[0].total).toBe(700);
      if (rows[0].done === 700) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(fetchCounts.size).toBe(700);
    expect([...fetchCounts.values()].every((count) => count === 1)).toBe(true);
    const forgedRows = await database.pool.query(
      `select count(*)::int as n from connector_webhook_events where event_id like 'forged-%'`,
    );
    expect(forgedRows.rows[0].n).toBe(0);
    const documents = await database.pool.query(
      `select count(*)::int as n from imported_documents where external_id like 'forged-%'`,
    );
    expect(documents.rows[0].n).toBe(0);
    const stored = await database.pool.query(`select count(*)::int as n from imported_documents`);
    expect(stored.rows[0].n).toBe(700);
  });

  it('processes events an endpoint recorded without queueing them (the scheduler sweep)', async () => {
    const sweeper = createWorker({
      connectionString: database.connectionString,
      connectors: [createHookConnector(fetchCounts)],
      embedder: createLexicalEmbedder(),
      logger: silentLogger,
      pollingIntervalSeconds: 0.5,
      schedulerIntervalMs: 200,
      webhookSweepGraceSeconds: 0,
    });
    workers.push(sweeper);
    await sweeper.start();
    const [connectorId] = await createConnectors(database.pool, {
      orgId: randomUUID(),
      count: 1,
      type: 'hooks',
    });
    // What a Supabase Edge Function does: record only.
    await sweeper.repository.recordWebhookEvent({
      connectorId: connectorId as string,
      eventSource: 'hooks',
      eventId: 'evt-recorded-only',
      eventType: 'doc.updated',
      payload: {
        eventType: 'doc.updated',
        occurredAt: null,
        action: { kind: 'refetch', externalId: 'doc-swept' },
      },
    });
    for (;;) {
      const { rows } = await database.pool.query(
        `select processed from connector_webhook_events where event_id = 'evt-recorded-only'`,
      );
      if (rows[0]?.processed) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(fetchCounts.get('doc-swept')).toBe(1);
  });

  it('answers 413 above the size limit, 404 for unknown connectors and 405 for other methods', async () => {
    const [connectorId] = await createConnectors(database.pool, {
      orgId: randomUUID(),
      count: 1,
      type: 'hooks',
    });
    const big = JSON.stringify({ id: 'big', docId: 'x'.repeat(5000) });
    const tooLarge = await fetch(`${baseUrl}/webhooks/${connectorId}`, {
      method: 'POST',
      headers: { 'x-hook-signature': signHook(SECRET, big) },
      body: big,
    });
    expect(tooLarge.status).toBe(413);
    expect((await fetch(`${baseUrl}/webhooks/not-a-uuid`, { method: 'POST', body: '{}' })).status).toBe(404);
    expect((await fetch(`${baseUrl}/webhooks/${connectorId}`, { method: 'PUT', body: '{}' })).status).toBe(
      405,
    );
    const { rows } = await database.pool.query(
      `select count(*)::int as n from connector_webhook_events where event_id = 'big'`,
    );
    expect(rows[0].n).toBe(0);
  });
});
