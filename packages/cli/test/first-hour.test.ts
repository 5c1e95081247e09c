// What a new user gets wrong in their first hour, and the message that tells them what to do:
// a mistyped --pglite path, a database never migrated or one release behind, and --embedder openai
// without the openai package.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureCli } from './support/capture-cli.js';

const ORG_ID = '00000000-0000-4000-8000-0000000f1101';

async function run(cwd: string, argv: string[], env: Record<string, string | undefined> = {}) {
  return captureCli(argv, {
    env,
    cwd,
  });
}

let cwd: string;
beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'tributary-cli-first-hour-'));
  const migrated = await run(cwd, ['migrate', '--pglite', 'db']);
  expect(migrated.code, migrated.stderr).toBe(0);
}, 180_000);
afterAll(async () => {
  await rm(cwd, { recursive: true, force: true });
});

describe('the first hour', () => {
  it('a mistyped --pglite path is named, and no empty database is created there', async () => {
    for (const argv of [
      ['status', '--pglite', 'tributry-db'],
      ['search', 'salmon', '--org', ORG_ID, '--pglite', 'tributry-db'],
      ['migrate', 'status', '--pglite', 'tributry-db'],
    ]) {
      const result = await run(cwd, argv);
      expect(result.code, argv.join(' ')).toBe(1);
      expect(result.stderr).toMatch(
        /^\[tributary\] there is no PGlite database in .*tributry-db: check the --pglite path, or create one there with tributary migrate --pglite/,
      );
    }
    expect(existsSync(join(cwd, 'tributry-db'))).toBe(false);
  });

  it('--embedder openai without the openai package says to install it (key present)', async () => {
    // The built executable in a process of its own, as a user runs it: test runners put every
    // package of the workspace on NODE_PATH, a user's shell does not.
    const bin = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'bin.js');
    expect(existsSync(bin), 'build the package first (turbo runs build before test)').toBe(true);
    const failure = await promisify(execFile)(
      process.execPath,
      [bin, 'search', 'salmon', '--org', ORG_ID, '--embedder', 'openai', '--pglite', 'db'],
      { cwd, env: { PATH: process.env.PATH, OPENAI_API_KEY: 'sk-test-not-a-real-key' } },
    ).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toMatch(
      /^\[tributary\] --embedder openai needs the "openai" package, which is not installed in .*: run npm install openai there, or use --embedder lexical/,
    );
    expect(failure?.stderr).not.toContain('sk-test-not-a-real-key');
  }, 60_000);

  it('a database that was never migrated, or is a release behind, says to run tributary migrate', async () => {
    // An existing PGlite database without Tributary's tables (a host's own database, say).
    const bare = await PGlite.create(join(cwd, 'bare'), { extensions: { vector } });
    await bare.query('create table notes (id int)');
    await bare.close();
    const unmigrated = await run(cwd, ['status', '--pglite', 'bare']);
    expect(unmigrated.code).toBe(1);
    expect(unmigrated.stderr).toMatch(
      /^\[tributary\] PGlite .*bare has no Tributary tables yet: apply the migrations first with tributary migrate/,
    );
    expect(unmigrated.stderr).not.toMatch(/does not exist/);

    // The database the other tests use, one migration rolled back (so this test runs last).
    expect((await run(cwd, ['status', '--pglite', 'db'])).code).toBe(0);
    const rolledBack = await run(cwd, ['migrate', 'down', '--steps', '1', '--pglite', 'db']);
    expect(rolledBack.code, rolledBack.stderr).toBe(0);
    const behind = await run(cwd, ['search', 'salmon', '--org', ORG_ID, '--pglite', 'db', '--json']);
    expect(behind.code).toBe(1);
    expect(JSON.parse(behind.stdout)).toMatchObject({ error: { code: 'migrations_pending' } });
    expect(JSON.parse(behind.stdout).error.message).toMatch(
      /is missing 1 migration\(s\) of this release \(\d{4}_[a-z_]+\): apply them with tributary migrate/,
    );
  }, 120_000);
});
