import { createHash } from 'node:crypto';
import { InvalidMigrationError } from './errors.js';

/** One migration file (plus its optional down script), as the runner sees it. */
export interface Migration {
  /** File name without `.sql`, e.g. `0002_schema`. Migrations run in lexical order of names. */
  name: string;
  /** The whole file, with CRLF normalised to LF. Runs as one script in one transaction. */
  sql: string;
  /** The `NNNN_name.down.sql` script beside the file, if any. */
  downSql?: string;
  /** sha256 (hex) of `sql`; recorded when applied, compared on every later run. */
  checksum: string;
  /** Extensions named by `-- tributary:requires-extension NAME` directives. */
  requiresExtensions: string[];
  /** `-- tributary:supabase-shim`: emulates Supabase objects; left out of the Supabase export. */
  supabaseShim: boolean;
}

/** `NNNN_name`: four digits, an underscore, then lowercase letters, digits, `_` or `-`. */
export const migrationNamePattern = /^(\d{4})_([a-z0-9][a-z0-9_-]*)$/;

const directivePattern = /^--\s*tributary:([a-z-]+)(.*)$/;

export function normaliseLineEndings(text: string): string {
  return text.replace(/\r\n/g, '\n');
}

export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function parseDirectives(name: string, sql: string): Pick<Migration, 'requiresExtensions' | 'supabaseShim'> {
  const requiresExtensions: string[] = [];
  let supabaseShim = false;
  // Directives sit in the leading comment block; the first SQL line ends it.
  for (const rawLine of sql.split('\n')) {
    const line = rawLine.trim();
    if (line === '') continue;
    if (!line.startsWith('--')) break;
    const match = directivePattern.exec(line);
    if (!match) continue;
    const [, directive = '', rest = ''] = match;
    const argumentsList = rest
      .split(/[\s,]+/)
      .map((part) => part.trim())
      .filter((part) => part !== '');
    if (directive === 'requires-extension') {
      if (argumentsList.length === 0) {
        throw new InvalidMigrationError(
          `${name}.sql`,
          '"-- tributary:requires-extension" needs an extension name',
        );
      }
      for (const extension of argumentsList) {
        if (!requiresExtensions.includes(extension)) requiresExtensions.push(extension);
      }
    } else if (directive === 'supabase-shim') {
      supabaseShim = true;
    } else {
      // A typo in a directive would otherwise silently drop a requirement.
      throw new InvalidMigrationError(
        `${name}.sql`,
        `unknown directive "-- tributary:${directive}" (known: requires-extension, supabase-shim)`,
      );
    }
  }
  return { requiresExtensions, supabaseShim };
}

/**
 * Builds a {@link Migration} from its name and SQL text, the way {@link loadMigrations} does for
 * files: normalises line endings, computes the checksum and reads the directives.
 */
export function createMigration(name: string, sql: string, downSql?: string): Migration {
  if (!migrationNamePattern.test(name)) {
    throw new InvalidMigrationError(
      `${name}.sql`,
      'malformed migration name: expected NNNN_name (four digits, "_", then lowercase letters, digits, "_" or "-")',
    );
  }
  const text = normaliseLineEndings(sql);
  const migration: Migration = { name, sql: text, checksum: sha256(text), ...parseDirectives(name, text) };
  if (downSql !== undefined) migration.downSql = normaliseLineEndings(downSql);
  return migration;
}
