import { cp, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadMigrations, type SqlQueryable } from '../src/index.js';

export const fixturesDirectory = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

export function fixture(name: 'basic' | 'failing' | 'extensions'): string {
  return join(fixturesDirectory, name);
}

/** A writable copy of a fixture set, for tests that edit or delete files. */
export async function copyFixture(name: 'basic' | 'failing' | 'extensions'): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), `tributary-sql-${name}-`));
  await cp(fixture(name), directory, { recursive: true });
  return directory;
}

/**
 * Everything a migration could change, as sorted text lines: schemas, relations (tables, indexes,
 * sequences, views), functions, extensions, and the rows of the history table.
 */
export async function catalogSnapshot(db: SqlQueryable): Promise<string[]> {
  const { rows } = await db.query<{ item: string }>(`
    select 'schema ' || nspname as item from pg_namespace
    union all
    select 'relation ' || n.nspname || '.' || c.relname || ' ' || c.relkind::text
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_%'
    union all
    select 'function ' || p.oid::regprocedure::text
    from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where n.nspname not in ('pg_catalog', 'information_schema')
    union all
    select 'extension ' || extname from pg_extension
    order by 1`);
  const history = (await tableExists(db, 'tributary_migrations.applied'))
    ? await db.query<{ item: string }>(
        "select 'applied ' || name || ' ' || checksum || ' ' || applied_at::text as item from tributary_migrations.applied order by name",
      )
    : { rows: [] };
  return [...rows.map((row) => row.item), ...history.rows.map((row) => row.item)];
}

export async function tableExists(db: SqlQueryable, name: string): Promise<boolean> {
  const { rows } = await db.query<{ present: boolean }>('select to_regclass($1) is not null as present', [
    name,
  ]);
  return rows[0]?.present === true;
}

export async function schemaExists(db: SqlQueryable, name: string): Promise<boolean> {
  const { rows } = await db.query<{ present: boolean }>(
    'select exists (select from pg_namespace where nspname = $1) as present',
    [name],
  );
  return rows[0]?.present === true;
}

export async function appliedNames(db: SqlQueryable): Promise<string[]> {
  if (!(await tableExists(db, 'tributary_migrations.applied'))) return [];
  const { rows } = await db.query<{ name: string }>(
    'select name from tributary_migrations.applied order by name',
  );
  return rows.map((row) => row.name);
}

/** Runs `promise` expecting a rejection and returns the error, failing the test if it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

/** The bundled migrations from `name` on, in order: what a rollback to the one before `name` undoes. */
export async function migrationsFrom(name: string): Promise<string[]> {
  const names = (await loadMigrations()).map((migration) => migration.name);
  const index = names.indexOf(name);
  if (index < 0) throw new Error(`No bundled migration named ${name}`);
  return names.slice(index);
}
