import { ConsoleError, createConsole, resolveConsoleListen } from '@tributary/console';
import { createJsonLogger } from '@tributary/worker';
import { Command, InvalidArgumentError, Option } from 'commander';
import { TributaryCliError } from './cli-error.js';
import type { CliIo } from './cli-io.js';
import { chooseEmbedder, type EmbedderChoice, embedderOption, parseCount } from './knowledge-base.js';
import { loadPlugins, pluginSettingsHelp } from './plugin-settings.js';
import { serverUrl, storedDimensions } from './worker-command.js';

interface ServeFlags {
  databaseUrl?: string;
  plugin?: string[];
  settings?: string[];
  embedder: EmbedderChoice;
  host: string;
  port: number;
  concurrency: number;
  schedule: boolean;
  shutdownTimeout: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
}

function parsePort(value: string): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value) || parsed > 65_535) {
    throw new InvalidArgumentError(`expected a port from 0 to 65535, got "${value}".`);
  }
  return parsed;
}

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

/**
 * `tributary serve`: a worker, the webhook endpoints and the operations console on one port (the
 * console itself lives in @tributary/console), until SIGTERM/SIGINT.
 */
export function serveCommand(io: CliIo): Command {
  return new Command('serve')
    .description(
      'run a worker, the webhook endpoints (/webhooks/<connector id>) and the web console on one port (until SIGTERM)',
    )
    .option(
      '--database-url <url>',
      'PostgreSQL connection string (default: $DATABASE_URL); direct or session mode, not a transaction pooler',
    )
    .option(
      '--plugin <module>',
      'a connector plugin (package or file); repeat for each connector type',
      collect,
    )
    .option('--settings <plugin=file>', pluginSettingsHelp, collect)
    .addOption(embedderOption())
    .option('--host <address>', 'interface to listen on; anything but loopback needs a token', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0: any free port)', parsePort, 3000)
    .option('--concurrency <n>', 'syncs this process runs at once', parseCount(1000), 2)
    .option('--no-schedule', 'do not run the scheduler in this process')
    .option(
      '--shutdown-timeout <seconds>',
      'on SIGTERM, how long running syncs may take to finish',
      parseCount(86_400),
      30,
    )
    .addOption(
      new Option('--log-level <level>', 'lowest level of the JSON log lines on stdout')
        .choices(['debug', 'info', 'warn', 'error'])
        .default('info'),
    )
    .addHelpText(
      'after',
      '\nThe console token is read from TRIBUTARY_CONSOLE_TOKEN (never from the command line, where other users could see it).\nIt is required when --host is not a loopback address; open http://<host>:<port>/?token=<token> once to log in.\n',
    )
    .action(async (flags: ServeFlags) => {
      const connectionString = serverUrl(flags, io);
      const connectors = await loadPlugins(flags.plugin ?? [], flags.settings, io);
      const token = io.env.TRIBUTARY_CONSOLE_TOKEN;
      try {
        // Before anything connects: a refused bind costs no database round trip.
        resolveConsoleListen({ host: flags.host, port: flags.port, token });
      } catch (error) {
        if (ConsoleError.isInstance(error)) {
          throw new TributaryCliError(
            'invalid_console_options',
            error.message.replace(/^\[tributary\]\s*/, ''),
            {
              cause: error,
            },
          );
        }
        throw error;
      }
      const logger = createJsonLogger({ level: flags.logLevel, write: (line) => io.stdout(line) });
      const { embedder } = await chooseEmbedder(flags.embedder, io, await storedDimensions(connectionString));
      const served = createConsole({
        connectionString,
        connectors,
        embedder,
        host: flags.host,
        port: flags.port,
        token,
        logger,
        worker: {
          concurrency: flags.concurrency,
          schedule: flags.schedule,
          shutdownTimeoutMs: flags.shutdownTimeout * 1000,
        },
      });
      await served.start();
      io.stderr(`tributary console: ${served.url}\n`);
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          logger.info('signal received: stopping', { signal });
          process.off('SIGTERM', onTerm);
          process.off('SIGINT', onInt);
          served.stop().then(resolve, (error: unknown) => {
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
