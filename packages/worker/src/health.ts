import { createServer, type Server } from 'node:http';
import type { ActiveRun } from './job-context.js';
import { SYNC_QUEUE, WEBHOOK_QUEUE } from './queues.js';
import type { SqlClient } from './sql-client.js';

export interface QueueHealth {
  /** Jobs ready to run and not yet taken. */
  waiting: number;
  active: number;
  /** Failed jobs still kept (out of retries or dead-lettered). */
  failed: number;
  /** Seconds the oldest ready job has waited: the queue's lag. */
  oldestWaitingSeconds: number;
}

export interface WorkerHealth {
  /** `down`: database unreachable or worker stopped; `degraded`: lag above the threshold; else `ok`. */
  status: 'ok' | 'degraded' | 'down';
  workerId: string;
  running: boolean;
  database: { reachable: boolean; latencyMs: number; error?: string | undefined };
  queues: { sync: QueueHealth; webhook: QueueHealth };
  activeRuns: { jobId: string; connectorId: string; orgId: string; ageSeconds: number }[];
}

const EMPTY: QueueHealth = { waiting: 0, active: 0, failed: 0, oldestWaitingSeconds: 0 };

export async function readHealth(input: {
  db: SqlClient;
  schema: string;
  workerId: string;
  running: boolean;
  active: ReadonlyMap<string, ActiveRun>;
  maxLagSeconds: number;
}): Promise<WorkerHealth> {
  const started = Date.now();
  const activeRuns = [...input.active.values()].map((run) => ({
    jobId: run.jobId,
    connectorId: run.connectorId,
    orgId: run.orgId,
    ageSeconds: Math.round((Date.now() - run.startedAt) / 1000),
  }));
  const schema = `"${input.schema.replace(/"/g, '""')}"`;
  try {
    const { rows } = await input.db.query<{
      name: string;
      waiting: string;
      active: string;
      failed: string;
      oldest: number | null;
    }>(
      `select name,
         count(*) filter (where state in ('created', 'retry') and start_after <= now()) as waiting,
         count(*) filter (where state = 'active') as active,
         count(*) filter (where state = 'failed') as failed,
         extract(epoch from now() - min(created_on) filter (where state in ('created', 'retry') and start_after <= now()))::float8 as oldest
       from ${schema}.job where name = any($1) group by name`,
      [[SYNC_QUEUE, WEBHOOK_QUEUE]],
    );
    const of = (name: string): QueueHealth => {
      const row = rows.find((r) => r.name === name);
      if (!row) return EMPTY;
      return {
        waiting: Number(row.waiting),
        active: Number(row.active),
        failed: Number(row.failed),
        oldestWaitingSeconds: Math.max(0, Math.round(row.oldest ?? 0)),
      };
    };
    const queues = { sync: of(SYNC_QUEUE), webhook: of(WEBHOOK_QUEUE) };
    const lag = Math.max(queues.sync.oldestWaitingSeconds, queues.webhook.oldestWaitingSeconds);
    return {
      status: !input.running ? 'down' : lag > input.maxLagSeconds ? 'degraded' : 'ok',
      workerId: input.workerId,
      running: input.running,
      database: { reachable: true, latencyMs: Date.now() - started },
      queues,
      activeRuns,
    };
  } catch (error) {
    return {
      status: 'down',
      workerId: input.workerId,
      running: input.running,
      database: {
        reachable: false,
        latencyMs: Date.now() - started,
        error: error instanceof Error ? error.message : String(error),
      },
      queues: { sync: EMPTY, webhook: EMPTY },
      activeRuns,
    };
  }
}

/**
 * A tiny HTTP health endpoint: `GET /healthz` (any path) answers the health report as JSON, 200
 * when `ok` or `degraded`, 503 when `down` (for load balancers and Kubernetes probes).
 */
export function serveHealth(
  health: () => Promise<WorkerHealth>,
  options: { port: number; host?: string },
): Promise<Server> {
  const server = createServer((request, response) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    health().then(
      (report) => {
        response
          .writeHead(report.status === 'down' ? 503 : 200, { 'content-type': 'application/json' })
          .end(request.method === 'HEAD' ? undefined : JSON.stringify(report));
      },
      (error: unknown) => {
        response
          .writeHead(503, { 'content-type': 'application/json' })
          .end(JSON.stringify({ status: 'down', error: String(error) }));
      },
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => resolve(server));
  });
}
