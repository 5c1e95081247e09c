// Built-in connectors run by the row's type, without a plugin file: the CLI imports the connector's
// package from the project it runs in and calls its factory with --settings.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureCli } from './support/capture-cli.js';

const here = dirname(fileURLToPath(import.meta.url));
const ORG_ID = '00000000-0000-4000-8000-0000000b1101';

async function run(cwd: string, argv: string[]) {
  return captureCli(argv, {
    env: {},
    cwd,
  });
}

let cwd: string;
let server: Server;
let base: string;
const ids: Record<string, string> = {};
const db = ['--pglite', 'db'];

beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'tributary-cli-builtin-'));
  server = createServer((request, response) => {
    if (request.url === '/robots.txt') {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(
      `<html><head><title>Tide tables</title></head><body><main><h1>Tide tables</h1><p>${'High water at the harbour mouth comes at noon. '.repeat(20)}</p></main></body></html>`,
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `127.0.0.1:${(server.address() as AddressInfo).port}`;

  const migrated = await run(cwd, ['migrate', ...db]);
  expect(migrated.code, migrated.stderr).toBe(0);
  const pglite = await PGlite.create(join(cwd, 'db'), { extensions: { vector } });
  try {
    for (const [type, settings] of [
      ['url', { urls: [`http://${base}/tides`] }],
      ['notion', {}],
      ['upload', {}],
      ['cli_custom', {}],
    ] as const) {
      const { rows } = await pglite.query<{ id: string }>(
        `insert into public.connector_configs (org_id, connector_type, name, settings) values ($1, $2, $2, $3) returning id`,
        [ORG_ID, type, JSON.stringify(settings)],
      );
      ids[type] = rows[0]?.id ?? '';
    }
  } finally {
    await pglite.close();
  }
  // The host project has installed the URL connector (as `npm install @tributary/connector-url` would).
  await mkdir(join(cwd, 'node_modules', '@tributary'), { recursive: true });
  await symlink(
    join(here, '..', '..', 'connector-url'),
    join(cwd, 'node_modules', '@tributary', 'connector-url'),
  );
  await writeFile(join(cwd, 'url-settings.json'), JSON.stringify({ allowedHosts: [base] }));
}, 180_000);

afterAll(async () => {
  server?.close();
  if (cwd) await rm(cwd, { recursive: true, force: true });
});

describe('tributary sync without --plugin', () => {
  it('runs the built-in URL connector for a url row, with its settings from --settings', async () => {
    const result = await run(cwd, [
      'sync',
      '--connector-id',
      ids.url as string,
      '--settings',
      'url-settings.json',
      '--json',
      ...db,
    ]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary).toMatchObject({ status: 'success', connector: { type: 'url' } });
    expect(summary.counts.inserted).toBe(1);
  });

  it('without the settings, the built-in connector keeps its safe defaults (loopback refused)', async () => {
    const result = await run(cwd, [
      'sync',
      '--connector-id',
      ids.url as string,
      '--json',
      ...db,
      '--mode',
      'full',
    ]);
    const summary = JSON.parse(result.stdout);
    expect(summary.status).not.toBe('success');
    expect(JSON.stringify(summary.errors ?? summary.error)).toMatch(/private|loopback|not allowed|unsafe/i);
  });

  it('says what to pass for a type that is not built in, and that uploads come from the app', async () => {
    const custom = await run(cwd, ['sync', '--connector-id', ids.cli_custom as string, ...db]);
    expect(custom.code).toBe(1);
    expect(custom.stderr).toMatch(
      /^\[tributary\] "cli_custom" is not a built-in connector type \(google_drive, url, notion, zoom, teams\): pass --plugin/,
    );
    const upload = await run(cwd, ['sync', '--connector-id', ids.upload as string, ...db]);
    expect(upload.code).toBe(1);
    expect(upload.stderr).toMatch(/^\[tributary\] "upload" connectors are fed by your app/);
  });

  it('names the package to install for a built-in type that is missing', async () => {
    const bin = join(here, '..', 'dist', 'bin.js');
    expect(existsSync(bin), 'build the package first (turbo runs build before test)').toBe(true);
    // In a process of its own, as a user runs it (test runners put the workspace on NODE_PATH).
    const failure = await promisify(execFile)(
      process.execPath,
      [bin, 'sync', '--connector-id', ids.notion as string, ...db],
      { cwd, env: { PATH: process.env.PATH } },
    ).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toMatch(
      /^\[tributary\] "notion" connectors need @tributary\/connector-notion, which is not installed in .*: run npm install @tributary\/connector-notion there/,
    );
  });
});

describe('tributary connector add for a built-in connector', () => {
  it('creates a url connector by --type, its config checked by the package, and syncs it without --plugin', async () => {
    await writeFile(join(cwd, 'url-config.json'), JSON.stringify({ urls: [`http://${base}/harbour`] }));
    await writeFile(join(cwd, 'url-bad-config.json'), JSON.stringify({ urls: `http://${base}/harbour` }));
    const bad = await run(cwd, [
      'connector',
      'add',
      '--type',
      'url',
      '--org-id',
      ORG_ID,
      '--config',
      'url-bad-config.json',
      ...db,
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/invalid config/);

    const added = await run(cwd, [
      'connector',
      'add',
      '--type',
      'url',
      '--org-id',
      ORG_ID,
      '--name',
      'Harbour pages',
      '--config',
      'url-config.json',
      '--settings',
      'url-settings.json',
      ...db,
    ]);
    expect(added.code, added.stderr).toBe(0);
    const id = /: ([0-9a-f-]{36})\n/.exec(added.stdout)?.[1] as string;
    expect(added.stdout).toContain(`tributary sync --connector-id ${id} --settings url-settings.json`);
    // The URL connector takes no credentials: no set-secret hint.
    expect(added.stdout).not.toContain('set-secret');

    const synced = await run(cwd, [
      'sync',
      '--connector-id',
      id,
      '--settings',
      'url-settings.json',
      '--json',
      ...db,
    ]);
    expect(synced.code, synced.stderr).toBe(0);
    expect(JSON.parse(synced.stdout)).toMatchObject({
      status: 'success',
      connector: { type: 'url' },
      counts: { inserted: 1 },
    });
  });

  it('accepts the first-party package as --plugin (its factory, not a default export)', async () => {
    const added = await run(cwd, [
      '--json',
      'connector',
      'add',
      '--plugin',
      '@tributary/connector-url',
      '--org-id',
      ORG_ID,
      '--config',
      'url-config.json',
      ...db,
    ]);
    expect(added.code, added.stderr).toBe(0);
    expect(JSON.parse(added.stdout)).toMatchObject({ connector: { connectorType: 'url', orgId: ORG_ID } });
  });

  it('asks for --type or --plugin, and refuses a --type the plugin does not have', async () => {
    const neither = await run(cwd, ['connector', 'add', '--org-id', ORG_ID, ...db]);
    expect(neither.code).toBe(1);
    expect(neither.stderr).toMatch(
      /name the connector: --type <type> for a built-in one \(google_drive, url, notion, zoom, teams\), or --plugin/,
    );
    const mismatch = await run(cwd, [
      'connector',
      'add',
      '--type',
      'zoom',
      '--plugin',
      '@tributary/connector-url',
      '--org-id',
      ORG_ID,
      ...db,
    ]);
    expect(mismatch.code).toBe(1);
    expect(mismatch.stderr).toMatch(
      /--type zoom does not match the plugin @tributary\/connector-url, whose type is "url"/,
    );
  });

  it('names a missing or malformed --config file without a stack trace', async () => {
    await writeFile(join(cwd, 'broken.json'), '{"urls": [');
    const absent = await run(cwd, [
      'connector',
      'add',
      '--type',
      'url',
      '--org-id',
      ORG_ID,
      '--config',
      'nope.json',
      ...db,
    ]);
    expect(absent.code).toBe(1);
    expect(absent.stderr).toMatch(/^\[tributary\] cannot read --config file .*nope\.json: no such file/);
    const broken = await run(cwd, [
      'connector',
      'add',
      '--type',
      'url',
      '--org-id',
      ORG_ID,
      '--config',
      'broken.json',
      ...db,
    ]);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/--config file .*broken\.json is not valid JSON/);
  });
});
