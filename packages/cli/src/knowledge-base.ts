import { createRequire } from 'node:module';
import { join } from 'node:path';
import {
  createLexicalEmbedder,
  createPostgresRepository,
  type Embedder,
  type KnowledgeRepository,
} from '@tributary/core';
import { migrationStatus } from '@tributary/sql';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { TributaryCliError } from './cli-error.js';
import type { CliIo } from './cli-io.js';
import { type DatabaseFlags, type OpenDatabase, openDatabase } from './open-database.js';

/** Flags every command reading or writing the knowledge base accepts (after the global ones). */
export interface KnowledgeBaseFlags extends DatabaseFlags {
  json?: boolean;
  verbose?: boolean;
}

/** `--database-url` and `--pglite`, as on `migrate`. */
export function addDatabaseOptions(command: Command): Command {
  return command
    .option(
      '--database-url <url>',
      'PostgreSQL connection string (default: $DATABASE_URL); use a direct or session connection',
    )
    .option('--pglite <dir>', 'use an embedded PGlite database (with pgvector) kept in this folder');
}

export type EmbedderChoice = 'lexical' | 'openai';

/** `--embedder lexical|openai` (default lexical). */
export function embedderOption(): Option {
  return new Option('--embedder <name>', 'how texts are embedded: lexical (offline) or openai')
    .choices(['lexical', 'openai'])
    .default('lexical');
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A commander argument parser for uuid flags. */
export function parseUuid(value: string): string {
  if (!uuidPattern.test(value)) throw new InvalidArgumentError(`expected a uuid, got "${value}".`);
  return value.toLowerCase();
}

/** Collects a repeatable uuid flag. */
export function collectUuid(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), parseUuid(value)];
}

/** A commander argument parser for whole numbers from 1 to `max`. */
export function parseCount(max: number): (value: string) => number {
  return (value) => {
    const parsed = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(parsed) || parsed < 1 || parsed > max) {
      throw new InvalidArgumentError(`expected a whole number from 1 to ${max}, got "${value}".`);
    }
    return parsed;
  };
}

export interface KnowledgeBase {
  database: OpenDatabase;
  repository: KnowledgeRepository;
}

/** Opens the database of `--pglite` / `--database-url` / `DATABASE_URL` with a repository on it. */
export async function openKnowledgeBase(flags: DatabaseFlags, io: CliIo): Promise<KnowledgeBase> {
  const database = await openDatabase(flags, io);
  try {
    await assertMigrated(database);
  } catch (error) {
    await database.close().catch(() => undefined);
    throw error;
  }
  // Runs as the connection's own role, like a sync worker on the server.
  return { database, repository: createPostgresRepository({ db: database.db }) };
}

/**
 * A database without Tributary's tables, or with migrations of this release not applied yet, gets
 * the next step instead of `relation ... does not exist` halfway through a command.
 */
async function assertMigrated(database: OpenDatabase): Promise<void> {
  const status = await migrationStatus(database.db);
  if (
    !status.migrations.some((migration) => migration.state !== 'pending' && migration.state !== 'blocked')
  ) {
    throw new TributaryCliError(
      'not_migrated',
      `${database.label} has no Tributary tables yet: apply the migrations first with tributary migrate (same --database-url / --pglite)`,
    );
  }
  const pending = status.migrations.filter((migration) => migration.state === 'pending');
  if (pending.length > 0) {
    throw new TributaryCliError(
      'migrations_pending',
      `${database.label} is missing ${pending.length} migration(s) of this release (${pending
        .map((migration) => migration.name)
        .join(', ')}): apply them with tributary migrate (tributary migrate status shows the details)`,
    );
  }
}

/** True when the `openai` package resolves from the project (`cwd`) or next to the CLI. */
function openaiInstalled(cwd: string): boolean {
  for (const from of [join(cwd, 'package.json'), import.meta.url]) {
    try {
      createRequire(from).resolve('openai');
      return true;
    } catch {
      // Not there: try the next place.
    }
  }
  return false;
}

/** The size of the database's stored embeddings (1536 where it cannot tell, e.g. no pgvector). */
export async function storedDimensions(repository: KnowledgeRepository): Promise<number> {
  return (await repository.vectorSettings())?.dimensions ?? 1536;
}

export interface ChosenEmbedder {
  embedder: Embedder;
  /** What the output says: `lexical (offline, not semantic)` or the OpenAI model. */
  description: string;
}

export const OPENAI_MODEL = 'text-embedding-3-small';

/**
 * The embedder named by `--embedder`, making vectors of `dimensions` (the database's size, from
 * `repository.vectorSettings()`; default 1536); `openai` needs `OPENAI_API_KEY`.
 */
export async function chooseEmbedder(
  choice: EmbedderChoice,
  io: CliIo,
  dimensions = 1536,
): Promise<ChosenEmbedder> {
  if (choice === 'openai') {
    const apiKey = io.env.OPENAI_API_KEY;
    if (apiKey === undefined || apiKey.trim() === '') {
      throw new TributaryCliError(
        'missing_openai_api_key',
        '--embedder openai needs the OPENAI_API_KEY environment variable; set it, or use --embedder lexical (offline, not semantic)',
      );
    }
    if (!openaiInstalled(io.cwd)) {
      throw new TributaryCliError(
        'openai_not_installed',
        `--embedder openai needs the "openai" package, which is not installed in ${io.cwd}: run npm install openai there, or use --embedder lexical (offline, not semantic)`,
      );
    }
    const { createOpenAIEmbedder } = await import('@tributary/core/openai');
    const embedder = createOpenAIEmbedder({ apiKey, model: OPENAI_MODEL, dimensions });
    return { embedder, description: `openai ${OPENAI_MODEL} (${dimensions} dimensions, ${embedder.id})` };
  }
  const embedder = createLexicalEmbedder({ dimensions });
  return { embedder, description: `lexical (offline, not semantic; ${embedder.id})` };
}

export function printJson(io: CliIo, value: unknown): void {
  io.stdout(`${JSON.stringify(value, null, 2)}\n`);
}

/** Collapses whitespace and cuts to `max` characters. */
export function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
