import type { ConnectorRecord } from '@tributary/core';
import { Command, Option } from 'commander';
import { TributaryCliError } from './cli-error.js';
import type { CliIo } from './cli-io.js';
import {
  addDatabaseOptions,
  type KnowledgeBaseFlags,
  oneLine,
  openKnowledgeBase,
  parseCount,
  parseUuid,
  printJson,
} from './knowledge-base.js';

interface StatusOptions {
  org?: string;
  connectorId?: string;
  runs: number;
}

interface SyncRunRow {
  id: string;
  orgId: string;
  connectorId: string | null;
  syncType: string;
  syncMode: string;
  status: string;
  startedAt: Date;
  completedAt: Date | null;
  durationMs: number | null;
  documentsSynced: number;
  documentsUpdated: number;
  documentsSkipped: number;
  documentsFailed: number;
  documentsDeleted: number;
  errorMessage: string | null;
  /** A running run's live progress as its heartbeat stored it (`metadata.progress`). */
  progress: { listed?: number; listing?: boolean; total?: number; at?: string } | null;
}

function iso(value: Date | string | null): string | null {
  if (value === null) return null;
  return (value instanceof Date ? value : new Date(value)).toISOString();
}

/** `tributary status`: connectors with their last sync, and the latest sync runs. */
export function statusCommand(io: CliIo): Command {
  const command = new Command('status')
    .description('show connectors with their last sync, and the latest sync runs')
    .option('--org <uuid>', 'only this organisation', parseUuid)
    .option('--connector-id <uuid>', 'only this connector', parseUuid)
    .addOption(
      new Option('--runs <n>', 'how many of the latest sync runs to show (1 to 1000)')
        .argParser(parseCount(1000))
        .default(10),
    );
  addDatabaseOptions(command).action(async (options: StatusOptions, sub: Command) => {
    const flags = sub.optsWithGlobals<KnowledgeBaseFlags>();
    const { database, repository } = await openKnowledgeBase(flags, io);
    try {
      let connectors: ConnectorRecord[];
      if (options.connectorId !== undefined) {
        const row = await repository.getConnector(options.connectorId);
        if (row === undefined || (options.org !== undefined && row.orgId !== options.org)) {
          throw new TributaryCliError(
            'connector_not_found',
            `no connector ${options.connectorId}${options.org === undefined ? '' : ` in organisation ${options.org}`} in ${database.label}`,
          );
        }
        connectors = [row];
      } else {
        connectors = await repository.listConnectors(options.org === undefined ? {} : { orgId: options.org });
      }
      const { rows } = await database.db.query<SyncRunRow>(
        `select id, org_id as "orgId", connector_id as "connectorId", sync_type as "syncType",
           sync_mode as "syncMode", status, started_at as "startedAt", completed_at as "completedAt",
           coalesce(duration_ms, (extract(epoch from (completed_at - started_at)) * 1000)::int) as "durationMs",
           documents_synced as "documentsSynced", documents_updated as "documentsUpdated",
           documents_skipped as "documentsSkipped", documents_failed as "documentsFailed",
           documents_deleted as "documentsDeleted", error_message as "errorMessage",
           case when status = 'running' then metadata -> 'progress' end as "progress"
         from public.connector_sync_logs
         where ($1::uuid is null or org_id = $1) and ($2::uuid is null or connector_id = $2)
         order by started_at desc, id desc
         limit $3`,
        // One connector: its org_id too, so 0003's (org_id, connector_id, started_at) index serves;
        // every organisation: 0024's (started_at desc, id desc) index.
        [
          options.org ?? (options.connectorId === undefined ? null : connectors[0]?.orgId) ?? null,
          options.connectorId ?? null,
          options.runs,
        ],
      );
      const runs = rows.map((run) => ({
        ...run,
        startedAt: iso(run.startedAt),
        completedAt: iso(run.completedAt),
      }));

      if (flags.json) {
        printJson(io, {
          database: database.label,
          connectors: connectors.map((connector) => ({
            id: connector.id,
            orgId: connector.orgId,
            type: connector.connectorType,
            name: connector.name,
            isActive: connector.isActive,
            lastSyncAt: iso(connector.lastSyncAt),
            lastSyncStatus: connector.lastSyncStatus,
            errorCount: connector.errorCount,
            lastError: connector.lastError,
          })),
          runs,
        });
        return;
      }

      io.stdout(
        `Connectors in ${database.label}${options.org === undefined ? '' : ` (organisation ${options.org})`}\n`,
      );
      if (connectors.length === 0) io.stdout('  none\n');
      for (const connector of connectors) {
        const last =
          connector.lastSyncAt === null
            ? 'never synced'
            : `last sync ${connector.lastSyncStatus ?? 'unknown'} at ${iso(connector.lastSyncAt)}`;
        io.stdout(
          `  ${connector.id}  ${connector.connectorType} "${connector.name}"${connector.isActive ? '' : ' (inactive)'}` +
            `  ${last}, ${connector.errorCount} error(s)\n`,
        );
        if (connector.lastError) io.stdout(`      last error: ${oneLine(connector.lastError, 200)}\n`);
      }
      io.stdout(`\nLatest sync runs (${runs.length})\n`);
      if (runs.length === 0) io.stdout('  none\n');
      for (const run of runs) {
        const duration = run.durationMs === null ? 'running' : `${(run.durationMs / 1000).toFixed(1)} s`;
        io.stdout(
          `  ${run.startedAt}  ${run.status.padEnd(9)} ${run.syncType} ${run.syncMode}  ` +
            `${run.documentsSynced} inserted, ${run.documentsUpdated} updated, ${run.documentsSkipped} skipped, ` +
            `${run.documentsFailed} failed, ${run.documentsDeleted} deleted  ${duration}  connector ${run.connectorId ?? '(deleted)'}\n`,
        );
        if (run.errorMessage) io.stdout(`      error: ${oneLine(run.errorMessage, 200)}\n`);
        const progress = run.progress;
        if (run.status === 'running' && typeof progress?.listed === 'number') {
          io.stdout(
            `      ${progress.listed}${typeof progress.total === 'number' ? ` of ${progress.total}` : ''} document(s) listed` +
              `${progress.listing ? ', still listing' : ', listing done'} (at ${progress.at ?? '?'})\n`,
          );
        }
      }
    } finally {
      await database.close();
    }
  });
  return command;
}
