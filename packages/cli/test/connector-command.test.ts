// `tributary connector ...` and `tributary secrets rotate-key` against a PGlite folder and a real
// PostgreSQL server: secrets come from stdin, are stored encrypted, and are never printed.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { type PostgresServer, startPostgresServer } from '@tributary/testkit-postgres';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureCli } from './support/capture-cli.js';

const plugin = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'plugins', 'keyed-connector.mjs');
const ORG_ID = '00000000-0000-4000-8000-0000000c2201';
const keyA = randomBytes(32).toString('base64');
const keyB = randomBytes(32).toString('base64');

let cwd: string;
let server: PostgresServer;
beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'tributary-cli-connector-'));
  await writeFile(join(cwd, 'config.json'), JSON.stringify({ folder: 'inbox' }));
  await writeFile(join(cwd, 'typo.json'), JSON.stringify({ foldr: 'y' }));
  server = await startPostgresServer();
});
afterAll(async () => {
  await server?.stop();
  if (cwd) await rm(cwd, { recursive: true, force: true });
});

async function run(argv: string[], env: Record<string, string> = {}, stdin?: string) {
  const result = await captureCli(argv, {
    env,
    cwd,
    readSecret: async () => {
      if (stdin === undefined) throw new Error('no stdin in this test');
      return stdin;
    },
  });
  return { ...result, all: result.stdout + result.stderr };
}

const targets: Array<[string, () => Promise<{ flags: string[]; rawSecrets: () => Promise<string> }>]> = [
  [
    'PGlite',
    async () => {
      const flags = ['--pglite', 'db'];
      return {
        flags,
        rawSecrets: async () => {
          const pglite = await PGlite.create(join(cwd, 'db'), { extensions: { vector } });
          try {
            return JSON.stringify(
              (await pglite.query('select * from tributary_private.connector_secrets')).rows,
            );
          } finally {
            await pglite.close();
          }
        },
      };
    },
  ],
  [
    'PostgreSQL server',
    async () => {
      const name = await server.createDatabase();
      const url = server.connectionString(name);
      return {
        flags: ['--database-url', url],
        rawSecrets: async () => {
          const client = new pg.Client({ connectionString: url });
          await client.connect();
          try {
            return JSON.stringify(
              (await client.query('select * from tributary_private.connector_secrets')).rows,
            );
          } finally {
            await client.end();
          }
        },
      };
    },
  ],
];

describe.each(targets)('tributary connector on %s', (_name, open) => {
  it('adds, sets secrets from stdin (encrypted, never printed), shows, rotates the key and removes', async () => {
    const { flags, rawSecrets } = await open();
    const migrated = await run(['migrate', ...flags]);
    expect(migrated.code).toBe(0);
    const env = { TRIBUTARY_SECRET_KEYS: `a:${keyA}` };

    const typo = await run([
      'connector',
      'add',
      '--plugin',
      plugin,
      '--org-id',
      ORG_ID,
      '--config',
      'typo.json',
      ...flags,
    ]);
    expect(typo.code).toBe(1);
    expect(typo.stderr).toMatch(/invalid config field "folder": is required/);

    const added = await run([
      '--json',
      'connector',
      'add',
      '--plugin',
      plugin,
      '--org-id',
      ORG_ID,
      '--config',
      'config.json',
      ...flags,
    ]);
    expect(added.stderr).toBe('');
    const id = (JSON.parse(added.stdout) as { connector: { id: string } }).connector.id;

    const noKey = await run(
      ['connector', 'set-secret', id, '--plugin', plugin, ...flags],
      {},
      '{"token": "tok-secret-1"}',
    );
    expect(noKey.code).toBe(1);
    expect(noKey.stderr).toMatch(/TRIBUTARY_SECRET_KEYS/);
    const badJson = await run(
      ['connector', 'set-secret', id, '--plugin', plugin, ...flags],
      env,
      'tok-secret-0',
    );
    expect(badJson.stderr).toMatch(/not valid JSON/);
    expect(badJson.all).not.toContain('tok-secret-0');

    const stored = await run(
      ['connector', 'set-secret', id, '--plugin', plugin, ...flags],
      env,
      '{"token": "tok-secret-1"}',
    );
    expect(stored.stdout).toBe(`Stored the credentials of connector ${id} (encrypted)\n`);
    const webhook = await run(
      ['connector', 'set-secret', id, '--webhook', '--plugin', plugin, ...flags],
      env,
      'whsec-secret-2',
    );
    expect(webhook.code).toBe(0);
    const raw = await rawSecrets();
    expect(raw).toContain('"key_id":"a"');
    expect(raw).not.toMatch(/tok-secret-1|whsec-secret-2/);

    const shown = await run(['connector', 'show', id, ...flags], env);
    expect(shown.stdout).toMatch(/cli_keyed/);
    expect(shown.stdout).toMatch(/credentials: set/);
    expect(shown.stdout).toMatch(/documents: {2}0 live/);
    const listed = await run(['connector', 'list', '--org-id', ORG_ID, ...flags]);
    expect(listed.stdout).toContain(id);
    for (const output of [added, stored, webhook, shown, listed])
      expect(output.all).not.toMatch(/tok-secret|whsec-secret/);

    // A page size that is not a whole number from 1 to 1000 is refused before anything is read.
    const badPage = await run(['secrets', 'rotate-key', '--page-size', 'ten', ...flags], {
      TRIBUTARY_SECRET_KEYS: `b:${keyB},a:${keyA}`,
    });
    expect(badPage.code).toBe(1);
    expect(badPage.stderr).toMatch(/--page-size.*expected a whole number from 1 to 1000, got "ten"/);
    expect(await rawSecrets()).toContain('"key_id":"a"');

    const rotated = await run(['secrets', 'rotate-key', ...flags], {
      TRIBUTARY_SECRET_KEYS: `b:${keyB},a:${keyA}`,
    });
    expect(rotated.stdout).toMatch(
      /Key "b": 1 rewrapped \(0 were plaintext\), 0 changed meanwhile \(run again\), 0 failed/,
    );
    expect(await rawSecrets()).toContain('"key_id":"b"');
    const onlyOld = await run(['secrets', 'rotate-key', ...flags], env);
    expect(onlyOld.code).toBe(1);
    expect(onlyOld.stdout).toMatch(/key "b", which is not in TRIBUTARY_SECRET_KEYS/);
    expect(onlyOld.all).not.toContain(keyB);

    const cleared = await run(['connector', 'set-secret', id, '--clear', '--plugin', plugin, ...flags], {
      TRIBUTARY_SECRET_KEYS: `b:${keyB}`,
    });
    expect(cleared.stdout).toMatch(/Cleared the credentials/);
    expect((await run(['connector', 'show', id, ...flags])).stdout).toMatch(/credentials: not set/);

    expect((await run(['connector', 'remove', id, ...flags])).stderr).toMatch(/pass --yes/);
    const removed = await run(['connector', 'remove', id, '--yes', ...flags]);
    expect(removed.stdout).toBe(`Removed connector ${id}; 0 document(s) soft-deleted\n`);
    expect((await run(['connector', 'list', ...flags])).stdout).toBe('No connectors.\n');
  }, 240_000);
});
