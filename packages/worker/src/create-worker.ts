import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { ConnectorV1, KnowledgeRepository, Logger } from '@tributary/core';
import { createNodePostgresRepository } from '@tributary/core/postgres';
import pg from 'pg';
import { type Job, PgBoss } from 'pg-boss';
import { readHealth, type WorkerHealth } from './health.js';
import type { ActiveRun, JobContext, JobOutcome } from './job-context.js';
import {
  type FollowOptions,
  followSyncJob,
  getSyncJob,
  type SyncJobStatus,
  waitForSyncJob,
} from './job-status.js';
import { createJsonLogger } from './json-logger.js';
import { createPostgresRateLimiter } from './postgres-rate-limiter.js';
import { processWebhookJob } from './process-webhook-job.js';
import {
  ensureQueues,
  PRIORITY,
  SYNC_QUEUE,
  type SyncJobData,
  WEBHOOK_QUEUE,
  type WebhookJobData,
} from './queues.js';
import { runSyncJob } from './run-sync-job.js';
import { enqueuePendingWebhooks, scheduleDueSyncs } from './scheduler.js';
import { createInstruments } from './telemetry.js';
import { WorkerError } from './worker-error.js';
import { type CreateWorkerOptions, resolveWorkerOptions } from './worker-options.js';

export interface RequestSyncOptions {
  /** Default: incremental when a cursor is stored and the connector supports it, else full. */
  mode?: 'full' | 'incremental' | undefined;
  /** Recorded as the run's `sync_type` (default `manual`). */
  reason?: 'manual' | 'webhook' | undefined;
}

export interface RequestedSync {
  jobId: string;
  /** False when a sync of this connector was already waiting: that job serves this request. */
  created: boolean;
}

export interface Worker {
  readonly id: string;
  readonly logger: Logger;
  /** Connects, creates the queues and starts working (and scheduling). */
  start(): Promise<void>;
  /**
   * Stops taking jobs, lets running syncs finish for `shutdownTimeoutMs`, then releases the rest
   * (they end `cancelled` at their last checkpoint and their jobs are retried by another worker),
   * and closes the connections. Nothing is lost: a job is always completed or back in the queue.
   */
  stop(): Promise<void>;
  /** Enqueues a sync now and returns its job id at once; await it with `waitForJob` or `followJob`. */
  requestSync(connectorId: string, options?: RequestSyncOptions): Promise<RequestedSync>;
  /** Enqueues processing of a connector's recorded webhook events (one job waits per connector). */
  enqueueWebhookEvents(connectorId: string, orgId?: string): Promise<string | null>;
  getJob(jobId: string): Promise<SyncJobStatus | undefined>;
  /**
   * Cancels a sync job: a waiting one never runs; a running one stops at once when this process runs
   * it (its run ends `cancelled` at its last checkpoint), else within a heartbeat on the worker that
   * runs it. Resolves false when the job had already ended or does not exist.
   */
  cancelJob(jobId: string): Promise<boolean>;
  waitForJob(
    jobId: string,
    options?: FollowOptions & { timeoutMs?: number | undefined },
  ): Promise<SyncJobStatus>;
  followJob(jobId: string, options?: FollowOptions): AsyncGenerator<SyncJobStatus>;
  /** One scheduler pass now; returns how many due connectors it enqueued. */
  scheduleNow(now?: Date): Promise<number>;
  /** Database reachability, queue depth and lag, and the runs this worker holds. */
  health(options?: { maxLagSeconds?: number }): Promise<WorkerHealth>;
  /** Failed (dead) jobs kept in a queue, newest last. */
  deadJobs(queue?: 'sync' | 'webhook'): Promise<{ jobId: string; data: unknown; output: unknown }[]>;
  /** The worker's own pool (repository, scheduler, budgets). */
  readonly pool: pg.Pool;
  readonly repository: KnowledgeRepository;
}

/**
 * A Tributary worker on pg-boss. Any number of them on one database share the work: sync jobs
 * (manual, scheduled, webhook-driven) and webhook-event jobs, at most one per connector at a time,
 * retried with backoff, fair across organisations, under shared rate budgets.
 *
 * @example
 * const worker = createWorker({
 *   connectionString: process.env.DATABASE_URL!,
 *   connectors: [createNotionConnector()],
 *   embedder: createOpenAIEmbedder({ model: 'text-embedding-3-small' }),
 * });
 * await worker.start();
 * process.once('SIGTERM', () => worker.stop());
 */
export function createWorker(options: CreateWorkerOptions): Worker {
  const settings = resolveWorkerOptions(options);
  if (typeof options.connectionString !== 'string' || options.connectionString === '') {
    throw new WorkerError({
      reason: 'invalid_options',
      message: 'connectionString is missing',
      hint: 'Pass a direct or session-mode Postgres connection string (not a transaction pooler)',
    });
  }
  const connectors = new Map<string, ConnectorV1>();
  for (const connector of options.connectors ?? []) {
    if (connectors.has(connector.type)) {
      throw new WorkerError({
        reason: 'invalid_options',
        message: `two connector plugins of type ${connector.type} were passed`,
        hint: 'Pass one plugin per connector type',
      });
    }
    connectors.set(connector.type, connector as ConnectorV1);
  }
  if (!options.embedder) {
    throw new WorkerError({
      reason: 'invalid_options',
      message: 'embedder is missing',
      hint: 'Pass the embedder your documents are stored with (it must match the database vector size)',
    });
  }
  const workerId = options.workerId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const logger = options.logger ?? createJsonLogger({ fields: { workerId } });
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: settings.maxConnections,
    application_name: `tributary-worker ${workerId}`.slice(0, 63),
  });
  // A dropped idle connection must not crash the process; queries on it fail and are retried.
  pool.on('error', (error) => logger.warn('database connection error', { error: error.message }));
  const repository = createNodePostgresRepository(pool);
  const boss = new PgBoss({
    connectionString: options.connectionString,
    schema: settings.schema,
    max: settings.maxConnections,
    application_name: `tributary-boss ${workerId}`.slice(0, 63),
    superviseIntervalSeconds: settings.superviseIntervalSeconds,
    monitorIntervalSeconds: settings.superviseIntervalSeconds,
    // Tributary schedules from connector rows, not pg-boss cron.
    schedule: false,
    instanceName: workerId,
  });
  boss.on('error', (error) => logger.error('pg-boss error', { error: error.message }));

  const active = new Map<string, ActiveRun>();
  const shutdown = new AbortController();
  const instruments = createInstruments({
    // Read when a metric reader collects (every export interval), not per job.
    queueDepth: async (): Promise<Record<string, number>> => {
      const report = await worker.health();
      if (!report.database.reachable) return {};
      return { sync: report.queues.sync.waiting, webhook: report.queues.webhook.waiting };
    },
    oldestLeaseAgeSeconds: () =>
      Math.max(0, ...[...active.values()].map((run) => (Date.now() - run.startedAt) / 1000)),
  });
  const budgetSettings = options.rateBudgets === false ? undefined : (options.rateBudgets ?? {});
  const limiter =
    budgetSettings === undefined
      ? undefined
      : createPostgresRateLimiter({
          db: pool,
          maxBatch: budgetSettings.maxBatch,
          prefetch: budgetSettings.prefetch,
          logger,
        });
  const context: JobContext = {
    db: pool,
    repository,
    connectors,
    embedder: options.embedder,
    keyRing: options.keyRing,
    limiter,
    budgetKey:
      budgetSettings?.budgetKey ??
      ((row) =>
        typeof row.metadata.rateBudgetKey === 'string' && row.metadata.rateBudgetKey !== ''
          ? row.metadata.rateBudgetKey
          : `${row.connectorType}:${row.orgId}`),
    budgetFor: (row, plugin) => budgetSettings?.budgets?.[row.connectorType] ?? plugin.rateLimit,
    logger,
    instruments,
    workerId,
    leaseSeconds: settings.leaseSeconds,
    maxWebhookAttempts: settings.maxWebhookAttempts,
    runOptions: options.runOptions ?? {},
    onProgress: options.onProgress,
    active,
    shutdown: shutdown.signal,
  };

  let state: 'new' | 'starting' | 'running' | 'stopping' | 'stopped' = 'new';
  let schedulerTimer: NodeJS.Timeout | undefined;
  let schedulerPass: Promise<unknown> = Promise.resolve();
  const handlersRunning = new Set<Promise<unknown>>();

  const assertRunning = () => {
    if (state !== 'running') {
      throw new WorkerError({
        reason: 'not_started',
        message: `the worker is ${state}`,
        hint: 'Call await worker.start() first (and not after stop())',
      });
    }
  };

  // One job per call (batchSize 1), settled by outcome: `failed` retries with backoff while retries
  // last, `deadletter` ends it at once (copied to the dead-letter queue).
  const settle =
    <T>(handler: (job: Job<T>, ctx: JobContext) => Promise<JobOutcome>) =>
    async (jobs: Job<T>[]) => {
      const results = [];
      for (const job of jobs) {
        const running = handler(job, context).catch(
          (error: unknown): JobOutcome => ({
            status: 'failed',
            output: { error: error instanceof Error ? error.message : String(error) },
          }),
        );
        handlersRunning.add(running);
        const outcome = await running.finally(() => handlersRunning.delete(running));
        results.push({ id: job.id, status: outcome.status, output: outcome.output });
      }
      return results;
    };

  const schedulerTick = () => {
    schedulerPass = scheduleDueSyncs(pool, boss, { batchSize: settings.schedulerBatchSize })
      .then(async (claimed) => {
        if (claimed > 0) logger.info('scheduled due syncs', { claimed });
        const swept = await enqueuePendingWebhooks(pool, boss, {
          maxAttempts: settings.maxWebhookAttempts,
          graceSeconds: settings.webhookSweepGraceSeconds,
        });
        if (swept > 0) logger.info('queued recorded webhook events nobody had queued', { connectors: swept });
      })
      .catch((error: unknown) =>
        logger.warn('scheduler pass failed; trying again next interval', {
          error: error instanceof Error ? error.message : String(error),
        }),
      )
      .finally(() => {
        if (state === 'running') schedulerTimer = setTimeout(schedulerTick, settings.schedulerIntervalMs);
      });
  };

  const worker: Worker = {
    id: workerId,
    logger,
    pool,
    repository,

    async start() {
      if (state !== 'new') {
        throw new WorkerError({
          reason: 'not_started',
          message: `start() was called on a ${state} worker`,
          hint: 'Create a new worker',
        });
      }
      state = 'starting';
      await boss.start();
      await ensureQueues(boss, {
        retryLimit: settings.retryLimit,
        retryDelaySeconds: settings.retryDelaySeconds,
        retryDelayMaxSeconds: settings.retryDelayMaxSeconds,
        expireInSeconds: settings.expireInSeconds,
        heartbeatSeconds: settings.heartbeatSeconds,
      });
      const common = {
        batchSize: 1,
        pollingIntervalSeconds: settings.pollingIntervalSeconds,
        groupConcurrency: settings.perOrgConcurrency,
        perJobResults: true as const,
        // createdOn tells a retried job whether an earlier attempt already served it.
        includeMetadata: true as const,
      };
      if (settings.concurrency > 0) {
        await boss.work<SyncJobData>(
          SYNC_QUEUE,
          { ...common, localConcurrency: settings.concurrency },
          settle(runSyncJob),
        );
      }
      if (settings.webhookConcurrency > 0) {
        await boss.work<WebhookJobData>(
          WEBHOOK_QUEUE,
          { ...common, localConcurrency: settings.webhookConcurrency },
          settle(processWebhookJob),
        );
      }
      state = 'running';
      if (settings.schedule && settings.concurrency > 0) schedulerTick();
      logger.info('worker started', {
        concurrency: settings.concurrency,
        webhookConcurrency: settings.webhookConcurrency,
        perOrgConcurrency: settings.perOrgConcurrency,
        connectorTypes: [...connectors.keys()],
      });
    },

    async stop() {
      if (state === 'stopped' || state === 'stopping') return;
      const wasRunning = state === 'running';
      state = 'stopping';
      clearTimeout(schedulerTimer);
      await schedulerPass;
      if (wasRunning) {
        logger.info('worker stopping: no new jobs; waiting for running ones', {
          running: active.size,
          timeoutMs: settings.shutdownTimeoutMs,
        });
        // Stop fetching, then give running jobs their grace period.
        await Promise.all([
          boss.offWork(SYNC_QUEUE, { wait: false }),
          boss.offWork(WEBHOOK_QUEUE, { wait: false }),
        ]).catch(() => undefined);
        const drained = Promise.allSettled([...handlersRunning]);
        let timer: NodeJS.Timeout | undefined;
        const timedOut = await Promise.race([
          drained.then(() => false),
          new Promise<boolean>((resolve) => {
            timer = setTimeout(() => resolve(true), settings.shutdownTimeoutMs);
          }),
        ]);
        clearTimeout(timer);
        if (timedOut) {
          logger.warn(
            'releasing unfinished syncs: they resume from their last checkpoint on another worker',
            {
              running: active.size,
            },
          );
          shutdown.abort();
          await Promise.allSettled([...handlersRunning]);
        }
      }
      // pg-boss settles the jobs the handlers returned, then closes its pool.
      await boss
        .stop({ graceful: true, timeout: 10_000 })
        .catch((error: unknown) => logger.warn('pg-boss did not stop cleanly', { error: String(error) }));
      await pool.end();
      state = 'stopped';
      logger.info('worker stopped');
    },

    async requestSync(connectorId, requestOptions = {}) {
      assertRunning();
      const row = await repository.getConnector(connectorId);
      if (!row) {
        throw new WorkerError({
          reason: 'unknown_connector',
          message: `connector ${connectorId} not found`,
          hint: 'Create it first (tributary connector add), or check the id',
        });
      }
      const reason = requestOptions.reason ?? 'manual';
      const data: SyncJobData = { connectorId, orgId: row.orgId, reason, mode: requestOptions.mode };
      // A waiting job of this connector absorbs the request (stately queue); find it to hand back.
      for (let attempt = 0; attempt < 5; attempt += 1) {
        const jobId = await boss.send(SYNC_QUEUE, data, {
          singletonKey: connectorId,
          group: { id: row.orgId },
          priority: PRIORITY[reason],
        });
        if (jobId) return { jobId, created: true };
        const waiting = await boss.findJobs(SYNC_QUEUE, { key: connectorId, queued: true, limit: 1 });
        if (waiting[0]) return { jobId: waiting[0].id, created: false };
      }
      throw new WorkerError({
        reason: 'job_failed',
        message: `could not enqueue a sync of connector ${connectorId}: the queue kept changing`,
        hint: 'Try again',
      });
    },

    async enqueueWebhookEvents(connectorId, orgId) {
      assertRunning();
      let org = orgId;
      if (org === undefined) {
        const row = await repository.getConnector(connectorId);
        if (!row)
          throw new WorkerError({
            reason: 'unknown_connector',
            message: `connector ${connectorId} not found`,
          });
        org = row.orgId;
      }
      return boss.send(WEBHOOK_QUEUE, { connectorId, orgId: org } satisfies WebhookJobData, {
        singletonKey: connectorId,
        group: { id: org },
        priority: PRIORITY['webhook-events'],
      });
    },

    getJob: (jobId) => getSyncJob(boss, pool, jobId),

    async cancelJob(jobId) {
      assertRunning();
      const status = await getSyncJob(boss, pool, jobId);
      if (
        !status ||
        status.state === 'completed' ||
        status.state === 'failed' ||
        status.state === 'cancelled'
      ) {
        return false;
      }
      await boss.cancel(SYNC_QUEUE, jobId);
      // pg-boss aborts the job's signal when its heartbeat finds the claim gone; a run of this
      // process need not wait for that.
      active.get(jobId)?.controller.abort();
      logger.info('sync job cancelled', { jobId, connectorId: status.connectorId });
      return true;
    },
    waitForJob: (jobId, waitOptions) => waitForSyncJob(boss, pool, jobId, waitOptions),
    followJob: (jobId, followOptions) => followSyncJob(boss, pool, jobId, followOptions),

    async scheduleNow(now) {
      assertRunning();
      return scheduleDueSyncs(pool, boss, { batchSize: settings.schedulerBatchSize, now });
    },

    async health(healthOptions = {}) {
      const report = await readHealth({
        db: pool,
        schema: settings.schema,
        workerId,
        running: state === 'running',
        active,
        maxLagSeconds: healthOptions.maxLagSeconds ?? 300,
      });
      return report;
    },

    async deadJobs(queue = 'sync') {
      const jobs = await boss.findJobs(queue === 'sync' ? SYNC_QUEUE : WEBHOOK_QUEUE, { limit: 1000 });
      return jobs
        .filter((job) => job.state === 'failed')
        .map((job) => ({ jobId: job.id, data: job.data, output: job.output }));
    },
  };
  return worker;
}
