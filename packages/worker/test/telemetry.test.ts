// Spans reach whatever OpenTelemetry SDK the host registers: a recording tracer provider on the
// global API (the contract an SDK fulfils) sees one ended `tributary.sync` span per sync job,
// with the connector's id and type and why it ran.
import { randomUUID } from 'node:crypto';
import { type Span, type SpanOptions, type Tracer, type TracerProvider, trace } from '@opentelemetry/api';
import { createLexicalEmbedder, silentLogger } from '@tributary/core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createWorker, type Worker } from '../src/index.js';
import { createConnectors, startTestDatabase, type TestDatabase } from './support/database.js';
import { createTickConnector } from './support/tick-connector.js';

interface Recorded {
  name: string;
  attributes: Record<string, unknown>;
  ended: boolean;
}
const recorded: Recorded[] = [];

function recordingSpan(entry: Recorded): Span {
  const span: Span = {
    spanContext: () => ({
      traceId: '0000000000000000000000000000000a',
      spanId: '000000000000000a',
      traceFlags: 1,
    }),
    setAttribute: (key, value) => {
      entry.attributes[key] = value;
      return span;
    },
    setAttributes: (attributes) => {
      Object.assign(entry.attributes, attributes);
      return span;
    },
    addEvent: () => span,
    addLink: () => span,
    addLinks: () => span,
    setStatus: () => span,
    updateName: () => span,
    end: () => {
      entry.ended = true;
    },
    isRecording: () => true,
    recordException: () => undefined,
  };
  return span;
}

const tracer: Tracer = {
  startSpan(name: string, options?: SpanOptions) {
    const entry = { name, attributes: { ...options?.attributes }, ended: false };
    recorded.push(entry);
    return recordingSpan(entry);
  },
  // biome-ignore lint/suspicious/noExplicitAny: the API's overloads (name, [options], [context], fn)
  startActiveSpan(name: string, ...rest: any[]) {
    const fn = rest.at(-1) as (span: Span) => unknown;
    const options = (rest.length > 1 ? rest[0] : undefined) as SpanOptions | undefined;
    return fn(tracer.startSpan(name, options));
  },
} as Tracer;
const provider: TracerProvider = { getTracer: () => tracer };

let database: TestDatabase;
let worker: Worker;

beforeAll(async () => {
  trace.setGlobalTracerProvider(provider);
  database = await startTestDatabase();
});

afterAll(async () => {
  await worker?.stop();
  await database?.server.stop();
  trace.disable();
});

it('emits a span per sync job with the connector id and type', async () => {
  worker = createWorker({
    connectionString: database.connectionString,
    connectors: [createTickConnector()],
    embedder: createLexicalEmbedder(),
    logger: silentLogger,
    pollingIntervalSeconds: 0.5,
    schedule: false,
  });
  await worker.start();
  const [connectorId] = await createConnectors(database.pool, { orgId: randomUUID(), count: 1 });
  const { jobId } = await worker.requestSync(connectorId as string);
  await worker.waitForJob(jobId, { timeoutMs: 30_000, intervalMs: 100 });
  const spans = recorded.filter((span) => span.name === 'tributary.sync');
  expect(spans).toHaveLength(1);
  expect(spans[0]).toMatchObject({
    ended: true,
    attributes: {
      'tributary.connector.id': connectorId,
      'tributary.connector.type': 'tick',
      'tributary.sync.reason': 'manual',
    },
  });
});
