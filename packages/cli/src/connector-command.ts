import {
  type ConnectorRecord,
  createConnectorManager,
  type SyncFrequency,
  secretKeyRingFromEnv,
} from '@tributary/core';
import { Command, Option } from 'commander';
import { builtinConnectors, loadConnectorFor } from './builtin-connectors.js';
import { TributaryCliError } from './cli-error.js';
import type { CliIo } from './cli-io.js';
import { readJsonObjectFile } from './json-file.js';
import {
  addDatabaseOptions,
  type KnowledgeBaseFlags,
  openKnowledgeBase,
  parseCount,
  parseUuid,
  printJson,
} from './knowledge-base.js';

// `tributary connector add|list|show|set-secret|remove` and `tributary secrets rotate-key`, over
// core's createConnectorManager. Secrets are read from stdin or a prompt (never argv) and never
// printed; they are encrypted with TRIBUTARY_SECRET_KEYS before they leave the process.

function parseObject(text: string, source: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // The text may be a secret: never echo it.
    throw new TributaryCliError('invalid_json', `${source} is not valid JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TributaryCliError('invalid_json', `${source} must be a JSON object`);
  }
  return value as Record<string, unknown>;
}

async function withManager<T>(
  command: Command,
  io: CliIo,
  fn: (manager: ReturnType<typeof createConnectorManager>, label: string) => Promise<T>,
): Promise<T> {
  const flags = command.optsWithGlobals<KnowledgeBaseFlags>();
  const keyRing = secretKeyRingFromEnv(io.env);
  const { database, repository } = await openKnowledgeBase(flags, io);
  try {
    return await fn(createConnectorManager({ repository, keyRing }), database.label);
  } finally {
    await database.close();
  }
}

function describeRow(row: ConnectorRecord): string {
  const last = row.lastSyncAt
    ? `${row.lastSyncStatus ?? '?'} at ${row.lastSyncAt.toISOString()}`
    : 'never synced';
  return `${row.id}  ${row.connectorType.padEnd(14)} ${row.name}  (${row.isActive ? 'active' : 'inactive'}, ${row.syncFrequency}, ${last}, errors ${row.errorCount})`;
}

const builtinTypes = Object.keys(builtinConnectors).join(', ');

const pluginOptions = (command: Command, pluginDefault: string) =>
  command
    .option(
      '--plugin <module>',
      `the connector plugin: a package name (e.g. @tributary/connector-url) or a file path (.js/.mjs); ${pluginDefault}`,
    )
    .option(
      '--export <name>',
      "the export holding the connector or its factory (default: the default export, or a first-party package's factory)",
    )
    .option(
      '--settings <file>',
      "JSON file passed to the connector's factory (a built-in connector's settings, e.g. a URL allowlist)",
    );

/** False for a connector whose credentials schema is the empty object (defineConnector's default). */
function takesCredentials(connector: { credentialsSchema?: unknown }): boolean {
  type Def = { type?: string; innerType?: unknown; shape?: Record<string, unknown>; catchall?: unknown };
  let def = (connector.credentialsSchema as { _zod?: { def?: Def } } | undefined)?._zod?.def;
  while (def && (def.type === 'default' || def.type === 'optional' || def.type === 'prefault')) {
    def = (def.innerType as { _zod?: { def?: Def } } | undefined)?._zod?.def;
  }
  return !(def?.type === 'object' && Object.keys(def.shape ?? {}).length === 0 && def.catchall === undefined);
}

interface PluginFlags {
  plugin?: string;
  export?: string;
  settings?: string;
}

/** The connector to check a config or secrets against: `--plugin`, else the built-in one for `type`. */
async function pluginFor(options: PluginFlags, type: string | undefined, io: CliIo) {
  const settings =
    options.settings === undefined ? undefined : await readJsonObjectFile(options.settings, '--settings', io);
  if (options.plugin === undefined && type === undefined) {
    throw new TributaryCliError(
      'plugin_required',
      `name the connector: --type <type> for a built-in one (${builtinTypes}), or --plugin <package or file> for your own`,
    );
  }
  return loadConnectorFor(type ?? '', {
    cwd: io.cwd,
    plugin: options.plugin,
    exportName: options.export,
    settings,
  });
}

export function connectorCommand(io: CliIo): Command {
  const json = (command: Command) => command.optsWithGlobals<KnowledgeBaseFlags>().json ?? false;
  const connector = new Command('connector').description('create, inspect and remove connectors');

  const add = pluginOptions(
    new Command('add').description(
      "create a connector, built-in (--type url) or from a plugin; its config is checked by the connector's schema",
    ),
    'or use --type',
  )
    .option('--type <type>', `a built-in connector type (${builtinTypes}); its package must be installed`)
    .requiredOption('--org-id <uuid>', 'the organisation it belongs to', parseUuid)
    .option('--name <name>', "display name (default: the plugin's)")
    .option('--config <file>', "JSON file with the connector's config")
    .addOption(
      new Option('--sync-frequency <when>', 'how often a worker syncs it').choices([
        'manual',
        'hourly',
        'daily',
        'weekly',
      ]),
    );
  addDatabaseOptions(add).action(async (options, sub: Command) => {
    const plugin = await pluginFor(options, options.type, io);
    if (options.type !== undefined && plugin.connector.type !== options.type) {
      throw new TributaryCliError(
        'connector_type_mismatch',
        `--type ${options.type} does not match the plugin ${plugin.specifier}, whose type is "${plugin.connector.type}"`,
      );
    }
    const config =
      options.config === undefined ? {} : await readJsonObjectFile(options.config, '--config', io);
    const row = await withManager(sub, io, (manager) =>
      manager.create(plugin.connector, {
        orgId: options.orgId,
        name: options.name,
        config,
        syncFrequency: options.syncFrequency as SyncFrequency | undefined,
      }),
    );
    if (json(sub)) printJson(io, { connector: row });
    else
      io.stdout(
        `Created ${row.connectorType} connector "${row.name}": ${row.id}\n` +
          (!takesCredentials(plugin.connector)
            ? ''
            : `  set its credentials with: tributary connector set-secret ${row.id}${options.plugin === undefined ? '' : ` --plugin ${options.plugin}`}\n`) +
          `  sync it with:             tributary sync --connector-id ${row.id}${options.plugin === undefined ? '' : ` --plugin ${options.plugin}`}${options.settings === undefined ? '' : ` --settings ${options.settings}`}\n`,
      );
  });

  const list = new Command('list')
    .description('list connectors')
    .option('--org-id <uuid>', 'only this organisation', parseUuid)
    .option('--type <type>', 'only this connector type');
  addDatabaseOptions(list).action(async (options, sub: Command) => {
    const rows = await withManager(sub, io, (manager) =>
      manager.list({ orgId: options.orgId, connectorType: options.type }),
    );
    if (json(sub)) printJson(io, { connectors: rows });
    else io.stdout(rows.length === 0 ? 'No connectors.\n' : `${rows.map(describeRow).join('\n')}\n`);
  });

  const show = new Command('show')
    .description('a connector with its sync status and document counts')
    .argument('<id>', 'connector id', parseUuid);
  addDatabaseOptions(show).action(async (id: string, _options, sub: Command) => {
    const details = await withManager(sub, io, (manager) => manager.show(id));
    if (json(sub)) return printJson(io, details);
    const { connector: row, status } = details;
    const run = status.lastRun;
    io.stdout(
      [
        describeRow(row),
        `  org:        ${row.orgId}`,
        `  next sync:  ${row.nextSyncAt?.toISOString() ?? 'not scheduled'}`,
        `  last error: ${row.lastError ?? 'none'}`,
        `  documents:  ${status.liveDocuments} live (${status.completedDocuments} completed, ${status.pendingDocuments} pending, ${status.failedDocuments} failed), ${status.deletedDocuments} deleted, ${status.totalChunks} chunks`,
        `  credentials: ${status.hasCredentials ? 'set' : 'not set'}`,
        `  last run:   ${run ? `${run.status} ${run.syncMode} ${run.startedAt.toISOString()} (${run.documentsSynced} new, ${run.documentsUpdated} updated, ${run.documentsFailed} failed)` : 'none'}`,
      ].join('\n') + '\n',
    );
  });

  const setSecret = pluginOptions(
    new Command('set-secret')
      .description(
        "set or replace a connector's credentials (JSON) or webhook secret, read from stdin or a prompt",
      )
      .argument('<id>', 'connector id', parseUuid),
    "default: the built-in connector for the row's type",
  )
    .option('--webhook', 'the value is the webhook secret (text), not the credentials')
    .option('--clear', 'remove the secret instead of setting it');
  addDatabaseOptions(setSecret).action(async (id: string, options, sub: Command) => {
    const which = options.webhook ? 'webhook secret' : 'credentials';
    // A plugin given by path or package loads before the database opens; a built-in one needs the row's type.
    const given = options.plugin === undefined ? undefined : await pluginFor(options, undefined, io);
    let value: string | undefined;
    if (!options.clear) {
      if (!io.readSecret)
        throw new TributaryCliError('no_stdin', 'cannot read a secret here: pipe it on stdin');
      value = (await io.readSecret(options.webhook ? 'Webhook secret: ' : 'Credentials (JSON): ')).trim();
      if (value === '') throw new TributaryCliError('empty_secret', `no ${which} given on stdin`);
    }
    await withManager(sub, io, async (manager) => {
      if (options.clear) return manager.clearSecret(id, options.webhook ? 'webhookSecret' : 'credentials');
      const plugin =
        given ?? (await pluginFor(options, (await manager.show(id)).connector.connectorType, io));
      return options.webhook
        ? manager.setSecrets(plugin.connector, id, { webhookSecret: value })
        : manager.setSecrets(plugin.connector, id, {
            credentials: parseObject(value as string, 'the credentials read from stdin'),
          });
    });
    if (json(sub))
      printJson(io, {
        connectorId: id,
        secret: options.webhook ? 'webhookSecret' : 'credentials',
        cleared: Boolean(options.clear),
      });
    else
      io.stdout(
        `${options.clear ? 'Cleared' : 'Stored'} the ${which} of connector ${id}${options.clear ? '' : ' (encrypted)'}\n`,
      );
  });

  const remove = new Command('remove')
    .description('delete a connector; its documents are soft-deleted and leave search at once')
    .argument('<id>', 'connector id', parseUuid)
    .option('--yes', 'confirm');
  addDatabaseOptions(remove).action(async (id: string, options, sub: Command) => {
    if (!options.yes)
      throw new TributaryCliError(
        'not_confirmed',
        `removing connector ${id} deletes its documents from search; pass --yes to confirm`,
      );
    const result = await withManager(sub, io, (manager) => manager.remove(id));
    if (json(sub)) printJson(io, { connectorId: id, ...result });
    else io.stdout(`Removed connector ${id}; ${result.documentsDeleted} document(s) soft-deleted\n`);
  });

  for (const sub of [add, list, show, setSecret, remove]) connector.addCommand(sub);
  return connector;
}

export function secretsCommand(io: CliIo): Command {
  const rotate = new Command('rotate-key')
    .description(
      'rewrap every connector data key under the first key of TRIBUTARY_SECRET_KEYS and encrypt plaintext rows',
    )
    .option('--page-size <n>', 'rows per page (1-1000)', parseCount(1000), 100);
  addDatabaseOptions(rotate).action(async (options, sub: Command) => {
    const report = await withManager(sub, io, (manager) => manager.rotateKey({ pageSize: options.pageSize }));
    if (sub.optsWithGlobals<KnowledgeBaseFlags>().json) printJson(io, report);
    else {
      io.stdout(
        `Key "${report.keyId}": ${report.rewrapped} rewrapped (${report.encryptedLegacy} were plaintext), ${report.skipped} changed meanwhile (run again), ${report.failed.length} failed\n`,
      );
      for (const failure of report.failed) io.stdout(`  ! ${failure.connectorId}: ${failure.reason}\n`);
    }
    if (report.failed.length > 0) {
      throw new TributaryCliError(
        'rotation_incomplete',
        `${report.failed.length} connector(s) could not be rotated`,
        { jsonPrinted: true },
      );
    }
  });
  return new Command('secrets').description('connector secret encryption').addCommand(rotate);
}
