const marker = Symbol.for('tributary.error');

/**
 * Base of every error the sql package throws. It carries the same `Symbol.for('tributary.error')`
 * marker as `@tributary/core`'s `TributaryError`, so `TributaryError.isInstance(error)` recognises
 * it even across duplicate package copies. Messages start `[tributary] [sql]` and say what to do.
 */
export class TributarySqlError extends Error {
  readonly [marker] = true;
  /** Stable machine-readable code, e.g. `migration_checksum_mismatch`. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(`[tributary] [sql] ${message}`, options);
    this.name = new.target.name;
    this.code = code;
  }

  static isInstance(error: unknown): error is TributarySqlError {
    return typeof error === 'object' && error !== null && marker in error && 'code' in error;
  }
}

/**
 * A file in a migrations folder breaks the naming or directive conventions (`NNNN_name.sql`,
 * optional `NNNN_name.down.sql`, `-- tributary:` directives), or the folder cannot be read.
 */
export class InvalidMigrationError extends TributarySqlError {
  /** The offending file (or folder) path. */
  readonly file: string;

  constructor(file: string, problem: string, options?: { cause?: unknown }) {
    super('invalid_migration', `${problem} (${file})`, options);
    this.file = file;
  }
}

/** A migration name passed as `target` or `to` is not among the known migrations. */
export class MigrationNotFoundError extends TributarySqlError {
  readonly migration: string;

  constructor(migration: string, known: readonly string[]) {
    super(
      'migration_not_found',
      `no migration named "${migration}"; known migrations: ${known.length > 0 ? known.join(', ') : '(none)'}.`,
    );
    this.migration = migration;
  }
}

/** A pending migration needs a Postgres extension the server does not offer. */
export class MissingExtensionError extends TributarySqlError {
  readonly migration: string;
  readonly extension: string;

  constructor(migration: string, extension: string) {
    super(
      'missing_extension',
      `migration ${migration} requires the Postgres extension "${extension}", which this server does not have ` +
        `(it is not in pg_available_extensions). Install it on the server (for pgvector: use a Postgres image or ` +
        `package that ships it, e.g. the pgvector/pgvector Docker image or the postgresql-NN-pgvector package; on ` +
        `Supabase it is built in), or pass deferMissingExtensions (CLI: --defer-missing-extensions) to skip this ` +
        `file for now and apply it on a later run.`,
    );
    this.migration = migration;
    this.extension = extension;
  }
}

/** An applied migration's file changed on disk since it was applied (checksums differ). */
export class MigrationChecksumError extends TributarySqlError {
  readonly migration: string;
  /** Checksum recorded in `tributary_migrations.applied` when the file was applied. */
  readonly appliedChecksum: string;
  /** Checksum of the file as it is now. */
  readonly fileChecksum: string;

  constructor(
    migration: string,
    appliedChecksum: string,
    fileChecksum: string,
    otherChanged: readonly string[] = [],
  ) {
    const others = otherChanged.length > 0 ? ` Also changed: ${otherChanged.join(', ')}.` : '';
    super(
      'migration_checksum_mismatch',
      `migration ${migration} was applied with checksum ${appliedChecksum} but the file now has checksum ` +
        `${fileChecksum}. Applied migrations must not be edited: restore the original file and put the change ` +
        `in a new migration.${others} Nothing was applied.`,
    );
    this.migration = migration;
    this.appliedChecksum = appliedChecksum;
    this.fileChecksum = fileChecksum;
  }
}

/** The database records migrations this package does not know: it was migrated by a newer version. */
export class UnknownAppliedMigrationError extends TributarySqlError {
  readonly migrations: readonly string[];

  constructor(migrations: readonly string[]) {
    super(
      'unknown_applied_migration',
      `the database has applied migrations that this version of @tributary/sql does not ship: ` +
        `${migrations.join(', ')}. It was probably migrated by a newer version; upgrade @tributary/sql ` +
        `(or point at the right migrations folder). Nothing was done.`,
    );
    this.migrations = migrations;
  }
}

/** A migration (or its down script) failed; its transaction was rolled back. */
export class MigrationFailedError extends TributarySqlError {
  readonly migration: string;
  readonly direction: 'up' | 'down';
  /** SQLSTATE of the Postgres error, e.g. `42P01`. */
  readonly postgresCode: string | undefined;
  readonly postgresMessage: string;
  /** The HINT Postgres sent with the error (a refusing down script says what to do instead). */
  readonly hint: string | undefined;
  /** 1-based line in the file, when Postgres reported a position. */
  readonly line: number | undefined;
  /** 1-based column in that line, when Postgres reported a position. */
  readonly column: number | undefined;
  /** True when a dry run hit this: the real run would fail the same way. */
  readonly dryRun: boolean;

  constructor(details: {
    migration: string;
    direction: 'up' | 'down';
    postgresCode: string | undefined;
    postgresMessage: string;
    hint?: string | undefined;
    line: number | undefined;
    column: number | undefined;
    context: string | undefined;
    dryRun?: boolean | undefined;
    cause: unknown;
  }) {
    const file = details.direction === 'down' ? `${details.migration}.down.sql` : `${details.migration}.sql`;
    const where = details.line !== undefined ? ` at line ${details.line}, column ${details.column}` : '';
    const code = details.postgresCode ? ` (SQLSTATE ${details.postgresCode})` : '';
    const context = details.context ? ` [${details.context.replace(/\s*\n\s*/g, '; ')}]` : '';
    const hint = details.hint ? ` Hint: ${details.hint.replace(/\.$/, '')}.` : '';
    // A rollback runs every down script in ONE transaction, so when one fails the scripts that ran
    // before it are undone too: nothing at all was rolled back.
    const outcome =
      details.direction === 'up'
        ? 'Its transaction was rolled back; earlier migrations stay applied and later ones did not run. Fix the file and run migrate again.'
        : details.dryRun
          ? 'Dry run: the down scripts ran in a transaction that was then rolled back, so nothing changed; the real rollback would fail the same way.'
          : 'The rollback ran in one transaction, which was rolled back: nothing was rolled back and every migration stays applied.';
    super(
      'migration_failed',
      `${file} failed${where}: ${details.postgresMessage}${code}${context}.${hint} ${outcome}`,
      {
        cause: details.cause,
      },
    );
    this.migration = details.migration;
    this.direction = details.direction;
    this.postgresCode = details.postgresCode;
    this.postgresMessage = details.postgresMessage;
    this.hint = details.hint;
    this.line = details.line;
    this.column = details.column;
    this.dryRun = details.dryRun ?? false;
  }
}

/** A rollback would need a down script that does not exist. */
export class MissingDownMigrationError extends TributarySqlError {
  readonly migrations: readonly string[];

  constructor(migrations: readonly string[]) {
    super(
      'missing_down_migration',
      `cannot roll back ${migrations.join(', ')}: no down script (${migrations.map((name) => `${name}.down.sql`).join(', ')}). ` +
        `Write a forward migration that undoes the change instead. Nothing was rolled back.`,
    );
    this.migrations = migrations;
  }
}

/** Options that contradict each other or are missing, e.g. `rollback` without `to` or `steps`. */
export class InvalidMigrationOptionsError extends TributarySqlError {
  constructor(message: string) {
    super('invalid_migration_options', message);
  }
}

/**
 * A migration was already exported to `supabase/migrations/` with different content. Supabase
 * migrations are forward-only, so an exported file is never rewritten unless asked (`overwrite`).
 */
export class SupabaseExportConflictError extends TributarySqlError {
  readonly migration: string;
  readonly file: string;

  constructor(migration: string, file: string) {
    super(
      'supabase_export_conflict',
      `${file} already holds migration ${migration} with different content. Supabase migrations are ` +
        `forward-only: if that file was already pushed, leave it and ship the change as a new migration; if it ` +
        `was never applied anywhere, export again with overwrite (CLI: --overwrite). Nothing was written.`,
    );
    this.migration = migration;
    this.file = file;
  }
}

/**
 * `migrate()` was asked for a vector type or size other than the one the database already stores.
 * Changing it would make every stored embedding unusable, so it is never done silently.
 */
export class VectorSettingsMismatchError extends TributarySqlError {
  readonly stored: { type: string; dimensions: number };
  readonly requested: { type: string; dimensions: number };

  constructor(stored: { type: string; dimensions: number }, requested: { type: string; dimensions: number }) {
    super(
      'vector_settings_mismatch',
      `this database stores embeddings as ${stored.type}(${stored.dimensions}); you asked for ` +
        `${requested.type}(${requested.dimensions}). Migrate without the vector option (CLI: without ` +
        `--vector-dimensions/--vector-type) to keep them, or migrate with ${stored.type}(${stored.dimensions}). ` +
        'To change the size, roll back 0010_vector_models after clearing the embeddings ' +
        '(update public.document_chunks set embedding = null, embedding_model = null), migrate with the new ' +
        'setting, then sync again with an embedder of that size.',
    );
    this.stored = stored;
    this.requested = requested;
  }
}
