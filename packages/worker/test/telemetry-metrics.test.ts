// Metrics reach whatever OpenTelemetry SDK the host registers: the real metrics SDK with an
// in-memory exporter sees the worker's run, document, API-call and byte counters, its run-duration
// histogram, and the queue-depth and lease-age gauges read while a run is in progress.
import { randomUUID } from 'node:crypto';
import { metrics } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  InMemoryMetricExporter,
  MeterProvider,
  type MetricData,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { createLexicalEmbedder, silentLogger } from '@tributary/core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createWorker, type Worker } from '../src/index.js';
import { startBudgetFakeServer } from './support/budget-fake-server.js';
import { createConnectors, startTestDatabase, type TestDatabase } from './support/database.js';
import { createTickConnector } from './support/tick-connector.js';

const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
// Exports only when flushed: the test decides when the SDK collects.
const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
const provider = new MeterProvider({ readers: [reader] });

let database: TestDatabase;
let source: Awaited<ReturnType<typeof startBudgetFakeServer>>;
let worker: Worker;
/** Lets the held run end (also after a failed assertion, so the worker can stop). */
let release: () => void = () => undefined;

/** Flushes the SDK and returns the metrics of the latest export by name. */
async function collect(): Promise<Map<string, MetricData>> {
  exporter.reset();
  await reader.forceFlush();
  const byName = new Map<string, MetricData>();
  for (const resource of exporter.getMetrics()) {
    for (const scope of resource.scopeMetrics) {
      for (const metric of scope.metrics) byName.set(metric.descriptor.name, metric);
    }
  }
  return byName;
}

function points(metric: MetricData | undefined) {
  if (!metric) throw new Error('metric not exported');
  return metric.dataPoints.map((point) => ({ attributes: point.attributes, value: point.value }));
}

beforeAll(async () => {
  // Before the worker exists: the global API hands a meter of this provider to createWorker.
  metrics.setGlobalMeterProvider(provider);
  database = await startTestDatabase();
  source = await startBudgetFakeServer({ requestsPerSecond: 1000, burst: 1000 });
});

afterAll(async () => {
  release();
  await worker?.stop();
  await provider.shutdown();
  metrics.disable();
  await source?.close();
  await database?.server.stop();
});

it('exports runs, documents, API calls, bytes, durations, queue depth and lease age', async () => {
  const firstDocument = new Map<string, () => void>();
  // The slow run (no sourceUrl) waits for this before it ends, so it is still running whatever
  // the collection below takes (CI once saw it finish first: lease age 0).
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  worker = createWorker({
    connectionString: database.connectionString,
    // Slow documents (when a connector has no sourceUrl) keep the first run in progress while we look.
    connectors: [createTickConnector({ delayMs: 300, holdBeforeEnd: held })],
    embedder: createLexicalEmbedder(),
    logger: silentLogger,
    pollingIntervalSeconds: 0.5,
    schedule: false,
    concurrency: 2,
    // One job of the organisation at a time: the second waits in the queue behind the first.
    perOrgConcurrency: 1,
    onProgress: (event, job) => {
      if (event.type === 'document-finished') firstDocument.get(job.connectorId)?.();
    },
  });
  await worker.start();
  const orgId = randomUUID();
  const [slow] = await createConnectors(database.pool, { orgId, count: 1, settings: { docs: 6 } });
  const [fetching] = await createConnectors(database.pool, {
    orgId,
    count: 1,
    settings: { docs: 3, sourceUrl: source.url, label: 'fetching' },
  });
  // The slow run's first finished document (seen through onProgress): its lease is then at least
  // one delay old, and it keeps running until released, after the SDK has collected.
  const slowStarted = new Promise<void>((resolve) => firstDocument.set(slow as string, resolve));
  const first = await worker.requestSync(slow as string);
  await slowStarted;
  const second = await worker.requestSync(fetching as string);

  const during = await collect();
  expect(points(during.get('tributary.queue.depth'))).toEqual(
    expect.arrayContaining([
      { attributes: { queue: 'sync' }, value: 1 },
      { attributes: { queue: 'webhook' }, value: 0 },
    ]),
  );
  const [leaseAge] = points(during.get('tributary.lease.age'));
  expect(leaseAge?.value).toBeGreaterThanOrEqual(0.3);

  release();
  await worker.waitForJob(first.jobId, { timeoutMs: 30_000, intervalMs: 100 });
  await worker.waitForJob(second.jobId, { timeoutMs: 30_000, intervalMs: 100 });
  const after = await collect();

  expect(points(after.get('tributary.sync.runs'))).toEqual([
    { attributes: { connector_type: 'tick', status: 'success' }, value: 2 },
  ]);
  expect(points(after.get('tributary.sync.documents'))).toEqual([
    { attributes: { action: 'inserted' }, value: 9 },
  ]);
  expect(points(after.get('tributary.sync.api_calls'))).toEqual([
    { attributes: { connector_type: 'tick' }, value: source.state.requests },
  ]);
  expect(source.state.requests).toBe(3);
  const { rows } = await database.pool.query<{ bytes: string }>(
    'select sum(bytes_transferred)::text as bytes from connector_sync_logs where org_id = $1',
    [orgId],
  );
  const [bytes] = points(after.get('tributary.sync.bytes'));
  expect(bytes?.value).toBe(Number(rows[0]?.bytes));
  expect(bytes?.value).toBeGreaterThan(0);

  const duration = after.get('tributary.sync.duration');
  expect(duration?.dataPointType).toBe(DataPointType.HISTOGRAM);
  const histogram = duration?.dataPoints[0]?.value as { count: number; sum: number; min: number };
  expect(histogram.count).toBe(2);
  // The slow run stored six documents 300 ms apart.
  expect(histogram.sum).toBeGreaterThanOrEqual(1800);
  // No run in progress any more: the lease-age gauge reads 0.
  expect(points(after.get('tributary.lease.age'))[0]?.value).toBe(0);
});
