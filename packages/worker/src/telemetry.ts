import { type Attributes, metrics, SpanStatusCode, trace } from '@opentelemetry/api';

// Without an OpenTelemetry SDK registered by the host, the global API hands out no-op tracers and
// meters: these cost nothing and need no configuration.
const scope = 'tributary-worker';

/** Runs `fn` in an active span named `name`; the span records an exception and an error status when `fn` throws. */
export async function inSpan<T>(name: string, attributes: Attributes, fn: () => Promise<T>): Promise<T> {
  return trace.getTracer(scope).startActiveSpan(name, { attributes }, async (span) => {
    try {
      const result = await fn();
      span.end();
      return result;
    } catch (error) {
      span.recordException(error instanceof Error ? error : new Error(String(error)));
      span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
      throw error;
    }
  });
}

export interface WorkerInstruments {
  runs: { add(value: number, attributes?: Attributes): void };
  documents: { add(value: number, attributes?: Attributes): void };
  apiCalls: { add(value: number, attributes?: Attributes): void };
  bytes: { add(value: number, attributes?: Attributes): void };
  runDuration: { record(value: number, attributes?: Attributes): void };
  webhookEvents: { add(value: number, attributes?: Attributes): void };
}

/**
 * The worker's metrics: counters of runs, documents, API calls, bytes and webhook events, a
 * histogram of run durations, and observable gauges of queue depth and lease age read by
 * `observe` when a metric reader collects.
 */
export function createInstruments(observe: {
  queueDepth: () => Promise<Record<string, number>>;
  oldestLeaseAgeSeconds: () => number;
}): WorkerInstruments {
  const meter = metrics.getMeter(scope);
  meter
    .createObservableGauge('tributary.queue.depth', { description: 'Jobs waiting per queue' })
    .addCallback(async (result) => {
      // An unreachable database observes nothing this round rather than failing the collection.
      const depths = await observe.queueDepth().catch(() => ({}));
      for (const [queue, depth] of Object.entries(depths)) result.observe(depth, { queue });
    });
  meter
    .createObservableGauge('tributary.lease.age', {
      description: 'Age of the oldest running sync lease held by this worker',
      unit: 's',
    })
    .addCallback((result) => result.observe(observe.oldestLeaseAgeSeconds()));
  return {
    runs: meter.createCounter('tributary.sync.runs', { description: 'Sync runs by status' }),
    documents: meter.createCounter('tributary.sync.documents', { description: 'Documents by action' }),
    apiCalls: meter.createCounter('tributary.sync.api_calls', { description: 'Provider API calls' }),
    bytes: meter.createCounter('tributary.sync.bytes', { description: 'Response bytes', unit: 'By' }),
    runDuration: meter.createHistogram('tributary.sync.duration', {
      description: 'Run duration',
      unit: 'ms',
    }),
    webhookEvents: meter.createCounter('tributary.webhook.events', {
      description: 'Webhook events processed',
    }),
  };
}
