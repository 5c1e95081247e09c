// `tributary serve` in its own process on a real PostgreSQL server: the console page, its API,
// the health endpoint and a sync started from the API on one port; exit 0 on SIGTERM. A non-local
// bind without a token is refused before anything connects.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type PostgresServer, startPostgresServer } from '@tributary/testkit-postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureCli } from './support/capture-cli.js';

const here = dirname(fileURLToPath(import.meta.url));
const bin = join(here, '..', 'dist', 'bin.js');
const notesPlugin = join(here, 'fixtures', 'plugins', 'notes-connector.mjs');
const ORG_ID = '00000000-0000-4000-8000-0000000c1602';

let server: PostgresServer;
let url: string;

async function run(argv: string[], env: Record<string, string> = {}) {
  return captureCli(argv, {
    env,
    cwd: here,
  });
}

beforeAll(async () => {
  server = await startPostgresServer();
  url = server.connectionString(await server.createDatabase());
  expect((await run(['migrate', '--database-url', url])).code).toBe(0);
});

afterAll(async () => {
  await server?.stop();
});

describe('tributary serve', () => {
  it('refuses a non-local bind without a token, before connecting', async () => {
    // Port 1 on loopback: nothing listens there, so reaching the database would fail differently.
    const result = await run([
      'serve',
      '--host',
      '0.0.0.0',
      '--database-url',
      'postgres://x@127.0.0.1:1/none',
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^\[tributary\] \[console\] refusing to serve the console on 0\.0\.0\.0 without a token.*TRIBUTARY_CONSOLE_TOKEN/,
    );
    const short = await run(
      ['serve', '--host', '0.0.0.0', '--database-url', 'postgres://x@127.0.0.1:1/none'],
      {
        TRIBUTARY_CONSOLE_TOKEN: 'short',
      },
    );
    expect(short.code).toBe(1);
    expect(short.stderr).toMatch(/shorter than 16 characters/);
  });

  it('refuses --settings that names no --plugin, before connecting', async () => {
    const result = await run([
      'serve',
      '--database-url',
      'postgres://127.0.0.1:9/none',
      '--plugin',
      notesPlugin,
      '--settings',
      './notes-connector.mjs=notes-settings.json',
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `--settings names ./notes-connector.mjs, which is not a --plugin of this command (given: ${notesPlugin})`,
    );
  });

  it('serves the console, its API and health, runs a sync, and exits 0 on SIGTERM', {
    timeout: 90_000,
  }, async () => {
    const pool = server.pool(new URL(url).pathname.slice(1));
    const { rows } = await pool.query<{ id: string }>(
      `insert into connector_configs (org_id, connector_type, name) values ($1, 'cli_notes', 'Notes') returning id`,
      [ORG_ID],
    );
    const connectorId = rows[0]?.id as string;
    const child = spawn(
      process.execPath,
      [
        bin,
        'serve',
        '--database-url',
        url,
        '--plugin',
        notesPlugin,
        '--port',
        '0',
        '--shutdown-timeout',
        '5',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    let base: string | undefined;
    while (base === undefined) {
      if (child.exitCode !== null) throw new Error(`serve exited early: ${output}`);
      base = output.match(/tributary console: (http:\/\/127\.0\.0\.1:\d+)/)?.[1];
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Tributary console');
    const health = await fetch(`${base}/healthz`);
    expect(await health.json()).toMatchObject({ status: 'ok', database: { reachable: true } });
    const meta = (await (await fetch(`${base}/api/meta`)).json()) as { connectorTypes: { type: string }[] };
    expect(meta.connectorTypes.map((type) => type.type)).toEqual(['cli_notes']);

    const sync = await fetch(`${base}/api/connectors/${connectorId}/sync`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-tributary-console': '1' },
      body: '{}',
    });
    expect(sync.status).toBe(202);
    const { jobId } = (await sync.json()) as { jobId: string };
    await expect
      .poll(
        async () => ((await (await fetch(`${base}/api/jobs/${jobId}`)).json()) as { state: string }).state,
        {
          timeout: 30_000,
          interval: 200,
        },
      )
      .toBe('completed');
    const runs = (await (await fetch(`${base}/api/runs?connectorId=${connectorId}`)).json()) as {
      status: string;
      counts: { synced: number };
      stages: Record<string, { ms: number; count: number }>;
    }[];
    expect(runs[0]).toMatchObject({ status: 'success', counts: { synced: 3 } });
    expect(Object.keys(runs[0]?.stages ?? {})).toEqual(
      expect.arrayContaining(['list', 'load', 'extract', 'embed', 'write']),
    );

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output).toContain('"msg":"worker stopped"');
    await pool.end();
  });
});
