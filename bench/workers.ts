// How do sync workers scale? 1, 2 and 4 worker processes (`@tributary/worker`, 2 syncs each) on one
// PostgreSQL server drain the same scheduled work from a network-bound source: a local HTTP server
// that answers every request after a fixed latency, so the work is waiting, as with a real API.
// Then: what a scheduler pass costs per 1,000 due connectors (claim + enqueue in one transaction).
//
// - Source: BENCH_WORKER_CONNECTORS (default 32) connectors in 16 organisations, each syncing
//   BENCH_WORKER_DOCS (default 4) documents, one request of BENCH_WORKER_LATENCY_MS (default 500)
//   per document, one after another (a connector's own requests are sequential, as with paging).
// - Each configuration gets a fresh migrated database; every connector is due at once and the
//   workers' schedulers claim them. A first round warms the processes up; the second round (every
//   document changed) is timed, from "due" to the last successful run.
//
// Run: pnpm --filter @tributary/bench workers   (after building the workspace packages)
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createLexicalEmbedder, silentLogger } from '@tributary/core';
import { fromPg, migrate } from '@tributary/sql';
import { startPostgresServer } from '@tributary/testkit-postgres';
import { createWorker } from '@tributary/worker';

const CONNECTORS = Number(process.env.BENCH_WORKER_CONNECTORS ?? 32);
const DOCS = Number(process.env.BENCH_WORKER_DOCS ?? 4);
const LATENCY_MS = Number(process.env.BENCH_WORKER_LATENCY_MS ?? 500);
const COUNTS = (process.env.BENCH_WORKER_COUNTS ?? '1,2,4').split(',').map(Number);
const ORGS = 16;
const SCHEDULER_CONNECTORS = 1000;

const workerSupport = new URL('../packages/worker/test/support/', import.meta.url);

const source = createServer((_request, response) => {
  setTimeout(() => response.writeHead(200, { 'content-type': 'text/plain' }).end('ok'), LATENCY_MS);
});
await new Promise<void>((resolve) => source.listen(0, '127.0.0.1', resolve));
const sourceUrl = `http://127.0.0.1:${(source.address() as AddressInfo).port}`;

// synchronous_commit off: a run commits ~15 small transactions, and on this machine's disk each
// flush costs ~20 ms, which would measure the disk, not the workers (the commits are still atomic;
// only the last few are lost in a server crash, which the bench does not have).
const server = await startPostgresServer({ settings: { max_connections: '300', synchronous_commit: 'off' } });

function spawnWorker(connectionString: string, workerId: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      '--experimental-strip-types',
      '--no-warnings',
      '--import',
      fileURLToPath(new URL('resolve-ts.mjs', workerSupport)),
      fileURLToPath(new URL('worker-process.ts', workerSupport)),
    ],
    {
      env: {
        ...process.env,
        WORKER_SETTINGS: JSON.stringify({
          connectionString,
          workerId,
          worker: {
            concurrency: 2,
            pollingIntervalSeconds: 0.5,
            schedulerIntervalMs: 200,
            maxConnections: 4,
          },
        }),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`worker exited with ${code}`)));
  });
}

async function freshDatabase() {
  const name = await server.createDatabase();
  const pool = server.pool(name, { max: 4 });
  await migrate(fromPg(pool));
  return { pool, connectionString: server.connectionString(name) };
}

async function drain(
  workers: number,
): Promise<{ seconds: number; docsPerSecond: number; runMs: number; concurrency: number }> {
  const { pool, connectionString } = await freshDatabase();
  const children = await Promise.all(
    Array.from({ length: workers }, (_, index) => spawnWorker(connectionString, `bench-${workers}-${index}`)),
  );
  const orgs = Array.from({ length: ORGS }, () => randomUUID());
  // Inserted not yet due; made due all at once below.
  await pool.query(
    `insert into connector_configs (org_id, connector_type, name, settings, sync_frequency, next_sync_at)
     select ($1::uuid[])[1 + n % $2], 'tick', 'Bench ' || n, $3::jsonb, 'hourly', now() + interval '1 day'
     from generate_series(0, $4 - 1) n`,
    [orgs, ORGS, JSON.stringify({ docs: DOCS, round: 0, sourceUrl }), CONNECTORS],
  );
  // Round 0 warms every process up (module loading, the tokenizer); round 1, with changed content,
  // is measured: steady-state throughput.
  let started = 0;
  for (let round = 0; round < 2; round += 1) {
    started = performance.now();
    await pool.query(
      `update connector_configs set settings = jsonb_set(settings, '{round}', to_jsonb($1::int)), next_sync_at = now()`,
      [round],
    );
    for (;;) {
      const { rows } = await pool.query<{ n: number }>(
        `select count(*)::int as n from connector_sync_logs where status = 'success'`,
      );
      if ((rows[0]?.n ?? 0) >= CONNECTORS * (round + 1)) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  const seconds = (performance.now() - started) / 1000;
  // Where the time went: the average run, and how many ran at once on average.
  const { rows: runs } = await pool.query<{ run_ms: number; busy_ms: number }>(
    `select avg(duration_ms)::float8 as run_ms, sum(duration_ms)::float8 as busy_ms from connector_sync_logs
     where status = 'success' and started_at >= now() - make_interval(secs => $1)`,
    [seconds],
  );
  const runMs = runs[0]?.run_ms ?? 0;
  const concurrency = (runs[0]?.busy_ms ?? 0) / 1000 / seconds;
  for (const child of children) child.kill('SIGTERM');
  await Promise.all(children.map((child) => new Promise((resolve) => child.once('exit', resolve))));
  await pool.end();
  return { seconds, docsPerSecond: (CONNECTORS * DOCS) / seconds, runMs, concurrency };
}

console.log(
  `workers: ${CONNECTORS} connectors x ${DOCS} documents, ${LATENCY_MS} ms per request, 2 syncs per worker process`,
);
const results = new Map<number, { docsPerSecond: number }>();
for (const workers of COUNTS) {
  const result = await drain(workers);
  results.set(workers, result);
  const speedup = result.docsPerSecond / (results.get(1)?.docsPerSecond ?? result.docsPerSecond);
  console.log(
    `  ${workers} worker(s): ${result.seconds.toFixed(1)} s, ${result.docsPerSecond.toFixed(1)} documents/s, ${speedup.toFixed(2)}x one worker; average run ${result.runMs.toFixed(0)} ms, ${result.concurrency.toFixed(1)} runs at once on average`,
  );
}

// Scheduler overhead: one pass over 1,000 due connectors, 5 times.
{
  const { pool, connectionString } = await freshDatabase();
  const producer = createWorker({
    connectionString,
    connectors: [],
    embedder: createLexicalEmbedder(),
    logger: silentLogger,
    concurrency: 0,
    schedulerBatchSize: 500,
  });
  await producer.start();
  await pool.query(
    `insert into connector_configs (org_id, connector_type, name, sync_frequency, next_sync_at)
     select gen_random_uuid(), 'tick', 'Due ' || n, 'hourly', now() - interval '1 minute' from generate_series(1, $1) n`,
    [SCHEDULER_CONNECTORS],
  );
  const times: number[] = [];
  for (let pass = 0; pass < 5; pass += 1) {
    await pool.query(`delete from pgboss.job where name = 'tributary_sync'`);
    await pool.query(`update connector_configs set next_sync_at = now() - interval '1 minute'`);
    const started = performance.now();
    const claimed = await producer.scheduleNow();
    times.push(performance.now() - started);
    if (claimed !== SCHEDULER_CONNECTORS)
      throw new Error(`claimed ${claimed}, expected ${SCHEDULER_CONNECTORS}`);
  }
  const idle = performance.now();
  await producer.scheduleNow();
  const idleMs = performance.now() - idle;
  times.sort((a, b) => a - b);
  console.log(
    `scheduler: ${SCHEDULER_CONNECTORS} due connectors claimed and enqueued in ${times[2]?.toFixed(0)} ms (median of 5; min ${times[0]?.toFixed(0)}, max ${times[4]?.toFixed(0)}); a pass with nothing due ${idleMs.toFixed(1)} ms`,
  );
  await producer.stop();
  await pool.end();
}

await server.stop();
source.close();
