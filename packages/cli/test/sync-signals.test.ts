// `tributary sync` and process signals on a real PostgreSQL server: SIGTERM mid-run ends the run
// `cancelled` with its lease released and its last checkpoint kept, so an immediate re-run
// proceeds; a run left by a crashed worker is reported with its lease expiry and released by
// `--take-over`.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type PostgresServer, startPostgresServer } from '@tributary/testkit-postgres';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureCli } from './support/capture-cli.js';

const here = dirname(fileURLToPath(import.meta.url));
const slowPlugin = join(here, 'fixtures', 'plugins', 'slow-connector.mjs');
const bin = join(here, '..', 'dist', 'bin.js');
const ORG_ID = '00000000-0000-4000-8000-0000000c1201';

async function run(cwd: string, argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return captureCli(argv, {
    env: { SLOW_NOTES_MS: '1' },
    cwd,
  });
}

describe('tributary sync and signals on a PostgreSQL server', () => {
  let server: PostgresServer;
  let url: string;
  let cwd: string;
  let pool: pg.Pool;

  beforeAll(async () => {
    server = await startPostgresServer();
    const database = await server.createDatabase();
    url = server.connectionString(database);
    cwd = await mkdtemp(join(tmpdir(), 'tributary-cli-signals-'));
    const migrated = await run(cwd, ['migrate', '--database-url', url]);
    expect(migrated.code).toBe(0);
    pool = server.pool(database, { max: 2 });
  });
  afterAll(async () => {
    await pool?.end();
    await server?.stop();
    if (cwd) await rm(cwd, { recursive: true, force: true });
  });

  async function newConnector(name: string): Promise<string> {
    const { rows } = await pool.query<{ id: string }>(
      `insert into public.connector_configs (org_id, connector_type, name) values ($1, 'cli_slow_notes', $2) returning id`,
      [ORG_ID, name],
    );
    return rows[0]?.id ?? '';
  }

  it('SIGTERM mid-run: cancelled, lease released, checkpoint kept; an immediate re-run proceeds', async () => {
    expect(existsSync(bin), 'build the package first (turbo runs build before test)').toBe(true);
    const connectorId = await newConnector('Slow notes');
    const child = spawn(
      process.execPath,
      [bin, 'sync', '--connector-id', connectorId, '--plugin', slowPlugin, '--database-url', url],
      {
        cwd,
        env: { PATH: process.env.PATH, SLOW_NOTES_MS: '40', SLOW_LIST_MS: '40' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    let signalled = false;
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      // Twelve notes listed, the listing still running: terminate it as docker stop or Kubernetes would.
      if (!signalled && /^listed 12$/m.test(stderr)) {
        signalled = true;
        child.kill('SIGTERM');
      }
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    const code = await exited;
    expect(signalled).toBe(true);
    expect(code).toBe(1);
    expect(stderr).toMatch(
      /\[tributary\] terminated: finishing what is in flight and ending the run as cancelled/,
    );
    expect(stdout).toMatch(/^Sync cancelled \(full\)/m);

    const runs = await pool.query<{ status: string; lease_expires_at: Date | null }>(
      'select status, lease_expires_at from public.connector_sync_logs where connector_id = $1',
      [connectorId],
    );
    expect(runs.rows.map((r) => r.status)).toEqual(['cancelled']);
    const connector = await pool.query<{ sync_cursor: number | null }>(
      'select sync_cursor from public.connector_configs where id = $1',
      [connectorId],
    );
    const cursor = connector.rows[0]?.sync_cursor ?? 0;
    expect(cursor).toBeGreaterThanOrEqual(6);
    expect(cursor).toBeLessThan(200);
    // Everything before the cursor is stored and completed.
    const stored = await pool.query<{ n: number }>(
      `select count(*)::int as n from public.imported_documents where connector_id = $1 and processing_status = 'completed'`,
      [connectorId],
    );
    expect(stored.rows[0]?.n).toBeGreaterThanOrEqual(cursor);

    // No waiting for a lease: the next run starts now, from the checkpoint.
    const again = await run(cwd, [
      'sync',
      '--connector-id',
      connectorId,
      '--plugin',
      slowPlugin,
      '--database-url',
      url,
    ]);
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^Sync success \(full\)/m);
    expect(again.stdout).toContain(`documents:  ${200 - cursor} listed`);
    const documents = await pool.query<{ n: number; chunks: number }>(
      `select count(*)::int as n, sum(chunk_count)::int as chunks from public.imported_documents
       where connector_id = $1 and processing_status = 'completed' and not is_deleted`,
      [connectorId],
    );
    expect(documents.rows[0]?.n).toBe(200);
  });

  it("a crashed worker's run: the refusal shows its lease expiry; --take-over releases it and syncs", async () => {
    const connectorId = await newConnector('Crashed notes');
    // A worker that started a run and died: its lease runs for another hour.
    const started = await pool.query<{ lease_expires_at: Date; sync_log_id: string }>(
      `select * from public.start_connector_sync($1, 'manual', 'full', 3600, 'worker-that-crashed')`,
      [connectorId],
    );
    const crashed = started.rows[0];
    const refused = await run(cwd, [
      'sync',
      '--connector-id',
      connectorId,
      '--plugin',
      slowPlugin,
      '--database-url',
      url,
    ]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`lease until ${crashed?.lease_expires_at.toISOString()}`);
    expect(refused.stderr).toMatch(/--take-over/);

    const taken = await run(cwd, [
      'sync',
      '--connector-id',
      connectorId,
      '--plugin',
      slowPlugin,
      '--database-url',
      url,
      '--take-over',
    ]);
    expect(taken.stderr).toBe('');
    expect(taken.code).toBe(0);
    expect(taken.stdout).toContain(
      `take-over: released run ${crashed?.sync_log_id} of worker worker-that-crashed`,
    );
    const old = await pool.query<{ status: string; error_message: string }>(
      'select status, error_message from public.connector_sync_logs where id = $1',
      [crashed?.sync_log_id],
    );
    expect(old.rows[0]?.status).toBe('cancelled');
    expect(old.rows[0]?.error_message).toMatch(/released by an operator/);
  });
});
