import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidMigrationOptionsError, SupabaseExportConflictError } from './errors.js';
import { loadMigrations } from './load-migrations.js';
import { type Migration, normaliseLineEndings } from './migration.js';
import { orderMigrations } from './migration-history.js';
import { normalizeVectorOptions, type VectorOptions, type VectorSettings } from './vector-settings.js';

export interface ExportSupabaseMigrationsOptions {
  /** The host project's Supabase migrations folder, e.g. `supabase/migrations` (created if missing). */
  directory: string;
  /** Clock for the timestamps of new files; default: now. */
  now?: Date;
  /** Migrations to export; default: the ones bundled with this package. Shims are always left out. */
  migrations?: readonly Migration[];
  /** Rewrite an exported file whose content differs instead of refusing. Only for files never pushed. */
  overwrite?: boolean;
  /**
   * The embedding type and size, written into the exported `0010_vector_models` (the Supabase CLI
   * cannot pass settings the way `migrate(db, { vector })` does). Default: keep the column's type.
   */
  vector?: VectorOptions | undefined;
}

export interface ExportedMigrationFile {
  /** Migration name, e.g. `0002_schema`. */
  name: string;
  /** Absolute path of the file in `directory`. */
  file: string;
}

export interface ExportSupabaseMigrationsResult {
  /** Files created (or rewritten, with `overwrite`) by this call, in migration order. */
  written: (ExportedMigrationFile & { overwritten: boolean })[];
  /** Migrations already exported with identical content. */
  skipped: ExportedMigrationFile[];
}

const supabaseFilePattern = /^(\d+)_(.*)\.sql$/;
const exportedFilePattern = /^\d+_tributary_(.+)\.sql$/;

function formatVersion(date: Date): string {
  const pad = (value: number, width = 2) => String(value).padStart(width, '0');
  return (
    pad(date.getUTCFullYear(), 4) +
    pad(date.getUTCMonth() + 1) +
    pad(date.getUTCDate()) +
    pad(date.getUTCHours()) +
    pad(date.getUTCMinutes()) +
    pad(date.getUTCSeconds())
  );
}

function parseVersion(version: string): number {
  const part = (start: number, end: number) => Number(version.slice(start, end));
  return Date.UTC(part(0, 4), part(4, 6) - 1, part(6, 8), part(8, 10), part(10, 12), part(12, 14));
}

/**
 * Writes the package's migrations, except `-- tributary:supabase-shim` files, into a Supabase
 * project's `supabase/migrations/` as `<YYYYMMDDHHMMSS>_tributary_<name>.sql` (UTC), so the
 * Supabase CLI (`supabase db push`, `supabase migration up`) applies them with the host's own
 * migrations. New files get consecutive timestamps one second apart, all later than the newest
 * file already there, because the Supabase CLI applies files in timestamp order. Running it again
 * skips files already exported with the same content and refuses changed ones. Down scripts are
 * not exported: Supabase migrations are forward-only.
 */
/** The migration that reads the vector settings gets them as its first statement. */
function withVectorSettings(migration: Migration, vector: VectorSettings | undefined): Migration {
  if (!vector || !migration.sql.includes("current_setting('tributary.vector_dimensions'")) return migration;
  // Session-level (false): the Supabase CLI may not run a file in one transaction.
  const settings =
    `-- Vector setting chosen at export: ${vector.type}(${vector.dimensions}).\n` +
    `select set_config('tributary.vector_type', '${vector.type}', false), ` +
    `set_config('tributary.vector_dimensions', '${vector.dimensions}', false);\n`;
  return { ...migration, sql: `${settings}${migration.sql}` };
}

export async function exportSupabaseMigrations(
  options: ExportSupabaseMigrationsOptions,
): Promise<ExportSupabaseMigrationsResult> {
  const known = orderMigrations(options.migrations ?? (await loadMigrations()));
  const vector = options.vector === undefined ? undefined : normalizeVectorOptions(options.vector);
  const exportable = known
    .filter((migration) => !migration.supabaseShim)
    .map((migration) => withVectorSettings(migration, vector));
  await mkdir(options.directory, { recursive: true });
  const entries = (await readdir(options.directory)).sort();

  let newestVersion: string | undefined;
  const exported = new Map<string, string>();
  for (const entry of entries) {
    const match = supabaseFilePattern.exec(entry);
    if (!match) continue;
    const version = match[1] ?? '';
    // The Supabase CLI writes 14-digit UTC timestamps; other prefixes are too unusual to order against.
    if (version.length === 14 && (newestVersion === undefined || version > newestVersion))
      newestVersion = version;
    const exportedName = exportedFilePattern.exec(entry)?.[1];
    if (exportedName !== undefined && !exported.has(exportedName)) exported.set(exportedName, entry);
  }

  // Decide everything before writing anything, so a conflict leaves the folder untouched.
  const plan: { migration: Migration; entry: string | undefined; action: 'write' | 'overwrite' | 'skip' }[] =
    [];
  for (const migration of exportable) {
    const entry = exported.get(migration.name);
    if (entry === undefined) {
      plan.push({ migration, entry, action: 'write' });
      continue;
    }
    const existing = normaliseLineEndings(await readFile(join(options.directory, entry), 'utf8'));
    if (existing === migration.sql) plan.push({ migration, entry, action: 'skip' });
    else if (options.overwrite) plan.push({ migration, entry, action: 'overwrite' });
    else throw new SupabaseExportConflictError(migration.name, join(options.directory, entry));
  }

  const nowSeconds = Math.floor((options.now ?? new Date()).getTime() / 1000) * 1000;
  let next =
    newestVersion === undefined ? nowSeconds : Math.max(nowSeconds, parseVersion(newestVersion) + 1000);
  const result: ExportSupabaseMigrationsResult = { written: [], skipped: [] };
  for (const { migration, entry, action } of plan) {
    if (action === 'skip' && entry !== undefined) {
      result.skipped.push({ name: migration.name, file: join(options.directory, entry) });
      continue;
    }
    let fileName = entry;
    if (action === 'write') {
      const version = formatVersion(new Date(next));
      if (newestVersion !== undefined && version <= newestVersion) {
        throw new InvalidMigrationOptionsError(
          `cannot pick a timestamp after ${newestVersion} in ${options.directory}; rename the unusual file there.`,
        );
      }
      next += 1000;
      fileName = `${version}_tributary_${migration.name}.sql`;
    }
    const file = join(options.directory, fileName ?? '');
    // `wx` never clobbers a file that appeared meanwhile; overwriting is explicit.
    await writeFile(file, migration.sql, { encoding: 'utf8', flag: action === 'write' ? 'wx' : 'w' });
    result.written.push({ name: migration.name, file, overwritten: action === 'overwrite' });
  }
  return result;
}
