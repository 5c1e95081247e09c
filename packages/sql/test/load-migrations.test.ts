import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createMigration, InvalidMigrationError, loadMigrations, migrationsDirectory } from '../src/index.js';
import { fixture, rejectionOf } from './helpers.js';

const temporary: string[] = [];
async function folder(files: Record<string, string>): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'tributary-load-'));
  temporary.push(directory);
  for (const [name, content] of Object.entries(files)) await writeFile(join(directory, name), content);
  return directory;
}
afterEach(async () => {
  await Promise.all(temporary.splice(0).map((directory) => rm(directory, { recursive: true, force: true })));
});

describe('loadMigrations', () => {
  it('reads up and down files in name order with checksums and directives', async () => {
    const migrations = await loadMigrations(fixture('basic'));
    expect(migrations.map((migration) => migration.name)).toEqual(['0001_shim', '0002_notes', '0003_tags']);
    const [shim, notes] = migrations;
    expect(shim?.supabaseShim).toBe(true);
    expect(notes?.supabaseShim).toBe(false);
    const raw = await readFile(join(fixture('basic'), '0002_notes.sql'), 'utf8');
    expect(notes?.sql).toBe(raw);
    expect(notes?.checksum).toBe(createHash('sha256').update(raw).digest('hex'));
    expect(notes?.downSql).toBe('drop schema fixture_app cascade;\n');

    const extensions = await loadMigrations(fixture('extensions'));
    expect(extensions.map((migration) => migration.requiresExtensions)).toEqual([[], ['vector'], []]);
    expect(extensions[1]?.downSql).toBeUndefined();
  });

  it('gives CRLF and LF copies of a file the same checksum', async () => {
    const lf = '-- tributary:requires-extension vector, pg_trgm\ncreate table t (id int);\n';
    const [fromLf] = await loadMigrations(await folder({ '0001_a.sql': lf }));
    const [fromCrlf] = await loadMigrations(await folder({ '0001_a.sql': lf.replace(/\n/g, '\r\n') }));
    expect(fromCrlf?.checksum).toBe(fromLf?.checksum);
    expect(fromCrlf?.sql).toBe(lf);
    expect(fromLf?.requiresExtensions).toEqual(['vector', 'pg_trgm']);
  });

  it('only reads directives before the first SQL line, and ignores files that are not .sql', async () => {
    const [migration] = await loadMigrations(
      await folder({
        '0001_a.sql':
          '-- a comment\n\n-- tributary:supabase-shim\nselect 1;\n-- tributary:requires-extension vector\n',
        'README.md': '# notes',
      }),
    );
    expect(migration?.supabaseShim).toBe(true);
    expect(migration?.requiresExtensions).toEqual([]);
  });

  it.each([
    [{ '001_short.sql': 'select 1;' }, /malformed migration file name/],
    [{ '0001_Upper.sql': 'select 1;' }, /malformed migration file name/],
    [{ '0001_a.sql': 'select 1;', '0001_b.sql': 'select 2;' }, /duplicate migration number 0001/],
    [
      { '0001_a.sql': 'select 1;', '0002_b.down.sql': 'select 2;' },
      /down script without its migration 0002_b\.sql/,
    ],
    [{ '0001_a.sql': '-- tributary:requires-extention vector\nselect 1;' }, /unknown directive/],
    [{ '0001_a.sql': '-- tributary:requires-extension\nselect 1;' }, /needs an extension name/],
  ])('rejects %o with InvalidMigrationError', async (files, message) => {
    const error = await rejectionOf(loadMigrations(await folder(files)));
    expect(error).toBeInstanceOf(InvalidMigrationError);
    expect(error.message).toMatch(message);
    expect(error.message).toMatch(/^\[tributary\] \[sql\] /);
  });

  it('rejects a folder that does not exist', async () => {
    const error = await rejectionOf(loadMigrations(join(tmpdir(), 'tributary-no-such-folder')));
    expect(error).toBeInstanceOf(InvalidMigrationError);
  });

  it('createMigration builds the same migration as a file and validates the name', () => {
    const migration = createMigration('0005_x', 'select 1;\r\n', 'select 2;\r\n');
    expect(migration).toMatchObject({ name: '0005_x', sql: 'select 1;\n', downSql: 'select 2;\n' });
    expect(() => createMigration('five', 'select 1;')).toThrow(InvalidMigrationError);
  });

  it('points migrationsDirectory at the package migrations folder', () => {
    const here = dirname(fileURLToPath(import.meta.url));
    expect(migrationsDirectory).toBe(resolve(here, '..', 'migrations'));
  });
});
