import { resolve } from 'node:path';
import { loadMigrations, type MigrationEvent, migrate, type SqlQueryable } from '@tributary/sql';
import { Command, Option } from 'commander';
import type { CliIo } from './cli-io.js';
import { openPglite } from './open-database.js';

interface TableSummary {
  schema: string;
  name: string;
  rows: number;
  rowLevelSecurity: boolean;
  policies: number;
  indexes: number;
}

interface FunctionSummary {
  schema: string;
  name: string;
  arguments: string;
  securityDefiner: boolean;
}

const userObjects = `n.nspname not in ('pg_catalog', 'information_schema', 'tributary_migrations')
  and n.nspname not like 'pg\\_%'`;

function count(value: number, noun: string): string {
  return `${value} ${noun}${value === 1 ? '' : 's'}`;
}

function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

async function describeTables(db: SqlQueryable): Promise<TableSummary[]> {
  const { rows } = await db.query<Omit<TableSummary, 'rows'>>(`
    select n.nspname as schema, c.relname as name, c.relrowsecurity as "rowLevelSecurity",
      (select count(*)::int from pg_policies p where p.schemaname = n.nspname and p.tablename = c.relname) as policies,
      (select count(*)::int from pg_index i where i.indrelid = c.oid) as indexes
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where c.relkind in ('r', 'p') and not c.relispartition and ${userObjects}
      and not exists (select from pg_depend d where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype = 'e')
    order by 1, 2`);
  const tables: TableSummary[] = [];
  for (const table of rows) {
    const count = await db.query<{ n: number }>(
      `select count(*)::int as n from ${quoteIdentifier(table.schema)}.${quoteIdentifier(table.name)}`,
    );
    tables.push({ ...table, rows: count.rows[0]?.n ?? 0 });
  }
  return tables;
}

async function describeFunctions(db: SqlQueryable): Promise<FunctionSummary[]> {
  const { rows } = await db.query<FunctionSummary>(`
    select n.nspname as schema, p.proname as name, pg_get_function_identity_arguments(p.oid) as arguments,
      p.prosecdef as "securityDefiner"
    from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where p.prokind = 'f' and p.prorettype <> 'trigger'::regtype and ${userObjects}
      and not exists (select from pg_depend d where d.classid = 'pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e')
    order by 1, 2, 3`);
  return rows;
}

/**
 * `tributary demo`: migrates an embedded PGlite database and shows what the schema provides.
 * Temporary: the ingestion demo (connect a source, import, search) arrives with @tributary/core.
 */
export function demoCommand(io: CliIo): Command {
  return (
    new Command('demo')
      .description('create a local PGlite database with the Tributary schema and show what it contains')
      .option('--dir <dir>', 'folder of the demo database', '.tributary/demo-db')
      // For trying unreleased migrations; hidden because the demo is about the bundled ones.
      .addOption(new Option('--migrations-dir <dir>', 'use the migrations in this folder').hideHelp())
      .action(async (options: { dir: string; migrationsDir?: string }, command: Command) => {
        const { json } = command.optsWithGlobals<{ json?: boolean }>();
        const say = (text: string) => {
          if (!json) io.stdout(`${text}\n`);
        };
        const migrations = await loadMigrations(
          options.migrationsDir === undefined ? undefined : resolve(io.cwd, options.migrationsDir),
        );
        const database = await openPglite(resolve(io.cwd, options.dir), { create: true });
        try {
          say(`Tributary demo database: ${database.label} (embedded PostgreSQL with pgvector)`);
          if (migrations.length === 0) {
            say('No migrations are bundled with @tributary/sql yet, so there is nothing to apply.');
          } else {
            say(`Migrations (${migrations.length}):`);
          }
          const result = await migrate(database.db, {
            migrations,
            // The demo shows what it can; a missing extension is reported, not fatal.
            deferMissingExtensions: true,
            onEvent: (event: MigrationEvent) => {
              if (event.type === 'applied')
                say(`  applied   ${event.name.padEnd(28)} ${event.executionMs} ms`);
              if (event.type === 'skipped') say(`  present   ${event.name}`);
              if (event.type === 'deferred')
                say(
                  `  deferred  ${event.name.padEnd(28)} needs extension ${event.missingExtensions.join(', ')}`,
                );
              if (event.type === 'warning') say(`  warning   ${event.name.padEnd(28)} ${event.message}`);
            },
          });
          const tables = await describeTables(database.db);
          const functions = await describeFunctions(database.db);
          const extensions = (
            await database.db.query<{ name: string; version: string }>(
              "select extname as name, extversion as version from pg_extension where extname <> 'plpgsql' order by 1",
            )
          ).rows;

          if (json) {
            io.stdout(
              `${JSON.stringify({ database: database.label, migrations: result, tables, functions, extensions }, null, 2)}\n`,
            );
            return;
          }
          say('');
          if (tables.length === 0) {
            say('Tables: none yet.');
          } else {
            say('Tables:');
            const width = Math.max(...tables.map((table) => `${table.schema}.${table.name}`.length));
            for (const table of tables) {
              say(
                `  ${`${table.schema}.${table.name}`.padEnd(width)}  ${count(table.rows, 'row').padStart(9)}  ` +
                  `RLS ${table.rowLevelSecurity ? 'on ' : 'off'}  ${(table.policies === 1 ? '1 policy' : `${table.policies} policies`).padStart(11)}  ` +
                  `${(table.indexes === 1 ? '1 index' : `${table.indexes} indexes`).padStart(10)}`,
              );
            }
          }
          const rpc = functions.filter((fn) => fn.schema === 'public');
          say(
            rpc.length === 0
              ? 'RPC functions (public schema): none yet.'
              : 'RPC functions (public schema, callable through the Data API):',
          );
          for (const fn of rpc)
            say(
              `  ${fn.schema}.${fn.name}(${fn.arguments})${fn.securityDefiner ? '  security definer' : ''}`,
            );
          const helpers = new Map<string, number>();
          for (const fn of functions.filter((candidate) => candidate.schema !== 'public')) {
            helpers.set(fn.schema, (helpers.get(fn.schema) ?? 0) + 1);
          }
          if (helpers.size > 0) {
            say(
              `Other functions: ${[...helpers].map(([schema, count]) => `${schema} (${count})`).join(', ')}`,
            );
          }
          if (extensions.length > 0) {
            say(
              `Extensions: ${extensions.map((extension) => `${extension.name} ${extension.version}`).join(', ')}`,
            );
          }
          say('');
          say(
            'The ingestion demo (connect a source, import documents, search them) arrives with @tributary/core. ' +
              `Until then, explore the database with: tributary migrate status --pglite ${options.dir}`,
          );
        } finally {
          await database.close();
        }
      })
  );
}
