import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidMigrationError } from './errors.js';
import { createMigration, type Migration } from './migration.js';
import { migrationsDirectory } from './migrations-directory.js';

const fileNamePattern = /^(\d{4})_([a-z0-9][a-z0-9_-]*?)(\.down)?\.sql$/;

/**
 * Reads `NNNN_name.sql` files (and their optional `NNNN_name.down.sql`) from a folder, sorted by
 * name. Files not ending in `.sql` are ignored. Rejects malformed names, two files with the same
 * number, a down script without its up file and unknown `-- tributary:` directives.
 */
export async function loadMigrations(directory: string = migrationsDirectory): Promise<Migration[]> {
  let entries: string[];
  try {
    entries = await readdir(directory);
  } catch (error) {
    // npm does not pack empty folders, so a release without migrations has no folder at all.
    if (directory === migrationsDirectory && (error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new InvalidMigrationError(directory, 'cannot read the migrations folder', { cause: error });
  }

  const upFiles = new Map<string, string>();
  const downFiles = new Map<string, string>();
  const numbers = new Map<string, string>();
  for (const file of entries.filter((entry) => entry.endsWith('.sql')).sort()) {
    const match = fileNamePattern.exec(file);
    if (!match) {
      throw new InvalidMigrationError(
        join(directory, file),
        'malformed migration file name: expected NNNN_name.sql or NNNN_name.down.sql (four digits, "_", then lowercase letters, digits, "_" or "-")',
      );
    }
    const [, number = '', label = '', down] = match;
    const name = `${number}_${label}`;
    if (down) {
      downFiles.set(name, file);
      continue;
    }
    const previous = numbers.get(number);
    if (previous !== undefined) {
      throw new InvalidMigrationError(
        join(directory, file),
        `duplicate migration number ${number}: ${previous} and ${file}; every file needs its own number`,
      );
    }
    numbers.set(number, file);
    upFiles.set(name, file);
  }
  for (const [name, file] of downFiles) {
    if (!upFiles.has(name)) {
      throw new InvalidMigrationError(join(directory, file), `down script without its migration ${name}.sql`);
    }
  }

  const migrations: Migration[] = [];
  for (const [name, file] of [...upFiles].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const sql = await readFile(join(directory, file), 'utf8');
    const downFile = downFiles.get(name);
    const downSql = downFile === undefined ? undefined : await readFile(join(directory, downFile), 'utf8');
    migrations.push(createMigration(name, sql, downSql));
  }
  return migrations;
}
