// What the operations console costs the database: the latency of its API reads on a database
// with many connectors and a long run history, served by `createConsole` over real HTTP.
//
// - Data: BENCH_CONSOLE_CONNECTORS (default 1,000) connectors in 50 organisations and
//   BENCH_CONSOLE_RUNS (default 50,000) finished runs over the last 60 days (with stage timings),
//   inserted set-based; then `vacuum analyze`.
// - Measured: BENCH_CONSOLE_ITERATIONS (default 50) sequential requests per endpoint after 5
//   warm-up requests (the runs list: the newest page, the page after the newest 500 runs through
//   its keyset cursor, one connector's newest page); the first `connectors` event of the live stream.
//
// Run: pnpm --filter @tributary/bench console   (after building the workspace packages)

import { createConsole } from '@tributary/console';
import { createLexicalEmbedder, defineConnector, silentLogger } from '@tributary/core';
import { fromPg, migrate } from '@tributary/sql';
import { startPostgresServer } from '@tributary/testkit-postgres';

const CONNECTORS = Number(process.env.BENCH_CONSOLE_CONNECTORS ?? 1000);
const RUNS = Number(process.env.BENCH_CONSOLE_RUNS ?? 50_000);
const ITERATIONS = Number(process.env.BENCH_CONSOLE_ITERATIONS ?? 50);

const server = await startPostgresServer();
const name = await server.createDatabase();
const pool = server.pool(name, { max: 4 });
await migrate(fromPg(pool));
await pool.query(
  `insert into connector_configs (org_id, connector_type, name, sync_frequency, next_sync_at)
   select ('00000000-0000-4000-8000-' || lpad((n % 50)::text, 12, '0'))::uuid, 'bench', 'Connector ' || n,
          'daily', now() + interval '1 day'
   from generate_series(1, $1) n`,
  [CONNECTORS],
);
await pool.query(
  `insert into connector_sync_logs (org_id, connector_id, status, started_at, completed_at, duration_ms,
                                    documents_synced, metadata)
   select c.org_id, c.id, 'success', t, t + interval '2 seconds', 2000, 10,
          '{"stages":{"list":{"ms":10,"count":10},"load":{"ms":5,"count":10},"extract":{"ms":3,"count":10},"embed":{"ms":20,"count":1},"write":{"ms":40,"count":3}}}'::jsonb
   from generate_series(1, $1) n
   join lateral (select id, org_id from connector_configs offset (n % $2) limit 1) c on true
   cross join lateral (select now() - (n * (interval '60 days' / $1)) as t) s`,
  [RUNS, CONNECTORS],
);
await pool.query('vacuum analyze');

const operations = createConsole({
  connectionString: server.connectionString(name),
  connectors: [
    defineConnector({
      type: 'bench',
      async check() {},
      async *sync() {},
    }),
  ],
  embedder: createLexicalEmbedder(),
  port: 0,
  logger: silentLogger,
  worker: { concurrency: 0 },
});
await operations.start();

async function measure(path: string): Promise<{ median: number; p95: number; bytes: number }> {
  const times: number[] = [];
  let bytes = 0;
  for (let index = 0; index < ITERATIONS + 5; index += 1) {
    const started = performance.now();
    const response = await fetch(`${operations.url}${path}`);
    const body = await response.arrayBuffer();
    if (!response.ok) throw new Error(`${path} answered ${response.status}`);
    if (index >= 5) times.push(performance.now() - started);
    bytes = body.byteLength;
  }
  times.sort((a, b) => a - b);
  return {
    median: times[Math.floor(times.length / 2)] as number,
    p95: times[Math.floor(times.length * 0.95)] as number,
    bytes,
  };
}

// An older page: the cursor after the newest 500 runs (keyset paging, so its depth costs nothing).
const deep = await fetch(`${operations.url}/api/runs?limit=500`);
await deep.arrayBuffer();
const cursor = deep.headers.get('x-next-cursor');
if (!cursor) throw new Error('/api/runs gave no X-Next-Cursor');
const {
  rows: [busiest],
} = await pool.query<{ connector_id: string }>(
  'select connector_id from connector_sync_logs group by connector_id order by count(*) desc limit 1',
);

console.log(`console API on ${CONNECTORS} connectors and ${RUNS} runs (${ITERATIONS} requests each)`);
for (const path of [
  '/api/connectors',
  '/api/runs?limit=25',
  `/api/runs?limit=25&before=${cursor}`,
  `/api/runs?limit=25&connectorId=${busiest?.connector_id}`,
  '/api/history?days=30',
  '/api/meta',
]) {
  const figures = await measure(path);
  console.log(
    `${path.replace(/=[0-9a-f_-]{30,}/, '=<cursor|id>').padEnd(44)} median ${figures.median.toFixed(1)} ms  p95 ${figures.p95.toFixed(1)} ms  ${(figures.bytes / 1024).toFixed(0)} KiB`,
  );
}
const streamStarted = performance.now();
const controller = new AbortController();
const stream = await fetch(`${operations.url}/api/events`, { signal: controller.signal });
const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
let text = '';
while (!text.includes('\n\n')) text += new TextDecoder().decode((await reader.read()).value);
console.log(`${'first live-stream event'.padEnd(44)} ${(performance.now() - streamStarted).toFixed(1)} ms`);
controller.abort();

await operations.stop();
await pool.end();
await server.stop();
