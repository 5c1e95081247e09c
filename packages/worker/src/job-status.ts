import type { PgBoss } from 'pg-boss';
import { SYNC_QUEUE, type SyncJobData } from './queues.js';
import type { SqlClient } from './sql-client.js';
import { WorkerError } from './worker-error.js';

/** A sync job as its caller follows it. */
export interface SyncJobStatus {
  jobId: string;
  connectorId: string;
  /** pg-boss state: `created`/`retry` (waiting), `active`, `completed`, `failed` (out of retries or dead-lettered), `cancelled`. */
  state: 'created' | 'retry' | 'active' | 'completed' | 'cancelled' | 'failed';
  /** Attempts so far (pg-boss `retryCount`). */
  retryCount: number;
  /** The job's output once it ended: the run summary, or the error. */
  output: Record<string, unknown> | null;
  /** The running run of the connector while the job is active: its id and counts so far. */
  progress?:
    | {
        runId: string;
        documentsSynced: number;
        documentsUpdated: number;
        documentsSkipped: number;
        documentsFailed: number;
        documentsDeleted: number;
      }
    | undefined;
}

const ENDED = new Set(['completed', 'failed', 'cancelled']);

export async function getSyncJob(
  boss: PgBoss,
  db: SqlClient,
  jobId: string,
): Promise<SyncJobStatus | undefined> {
  const [job] = await boss.findJobs<SyncJobData>(SYNC_QUEUE, { id: jobId });
  if (!job) return undefined;
  const status: SyncJobStatus = {
    jobId: job.id,
    connectorId: job.data.connectorId,
    state: job.state,
    retryCount: job.retryCount,
    output: (job.output as Record<string, unknown> | null | undefined) ?? null,
  };
  if (job.state === 'active') {
    const { rows } = await db.query<{
      id: string;
      documents_synced: number;
      documents_updated: number;
      documents_skipped: number;
      documents_failed: number;
      documents_deleted: number;
    }>(
      `select id, documents_synced, documents_updated, documents_skipped, documents_failed, documents_deleted
       from public.connector_sync_logs where connector_id = $1 and status = 'running'`,
      [job.data.connectorId],
    );
    const run = rows[0];
    if (run) {
      status.progress = {
        runId: run.id,
        documentsSynced: run.documents_synced,
        documentsUpdated: run.documents_updated,
        documentsSkipped: run.documents_skipped,
        documentsFailed: run.documents_failed,
        documentsDeleted: run.documents_deleted,
      };
    }
  }
  return status;
}

export interface FollowOptions {
  /** Milliseconds between looks (default 1,000). */
  intervalMs?: number | undefined;
  signal?: AbortSignal | undefined;
}

/** Yields the job's status each time it changes, ending after the job ended. */
export async function* followSyncJob(
  boss: PgBoss,
  db: SqlClient,
  jobId: string,
  options: FollowOptions = {},
): AsyncGenerator<SyncJobStatus> {
  const intervalMs = options.intervalMs ?? 1000;
  let last = '';
  for (;;) {
    options.signal?.throwIfAborted();
    const status = await getSyncJob(boss, db, jobId);
    if (!status) {
      throw new WorkerError({
        reason: 'unknown_connector',
        message: `sync job ${jobId} not found`,
        hint: 'Jobs are kept a day after they end; check the id returned by requestSync',
      });
    }
    const key = JSON.stringify([status.state, status.retryCount, status.progress]);
    if (key !== last) {
      last = key;
      yield status;
    }
    if (ENDED.has(status.state)) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, intervalMs);
      options.signal?.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          reject(options.signal?.reason);
        },
        { once: true },
      );
    });
  }
}

/** Resolves with the completed job; throws `WorkerError` `job_failed` when it failed or was cancelled, `timeout` after `timeoutMs`. */
export async function waitForSyncJob(
  boss: PgBoss,
  db: SqlClient,
  jobId: string,
  options: FollowOptions & { timeoutMs?: number | undefined } = {},
): Promise<SyncJobStatus> {
  const controller = new AbortController();
  const timer =
    options.timeoutMs === undefined ? undefined : setTimeout(() => controller.abort(), options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal;
  let last: SyncJobStatus | undefined;
  try {
    for await (const status of followSyncJob(boss, db, jobId, { ...options, signal })) last = status;
  } catch (error) {
    if (controller.signal.aborted) {
      throw new WorkerError({
        reason: 'timeout',
        message: `sync job ${jobId} did not end within ${options.timeoutMs} ms (last state: ${last?.state ?? 'unknown'})`,
        hint: 'Wait longer, or follow it with followJob()',
      });
    }
    throw error;
  } finally {
    clearTimeout(timer);
  }
  if (last?.state !== 'completed') {
    throw new WorkerError({
      reason: 'job_failed',
      message: `sync job ${jobId} ended ${last?.state ?? 'unknown'}${typeof last?.output?.error === 'string' ? `: ${last.output.error}` : ''}`,
      hint: 'See the connector_sync_logs row and the worker logs; a failed job is kept in the dead-letter queue',
    });
  }
  return last;
}
