import {
  type ConnectorRecord,
  ConnectorTypeMismatchError,
  type ConnectorV1,
  type LogFields,
  type Logger,
  RepositoryError,
  runSync,
  type SyncProgressEvent,
  type SyncSummary,
} from '@tributary/core';
import type { Job, JobWithMetadata } from 'pg-boss';
import type { JobContext, JobOutcome } from './job-context.js';
import { withFields } from './json-logger.js';
import type { SyncJobData } from './queues.js';
import { inSpan } from './telemetry.js';

/** Finds the connector row and its plugin, or says why the job can never succeed. */
export async function resolveConnector(
  ctx: JobContext,
  connectorId: string,
): Promise<{ row: ConnectorRecord; plugin: ConnectorV1 } | { outcome: JobOutcome }> {
  const row = await ctx.repository.getConnector(connectorId);
  if (!row)
    return { outcome: { status: 'deadletter', output: { error: `connector ${connectorId} not found` } } };
  const plugin = ctx.connectors.get(row.connectorType);
  if (!plugin) {
    return {
      outcome: {
        status: 'deadletter',
        output: {
          error: `no connector plugin of type ${row.connectorType} is registered with this worker; pass it in createWorker({ connectors })`,
        },
      },
    };
  }
  return { row, plugin };
}

/** The rate limiter a run of this connector uses: its provider account's shared budget, when one applies. */
export function sharedBudget(ctx: JobContext, row: ConnectorRecord, plugin: ConnectorV1) {
  if (!ctx.limiter) return undefined;
  const budget = ctx.budgetFor(row, plugin);
  return budget === undefined ? undefined : ctx.limiter.forBudget(ctx.budgetKey(row), budget);
}

/**
 * A logger for one run that also notices whether the pipeline called its failure fatal (auth,
 * quota, config): those are not retried.
 */
function observingLogger(base: Logger): { logger: Logger; fatal: () => boolean } {
  let fatal = false;
  const note = (fields?: LogFields) => {
    if (fields && fields.fatal === true) fatal = true;
  };
  return {
    fatal: () => fatal,
    logger: {
      debug: (message, fields) => base.debug(message, fields),
      info: (message, fields) => base.info(message, fields),
      warn: (message, fields) => base.warn(message, fields),
      error: (message, fields) => {
        note(fields);
        base.error(message, fields);
      },
    },
  };
}

function brief(summary: SyncSummary): Record<string, unknown> {
  return {
    status: summary.status,
    runId: summary.runId,
    mode: summary.mode,
    counts: summary.counts,
    apiCalls: summary.apiCalls,
    bytes: summary.bytes,
    durationMs: summary.durationMs,
    error: summary.error,
  };
}

/**
 * One sync job: `runSync` with the stored config and credentials, the connector's shared rate
 * budget, and the worker's signal. `success`/`partial` complete the job; a run that found the
 * lease held (`skipped`), was released on shutdown (`cancelled`) or failed for a retryable reason
 * is retried with backoff; fatal failures (auth, quota, config) and unknown connectors are
 * dead-lettered at once.
 */
export async function runSyncJob(job: Job<SyncJobData>, ctx: JobContext): Promise<JobOutcome> {
  const { connectorId, reason } = job.data;
  const log = withFields(ctx.logger, {
    jobId: job.id,
    connectorId,
    orgId: job.data.orgId,
    reason,
    attempt: job.retryCount,
  });
  const resolved = await resolveConnector(ctx, connectorId);
  if ('outcome' in resolved) {
    log.error('sync job cannot run', { error: resolved.outcome.output.error });
    return resolved.outcome;
  }
  const { row, plugin } = resolved;
  if (!row.isActive) {
    log.info('connector is inactive; sync job skipped');
    return { status: 'completed', output: { status: 'inactive' } };
  }

  // A retried job may have been served already: an earlier attempt finished its run, then its
  // worker died before the job was marked complete. Running again would sync twice for one request.
  const createdOn = (job as Partial<JobWithMetadata<SyncJobData>>).createdOn;
  if (job.retryCount > 0 && createdOn !== undefined) {
    const { rows } = await ctx.db.query<{ id: string }>(
      `select id from public.connector_sync_logs
       where connector_id = $1 and started_at >= $2 and status in ('success', 'partial')
       order by started_at limit 1`,
      [connectorId, createdOn],
    );
    if (rows[0]) {
      log.info('an earlier attempt of this job already finished its run', { runId: rows[0].id });
      return { status: 'completed', output: { status: 'already-served', runId: rows[0].id } };
    }
  }

  const controller = new AbortController();
  const abort = () => controller.abort();
  job.signal?.addEventListener('abort', abort, { once: true });
  ctx.shutdown.addEventListener('abort', abort, { once: true });
  ctx.active.set(job.id, { jobId: job.id, connectorId, orgId: row.orgId, startedAt: Date.now(), controller });
  const observed = observingLogger(log);
  const listener = ctx.onProgress;
  const running = { jobId: job.id, connectorId, orgId: row.orgId };
  let listenerFailed = false;
  const onProgress =
    listener === undefined
      ? undefined
      : (event: SyncProgressEvent) => {
          try {
            listener(event, running);
          } catch (error) {
            // A broken listener must not fail the run; say so once per run.
            if (!listenerFailed) log.warn('onProgress listener threw', { error: String(error) });
            listenerFailed = true;
          }
        };
  const attributes = {
    'tributary.connector.id': connectorId,
    'tributary.connector.type': row.connectorType,
    'tributary.sync.reason': reason,
  };
  try {
    const summary = await inSpan('tributary.sync', attributes, () =>
      runSync({
        ...ctx.runOptions,
        connector: plugin,
        connectorId,
        repository: ctx.repository,
        embedder: ctx.embedder,
        loadStored: { keyRing: ctx.keyRing },
        syncType: reason,
        mode: job.data.mode,
        signal: controller.signal,
        logger: observed.logger,
        leaseSeconds: ctx.leaseSeconds,
        rateLimit: sharedBudget(ctx, row, plugin),
        onProgress,
      }),
    );
    const type = { connector_type: row.connectorType, status: summary.status };
    ctx.instruments.runs.add(1, type);
    ctx.instruments.runDuration.record(summary.durationMs, type);
    ctx.instruments.apiCalls.add(summary.apiCalls, { connector_type: row.connectorType });
    ctx.instruments.bytes.add(summary.bytes, { connector_type: row.connectorType });
    for (const action of [
      'inserted',
      'updated',
      'unchanged',
      'skippedByVersion',
      'failed',
      'deleted',
    ] as const) {
      if (summary.counts[action] > 0) ctx.instruments.documents.add(summary.counts[action], { action });
    }
    const fields = { runId: summary.runId, status: summary.status, durationMs: summary.durationMs };
    switch (summary.status) {
      case 'success':
      case 'partial':
        log.info('sync job finished', { ...fields, documents: summary.counts.seen });
        return { status: 'completed', output: brief(summary) };
      case 'skipped':
        log.info('another run holds the lease; retrying later', fields);
        return {
          status: 'failed',
          output: { ...brief(summary), error: `run ${summary.runId} holds the lease` },
        };
      case 'cancelled':
        log.warn('sync released before it finished; another attempt resumes from its checkpoint', fields);
        return { status: 'failed', output: brief(summary) };
      default:
        if (observed.fatal()) {
          log.error('sync failed for a reason a retry cannot fix', { ...fields, error: summary.error });
          return { status: 'deadletter', output: brief(summary) };
        }
        log.warn('sync failed; retrying with backoff', { ...fields, error: summary.error });
        return { status: 'failed', output: brief(summary) };
    }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const terminal =
      ConnectorTypeMismatchError.isInstance(error) ||
      (RepositoryError.isInstance(error) &&
        (error.reason === 'not_found' || error.reason === 'invalid_input'));
    log.error('sync job could not start a run', { error: message, terminal });
    return { status: terminal ? 'deadletter' : 'failed', output: { error: message } };
  } finally {
    job.signal?.removeEventListener('abort', abort);
    ctx.shutdown.removeEventListener('abort', abort);
    ctx.active.delete(job.id);
  }
}
