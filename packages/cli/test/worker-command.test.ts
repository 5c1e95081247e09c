// `tributary worker` in its own process (real SIGTERM, health endpoint) and `tributary enqueue`
// in process, on a real PostgreSQL server migrated by `tributary migrate`.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type PostgresServer, startPostgresServer } from '@tributary/testkit-postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureCli } from './support/capture-cli.js';

const here = dirname(fileURLToPath(import.meta.url));
const bin = join(here, '..', 'dist', 'bin.js');
const notesPlugin = join(here, 'fixtures', 'plugins', 'notes-connector.mjs');
const notesSettings = join(here, 'fixtures', 'plugins', 'notes-settings.json');
const ORG_ID = '00000000-0000-4000-8000-0000000c1601';

let server: PostgresServer;
let url: string;

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return captureCli(argv, {
    env: {},
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

describe('tributary worker / enqueue', () => {
  it('refuses to start without a server database', async () => {
    const result = await run(['worker', '--plugin', notesPlugin]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /no database given: pass --database-url .* cannot use a transaction pooler/,
    );
  });

  it('refuses --settings that is not <plugin>=<file> or names no --plugin', async () => {
    const base = ['worker', '--database-url', 'postgres://127.0.0.1:9/none', '--plugin', notesPlugin];
    const shape = await run([...base, '--settings', 'notes.json']);
    expect(shape.code).toBe(1);
    expect(shape.stderr).toContain('--settings takes <plugin>=<file>, got "notes.json"');
    const other = await run([...base, '--settings', '@tributary/connector-url=url.json']);
    expect(other.code).toBe(1);
    expect(other.stderr).toContain(
      `--settings names @tributary/connector-url, which is not a --plugin of this command (given: ${notesPlugin})`,
    );
    const twice = await run([
      ...base,
      '--settings',
      `${notesPlugin}=a.json`,
      '--settings',
      `${notesPlugin}=b.json`,
    ]);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain(`--settings names ${notesPlugin} twice`);
    const missing = await run([...base, '--settings', `${notesPlugin}=missing-settings.json`]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/missing-settings\.json/);
  });

  it('runs queued syncs, reports health, and exits 0 on SIGTERM', { timeout: 90_000 }, async () => {
    const pool = server.pool(new URL(url).pathname.slice(1));
    const { rows } = await pool.query<{ id: string }>(
      `insert into connector_configs (org_id, connector_type, name) values ($1, 'cli_notes', 'Notes') returning id`,
      [ORG_ID],
    );
    const connectorId = rows[0]?.id as string;
    const healthPort = 20_000 + Math.floor(Math.random() * 20_000);
    const child = spawn(
      process.execPath,
      [
        bin,
        'worker',
        '--database-url',
        url,
        '--plugin',
        notesPlugin,
        // The plugin's factory gets this JSON: its notes' titles start with "Worker: ".
        '--settings',
        `${notesPlugin}=${notesSettings}`,
        '--health-port',
        String(healthPort),
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
    while (!output.includes('health endpoint listening')) {
      if (child.exitCode !== null) throw new Error(`worker exited early: ${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    const queued = await run(['enqueue', connectorId, '--database-url', url, '--wait', '--json']);
    expect(queued.code).toBe(0);
    const job = JSON.parse(queued.stdout) as {
      state: string;
      output: { status: string; counts: { inserted: number } };
    };
    expect(job.state).toBe('completed');
    expect(job.output).toMatchObject({ status: 'success', counts: { inserted: 3 } });
    const titles = await pool.query<{ title: string }>(
      'select title from imported_documents where connector_id = $1 order by title',
      [connectorId],
    );
    expect(titles.rows.map((row) => row.title)).toEqual([
      'Worker: Bike maintenance',
      'Worker: Garden plan',
      'Worker: Salmon dinner',
    ]);

    const health = await fetch(`http://127.0.0.1:${healthPort}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', database: { reachable: true }, running: true });

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    // Structured JSON lines with the run and connector ids.
    const finished = output
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((line) => line.msg === 'sync job finished');
    expect(finished).toMatchObject({ connectorId, status: 'success', reason: 'manual' });
    expect(typeof finished?.runId).toBe('string');
    expect(output).toContain('"msg":"worker stopped"');
  });
});
