import {
  InvalidMigrationError,
  MigrationChecksumError,
  MigrationFailedError,
  UnknownAppliedMigrationError,
} from './errors.js';
import type { Migration } from './migration.js';
import type { SqlQueryable } from './sql-database.js';

/**
 * Key of the transaction-level advisory lock every migration transaction takes first: the bytes
 * of the ASCII string "tributar" read as a bigint. Transaction-level (not session) locks are
 * released by commit/rollback, so a crashed runner never leaves the lock held.
 */
export const migrationLockKey = '8390884927342928242';

/** One row of `tributary_migrations.applied`. */
export interface AppliedMigrationRecord {
  name: string;
  checksum: string;
  appliedAt: Date;
  executionMs: number;
}

const createHistorySql = `
create schema if not exists tributary_migrations;
create table if not exists tributary_migrations.applied (
  name text primary key,
  checksum text not null,
  applied_at timestamptz not null default now(),
  execution_ms integer not null
);`;

interface HistoryRow {
  name: string;
  checksum: string;
  applied_at: Date | string;
  execution_ms: number | string;
}

function toRecord(row: HistoryRow): AppliedMigrationRecord {
  return {
    name: row.name,
    checksum: row.checksum,
    appliedAt: row.applied_at instanceof Date ? row.applied_at : new Date(row.applied_at),
    executionMs: Number(row.execution_ms),
  };
}

const selectHistorySql =
  'select name, checksum, applied_at, execution_ms from tributary_migrations.applied order by name';

/** Reads the history without creating anything (empty when the table does not exist yet). */
export async function readHistory(db: SqlQueryable): Promise<AppliedMigrationRecord[]> {
  const { rows } = await db.query<{ present: boolean }>(
    "select to_regclass('tributary_migrations.applied') is not null as present",
  );
  if (!rows[0]?.present) return [];
  return (await db.query<HistoryRow>(selectHistorySql)).rows.map(toRecord);
}

/**
 * Inside a migration transaction: takes the advisory lock, then creates the history table if
 * missing (under the lock, so two runners never race on the DDL) and reads it afresh, since
 * another runner may have changed it while this one waited.
 */
export async function lockHistory(tx: SqlQueryable): Promise<AppliedMigrationRecord[]> {
  await tx.query(`select pg_advisory_xact_lock(${migrationLockKey})`);
  await tx.exec(createHistorySql);
  return (await tx.query<HistoryRow>(selectHistorySql)).rows.map(toRecord);
}

export async function recordApplied(
  tx: SqlQueryable,
  migration: Migration,
  executionMs: number,
): Promise<void> {
  await tx.query(
    'insert into tributary_migrations.applied (name, checksum, execution_ms) values ($1, $2, $3)',
    [migration.name, migration.checksum, executionMs],
  );
}

export async function deleteApplied(tx: SqlQueryable, name: string): Promise<void> {
  await tx.query('delete from tributary_migrations.applied where name = $1', [name]);
}

/** Sorts by name and rejects two migrations with the same name. */
export function orderMigrations(migrations: readonly Migration[]): Migration[] {
  const sorted = [...migrations].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (let index = 1; index < sorted.length; index += 1) {
    const name = sorted[index]?.name;
    if (name !== undefined && name === sorted[index - 1]?.name) {
      throw new InvalidMigrationError(`${name}.sql`, 'two migrations have the same name');
    }
  }
  return sorted;
}

/**
 * Refuses to go on when the history records a migration the caller does not know (database newer
 * than the package) or an applied migration whose file changed since.
 */
export function verifyHistory(known: readonly Migration[], history: readonly AppliedMigrationRecord[]): void {
  const byName = new Map(known.map((migration) => [migration.name, migration]));
  const unknown = history.filter((record) => !byName.has(record.name)).map((record) => record.name);
  if (unknown.length > 0) throw new UnknownAppliedMigrationError(unknown);
  const changed = history.filter((record) => byName.get(record.name)?.checksum !== record.checksum);
  const [first, ...others] = changed;
  if (first) {
    throw new MigrationChecksumError(
      first.name,
      first.checksum,
      byName.get(first.name)?.checksum ?? '',
      others.map((record) => record.name),
    );
  }
}

/** Which of `names` the server cannot install (absent from `pg_available_extensions`). */
export async function findMissingExtensions(
  db: SqlQueryable,
  names: readonly string[],
): Promise<Set<string>> {
  const wanted = [...new Set(names)];
  if (wanted.length === 0) return new Set();
  const { rows } = await db.query<{ name: string }>(
    'select name from pg_available_extensions where name = any($1::text[])',
    [wanted],
  );
  const available = new Set(rows.map((row) => row.name));
  return new Set(wanted.filter((name) => !available.has(name)));
}

function lineAndColumn(sql: string, position: number): { line: number; column: number } {
  // Postgres positions are 1-based character offsets into the whole script sent.
  const before = [...sql].slice(0, position - 1).join('');
  const lines = before.split('\n');
  return { line: lines.length, column: (lines.at(-1)?.length ?? 0) + 1 };
}

/** Wraps whatever `exec` threw while running a migration file into a {@link MigrationFailedError}. */
export function toMigrationFailedError(
  error: unknown,
  migration: string,
  direction: 'up' | 'down',
  sql: string,
  dryRun = false,
): MigrationFailedError {
  const details = (typeof error === 'object' && error !== null ? error : {}) as {
    code?: unknown;
    severity?: unknown;
    position?: unknown;
    where?: unknown;
    message?: unknown;
    hint?: unknown;
  };
  const fromServer = typeof details.severity === 'string';
  const position = Number(details.position);
  const located =
    fromServer && Number.isInteger(position) && position > 0 ? lineAndColumn(sql, position) : undefined;
  return new MigrationFailedError({
    migration,
    direction,
    postgresCode: fromServer && typeof details.code === 'string' ? details.code : undefined,
    postgresMessage: typeof details.message === 'string' ? details.message : String(error),
    hint: fromServer && typeof details.hint === 'string' && details.hint !== '' ? details.hint : undefined,
    dryRun,
    line: located?.line,
    column: located?.column,
    // For errors inside a do-block or function body Postgres gives no position but says where.
    context:
      fromServer && typeof details.where === 'string' && details.where !== '' ? details.where : undefined,
    cause: error,
  });
}
