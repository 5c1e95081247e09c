// The console's JSON API against a real PostgreSQL server: bad input answers 400 with a
// `[tributary] ...` message and stores nothing; a running sync is cancelled from the console (its
// job ends cancelled, its run ends cancelled at its last checkpoint, the live view says so).
import { randomBytes, randomUUID } from 'node:crypto';
import {
  createConnectorManager,
  createLexicalEmbedder,
  createSecretKeyRing,
  silentLogger,
} from '@tributary/core';
import { fromPg, migrate } from '@tributary/sql';
import { type PostgresServer, startPostgresServer } from '@tributary/testkit-postgres';
import type pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CONSOLE_HEADER, createConsole, type OperationsConsole } from '../src/index.js';
import { createNotesConnector, signNotes } from './support/notes-connector.js';

let server: PostgresServer;
let pool: pg.Pool;
let operations: OperationsConsole;
const orgId = randomUUID();
const keyRing = createSecretKeyRing([['test-key', randomBytes(32)]]);

async function call(path: string, init: { method?: string; body?: unknown } = {}) {
  const response = await operations.app.fetch(
    new Request(`http://127.0.0.1/api${path}`, {
      method: init.method ?? 'GET',
      headers: { 'content-type': 'application/json', [CONSOLE_HEADER]: '1' },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    }),
  );
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  server = await startPostgresServer();
  const name = await server.createDatabase();
  pool = server.pool(name, { max: 2 });
  await migrate(fromPg(pool));
  operations = createConsole({
    connectionString: server.connectionString(name),
    connectors: [createNotesConnector()],
    embedder: createLexicalEmbedder(),
    port: 0,
    keyRing,
    logger: silentLogger,
    // No time-based group cut (groupMaxWaitMs): the cancel test looks at a run that has stored
    // nothing yet while its slow source lists.
    worker: {
      pollingIntervalSeconds: 0.5,
      schedule: false,
      runOptions: { groupMaxWaitMs: Number.POSITIVE_INFINITY },
    },
  });
  await operations.start();
});

afterAll(async () => {
  await operations?.stop();
  await pool?.end();
  await server?.stop();
});

it('refuses bad input with a clear message and stores nothing', async () => {
  const unknownType = await call('/connectors', { method: 'POST', body: { type: 'gdrive', orgId } });
  expect(unknownType.status).toBe(400);
  expect(unknownType.body.error).toMatch(
    /^\[tributary\] \[console\] no connector plugin of type "gdrive".*notes/,
  );

  const badConfig = await call('/connectors', {
    method: 'POST',
    body: { type: 'notes', orgId, config: { docs: 'many' } },
  });
  expect(badConfig.status).toBe(400);
  expect(badConfig.body.error).toMatch(/^\[tributary\] \[notes\].*docs/);

  const badOrg = await call('/connectors', { method: 'POST', body: { type: 'notes', orgId: 'acme' } });
  expect(badOrg.status).toBe(400);
  expect(badOrg.body.error).toMatch(/orgId must be a UUID/);

  const { rows } = await pool.query('select count(*)::int as n from connector_configs');
  expect(rows[0].n).toBe(0);

  const unknownConnector = await call(`/connectors/${randomUUID()}/sync`, { method: 'POST', body: {} });
  expect(unknownConnector.status).toBe(400);
  expect(unknownConnector.body.error).toMatch(/not found/);

  const badSearch = await call('/search?orgId=nope&q=x');
  expect(badSearch.status).toBe(400);
  const emptyQuery = await call(`/search?orgId=${orgId}&q=`);
  expect(emptyQuery.status).toBe(400);
  expect(emptyQuery.body.error).toMatch(/non-empty query/);
});

it('cancels a running sync from the console', async () => {
  const created = await call('/connectors', {
    method: 'POST',
    body: { type: 'notes', orgId, name: 'Slow notes', config: { docs: 10, delayMs: 400 } },
  });
  expect(created.status).toBe(201);
  const connectorId = created.body.id as string;
  const sync = await call(`/connectors/${connectorId}/sync`, { method: 'POST', body: {} });
  expect(sync.status).toBe(202);
  const jobId = sync.body.jobId as string;

  // Wait until the run started (its run row holds the lease; the source is still listing).
  const runState = async () => {
    const rows = (await call('/connectors')).body as unknown as {
      id: string;
      live: { state: string } | null;
    }[];
    return rows.find((row) => row.id === connectorId)?.live?.state;
  };
  await expect.poll(runState, { timeout: 30_000, interval: 100 }).toBe('running');
  // The live view moves while the source lists, before any document is stored (listing-progress).
  const live = async () =>
    (
      (await call('/connectors')).body as unknown as {
        id: string;
        live: { done: number; listing?: boolean; percent: number | null } | null;
      }[]
    ).find((row) => row.id === connectorId)?.live;
  await expect
    .poll(async () => ((await live())?.done ?? 0) >= 2, { timeout: 30_000, interval: 100 })
    .toBe(true);
  expect(await live()).toMatchObject({ listing: true });
  const stored = await pool.query(
    'select count(*)::int as n from imported_documents where connector_id = $1',
    [connectorId],
  );
  expect(stored.rows[0].n).toBe(0);
  const cancel = await call(`/jobs/${jobId}/cancel`, { method: 'POST', body: {} });
  expect(cancel).toEqual({ status: 200, body: { cancelled: true } });

  await expect
    .poll(async () => (await call(`/jobs/${jobId}`)).body.state, { timeout: 30_000, interval: 100 })
    .toBe('cancelled');
  await expect
    .poll(
      async () =>
        (await pool.query('select status from connector_sync_logs where connector_id = $1', [connectorId]))
          .rows,
      { timeout: 30_000, interval: 100 },
    )
    .toEqual([{ status: 'cancelled' }]);
  const { rows } = await pool.query(
    'select count(*)::int as n from imported_documents where connector_id = $1',
    [connectorId],
  );
  // Cancelled while listing: what was listed after the last checkpoint is dropped.
  expect(rows[0].n).toBeLessThan(10);
  expect((await call('/connectors')).body).toEqual([
    expect.objectContaining({
      id: connectorId,
      live: expect.objectContaining({ state: 'cancelled', status: 'cancelled' }),
    }),
  ]);
  const runs = await call(`/runs?connectorId=${connectorId}`);
  expect((runs.body as unknown as { status: string }[])[0]?.status).toBe('cancelled');
  // Cancelling again: the job already ended.
  expect((await call(`/jobs/${jobId}/cancel`, { method: 'POST', body: {} })).body).toEqual({
    cancelled: false,
  });
});

it('takes signed webhook deliveries on the same port, refuses forged ones, and processes each once', async () => {
  const secret = 'notes-webhook-secret';
  const manager = createConnectorManager({ repository: operations.worker.repository, keyRing });
  const row = await manager.create(createNotesConnector(), {
    orgId,
    name: 'Hooked notes',
    config: { docs: 0 },
    webhookSecret: secret,
  });
  const deliver = (body: string, signature: string) =>
    fetch(`${operations.url}/webhooks/${row.id}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-notes-signature': signature },
      body,
    });
  const body = JSON.stringify({ id: 'evt-1', note: 'note-7' });
  const forged = await deliver(
    JSON.stringify({ id: 'evt-forged', note: 'note-8' }),
    signNotes('wrong', body),
  );
  expect(forged.status).toBe(401);
  expect((await deliver(body, signNotes(secret, body))).status).toBe(200);
  // A redelivery of the same event is answered and recorded once.
  expect((await deliver(body, signNotes(secret, body))).status).toBe(200);
  await expect
    .poll(
      async () =>
        (
          await pool.query(
            `select external_id, title from imported_documents where connector_id = $1 and not is_deleted`,
            [row.id],
          )
        ).rows,
      { timeout: 30_000, interval: 200 },
    )
    .toEqual([{ external_id: 'note-7', title: 'Updated note-7' }]);
  await expect
    .poll(
      async () =>
        (
          await pool.query(
            'select event_id, processed from connector_webhook_events where connector_id = $1',
            [row.id],
          )
        ).rows,
      { timeout: 30_000, interval: 200 },
    )
    .toEqual([{ event_id: 'evt-1', processed: true }]);
});

it('pages the runs list with a keyset cursor: every run once, in order, while new runs start', async () => {
  const otherOrg = randomUUID();
  const {
    rows: [connector],
  } = await pool.query(
    `insert into connector_configs (org_id, connector_type, name) values ($1, 'notes', 'Paged notes') returning id`,
    [otherOrg],
  );
  // 23 finished runs: microsecond start times (a Date would round them) and runs of one start
  // instant, so only (started_at, id) orders them.
  await pool.query(
    `insert into connector_sync_logs (org_id, connector_id, status, started_at, completed_at)
     select $1, $2, 'success', t, t + interval '1 second'
     from generate_series(1, 23) n
     cross join lateral (select timestamptz '2026-11-01 10:00:00.123456+00'
                                - (n / 4) * interval '1.000001 seconds' as t) s`,
    [otherOrg, connector.id],
  );
  const expected = async (connectorId?: string) =>
    (
      await pool.query(
        `select id from connector_sync_logs where $1::uuid is null or connector_id = $1
         order by started_at desc, id desc`,
        [connectorId ?? null],
      )
    ).rows.map((row: { id: string }) => row.id);
  const page = async (query: string) => {
    const response = await operations.app.fetch(
      new Request(`http://127.0.0.1/api/runs?${query}`, { headers: { [CONSOLE_HEADER]: '1' } }),
    );
    expect(response.status).toBe(200);
    const runs = (await response.json()) as { id: string }[];
    return { ids: runs.map((run) => run.id), cursor: response.headers.get('x-next-cursor') };
  };

  for (const connectorId of [undefined, connector.id as string]) {
    const all = await expected(connectorId);
    const filter = connectorId ? `connectorId=${connectorId}&` : '';
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const next = await page(`${filter}limit=5${cursor ? `&before=${cursor}` : ''}`);
      if (pages === 0) {
        // A run that starts while the operator pages is on the newest page, not a shifted row.
        await pool.query(
          `insert into connector_sync_logs (org_id, connector_id, status, started_at, completed_at)
           values ($1, $2, 'success', now(), now())`,
          [otherOrg, connector.id],
        );
      }
      expect(next.ids.length).toBeLessThanOrEqual(5);
      seen.push(...next.ids);
      cursor = next.cursor;
      pages += 1;
    } while (cursor);
    expect(seen).toEqual(all);
    expect(pages).toBe(Math.ceil(all.length / 5));
  }

  const bad = await call('/runs?before=2026-11-01');
  expect(bad.status).toBe(400);
  expect(bad.body.error).toMatch(/before must be a cursor from the X-Next-Cursor header/);
});

it('shows a run on another worker with the progress its heartbeat stored while the source lists', async () => {
  const {
    rows: [connector],
  } = await pool.query(
    `insert into connector_configs (org_id, connector_type, name) values ($1, 'notes', 'Listing elsewhere') returning id`,
    [randomUUID()],
  );
  const {
    rows: [run],
  } = await pool.query(
    `insert into connector_sync_logs (org_id, connector_id, status, worker_id, lease_expires_at, metadata)
     select org_id, id, 'running', 'other-worker', now() + interval '5 minutes',
            '{"progress":{"listed":42,"listing":true,"total":120,"at":"2026-12-04T11:00:00.000Z"}}'
     from connector_configs where id = $1
     returning id`,
    [connector.id],
  );
  const rows = (await call('/connectors')).body as unknown as { id: string; running: unknown }[];
  expect(rows.find((row) => row.id === connector.id)?.running).toEqual({
    runId: run.id,
    startedAt: expect.any(String),
    done: 0,
    workerId: 'other-worker',
    progress: { listed: 42, listing: true, total: 120, at: '2026-12-04T11:00:00.000Z' },
  });
  await pool.query(
    `update connector_sync_logs set status = 'cancelled', completed_at = now() where id = $1`,
    [run.id],
  );
});
