import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { captureCli } from './support/capture-cli.js';

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = join(here, 'fixtures');
const bin = join(here, '..', 'dist', 'bin.js');

const temporary: string[] = [];
afterEach(async () => {
  await Promise.all(temporary.splice(0).map((directory) => rm(directory, { recursive: true, force: true })));
});

/** A fresh working folder; the CLI resolves relative paths against it. */
async function workspace(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'tributary-cli-'));
  temporary.push(directory);
  return directory;
}

async function run(
  cwd: string,
  ...argv: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  return captureCli(argv, {
    env: {},
    cwd,
  });
}

const ok = ['--pglite', 'db', '--migrations-dir', join(fixtures, 'ok')];

describe('tributary migrate', () => {
  it('applies, reports status, rolls back and re-applies on a PGlite folder', async () => {
    const cwd = await workspace();
    const up = await run(cwd, 'migrate', ...ok);
    expect(up).toMatchObject({ code: 0, stderr: '' });
    expect(up.stdout).toMatch(/^applied\s+0001_shim\s+\d+ ms$/m);
    expect(up.stdout).toMatch(/^applied\s+0002_items\s+\d+ ms$/m);
    expect(up.stdout).toContain('2 applied, 0 already applied, 0 deferred');

    const again = await run(cwd, 'migrate', 'up', ...ok);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^skipped\s+0002_items\s+already applied$/m);
    expect(again.stdout).toContain('Database is up to date.');

    const status = await run(cwd, 'migrate', 'status', ...ok);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^applied\s+0001_shim\s+\d{4}-\d\d-\d\dT.*Z \(\d+ ms\)$/m);
    expect(status.stdout).toContain('2 applied, 0 pending, 0 changed, 0 blocked');

    const down = await run(cwd, 'migrate', 'down', '--steps', '1', ...ok);
    expect(down.code).toBe(0);
    expect(down.stdout).toMatch(/^rolled back\s+0002_items\s+\d+ ms$/m);
    expect(down.stdout).not.toContain('0001_shim');

    const json = await run(cwd, '--json', 'migrate', 'status', ...ok);
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout) as { migrations: { name: string; state: string }[] };
    expect(parsed.migrations.map((entry) => [entry.name, entry.state])).toEqual([
      ['0001_shim', 'applied'],
      ['0002_items', 'pending'],
    ]);

    const reapplied = await run(cwd, 'migrate', ...ok, '--json');
    expect(JSON.parse(reapplied.stdout)).toMatchObject({ applied: [{ name: '0002_items' }], dryRun: false });
  });

  it('--dry-run prints the plan and leaves the database unmigrated', async () => {
    const cwd = await workspace();
    const plan = await run(cwd, 'migrate', '--dry-run', ...ok);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toMatch(/^would apply\s+0001_shim$/m);
    expect(plan.stdout).toContain('nothing changed');
    const status = await run(cwd, '--json', 'migrate', 'status', ...ok);
    const parsed = JSON.parse(status.stdout) as { migrations: { state: string }[] };
    expect(parsed.migrations.map((entry) => entry.state)).toEqual(['pending', 'pending']);
  });

  it('prints the warnings a migration raises, in the listing and the summary (and in --json)', async () => {
    const cwd = await workspace();
    const refusing = ['--pglite', 'db', '--migrations-dir', join(fixtures, 'refusing')];
    const up = await run(cwd, 'migrate', ...refusing, '--target', '0003_kept');
    expect(up).toMatchObject({ code: 0, stderr: '' });
    expect(up.stdout).toMatch(
      /^applied\s+0003_kept\s+\d+ ms\nwarning\s+0003_kept\s+cli_kept: 2 legacy rows repaired \(originals kept in cli_kept_quarantine\)$/m,
    );
    expect(up.stdout).toContain('3 applied, 0 already applied, 0 deferred, 1 warning (see above)');
    const json = await run(cwd, 'migrate', ...refusing, '--json');
    expect(JSON.parse(json.stdout)).toMatchObject({ applied: [{ name: '0004_more' }], warnings: [] });
  });

  it('prints the warning of 0012_input_guards when it repairs legacy rows of an install upgraded in place', async () => {
    const cwd = await workspace();
    // A pre-Tributary install: the older tables, one document with a negative size.
    const { PGlite } = await import('@electric-sql/pglite');
    const legacy = await PGlite.create(join(cwd, 'db'));
    await legacy.exec(`
      create table public.connector_configs (id uuid primary key, org_id uuid not null, connector_type text not null, name text);
      create table public.imported_documents (id uuid primary key, org_id uuid not null,
        connector_id uuid references public.connector_configs (id), external_id text not null, file_size_bytes bigint);
      insert into public.connector_configs values
        ('ca000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-00000000000a', 'google_drive', 'Drive');
      insert into public.imported_documents values ('d0000000-0000-4000-8000-000000000001',
        'a0000000-0000-4000-8000-00000000000a', 'ca000000-0000-4000-8000-000000000001', 'file-1', -42);`);
    await legacy.close();

    const up = await run(cwd, 'migrate', '--pglite', 'db');
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).toMatch(
      /^warning\s+0012_input_guards\s+\[tributary\] repaired 1 value\(s\) in 1 imported_documents row\(s\) and 0 value\(s\) in 0 connector_configs row\(s\) .*\(select \* from tributary_private\.quarantined_values order by id\)$/m,
    );
    expect(up.stdout).toMatch(/, \d+ warnings? \(see above\)/);
  });

  it('migrate down --dry-run agrees with the real run: same list, same order, same refusal', async () => {
    const cwd = await workspace();
    const refusing = ['--pglite', 'db', '--migrations-dir', join(fixtures, 'refusing')];
    expect((await run(cwd, 'migrate', ...refusing)).code).toBe(0);
    const listed = (stdout: string) =>
      stdout
        .split('\n')
        .filter((text) => /^(would undo|rolled back) /.test(text))
        .map((text) => text.replace(/^(would undo|rolled back)\s+(\S+).*$/, '$2'));

    const dryOk = await run(cwd, 'migrate', 'down', '--to', '0003_kept', '--dry-run', ...refusing);
    const realOk = await run(cwd, 'migrate', 'down', '--to', '0003_kept', ...refusing);
    expect(dryOk.code).toBe(0);
    expect(realOk.code).toBe(0);
    expect(listed(dryOk.stdout)).toEqual(['0004_more']);
    expect(listed(dryOk.stdout)).toEqual(listed(realOk.stdout));
    expect((await run(cwd, 'migrate', ...refusing)).code).toBe(0);

    const dry = await run(cwd, 'migrate', 'down', '--steps', '3', '--dry-run', ...refusing);
    const real = await run(cwd, 'migrate', 'down', '--steps', '3', ...refusing);
    for (const outcome of [dry, real]) {
      expect(outcome.code).toBe(1);
      expect(outcome.stderr, outcome.stderr).toMatch(
        /^\[tributary\] \[sql\] 0003_kept\.down\.sql failed: refusing to roll back 0003_kept: it holds host data \(SQLSTATE 55000\)(?: \[[^\]]*\])?\. Hint: Fix forward with a new migration\./,
      );
      // Neither claims to have rolled anything back (0004_more's down script was undone with it).
      expect(listed(outcome.stdout)).toEqual([]);
    }
    expect(dry.stderr).toContain('Dry run: the down scripts ran in a transaction that was then rolled back');
    expect(real.stderr).toContain('nothing was rolled back and every migration stays applied');
    const status = await run(cwd, '--json', 'migrate', 'status', ...refusing);
    const parsed = JSON.parse(status.stdout) as { migrations: { state: string }[] };
    expect(parsed.migrations.map((entry) => entry.state)).toEqual([
      'applied',
      'applied',
      'applied',
      'applied',
    ]);
  });

  it('fails with one [tributary] line and exit 1 when a file fails; --verbose adds the stack, --json an error object', async () => {
    const cwd = await workspace();
    const broken = ['--pglite', 'db', '--migrations-dir', join(fixtures, 'broken')];
    const failed = await run(cwd, 'migrate', ...broken);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(
      /^\[tributary\] \[sql\] 0002_broken\.sql failed at line 3, column 15: relation "public\.cli_missing" does not exist \(SQLSTATE 42P01\)/,
    );
    expect(failed.stderr.trim().split('\n')).toHaveLength(1);
    expect(failed.stdout).toMatch(/^applied\s+0001_ok/m);

    const verbose = await run(cwd, 'migrate', ...broken, '--verbose');
    expect(verbose.code).toBe(1);
    expect(verbose.stderr).toMatch(/\n\s+at .+/);

    const json = await run(cwd, 'migrate', ...broken, '--json');
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ error: { code: 'migration_failed' } });

    const status = await run(cwd, '--json', 'migrate', 'status', ...broken);
    const parsed = JSON.parse(status.stdout) as { migrations: { state: string }[] };
    expect(parsed.migrations.map((entry) => entry.state)).toEqual(['applied', 'pending']);
  });

  it('explains an unreachable database, a missing database and bad flags in one line', async () => {
    const cwd = await workspace();
    const unreachable = await run(
      cwd,
      'migrate',
      'status',
      '--database-url',
      'postgres://user:secret@127.0.0.1:1/app',
    );
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(
      /^\[tributary\] cannot connect to the database at 127\.0\.0\.1:1\/app \(.*ECONNREFUSED.*\)/,
    );
    expect(unreachable.stderr).not.toContain('secret');
    expect(unreachable.stderr.trim().split('\n')).toHaveLength(1);

    const missing = await run(cwd, 'migrate');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^\[tributary\] no database given/);

    const conflicting = await run(cwd, 'migrate', 'down', '--to', '0001_shim', '--steps', '1', ...ok);
    expect(conflicting.code).toBe(1);
    expect(conflicting.stderr).toMatch(
      /^\[tributary\] option '--to <name>' cannot be used with option '--steps <n>'/,
    );
    expect(conflicting.stderr.trim().split('\n')).toHaveLength(1);

    const noTarget = await run(cwd, 'migrate', 'down', ...ok);
    expect(noTarget).toMatchObject({
      code: 1,
      stderr: '[tributary] migrate down needs --to NAME or --steps N\n',
    });

    const badSteps = await run(cwd, 'migrate', 'down', '--steps', 'two', ...ok);
    expect(badSteps.code).toBe(1);
    expect(badSteps.stderr).toMatch(/^\[tributary\] .*--steps.*whole number/);

    const typo = await run(cwd, 'migrate', 'statuz', ...ok);
    expect(typo.code).toBe(1);
    expect(typo.stderr).toMatch(/^\[tributary\] unknown command "migrate statuz"/);
    // None of these created the PGlite folder: they failed before opening anything.
    expect(existsSync(join(cwd, 'db'))).toBe(false);
  });

  it('exports into supabase/migrations and skips identical files the second time', async () => {
    const cwd = await workspace();
    const first = await run(cwd, 'migrate', 'export', '--migrations-dir', join(fixtures, 'ok'));
    expect(first.code).toBe(0);
    const files = await readdir(join(cwd, 'supabase', 'migrations'));
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^\d{14}_tributary_0002_items\.sql$/);
    expect(first.stdout).toMatch(
      /^wrote\s+0002_items\s+supabase\/migrations\/\d{14}_tributary_0002_items\.sql$/m,
    );

    const second = await run(
      cwd,
      'migrate',
      'export',
      '--dir',
      'supabase/migrations',
      '--migrations-dir',
      join(fixtures, 'ok'),
    );
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('0 written, 1 already exported');
    expect(await readdir(join(cwd, 'supabase', 'migrations'))).toEqual(files);
  });

  it('writes the vector size into the exported 0010_vector_models', async () => {
    const cwd = await workspace();
    const exported = await run(
      cwd,
      'migrate',
      'export',
      '--vector-dimensions',
      '768',
      '--vector-type',
      'halfvec',
    );
    expect(exported.code).toBe(0);
    const directory = join(cwd, 'supabase', 'migrations');
    const file = (await readdir(directory)).find((name) =>
      name.endsWith('_tributary_0010_vector_models.sql'),
    );
    const sql = await readFile(join(directory, file ?? 'missing'), 'utf8');
    expect(sql).toMatch(/^-- Vector setting chosen at export: halfvec\(768\)\.\n/);
    const bad = await run(cwd, 'migrate', 'export', '--vector-type', 'bits');
    expect(bad.code).toBe(1);
  });
});

describe('the built tributary executable', () => {
  const exec = promisify(execFile);

  it('runs with exit code 0, and exits 1 with a one-line message on failure', async () => {
    expect(existsSync(bin), 'build the package first (turbo runs build before test)').toBe(true);
    const cwd = await workspace();
    const { stdout } = await exec(process.execPath, [bin, 'migrate', 'up', ...ok], { cwd });
    expect(stdout).toMatch(/^applied\s+0002_items/m);

    const failure = await exec(process.execPath, [bin, 'migrate', 'status'], {
      cwd,
      env: { PATH: process.env.PATH },
    }).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toMatch(/^\[tributary\] no database given[^\n]*\n$/);
  });
});
