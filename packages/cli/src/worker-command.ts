import type { Server } from 'node:http';
import { createJsonLogger, createWorker, serveHealth, type Worker } from '@tributary/worker';
import { Command, Option } from 'commander';
import pg from 'pg';
import { TributaryCliError } from './cli-error.js';
import type { CliIo } from './cli-io.js';
import {
  chooseEmbedder,
  type EmbedderChoice,
  embedderOption,
  parseCount,
  parseUuid,
  printJson,
} from './knowledge-base.js';
import { loadPlugins, pluginSettingsHelp } from './plugin-settings.js';

interface WorkerFlags {
  databaseUrl?: string;
  plugin: string[];
  settings?: string[];
  embedder: EmbedderChoice;
  concurrency: number;
  webhookConcurrency?: number;
  perOrgConcurrency: number;
  schedule: boolean;
  healthPort?: number;
  shutdownTimeout: number;
  leaseSeconds: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
}

export function serverUrl(flags: { databaseUrl?: string }, io: CliIo): string {
  const url = flags.databaseUrl ?? io.env.DATABASE_URL;
  if (url === undefined || url === '') {
    throw new TributaryCliError(
      'no_database',
      'no database given: pass --database-url postgres://... or set DATABASE_URL (a direct or session-mode connection: workers cannot use a transaction pooler or PGlite)',
    );
  }
  return url;
}

/** The size of the stored embeddings, so the embedder matches the database (1536 without pgvector). */
export async function storedDimensions(connectionString: string): Promise<number> {
  const client = new pg.Client({ connectionString });
  try {
    await client.connect();
    const { rows } = await client.query<{ dimensions: number | null }>(
      `select atttypmod as dimensions from pg_attribute
       where attrelid = to_regclass('public.document_chunks') and attname = 'embedding' and not attisdropped`,
    );
    const dimensions = rows[0]?.dimensions;
    return typeof dimensions === 'number' && dimensions > 0 ? dimensions : 1536;
  } catch (error) {
    throw new TributaryCliError(
      'database_unreachable',
      `cannot read the database (${error instanceof Error ? error.message : String(error)}); check --database-url / DATABASE_URL and run tributary migrate first`,
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

/**
 * `tributary worker`: runs a worker until SIGTERM/SIGINT, then stops gracefully (running syncs
 * finish or are released to another worker; nothing is lost).
 */
export function workerCommand(io: CliIo): Command {
  return new Command('worker')
    .description('run a sync worker on pg-boss: scheduled, manual and webhook-driven syncs (until SIGTERM)')
    .option(
      '--database-url <url>',
      'PostgreSQL connection string (default: $DATABASE_URL); direct or session mode, not a transaction pooler',
    )
    .requiredOption(
      '--plugin <module>',
      'a connector plugin (package or file); repeat for each connector type',
      collect,
    )
    .option('--settings <plugin=file>', pluginSettingsHelp, collect)
    .addOption(embedderOption())
    .option('--concurrency <n>', 'syncs this process runs at once', parseCount(1000), 2)
    .option(
      '--webhook-concurrency <n>',
      'webhook jobs this process runs at once (default: 2)',
      parseCount(1000),
    )
    .option(
      '--per-org-concurrency <n>',
      'jobs of one organisation running at once across all workers',
      parseCount(10_000),
      2,
    )
    .option('--no-schedule', 'do not run the scheduler in this process')
    .option('--health-port <port>', 'serve GET /healthz on this port', parseCount(65_535))
    .option(
      '--shutdown-timeout <seconds>',
      'on SIGTERM, how long running syncs may take to finish',
      parseCount(86_400),
      30,
    )
    .option('--lease-seconds <seconds>', 'lease of a sync run in the database', parseCount(86_400), 300)
    .addOption(
      new Option('--log-level <level>', 'lowest level of the JSON log lines on stdout')
        .choices(['debug', 'info', 'warn', 'error'])
        .default('info'),
    )
    .action(async (flags: WorkerFlags) => {
      const connectionString = serverUrl(flags, io);
      const connectors = await loadPlugins(flags.plugin, flags.settings, io);
      const { embedder } = await chooseEmbedder(flags.embedder, io, await storedDimensions(connectionString));
      const logger = createJsonLogger({ level: flags.logLevel, write: (line) => io.stdout(line) });
      const worker: Worker = createWorker({
        connectionString,
        connectors,
        embedder,
        logger,
        concurrency: flags.concurrency,
        webhookConcurrency: flags.webhookConcurrency,
        perOrgConcurrency: flags.perOrgConcurrency,
        schedule: flags.schedule,
        shutdownTimeoutMs: flags.shutdownTimeout * 1000,
        leaseSeconds: flags.leaseSeconds,
      });
      await worker.start();
      let health: Server | undefined;
      if (flags.healthPort !== undefined) {
        health = await serveHealth(() => worker.health(), { port: flags.healthPort });
        logger.info('health endpoint listening', { port: flags.healthPort, path: '/healthz' });
      }
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          logger.info('signal received: stopping', { signal });
          process.off('SIGTERM', onTerm);
          process.off('SIGINT', onInt);
          health?.close();
          worker.stop().then(resolve, (error: unknown) => {
            logger.error('stop failed', { error: String(error) });
            resolve();
          });
        };
        const onTerm = () => stop('SIGTERM');
        const onInt = () => stop('SIGINT');
        process.once('SIGTERM', onTerm);
        process.once('SIGINT', onInt);
      });
    });
}

interface EnqueueFlags {
  databaseUrl?: string;
  mode?: 'full' | 'incremental';
  wait?: boolean;
  timeout: number;
}

/** `tributary enqueue <connector-id>`: queues a sync for the workers and prints its job id (or waits for it). */
export function enqueueCommand(io: CliIo): Command {
  return new Command('enqueue')
    .description(
      'queue a sync of a connector for the workers; prints the job id (--wait: waits for it to end)',
    )
    .argument('<connector-id>', 'the connector_configs row to sync', parseUuid)
    .option('--database-url <url>', 'PostgreSQL connection string (default: $DATABASE_URL)')
    .addOption(new Option('--mode <mode>', 'full or incremental').choices(['full', 'incremental']))
    .option('--wait', 'wait until the sync ended and print its outcome')
    .option('--timeout <seconds>', 'with --wait: give up after this long', parseCount(86_400), 3600)
    .action(async (connectorId: string, flags: EnqueueFlags, command: Command) => {
      const json = command.optsWithGlobals<{ json?: boolean }>().json ?? false;
      const connectionString = serverUrl(flags, io);
      const { embedder } = await chooseEmbedder('lexical', io);
      // A producer only: it queues, never runs jobs.
      const producer = createWorker({
        connectionString,
        connectors: [],
        embedder,
        concurrency: 0,
        logger: createJsonLogger({ level: 'error', write: (line) => io.stderr(line) }),
      });
      await producer.start();
      try {
        const { jobId, created } = await producer.requestSync(connectorId, { mode: flags.mode });
        if (!flags.wait) {
          if (json) printJson(io, { jobId, created });
          else io.stdout(`${created ? 'queued' : 'already queued'}: job ${jobId}\n`);
          return;
        }
        if (!json) io.stdout(`waiting for job ${jobId}...\n`);
        const done = await producer.waitForJob(jobId, { timeoutMs: flags.timeout * 1000 });
        if (json) printJson(io, done);
        else io.stdout(`job ${jobId} completed: ${JSON.stringify(done.output)}\n`);
      } catch (error) {
        if (error instanceof Error && /WorkerError/.test(error.name)) {
          throw new TributaryCliError('enqueue_failed', error.message.replace(/^\[tributary\]\s*/, ''), {
            cause: error,
          });
        }
        throw error;
      } finally {
        await producer.stop();
      }
    });
}
