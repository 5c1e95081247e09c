import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fromPg, fromPglite, type SqlDatabase } from '@tributary/sql';
import { isConnectionError, TributaryCliError } from './cli-error.js';
import type { CliIo } from './cli-io.js';

export interface DatabaseFlags {
  databaseUrl?: string;
  pglite?: string;
}

export interface OpenDatabase {
  db: SqlDatabase;
  /** Where it points, without credentials, for messages. */
  label: string;
  close(): Promise<void>;
}

function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}${parsed.port ? `:${parsed.port}` : ''}${parsed.pathname}`;
  } catch {
    throw new TributaryCliError(
      'invalid_database_url',
      'the database URL is not a valid URL; expected postgres://user:password@host:5432/database',
    );
  }
}

export interface OpenDatabaseOptions {
  /**
   * May a missing `--pglite` folder be created? Only commands that build a database (`migrate`,
   * `demo`) say yes: for the others a missing folder is a mistyped path, and creating an empty
   * 39 MB database there would hide it.
   */
  create?: boolean | undefined;
}

/** An embedded PGlite (with pgvector) kept in a local folder, created if missing and allowed. */
export async function openPglite(
  directory: string,
  options: OpenDatabaseOptions = {},
): Promise<OpenDatabase> {
  if (!options.create && !existsSync(join(directory, 'PG_VERSION'))) {
    throw new TributaryCliError(
      'pglite_not_found',
      `there is no PGlite database in ${directory}: check the --pglite path, or create one there with tributary migrate --pglite ${directory}`,
    );
  }
  await mkdir(directory, { recursive: true });
  const [{ PGlite }, { vector }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('@electric-sql/pglite-pgvector'),
  ]);
  let pglite: Awaited<ReturnType<typeof PGlite.create>>;
  try {
    pglite = await PGlite.create(directory, { extensions: { vector } });
  } catch (error) {
    throw new TributaryCliError(
      'pglite_open_failed',
      `cannot open the PGlite database in ${directory}: ${error instanceof Error ? error.message : String(error)}. ` +
        'Is another process using it, or was it created by a different PGlite version?',
      { cause: error },
    );
  }
  return { db: fromPglite(pglite), label: `PGlite ${directory}`, close: () => pglite.close() };
}

/** Opens the database chosen by `--pglite DIR`, `--database-url URL` or `DATABASE_URL`. */
export async function openDatabase(
  flags: DatabaseFlags,
  io: CliIo,
  options: OpenDatabaseOptions = {},
): Promise<OpenDatabase> {
  if (flags.pglite !== undefined && flags.databaseUrl !== undefined) {
    throw new TributaryCliError(
      'conflicting_database_flags',
      'pass either --database-url or --pglite, not both',
    );
  }
  if (flags.pglite !== undefined) return openPglite(resolve(io.cwd, flags.pglite), options);

  const url = flags.databaseUrl ?? io.env.DATABASE_URL;
  if (url === undefined || url === '') {
    throw new TributaryCliError(
      'no_database',
      'no database given: pass --database-url postgres://..., set DATABASE_URL, or use --pglite DIR for an embedded database',
    );
  }
  const label = describeUrl(url);
  const { default: pg } = await import('pg');
  // Two connections at most: the runner reads history on one and runs each file's transaction on one.
  const pool = new pg.Pool({ connectionString: url, max: 2, connectionTimeoutMillis: 15_000 });
  pool.on('error', () => undefined);
  try {
    await pool.query('select 1');
  } catch (error) {
    await pool.end().catch(() => undefined);
    if (isConnectionError(error)) {
      const reason =
        error instanceof Error && error.message !== ''
          ? error.message
          : String((error as { code?: unknown }).code);
      throw new TributaryCliError(
        'database_unreachable',
        `cannot connect to the database at ${label} (${reason}); check --database-url / DATABASE_URL and that the server is running`,
        { cause: error },
      );
    }
    throw error;
  }
  return { db: fromPg(pool), label, close: () => pool.end() };
}
