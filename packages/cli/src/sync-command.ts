import { runSync, type SyncMode, type SyncProgressEvent, type SyncSummary } from '@tributary/core';
import cliProgress from 'cli-progress';
import { Command, Option } from 'commander';
import { loadConnectorFor } from './builtin-connectors.js';
import { TributaryCliError } from './cli-error.js';
import type { CliIo } from './cli-io.js';
import { readJsonFile } from './json-file.js';
import {
  addDatabaseOptions,
  chooseEmbedder,
  type EmbedderChoice,
  embedderOption,
  type KnowledgeBaseFlags,
  oneLine,
  openKnowledgeBase,
  parseUuid,
  printJson,
  storedDimensions,
} from './knowledge-base.js';

interface SyncOptions {
  connectorId: string;
  plugin?: string;
  settings?: string;
  export?: string;
  config?: string;
  credentialsEnv?: string;
  credentials?: string;
  mode?: SyncMode;
  embedder: EmbedderChoice;
  takeOver?: boolean;
}

async function readCredentials(options: SyncOptions, io: CliIo): Promise<unknown> {
  if (options.credentials !== undefined) return readJsonFile(options.credentials, '--credentials', io);
  if (options.credentialsEnv === undefined) return undefined;
  const value = io.env[options.credentialsEnv];
  if (value === undefined || value.trim() === '') {
    throw new TributaryCliError(
      'missing_credentials',
      `the environment variable ${options.credentialsEnv} (--credentials-env) is not set; it should hold the connector's credentials as JSON`,
    );
  }
  // Never echo the value: it holds secrets.
  try {
    return JSON.parse(value) as unknown;
  } catch {
    throw new TributaryCliError(
      'invalid_json',
      `the environment variable ${options.credentialsEnv} (--credentials-env) is not valid JSON; it should hold the connector's credentials as a JSON object`,
    );
  }
}

function formatEta(ms: number | undefined): string {
  if (ms === undefined) return 'ETA …';
  const seconds = Math.ceil(ms / 1000);
  return seconds < 60
    ? `ETA ${seconds}s`
    : `ETA ${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
}

/**
 * Progress of a sync: a cli-progress bar over documents (with counts and, when the connector
 * reported a total, an ETA) on a terminal; plain lines otherwise.
 */
function createProgressRenderer(io: CliIo, quiet: boolean): (event: SyncProgressEvent) => void {
  let done = 0;
  let total: number | undefined;
  let etaMs: number | undefined;
  let current = '';
  const stream = io.progressStream;

  if (stream !== undefined) {
    let bar: cliProgress.SingleBar | undefined;
    const text = (options: cliProgress.Options, params: cliProgress.Params) =>
      total === undefined
        ? `  ${done} documents | ${current}`
        : `  ${cliProgress.Format.BarFormat(params.progress, options)} ${done}/${total} documents | ${formatEta(etaMs)} | ${current}`;
    return (event) => {
      if (event.total !== undefined) total = event.total;
      etaMs = event.etaMs;
      if (event.type === 'run-started') {
        bar = new cliProgress.SingleBar(
          { format: text, stream, hideCursor: true, clearOnComplete: false },
          cliProgress.Presets.shades_classic,
        );
        bar.start(Math.max(total ?? 1, 1), 0);
        return;
      }
      if (event.type === 'document-started') current = event.externalId;
      if (
        event.type === 'document-finished' ||
        event.type === 'document-skipped' ||
        event.type === 'document-failed'
      ) {
        done += 1;
        current = event.externalId;
      }
      if (event.type === 'run-finished') current = event.status;
      bar?.setTotal(Math.max(total ?? done, done, 1));
      bar?.update(done);
      if (event.type === 'run-finished') bar?.stop();
    };
  }

  const say = (line: string) => {
    if (!quiet) io.stdout(`${line}\n`);
  };
  let skipped = 0;
  return (event) => {
    if (event.total !== undefined) total = event.total;
    const position = () => `[${done}${total === undefined ? '' : `/${total}`}]`;
    switch (event.type) {
      case 'run-started':
        say(`  ${event.mode} sync started (run ${event.runId})`);
        break;
      case 'document-finished':
        done += 1;
        say(`  ${position()} ${event.action.padEnd(9)} ${event.externalId}`);
        break;
      case 'document-failed':
        done += 1;
        say(`  ${position()} failed    ${event.externalId}: ${oneLine(event.message, 160)}`);
        break;
      case 'document-skipped':
        done += 1;
        skipped += 1;
        break;
      case 'run-finished':
        if (skipped > 0) say(`  ${skipped} document(s) skipped: same version as stored, not loaded`);
        break;
      default:
        break;
    }
  };
}

function printSummary(io: CliIo, summary: SyncSummary, embedder: string): void {
  const { counts, embeddings } = summary;
  const lines = [
    `Sync ${summary.status} (${summary.mode}) in ${(summary.durationMs / 1000).toFixed(1)} s, run ${summary.runId}`,
    `  documents:  ${counts.seen} listed, ${counts.inserted} inserted, ${counts.updated} updated, ` +
      `${counts.unchanged} unchanged, ${counts.skippedByVersion} skipped (same version), ` +
      `${counts.failed} failed, ${counts.deleted} deleted`,
    `  embeddings: ${embeddings.requests} request(s), ${embeddings.inputs} input(s), ${embeddings.reused} reused, ` +
      `${embeddings.tokens} token(s) with ${embedder}`,
    `  transfer:   ${summary.contentBytes} content bytes, ${summary.apiCalls} API call(s), ${summary.bytes} response bytes`,
    `  stages:     ${(['list', 'load', 'extract', 'embed', 'write'] as const)
      .map(
        (stage) =>
          `${stage} ${(summary.stages[stage].ms / 1000).toFixed(1)} s/${summary.stages[stage].count}`,
      )
      .join(', ')} (busy time/calls; stages overlap)`,
  ];
  if (summary.resumeAt !== undefined)
    lines.push(`  resume:     after ${summary.resumeAt.toISOString()} (rate limited)`);
  if (summary.counts.failedKeptPrevious > 0) {
    lines.push(
      `  kept:       ${summary.counts.failedKeptPrevious} failed document(s) keep their earlier indexed version`,
    );
  }
  if (summary.dedup.versionLookupFailures + summary.dedup.reuseLookupFailures > 0) {
    lines.push(
      `  dedup:      ${summary.dedup.versionLookupFailures} version and ${summary.dedup.reuseLookupFailures} reuse lookup(s) failed; the work was done anyway (fail open)`,
    );
  }
  if (summary.sweep !== undefined) {
    const { sweep } = summary;
    lines.push(
      `  sweep:      ${sweep.refused ? `not run${sweep.reason ? ` (${sweep.reason})` : ''}` : `${sweep.swept} removed`}`,
    );
  }
  // The same cause often fails many documents: one line per cause.
  const causes = new Map<string, string[]>();
  for (const error of summary.errors)
    causes.set(error.message, [...(causes.get(error.message) ?? []), error.externalId]);
  for (const [cause, ids] of causes) {
    const which = ids.length === 1 ? ids[0] : `${ids.length} documents (${ids[0]}, ...)`;
    lines.push(`  ! ${which}: ${oneLine(cause, 240)}`);
  }
  io.stdout(`${lines.join('\n')}\n`);
}

/** `tributary sync`: runs one sync of a connector plugin into the knowledge base. */
export function syncCommand(io: CliIo): Command {
  const command = new Command('sync')
    .description('run one sync of a connector plugin into the knowledge base')
    .requiredOption('--connector-id <uuid>', 'the connector_configs row to sync', parseUuid)
    .option(
      '--plugin <module>',
      "the connector plugin: a package name or a file path (.js/.mjs); default: the built-in connector for the row's type (google_drive, url, notion, zoom, teams)",
    )
    .option(
      '--export <name>',
      'the export holding the connector or its factory (default: the default export)',
    )
    .option(
      '--settings <file>',
      "JSON file passed to the connector's factory (a built-in connector's settings, e.g. a URL allowlist)",
    )
    .option(
      '--config <file>',
      "JSON file with the connector's config (default: the connector row's settings)",
    )
    .addOption(
      new Option(
        '--credentials-env <var>',
        "environment variable holding the connector's credentials as JSON",
      ),
    )
    .addOption(
      new Option('--credentials <file>', "JSON file with the connector's credentials").conflicts(
        'credentialsEnv',
      ),
    )
    .addOption(
      new Option(
        '--mode <mode>',
        'full or incremental (default: incremental when a cursor is stored and the connector supports it)',
      ).choices(['full', 'incremental']),
    )
    .addOption(embedderOption())
    .option(
      '--take-over',
      "release the connector's running sync first (a crashed or stuck worker's run ends cancelled; the new run resumes from its last checkpoint)",
    );
  addDatabaseOptions(command).action(async (options: SyncOptions, sub: Command) => {
    const flags = sub.optsWithGlobals<KnowledgeBaseFlags>();
    const json = flags.json ?? false;
    const say = (line: string) => {
      if (!json) io.stdout(`${line}\n`);
    };
    // Everything that can fail without the database is checked before opening it.
    let { embedder, description } = await chooseEmbedder(options.embedder, io);
    const credentials = await readCredentials(options, io);
    const explicitConfig =
      options.config === undefined ? undefined : await readJsonFile(options.config, '--config', io);
    const settings =
      options.settings === undefined ? undefined : await readJsonFile(options.settings, '--settings', io);
    // A plugin given by path or package loads before the database opens; a built-in one needs the row's type.
    const given =
      options.plugin === undefined
        ? undefined
        : await loadConnectorFor('', {
            cwd: io.cwd,
            plugin: options.plugin,
            exportName: options.export,
            settings,
          });

    const { database, repository } = await openKnowledgeBase(flags, io);
    try {
      // The built-in embedders make vectors of any size: match the database's (migrate --vector-dimensions).
      const dimensions = await storedDimensions(repository);
      if (dimensions !== embedder.dimensions) {
        ({ embedder, description } = await chooseEmbedder(options.embedder, io, dimensions));
      }
      const row = await repository.getConnector(options.connectorId);
      if (row === undefined) {
        throw new TributaryCliError(
          'connector_not_found',
          `no connector ${options.connectorId} in ${database.label}; create its connector_configs row first (see tributary status)`,
        );
      }
      const plugin = given ?? (await loadConnectorFor(row.connectorType, { cwd: io.cwd, settings }));
      if (row.connectorType !== plugin.connector.type) {
        throw new TributaryCliError(
          'connector_type_mismatch',
          `connector ${row.id} is of type "${row.connectorType}" but the plugin ${plugin.specifier} is "${plugin.connector.type}"`,
        );
      }
      say(`Syncing ${row.connectorType} connector "${row.name}" (${row.id}) into ${database.label}`);
      say(
        `  plugin:   ${plugin.specifier}${plugin.exportName === 'default' ? '' : ` (export ${plugin.exportName})`}`,
      );
      say(`  embedder: ${description}`);

      if (options.takeOver) {
        const released = await repository.releaseSync(row.id, 'tributary sync --take-over');
        say(
          released
            ? `  take-over: released run ${released.syncRunId}${released.workerId ? ` of worker ${released.workerId}` : ''} (its lease ${released.wasExpired ? 'had expired' : 'ran until'} ${released.leaseExpiresAt?.toISOString() ?? 'unknown'})`
            : '  take-over: no run was holding the connector',
        );
      }

      // Ctrl-C, and SIGTERM (docker stop, systemd, Kubernetes), end the run `cancelled`: the
      // listing stops, what is in flight finishes and its checkpoint commits, the lease is
      // released. A second signal quits at once (our listeners are gone by then).
      const controller = new AbortController();
      const onSignal = (signal: NodeJS.Signals) => {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        io.stderr(
          `[tributary] ${signal === 'SIGINT' ? 'interrupted' : 'terminated'}: finishing what is in flight and ending the run as cancelled (${signal === 'SIGINT' ? 'Ctrl-C' : 'the signal'} again to quit at once)\n`,
        );
        controller.abort();
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      const summary = await runSync({
        signal: controller.signal,
        connector: plugin.connector,
        config: explicitConfig ?? row.settings,
        credentials,
        connectorId: row.id,
        repository,
        embedder,
        mode: options.mode,
        onProgress: createProgressRenderer(io, json),
      }).finally(() => {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      });

      if (json) {
        printJson(io, {
          database: database.label,
          connector: { id: row.id, type: row.connectorType, name: row.name, orgId: row.orgId },
          embedder: { id: embedder.id, kind: options.embedder, description },
          ...summary,
        });
      } else {
        printSummary(io, summary, description);
      }
      const failure = (message: string, exitCode: number) =>
        new TributaryCliError(`sync_${summary.status}`, message, { exitCode, jsonPrinted: true });
      switch (summary.status) {
        case 'success':
          return;
        case 'partial':
          throw failure(
            `sync partial: ${summary.counts.failed} of ${summary.counts.seen} document(s) failed (run ${summary.runId} recorded); first error: ${oneLine(summary.errors[0]?.message ?? 'unknown', 300).replace(/^\[tributary\]\s*/, '')}`,
            2,
          );
        case 'skipped':
          throw failure(
            `another sync of connector ${row.id} is running (run ${summary.runId}, lease until ${summary.leaseExpiresAt?.toISOString() ?? 'unknown'}); nothing was done. If its worker crashed, wait for the lease to expire or run again with --take-over`,
            1,
          );
        default:
          throw failure(
            `sync ${summary.status} (run ${summary.runId})${summary.error ? `: ${oneLine(summary.error, 400).replace(/^\[tributary\]\s*/, '')}` : ''}`,
            1,
          );
      }
    } finally {
      await database.close();
    }
  });
  return command;
}
