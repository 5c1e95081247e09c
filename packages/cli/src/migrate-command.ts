import { relative, resolve } from 'node:path';
import {
  exportSupabaseMigrations,
  loadMigrations,
  type Migration,
  type MigrationEvent,
  migrate,
  migrationStatus,
  rollback,
} from '@tributary/sql';
import { Command, InvalidArgumentError, Option } from 'commander';
import { TributaryCliError } from './cli-error.js';
import type { CliIo } from './cli-io.js';
import { type DatabaseFlags, openDatabase } from './open-database.js';

interface GlobalFlags extends DatabaseFlags {
  json?: boolean;
  verbose?: boolean;
  migrationsDir?: string;
}

const column = 28;

interface VectorFlags {
  vectorDimensions?: number;
  vectorType?: 'vector' | 'halfvec';
}

interface UpOptions extends VectorFlags {
  dryRun?: boolean;
  deferMissingExtensions?: boolean;
  target?: string;
}

function vectorTypeOption(): Option {
  return new Option(
    '--vector-type <type>',
    'vector (default) or halfvec (half the storage, up to 4000 dimensions)',
  ).choices(['vector', 'halfvec']);
}

/** The `vector` option of migrate/export from the flags; undefined (keep the column) without them. */
function vectorOption(flags: VectorFlags): { dimensions: number; type?: 'vector' | 'halfvec' } | undefined {
  if (flags.vectorDimensions === undefined && flags.vectorType === undefined) return undefined;
  return {
    dimensions: flags.vectorDimensions ?? 1536,
    ...(flags.vectorType ? { type: flags.vectorType } : {}),
  };
}

function parseDimensions(value: string): number {
  const dimensions = Number(value);
  if (!/^\d+$/.test(value) || dimensions < 1 || dimensions > 4000)
    throw new InvalidArgumentError('expected a whole number from 1 to 4000.');
  return dimensions;
}

function line(state: string, name: string, detail = ''): string {
  return `${state.padEnd(12)} ${name.padEnd(column)} ${detail}`.trimEnd();
}

function parseSteps(value: string): number {
  const steps = Number(value);
  if (!/^\d+$/.test(value) || steps < 1)
    throw new InvalidArgumentError('expected a whole number of at least 1.');
  return steps;
}

async function knownMigrations(flags: GlobalFlags, io: CliIo): Promise<Migration[]> {
  return flags.migrationsDir === undefined
    ? loadMigrations()
    : loadMigrations(resolve(io.cwd, flags.migrationsDir));
}

function printEvent(io: CliIo, event: MigrationEvent): void {
  switch (event.type) {
    case 'start':
      // The summary line says it when there is nothing to do.
      break;
    case 'applied':
      io.stdout(
        `${line(
          event.dryRun ? 'would apply' : 'applied',
          event.name,
          event.dryRun ? '' : `${event.executionMs} ms`,
        )}\n`,
      );
      break;
    case 'rolled-back':
      io.stdout(
        `${line(
          event.dryRun ? 'would undo' : 'rolled back',
          event.name,
          event.dryRun ? '' : `${event.executionMs} ms`,
        )}\n`,
      );
      break;
    case 'skipped':
      io.stdout(
        `${line(
          'skipped',
          event.name,
          event.reason === 'already-applied'
            ? 'already applied'
            : event.reason === 'applied-concurrently'
              ? 'applied by another runner meanwhile'
              : 'rolled back by another runner meanwhile',
        )}\n`,
      );
      break;
    case 'deferred':
      io.stdout(`${line('deferred', event.name, `needs extension ${event.missingExtensions.join(', ')}`)}\n`);
      break;
    case 'warning':
      // What a migration raised with `raise warning` (e.g. legacy rows it repaired): the operator
      // must see it, so it is printed in the listing, right after the file that raised it.
      io.stdout(
        `${line('warning', event.name, `${event.message}${event.hint ? ` (${event.hint})` : ''}`)}\n`,
      );
      break;
  }
}

function warningsSummary(count: number): string {
  return count === 0 ? '' : `, ${count} warning${count === 1 ? '' : 's'} (see above)`;
}

function printJson(io: CliIo, value: unknown): void {
  io.stdout(`${JSON.stringify(value, null, 2)}\n`);
}

/** `tributary migrate [up|status|down|export]`. */
export function migrateCommand(io: CliIo): Command {
  const command = new Command('migrate')
    .description('apply, inspect, roll back or export the Tributary database migrations')
    .option(
      '--database-url <url>',
      'PostgreSQL connection string (default: $DATABASE_URL); use a direct or session connection',
    )
    .option('--pglite <dir>', 'use an embedded PGlite database (with pgvector) kept in this folder')
    .option(
      '--migrations-dir <dir>',
      'use the migrations in this folder instead of the ones bundled with @tributary/sql',
    );

  command
    .command('up', { isDefault: true })
    .description('apply pending migrations (the default)')
    .option('--dry-run', 'show what would be applied, change nothing')
    .option(
      '--defer-missing-extensions',
      'skip files needing an extension the server lacks, instead of failing',
    )
    .option('--target <name>', 'stop after this migration, e.g. 0002_schema')
    .option(
      '--vector-dimensions <n>',
      'size of stored embeddings, fixed when 0010_vector_models is applied (default 1536; must match the embedder)',
      parseDimensions,
    )
    .addOption(vectorTypeOption())
    // `up` is the default, so a mistyped subcommand arrives here as an argument.
    .argument('[unknown]')
    .action(async (unknown: string | undefined, options: UpOptions, sub: Command) => {
      if (unknown !== undefined) {
        throw new TributaryCliError(
          'unknown_command',
          `unknown command "migrate ${unknown}"; expected migrate up, status, down or export (see --help)`,
        );
      }
      const flags = sub.optsWithGlobals<GlobalFlags>();
      const migrations = await knownMigrations(flags, io);
      const database = await openDatabase(flags, io, { create: true });
      try {
        if (!flags.json) io.stdout(`Migrating ${database.label}${options.dryRun ? ' (dry run)' : ''}\n`);
        const result = await migrate(database.db, {
          migrations,
          dryRun: options.dryRun ?? false,
          deferMissingExtensions: options.deferMissingExtensions ?? false,
          ...(options.target === undefined ? {} : { target: options.target }),
          vector: vectorOption(options),
          ...(flags.json ? {} : { onEvent: (event: MigrationEvent) => printEvent(io, event) }),
        });
        if (flags.json) {
          printJson(io, { database: database.label, ...result });
        } else {
          const verb = result.dryRun ? 'would be applied' : 'applied';
          if (result.applied.length === 0 && result.deferred.length === 0)
            io.stdout('Database is up to date.\n');
          io.stdout(
            `${result.applied.length} ${verb}, ${result.skipped.length} already applied, ${result.deferred.length} deferred` +
              `${warningsSummary(result.warnings.length)}${result.dryRun ? '; nothing changed' : ''} (${result.durationMs} ms)\n`,
          );
        }
      } finally {
        await database.close();
      }
    });

  command
    .command('status')
    .description('show each migration as applied, pending, changed or blocked')
    .action(async (_options: unknown, sub: Command) => {
      const flags = sub.optsWithGlobals<GlobalFlags>();
      const migrations = await knownMigrations(flags, io);
      const database = await openDatabase(flags, io);
      try {
        const status = await migrationStatus(database.db, { migrations });
        if (flags.json) {
          printJson(io, { database: database.label, ...status });
          return;
        }
        io.stdout(`Migrations on ${database.label}\n`);
        if (status.migrations.length === 0) io.stdout('No migrations are bundled yet.\n');
        for (const entry of status.migrations) {
          const detail =
            entry.state === 'applied'
              ? `${entry.appliedAt?.toISOString()} (${entry.executionMs} ms)`
              : entry.state === 'changed'
                ? `file changed since it was applied (applied ${entry.appliedChecksum?.slice(0, 12)}, now ${entry.checksum.slice(0, 12)})`
                : entry.state === 'blocked'
                  ? `needs extension ${entry.missingExtensions.join(', ')}`
                  : '';
          io.stdout(`${line(entry.state, entry.name, detail)}\n`);
        }
        for (const record of status.unknownApplied) {
          io.stdout(
            `${line(
              'unknown',
              record.name,
              `applied ${record.appliedAt.toISOString()}, not in this package (database is newer)`,
            )}\n`,
          );
        }
        const count = (state: string) => status.migrations.filter((entry) => entry.state === state).length;
        io.stdout(
          `${count('applied')} applied, ${count('pending')} pending, ${count('changed')} changed, ${count('blocked')} blocked` +
            `${status.unknownApplied.length > 0 ? `, ${status.unknownApplied.length} unknown` : ''}\n`,
        );
      } finally {
        await database.close();
      }
    });

  command
    .command('down')
    .description('roll back with the down scripts: everything after --to NAME, or the last --steps N')
    .addOption(
      new Option('--to <name>', 'keep this migration and roll back every later one').conflicts('steps'),
    )
    .addOption(
      new Option('--steps <n>', 'roll back this many of the latest applied migrations').argParser(parseSteps),
    )
    .option(
      '--dry-run',
      'run the down scripts in a transaction that is rolled back: shows what would be rolled back (or why it would be refused), changes nothing',
    )
    .action(async (options: { to?: string; steps?: number; dryRun?: boolean }, sub: Command) => {
      const flags = sub.optsWithGlobals<GlobalFlags>();
      if (options.to === undefined && options.steps === undefined) {
        throw new TributaryCliError('missing_rollback_target', 'migrate down needs --to NAME or --steps N');
      }
      const migrations = await knownMigrations(flags, io);
      const database = await openDatabase(flags, io);
      try {
        if (!flags.json)
          io.stdout(`Rolling back on ${database.label}${options.dryRun ? ' (dry run)' : ''}\n`);
        const result = await rollback(database.db, {
          migrations,
          dryRun: options.dryRun ?? false,
          ...(options.to === undefined ? {} : { to: options.to }),
          ...(options.steps === undefined ? {} : { steps: options.steps }),
          ...(flags.json ? {} : { onEvent: (event: MigrationEvent) => printEvent(io, event) }),
        });
        if (flags.json) printJson(io, { database: database.label, ...result });
        else if (result.rolledBack.length === 0) io.stdout('Nothing to roll back.\n');
        else
          io.stdout(
            `${result.rolledBack.length} ${result.dryRun ? 'would be rolled back; nothing changed' : 'rolled back'}` +
              `${warningsSummary(result.warnings.length)} (${result.durationMs} ms)\n`,
          );
      } finally {
        await database.close();
      }
    });

  command
    .command('export')
    .description(
      "write the migrations into a Supabase project's supabase/migrations folder (no database needed)",
    )
    .option('--dir <dir>', 'the Supabase migrations folder', 'supabase/migrations')
    .option('--overwrite', 'rewrite exported files whose content differs (only for files never pushed)')
    .option(
      '--vector-dimensions <n>',
      'size of stored embeddings, written into the exported 0010_vector_models',
      parseDimensions,
    )
    .addOption(vectorTypeOption())
    .action(async (options: { dir: string; overwrite?: boolean } & VectorFlags, sub: Command) => {
      const flags = sub.optsWithGlobals<GlobalFlags>();
      const migrations = await knownMigrations(flags, io);
      const directory = resolve(io.cwd, options.dir);
      const result = await exportSupabaseMigrations({
        directory,
        migrations,
        overwrite: options.overwrite ?? false,
        vector: vectorOption(options),
      });
      if (flags.json) {
        printJson(io, { directory, ...result });
        return;
      }
      const shown = (file: string) => relative(io.cwd, file) || file;
      for (const entry of result.written)
        io.stdout(`${line(entry.overwritten ? 'overwrote' : 'wrote', entry.name, shown(entry.file))}\n`);
      for (const entry of result.skipped) io.stdout(`${line('unchanged', entry.name, shown(entry.file))}\n`);
      io.stdout(
        `${result.written.length} written, ${result.skipped.length} already exported to ${shown(directory)}` +
          ' (Supabase shims and down scripts are not exported)\n',
      );
    });

  return command;
}
