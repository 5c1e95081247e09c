import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createMigration,
  exportSupabaseMigrations,
  loadMigrations,
  type Migration,
  SupabaseExportConflictError,
} from '../src/index.js';
import { fixture, rejectionOf } from './helpers.js';

const temporary: string[] = [];
async function supabaseFolder(files: Record<string, string> = {}): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'tributary-export-'));
  temporary.push(root);
  const directory = join(root, 'supabase', 'migrations');
  await exportSupabaseMigrations({ directory, migrations: [] });
  for (const [name, content] of Object.entries(files)) await writeFile(join(directory, name), content);
  return directory;
}
afterEach(async () => {
  await Promise.all(temporary.splice(0).map((directory) => rm(directory, { recursive: true, force: true })));
});

const now = new Date('2026-03-04T05:06:07.890Z');

describe('exportSupabaseMigrations', () => {
  it('writes non-shim migrations as <UTC timestamp>_tributary_<name>.sql, one second apart', async () => {
    const directory = await supabaseFolder();
    const migrations = await loadMigrations(fixture('basic'));
    const result = await exportSupabaseMigrations({ directory, migrations, now });

    expect(result.written.map((entry) => entry.name)).toEqual(['0002_notes', '0003_tags']);
    expect(result.skipped).toEqual([]);
    expect(await readdir(directory)).toEqual([
      '20260304050607_tributary_0002_notes.sql',
      '20260304050608_tributary_0003_tags.sql',
    ]);
    expect(await readFile(join(directory, '20260304050607_tributary_0002_notes.sql'), 'utf8')).toBe(
      migrations[1]?.sql,
    );
    expect(result.written[0]?.file).toBe(join(directory, '20260304050607_tributary_0002_notes.sql'));
  });

  it('orders new files after the newest existing migration, even one dated in the future', async () => {
    const directory = await supabaseFolder({
      '20260101000000_host_init.sql': 'create table public.host (id int);',
      '20991231235959_host_later.sql': 'select 1;',
    });
    await exportSupabaseMigrations({ directory, migrations: await loadMigrations(fixture('basic')), now });
    expect((await readdir(directory)).sort()).toEqual([
      '20260101000000_host_init.sql',
      '20991231235959_host_later.sql',
      '21000101000000_tributary_0002_notes.sql',
      '21000101000001_tributary_0003_tags.sql',
    ]);
  });

  it('is idempotent, and exports a migration added later after everything already there', async () => {
    const directory = await supabaseFolder();
    const migrations = await loadMigrations(fixture('basic'));
    await exportSupabaseMigrations({ directory, migrations, now });
    const before = await readdir(directory);

    const second = await exportSupabaseMigrations({
      directory,
      migrations,
      now: new Date('2026-05-01T00:00:00Z'),
    });
    expect(second.written).toEqual([]);
    expect(second.skipped.map((entry) => entry.name)).toEqual(['0002_notes', '0003_tags']);
    expect(await readdir(directory)).toEqual(before);

    // A host file written after our export, then a new package migration: it goes last.
    await writeFile(join(directory, '20260304060000_host_change.sql'), 'select 1;');
    const next: Migration[] = [
      ...migrations,
      createMigration('0004_more', 'create table fixture_app.more (id int);'),
    ];
    const third = await exportSupabaseMigrations({ directory, migrations: next, now });
    expect(third.written.map((entry) => entry.file.split('/').at(-1))).toEqual([
      '20260304060001_tributary_0004_more.sql',
    ]);
    expect(third.skipped.map((entry) => entry.name)).toEqual(['0002_notes', '0003_tags']);
  });

  it('treats an exported copy with CRLF line endings as identical', async () => {
    const directory = await supabaseFolder();
    const migrations = await loadMigrations(fixture('basic'));
    await exportSupabaseMigrations({ directory, migrations, now });
    const file = join(directory, '20260304050607_tributary_0002_notes.sql');
    await writeFile(file, (await readFile(file, 'utf8')).replace(/\n/g, '\r\n'));
    const again = await exportSupabaseMigrations({ directory, migrations, now });
    expect(again.written).toEqual([]);
  });

  it('refuses an exported file whose content differs, writing nothing, unless overwrite', async () => {
    const directory = await supabaseFolder();
    const migrations = await loadMigrations(fixture('basic'));
    await exportSupabaseMigrations({ directory, migrations, now });
    const file = join(directory, '20260304050608_tributary_0003_tags.sql');
    await writeFile(file, 'select 1; -- edited by hand\n');
    const next = [...migrations, createMigration('0004_more', 'select 4;')];
    const before = await readdir(directory);

    const error = await rejectionOf(exportSupabaseMigrations({ directory, migrations: next, now }));
    expect(error).toBeInstanceOf(SupabaseExportConflictError);
    expect((error as SupabaseExportConflictError).migration).toBe('0003_tags');
    expect((error as SupabaseExportConflictError).file).toBe(file);
    expect(error.message).toMatch(/forward-only/);
    expect(await readdir(directory)).toEqual(before);
    expect(await readFile(file, 'utf8')).toBe('select 1; -- edited by hand\n');

    const forced = await exportSupabaseMigrations({ directory, migrations: next, now, overwrite: true });
    expect(forced.written.map((entry) => [entry.name, entry.overwritten])).toEqual([
      ['0003_tags', true],
      ['0004_more', false],
    ]);
    expect(await readFile(file, 'utf8')).toBe(migrations[2]?.sql);
    expect(forced.written[0]?.file).toBe(file);
  });
});
