import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { type PostgresServer, startPostgresServer } from '@tributary/testkit-postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureCli } from './support/capture-cli.js';

const here = dirname(fileURLToPath(import.meta.url));
const plugins = join(here, 'fixtures', 'plugins');
const notesPlugin = join(plugins, 'notes-connector.mjs');
const failingPlugin = join(plugins, 'failing-connector.mjs');

const ORG_ID = '00000000-0000-4000-8000-0000000c1101';
const OTHER_ORG_ID = '00000000-0000-4000-8000-0000000c1102';

async function run(
  cwd: string,
  argv: string[],
  env: Record<string, string | undefined> = {},
  progressStream?: NodeJS.WritableStream,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return captureCli(argv, {
    env,
    cwd,
    progressStream,
  });
}

/** A stream that says it is a terminal (as `process.stderr` does on a TTY) and keeps what is drawn. */
function fakeTerminal(): Writable & { isTTY: true; columns: number; drawn: () => string } {
  let drawn = '';
  const terminal = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      drawn += chunk.toString();
      callback();
    },
  }) as Writable & { isTTY: true; columns: number; drawn: () => string };
  Object.assign(terminal, { isTTY: true, columns: 120, drawn: () => drawn });
  return terminal;
}

let cwd: string;
let notesId: string;
let failingId: string;
const db = ['--pglite', 'db'];

beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'tributary-cli-sync-'));
  const migrated = await run(cwd, ['migrate', ...db]);
  expect(migrated.stderr).toBe('');
  expect(migrated.code).toBe(0);
  // PGlite folders are single-process: insert the connector rows, then close before the CLI opens it.
  const pglite = await PGlite.create(join(cwd, 'db'), { extensions: { vector } });
  try {
    const insert = async (org: string, type: string, name: string) => {
      const { rows } = await pglite.query<{ id: string }>(
        `insert into public.connector_configs (org_id, connector_type, name) values ($1, $2, $3) returning id`,
        [org, type, name],
      );
      const id = rows[0]?.id;
      if (id === undefined) throw new Error('no connector row');
      return id;
    };
    notesId = await insert(ORG_ID, 'cli_notes', 'Notes');
    failingId = await insert(ORG_ID, 'cli_failing', 'Failing source');
    await insert(OTHER_ORG_ID, 'cli_notes', 'Other notes');
  } finally {
    await pglite.close();
  }
});

afterAll(async () => {
  if (cwd) await rm(cwd, { recursive: true, force: true });
});

describe('tributary sync, search and status on a PGlite folder', () => {
  it('syncs a plugin file, then finds nothing to embed the second time', async () => {
    // A path relative to the working folder, as a user would type it.
    const plugin = relative(cwd, notesPlugin);
    const first = await run(cwd, ['sync', '--connector-id', notesId, '--plugin', plugin, ...db]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`Syncing cli_notes connector "Notes" (${notesId})`);
    expect(first.stdout).toMatch(/embedder: lexical \(offline, not semantic; lexical:stemmed-v2@1536\)/);
    expect(first.stdout).toMatch(/^ {2}full sync started/m);
    expect(first.stdout).toMatch(/^ {2}\[1\/3\] inserted {2}note-salmon$/m);
    expect(first.stdout).toMatch(/^Sync success \(full\)/m);
    expect(first.stdout).toContain(
      'documents:  3 listed, 3 inserted, 0 updated, 0 unchanged, 0 skipped (same version), 0 failed, 0 deleted',
    );
    expect(first.stdout).toMatch(/embeddings: \d+ request\(s\), 3 input\(s\), 0 reused/);

    const second = await run(cwd, [
      '--json',
      'sync',
      '--connector-id',
      notesId,
      '--plugin',
      notesPlugin,
      ...db,
    ]);
    expect(second.stderr).toBe('');
    expect(second.code).toBe(0);
    const summary = JSON.parse(second.stdout) as {
      status: string;
      mode: string;
      counts: { seen: number; skippedByVersion: number; inserted: number };
      embeddings: { inputs: number; requests: number };
      embedder: { kind: string };
      connector: { id: string };
    };
    expect(summary).toMatchObject({
      status: 'success',
      mode: 'full',
      counts: { seen: 3, skippedByVersion: 3, inserted: 0 },
      embeddings: { inputs: 0, requests: 0 },
      embedder: { kind: 'lexical' },
      connector: { id: notesId },
    });
  });

  it('searches the synced documents', async () => {
    const found = await run(cwd, ['search', 'grilled salmon with dill', '--org', ORG_ID, ...db]);
    expect(found.stderr).toBe('');
    expect(found.code).toBe(0);
    expect(found.stdout).toContain('full text + lexical (offline, not semantic');
    expect(found.stdout).toMatch(/^ {2}1\. \d\.\d{4} {2}Salmon dinner\n {5}why: full text #1 /m);
    expect(found.stdout).toContain('https://notes.example/note-salmon');
    expect(found.stdout).toMatch(/\*\*salmon\*\*/i);

    // Each hit says why it scored what it did (--explain is kept for scripts); --min-similarity
    // drops weak vector hits.
    const explained = await run(cwd, [
      'search',
      'grilled salmon with dill',
      '--org',
      ORG_ID,
      '--explain',
      ...db,
    ]);
    expect(explained.code).toBe(0);
    expect(explained.stdout).toMatch(
      /^ {5}why: full text #1 \(bm25 \d+\.\d{3}\) \+ vector #1 \(cosine \d\.\d{3}, exact\) = 0\.0328$/m,
    );
    const vectorOnly = await run(cwd, [
      'search',
      'grilled salmon with dill',
      '--org',
      ORG_ID,
      '--mode',
      'vector',
      ...db,
    ]);
    expect(vectorOnly.stdout).toMatch(/^ {2}1\. \d\.\d{4} {2}Salmon dinner\n {5}why: vector #1 \(cosine /m);
    const strict = await run(cwd, [
      'search',
      'grilled salmon with dill',
      '--org',
      ORG_ID,
      '--mode',
      'vector',
      '--min-similarity',
      '0.999',
      ...db,
    ]);
    expect(strict.code).toBe(0);
    expect(strict.stdout).toContain('No results.');

    const json = await run(cwd, [
      'search',
      'bicycle chain',
      '--org',
      ORG_ID,
      '--limit',
      '2',
      '--json',
      ...db,
    ]);
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout) as {
      results: { rank: number; title: string; externalUrl: string }[];
    };
    expect(parsed.results.length).toBeLessThanOrEqual(2);
    expect(parsed.results[0]).toMatchObject({
      rank: 1,
      title: 'Bike maintenance',
      externalUrl: 'https://notes.example/note-bike',
    });

    // Only the failing connector's documents (none completed): nothing.
    const filtered = await run(cwd, [
      'search',
      'salmon',
      '--org',
      ORG_ID,
      '--connector-id',
      failingId,
      ...db,
    ]);
    expect(filtered.code).toBe(0);
    expect(filtered.stdout).toContain('No results.');

    // Another organisation sees none of it.
    const other = await run(cwd, ['search', 'salmon', '--org', OTHER_ORG_ID, ...db]);
    expect(other.code).toBe(0);
    expect(other.stdout).toContain('No results.');
  });

  it('a plugin whose documents all fail ends partial with exit code 2, and the run is recorded', async () => {
    const partial = await run(cwd, [
      'sync',
      '--connector-id',
      failingId,
      '--plugin',
      failingPlugin,
      '--export',
      'failingConnector',
      ...db,
    ]);
    expect(partial.code).toBe(2);
    expect(partial.stdout).toMatch(/^Sync partial \(full\)/m);
    expect(partial.stdout).toContain(
      '2 listed, 0 inserted, 0 updated, 0 unchanged, 0 skipped (same version), 2 failed',
    );
    expect(partial.stdout).toMatch(/^ {2}! broken-1: .*the source refused to send broken-1/m);
    expect(partial.stderr).toMatch(
      /^\[tributary\] sync partial: 2 of 2 document\(s\) failed \(run [0-9a-f-]{36} recorded\); first error: .*the source refused to send broken-1/,
    );
    expect(partial.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('status lists the connectors and the runs', async () => {
    const status = await run(cwd, ['status', '--org', ORG_ID, ...db]);
    expect(status.stderr).toBe('');
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(
      new RegExp(
        `^ {2}${notesId} {2}cli_notes "Notes" {2}last sync success at \\d{4}-.*Z, 0 error\\(s\\)$`,
        'm',
      ),
    );
    expect(status.stdout).toMatch(
      new RegExp(`^ {2}${failingId} {2}cli_failing "Failing source" {2}last sync partial`, 'm'),
    );
    expect(status.stdout).not.toContain('Other notes');
    expect(status.stdout).toContain('Latest sync runs (3)');
    expect(status.stdout).toMatch(
      / partial {3}manual full {2}0 inserted, 0 updated, 0 skipped, 2 failed, 0 deleted {2}\d+\.\d s/,
    );
    expect(status.stdout).toMatch(
      / success {3}manual full {2}3 inserted, 0 updated, 0 skipped, 0 failed, 0 deleted/,
    );

    const json = await run(cwd, ['status', '--connector-id', notesId, '--json', ...db]);
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout) as {
      connectors: { id: string; lastSyncStatus: string }[];
      runs: { status: string; syncMode: string; documentsSynced: number; documentsSkipped: number }[];
    };
    expect(parsed.connectors).toEqual([expect.objectContaining({ id: notesId, lastSyncStatus: 'success' })]);
    expect(parsed.runs.map((entry) => [entry.status, entry.documentsSynced, entry.documentsSkipped])).toEqual(
      [
        ['success', 0, 3],
        ['success', 3, 0],
      ],
    );
  });

  it('draws a progress bar on a terminal, ending at every document of the reported total', async () => {
    const terminal = fakeTerminal();
    const result = await run(
      cwd,
      ['sync', '--connector-id', notesId, '--plugin', notesPlugin, '--mode', 'full', ...db],
      {},
      terminal,
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    // The per-document lines are the non-terminal rendering; on a terminal the bar replaces them.
    expect(result.stdout).not.toMatch(/\[1\/3\]/);
    expect(result.stdout).toMatch(/^Sync success \(full\)/m);
    const drawn = terminal.drawn();
    // cli-progress draws on the terminal (cursor control, no line wrap), and the last frame is a
    // full bar (shades_classic) at 3 of 3.
    expect(drawn).toContain('\u001b[?25l');
    expect(drawn).toMatch(/\u2588{40} 3\/3 documents \| ETA 0s \| success/);
  });

  it('fails with exit 1 and one clear line for a plugin that is not a connector', async () => {
    const notConnector = await run(cwd, [
      'sync',
      '--connector-id',
      notesId,
      '--plugin',
      join(plugins, 'not-a-connector.mjs'),
      ...db,
    ]);
    expect(notConnector.code).toBe(1);
    expect(notConnector.stderr).toMatch(
      /^\[tributary\] export "default" of .*not-a-connector\.mjs is not a Tributary connector: found an object with keys name, sync; the connector has no specificationVersion/,
    );
    expect(notConnector.stderr.trim().split('\n')).toHaveLength(1);

    const wrongExport = await run(cwd, [
      'sync',
      '--connector-id',
      notesId,
      '--plugin',
      notesPlugin,
      '--export',
      'settings',
      ...db,
    ]);
    expect(wrongExport.code).toBe(1);
    expect(wrongExport.stderr).toMatch(
      /^\[tributary\] export "settings" of .* is not a Tributary connector: found an object with keys baseUrl/,
    );

    const missingExport = await run(cwd, [
      'sync',
      '--connector-id',
      notesId,
      '--plugin',
      notesPlugin,
      '--export',
      'nope',
      ...db,
    ]);
    expect(missingExport.code).toBe(1);
    expect(missingExport.stderr).toMatch(
      /^\[tributary\] .* has no export "nope"; it exports default, settings/,
    );

    const missingFile = await run(cwd, [
      'sync',
      '--connector-id',
      notesId,
      '--plugin',
      './missing.mjs',
      ...db,
    ]);
    expect(missingFile.code).toBe(1);
    expect(missingFile.stderr).toMatch(/^\[tributary\] connector plugin file .*missing\.mjs does not exist/);
  });

  it('fails with exit 1 for an unknown connector id, a plugin of another type, and openai without a key', async () => {
    const unknown = await run(cwd, [
      'sync',
      '--connector-id',
      '00000000-0000-4000-8000-00000000dead',
      '--plugin',
      notesPlugin,
      ...db,
    ]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(
      /^\[tributary\] no connector 00000000-0000-4000-8000-00000000dead in PGlite /,
    );
    expect(unknown.stderr.trim().split('\n')).toHaveLength(1);

    const json = await run(cwd, [
      'sync',
      '--connector-id',
      '00000000-0000-4000-8000-00000000dead',
      '--plugin',
      notesPlugin,
      '--json',
      ...db,
    ]);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ error: { code: 'connector_not_found' } });

    const mismatch = await run(cwd, ['sync', '--connector-id', failingId, '--plugin', notesPlugin, ...db]);
    expect(mismatch.code).toBe(1);
    expect(mismatch.stderr).toMatch(
      /^\[tributary\] connector .* is of type "cli_failing" but the plugin .* is "cli_notes"/,
    );

    const badId = await run(cwd, ['sync', '--connector-id', 'abc', '--plugin', notesPlugin, ...db]);
    expect(badId.code).toBe(1);
    expect(badId.stderr).toMatch(/^\[tributary\] .*--connector-id.*expected a uuid, got "abc"/);

    // The vector size is fixed once 0010_vector_models is applied: another one is refused, nothing changes.
    const resized = await run(cwd, ['migrate', '--vector-dimensions', '768', ...db]);
    expect(resized.code).toBe(1);
    expect(resized.stderr).toMatch(/stores embeddings as vector\(1536\); you asked for vector\(768\)/);
    const badSize = await run(cwd, ['migrate', '--vector-dimensions', 'many', ...db]);
    expect(badSize.code).toBe(1);
    expect(badSize.stderr).toMatch(/--vector-dimensions.*expected a whole number from 1 to 4000/);

    const openai = await run(cwd, ['search', 'salmon', '--org', ORG_ID, '--embedder', 'openai', ...db]);
    expect(openai.code).toBe(1);
    expect(openai.stderr).toMatch(
      /^\[tributary\] --embedder openai needs the OPENAI_API_KEY environment variable/,
    );
  });

  it('the built executable exits 2 for a partial sync, with the summary on stdout', async () => {
    const bin = join(here, '..', 'dist', 'bin.js');
    expect(existsSync(bin), 'build the package first (turbo runs build before test)').toBe(true);
    const exec = promisify(execFile);
    const failure = await exec(
      process.execPath,
      [
        bin,
        'sync',
        '--connector-id',
        failingId,
        '--plugin',
        failingPlugin,
        '--export',
        'failingConnector',
        ...db,
      ],
      { cwd, env: { PATH: process.env.PATH } },
    ).then(
      () => undefined,
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
    expect(failure?.code).toBe(2);
    expect(failure?.stdout).toMatch(/^Sync partial \(full\)/m);
    expect(failure?.stderr).toMatch(/^\[tributary\] sync partial: 2 of 2 document\(s\) failed[^\n]*\n$/);
  });
});

describe('tributary on a PostgreSQL server with pgvector through --database-url', () => {
  let server: PostgresServer;
  let url: string;
  let serverCwd: string;

  beforeAll(async () => {
    server = await startPostgresServer();
    url = server.connectionString(await server.createDatabase());
    serverCwd = await mkdtemp(join(tmpdir(), 'tributary-cli-pgvector-'));
  });
  afterAll(async () => {
    await server?.stop();
    if (serverCwd) await rm(serverCwd, { recursive: true, force: true });
  });

  it('migrates everything, syncs with vectors and searches in both modes', async () => {
    const migrated = await run(serverCwd, ['migrate', '--database-url', url]);
    expect(migrated.stderr).toBe('');
    expect(migrated.code).toBe(0);
    expect(migrated.stdout).toMatch(/0007_vector_search/);

    const pool = server.pool(new URL(url).pathname.slice(1), { max: 1 });
    const { rows } = await pool.query<{ id: string }>(
      `insert into public.connector_configs (org_id, connector_type, name) values ($1, 'cli_notes', 'Server notes') returning id`,
      [ORG_ID],
    );
    const connectorId = rows[0]?.id ?? '';
    const sync = await run(serverCwd, [
      'sync',
      '--connector-id',
      connectorId,
      '--plugin',
      notesPlugin,
      '--database-url',
      url,
    ]);
    expect(sync.code).toBe(0);
    const vectors = await pool.query<{ n: number }>(
      'select count(*)::int as n from public.document_chunks where org_id = $1 and embedding is not null',
      [ORG_ID],
    );
    expect(vectors.rows[0]?.n).toBeGreaterThan(0);

    const found = await run(serverCwd, [
      'search',
      'grilled salmon with dill',
      '--org',
      ORG_ID,
      '--database-url',
      url,
    ]);
    expect(found.stderr).toBe('');
    expect(found.code).toBe(0);
    expect(found.stdout).toMatch(/^ {2}1\. \d\.\d{4} {2}Salmon dinner\n {5}why: full text #1 /m);

    // A run of another worker still listing: status prints the progress its heartbeat stored.
    await pool.query(
      `insert into public.connector_sync_logs (org_id, connector_id, status, worker_id, lease_expires_at, metadata)
       values ($1, $2, 'running', 'elsewhere', now() + interval '5 minutes',
               '{"progress":{"listed":42,"listing":true,"total":120,"at":"2026-12-04T11:00:00.000Z"}}')`,
      [ORG_ID, connectorId],
    );
    const status = await run(serverCwd, ['status', '--connector-id', connectorId, '--database-url', url]);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(
      / running {3}manual full {2}0 inserted.* running {2}connector .*\n {6}42 of 120 document\(s\) listed, still listing \(at 2026-12-04T11:00:00\.000Z\)\n/,
    );
    await pool.end();
  });
});

describe('tributary on a PostgreSQL server without pgvector through --database-url', () => {
  let server: PostgresServer;
  let database: string;
  let url: string;
  let serverCwd: string;

  beforeAll(async () => {
    server = await startPostgresServer({ pgvector: false });
    database = await server.createDatabase();
    url = server.connectionString(database);
    serverCwd = await mkdtemp(join(tmpdir(), 'tributary-cli-server-'));
  });
  afterAll(async () => {
    await server?.stop();
    if (serverCwd) await rm(serverCwd, { recursive: true, force: true });
  });

  it('migrates (deferring pgvector), then refuses to sync at once with a clear message, recorded in status', async () => {
    const refused = await run(serverCwd, ['migrate', '--database-url', url]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/vector/);

    const migrated = await run(serverCwd, [
      'migrate',
      '--database-url',
      url,
      'up',
      '--defer-missing-extensions',
    ]);
    expect(migrated.stderr).toBe('');
    expect(migrated.code).toBe(0);
    expect(migrated.stdout).toMatch(/deferred\s+0007_vector_search\s+needs extension vector/);

    const { rows } = await server
      .pool(database, { max: 1 })
      .query<{ id: string }>(
        `insert into public.connector_configs (org_id, connector_type, name) values ($1, 'cli_notes', 'Server notes') returning id`,
        [ORG_ID],
      );
    const connectorId = rows[0]?.id ?? '';

    const sync = await run(serverCwd, [
      'sync',
      '--connector-id',
      connectorId,
      '--plugin',
      notesPlugin,
      '--database-url',
      url,
    ]);
    expect(sync.code).toBe(1);
    expect(sync.stdout).toMatch(/^Sync failed \(full\)/m);
    expect(sync.stdout).toContain('documents:  0 listed, 0 inserted');
    expect(`${sync.stdout}${sync.stderr}`).toMatch(/cannot store embeddings \(no pgvector/);

    const status = await run(serverCwd, ['--json', 'status', '--database-url', url]);
    expect(status.stderr).toBe('');
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(connectorId);
    expect(status.stdout).toContain('"lastSyncStatus": "failed"');
  });
});
