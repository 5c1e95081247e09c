import type {
  ConnectorRecord,
  ConnectorV1,
  Embedder,
  Logger,
  RateLimitSettings,
  SecretKeyRing,
  SyncProgressEvent,
} from '@tributary/core';
import type { WorkerRunOptions } from './job-context.js';
import { WorkerError } from './worker-error.js';

export interface CreateWorkerOptions {
  /**
   * A direct or session-mode Postgres connection string (pg-boss holds session state: LISTEN, long
   * transactions, advisory locks). Not a transaction pooler: on Supabase use the direct connection
   * (`db.<ref>.supabase.co:5432`) or Supavisor in session mode (port 5432), never port 6543.
   */
  connectionString: string;
  /** Connector plugins this worker can run, one per `connector_type`. */
  // biome-ignore lint/suspicious/noExplicitAny: plugins of any config/credentials type
  connectors: readonly ConnectorV1<any, any>[];
  /** Embeds what the worker imports; must match the database's vector size. */
  embedder: Embedder;
  /** Decrypts stored credentials (default: from TRIBUTARY_SECRET_KEYS, read when a run needs it). */
  keyRing?: SecretKeyRing | undefined;
  /** Stable id in logs, leases and the pg-boss instance registry (default `<host>:<pid>:<random>`). */
  workerId?: string | undefined;
  /** Sync jobs this process runs at once (default 2). `0`: a producer only (enqueues, serves webhooks, never runs jobs). */
  concurrency?: number | undefined;
  /** Webhook jobs this process runs at once (default 2; `0` with `concurrency: 0`). */
  webhookConcurrency?: number | undefined;
  /**
   * Jobs of one organisation running at once across ALL workers (pg-boss group concurrency; default
   * 2): a tenant with thousands of connectors leaves the other slots to everyone else.
   */
  perOrgConcurrency?: number | undefined;
  /** Run the scheduler in this process (default true). Safe on every worker: claims are exclusive. */
  schedule?: boolean | undefined;
  /** Milliseconds between scheduler passes (default 30,000). */
  schedulerIntervalMs?: number | undefined;
  /** Connectors claimed per scheduler transaction (default 500). */
  schedulerBatchSize?: number | undefined;
  /** Seconds between polls for jobs when idle (default 2, at least 0.5). */
  pollingIntervalSeconds?: number | undefined;
  /** Lease of a sync run in the database (default 300 s); heartbeats renew it. */
  leaseSeconds?: number | undefined;
  /** Retries of a failed job (default 5), first delay (default 30 s, doubling with jitter), longest delay (default 3,600 s). */
  retry?: { limit?: number; delaySeconds?: number; maxDelaySeconds?: number } | undefined;
  /** pg-boss job heartbeat (default 30 s, at least 10): a job whose worker died is retried after it lapses. */
  heartbeatSeconds?: number | undefined;
  /** Longest a job may run (default 4 hours). */
  expireInSeconds?: number | undefined;
  /** How often pg-boss looks for jobs whose worker died (default 60 s; tests use 1-2). */
  superviseIntervalSeconds?: number | undefined;
  /** On `stop()`: how long running syncs may take to finish before they are released (default 30,000 ms). */
  shutdownTimeoutMs?: number | undefined;
  /**
   * Each scheduler pass also queues webhook events recorded more than this many seconds ago and
   * still unprocessed (default 30): events recorded by an endpoint that does not queue (a Supabase
   * Edge Function) or whose process died before queueing are never stranded.
   */
  webhookSweepGraceSeconds?: number | undefined;
  /** Failed processing attempts before a webhook event is left alone (default 5). */
  maxWebhookAttempts?: number | undefined;
  /**
   * Shared rate budgets in Postgres (default on when a connector declares `rateLimit`). `budgets`
   * overrides per connector type; `budgetKey` names the provider account (default
   * `metadata.rateBudgetKey` of the connector row, else `<type>:<orgId>`); `prefetch`/`maxBatch`
   * tune the local fast path. `false` keeps each process's own in-memory limiter.
   */
  rateBudgets?:
    | false
    | {
        budgets?: Readonly<Record<string, RateLimitSettings>> | undefined;
        budgetKey?: ((connector: ConnectorRecord) => string) | undefined;
        maxBatch?: number | undefined;
        prefetch?: number | undefined;
      }
    | undefined;
  /** Structured logs (default JSON lines on stdout). */
  logger?: Logger | undefined;
  /** Connections of the worker's own pool (default 10); pg-boss keeps its own (default 10). */
  maxConnections?: number | undefined;
  /** Passed to every `runSync` (concurrency, group size, fetch, ...). */
  runOptions?: WorkerRunOptions | undefined;
  /**
   * Called with every progress event of the runs THIS process executes, with the job they belong
   * to (the operations console shows live progress with it). Must not throw or block: a listener
   * that throws is logged and ignored.
   */
  onProgress?: ((event: SyncProgressEvent, job: RunningJob) => void) | undefined;
  /** pg-boss schema (default `pgboss`). */
  schema?: string | undefined;
}

/** The job a progress event belongs to. */
export interface RunningJob {
  jobId: string;
  connectorId: string;
  orgId: string;
}

export interface ResolvedWorkerOptions {
  concurrency: number;
  webhookConcurrency: number;
  perOrgConcurrency: number;
  schedule: boolean;
  schedulerIntervalMs: number;
  schedulerBatchSize: number;
  pollingIntervalSeconds: number;
  leaseSeconds: number;
  retryLimit: number;
  retryDelaySeconds: number;
  retryDelayMaxSeconds: number;
  heartbeatSeconds: number;
  expireInSeconds: number;
  superviseIntervalSeconds: number;
  shutdownTimeoutMs: number;
  maxWebhookAttempts: number;
  webhookSweepGraceSeconds: number;
  maxConnections: number;
  schema: string;
}

function integer(
  value: number | undefined,
  fallback: number,
  name: string,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const chosen = value ?? fallback;
  if (!Number.isInteger(chosen) || chosen < min || chosen > max) {
    throw new WorkerError({
      reason: 'invalid_options',
      message: `${name} must be an integer from ${min} to ${max}, got ${chosen}`,
      hint: 'Fix the createWorker option',
    });
  }
  return chosen;
}

/** Checks every option up front: a bad value throws before anything connects. */
export function resolveWorkerOptions(options: CreateWorkerOptions): ResolvedWorkerOptions {
  const concurrency = integer(options.concurrency, 2, 'concurrency', 0, 1000);
  const polling = options.pollingIntervalSeconds ?? 2;
  if (!(polling >= 0.5)) {
    throw new WorkerError({
      reason: 'invalid_options',
      message: `pollingIntervalSeconds must be at least 0.5, got ${polling}`,
      hint: 'Fix the createWorker option',
    });
  }
  return {
    concurrency,
    webhookConcurrency: integer(
      options.webhookConcurrency,
      concurrency === 0 ? 0 : 2,
      'webhookConcurrency',
      0,
      1000,
    ),
    perOrgConcurrency: integer(options.perOrgConcurrency, 2, 'perOrgConcurrency', 1, 10_000),
    schedule: options.schedule ?? true,
    schedulerIntervalMs: integer(options.schedulerIntervalMs, 30_000, 'schedulerIntervalMs', 50),
    schedulerBatchSize: integer(options.schedulerBatchSize, 500, 'schedulerBatchSize', 1, 10_000),
    pollingIntervalSeconds: polling,
    leaseSeconds: integer(options.leaseSeconds, 300, 'leaseSeconds', 5, 86_400),
    retryLimit: integer(options.retry?.limit, 5, 'retry.limit', 0, 1000),
    retryDelaySeconds: integer(options.retry?.delaySeconds, 30, 'retry.delaySeconds', 1),
    retryDelayMaxSeconds: integer(options.retry?.maxDelaySeconds, 3600, 'retry.maxDelaySeconds', 1),
    heartbeatSeconds: integer(options.heartbeatSeconds, 30, 'heartbeatSeconds', 10),
    expireInSeconds: integer(options.expireInSeconds, 4 * 3600, 'expireInSeconds', 1),
    superviseIntervalSeconds: integer(options.superviseIntervalSeconds, 60, 'superviseIntervalSeconds', 1),
    shutdownTimeoutMs: integer(options.shutdownTimeoutMs, 30_000, 'shutdownTimeoutMs', 0),
    maxWebhookAttempts: integer(options.maxWebhookAttempts, 5, 'maxWebhookAttempts', 1, 1000),
    webhookSweepGraceSeconds: integer(options.webhookSweepGraceSeconds, 30, 'webhookSweepGraceSeconds', 0),
    maxConnections: integer(options.maxConnections, 10, 'maxConnections', 2, 1000),
    schema: options.schema ?? 'pgboss',
  };
}
