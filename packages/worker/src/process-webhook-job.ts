import { processWebhookEvents, type RecordedWebhookEvent, type WebhookAction } from '@tributary/core';
import type { Job } from 'pg-boss';
import type { JobContext, JobOutcome } from './job-context.js';
import { withFields } from './json-logger.js';
import type { WebhookJobData } from './queues.js';
import { resolveConnector, sharedBudget } from './run-sync-job.js';
import { inSpan } from './telemetry.js';

const PAGE = 500;
const MAX_PAGES = 20;

interface PendingRow {
  webhook_event_id: string;
  event_id: string;
  event_type: string;
  payload: { action?: WebhookAction; occurredAt?: string | null } | null;
  retry_count: number;
}

function toEvent(row: PendingRow): RecordedWebhookEvent | undefined {
  const action = row.payload?.action;
  if (!action || (action.kind !== 'sync' && typeof action.externalId !== 'string')) return undefined;
  return {
    eventId: row.event_id,
    eventType: row.event_type,
    occurredAt: row.payload?.occurredAt ?? undefined,
    action,
    webhookEventId: row.webhook_event_id,
    // Read from the table of unprocessed events: this job is their processor.
    isNew: true,
    processed: false,
  };
}

/**
 * One webhook job: processes every recorded, unprocessed event of one connector (oldest first, in
 * pages) with `processWebhookEvents`. The queue allows one waiting and one running job per
 * connector, so an event is never processed by two workers at once, and a burst of deliveries
 * becomes one job. Events another run's lease held back, or that failed, stay unprocessed and the
 * job is retried with backoff; after `maxWebhookAttempts` failures an event stays visible in
 * `connector_webhook_events` with its error.
 */
export async function processWebhookJob(job: Job<WebhookJobData>, ctx: JobContext): Promise<JobOutcome> {
  const { connectorId } = job.data;
  const log = withFields(ctx.logger, { jobId: job.id, connectorId, orgId: job.data.orgId, queue: 'webhook' });
  const resolved = await resolveConnector(ctx, connectorId);
  if ('outcome' in resolved) {
    log.error('webhook job cannot run', { error: resolved.outcome.output.error });
    return resolved.outcome;
  }
  const { row, plugin } = resolved;
  const seen = new Set<string>();
  let processed = 0;
  let retry = 0;
  let failed = 0;
  return inSpan('tributary.webhook.process', { 'tributary.connector.id': connectorId }, async () => {
    for (let page = 0; page < MAX_PAGES; page += 1) {
      const { rows } = await ctx.db.query<PendingRow>(
        'select * from public.pending_webhook_events($1, $2, $3)',
        [connectorId, PAGE, ctx.maxWebhookAttempts],
      );
      const events = rows.filter((r) => !seen.has(r.webhook_event_id));
      for (const r of rows) seen.add(r.webhook_event_id);
      const usable = events
        .map(toEvent)
        .filter((event): event is RecordedWebhookEvent => event !== undefined);
      if (usable.length === 0) break;
      const result = await processWebhookEvents({
        ...ctx.runOptions,
        events: usable,
        connector: plugin,
        connectorId,
        repository: ctx.repository,
        embedder: ctx.embedder,
        loadStored: { keyRing: ctx.keyRing },
        logger: log,
        signal: ctx.shutdown,
        leaseSeconds: ctx.leaseSeconds,
        rateLimit: sharedBudget(ctx, row, plugin),
      });
      processed += result.processed;
      retry += result.pending.length;
      failed += result.failed.length;
      ctx.instruments.webhookEvents.add(result.processed, {
        connector_type: row.connectorType,
        outcome: 'processed',
      });
      if (result.failed.length > 0) {
        ctx.instruments.webhookEvents.add(result.failed.length, {
          connector_type: row.connectorType,
          outcome: 'failed',
        });
      }
      if (rows.length < PAGE || ctx.shutdown.aborted) break;
    }
    const output = { processed, pending: retry, failed };
    if (retry > 0 || failed > 0) {
      log.warn('webhook events left for a retry', output);
      return { status: 'failed', output } satisfies JobOutcome;
    }
    log.info('webhook events processed', output);
    return { status: 'completed', output } satisfies JobOutcome;
  });
}
