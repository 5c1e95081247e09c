// Connectors (read), sync runs and the connector state committed with checkpoints: one RPC each
// (0004_functions, 0009_connector_state, 0019_repository_functions).
import {
  assertCursorSize,
  assertGetStateKeys,
  assertNamespace,
  assertStateChanges,
  type ConnectorStateChanges,
  type ConnectorStateEntry,
  isEmptyStateChanges,
  type ListStateOptions,
  stateListLimit,
} from '../repository/connector-state.js';
import type {
  FinishSyncInput,
  HeartbeatInput,
  KnowledgeRepository,
  ListConnectorsFilter,
  ReleasedSyncRun,
  StartSyncInput,
  StartSyncResult,
  SyncLiveProgress,
} from '../repository/knowledge-repository.js';
import { RepositoryError } from '../repository/repository-error.js';
import { type RpcTransport, rpcJson } from '../repository/rpc-transport.js';
import {
  type ConnectorRow,
  countsJson,
  mapConnector,
  mapSyncRun,
  type SyncRunRow,
  toDate,
} from '../repository/schema-rows.js';
import { assertLeaseSeconds, invalidInput } from '../repository/validate-input.js';
import type { JsonValue } from '../spec/v1/json-value.js';
import { single } from './single-row.js';

export type SyncRunMethods = Pick<
  KnowledgeRepository,
  | 'getConnector'
  | 'listConnectors'
  | 'startSync'
  | 'heartbeat'
  | 'commitCheckpoint'
  | 'finishSync'
  | 'getSyncRun'
  | 'releaseSync'
  | 'getState'
  | 'listState'
>;

export function rpcSyncRuns(transport: RpcTransport): SyncRunMethods {
  return {
    getConnector: async (connectorId) => {
      const rows = await transport.rpc<ConnectorRow>('list_connectors', { p_connector_id: connectorId });
      return rows[0] ? mapConnector(rows[0]) : undefined;
    },

    /** Keyset pages no larger than the transport's max rows. */
    listConnectors: async (filter: ListConnectorsFilter = {}) => {
      const pageSize = transport.maxRows;
      const connectors: ConnectorRow[] = [];
      let after: string | null = null;
      for (;;) {
        const page: ConnectorRow[] = await transport.rpc<ConnectorRow>('list_connectors', {
          p_org_id: filter.orgId ?? null,
          p_connector_type: filter.connectorType ?? null,
          p_is_active: filter.isActive ?? null,
          p_after: after,
          p_limit: pageSize ?? null,
        });
        connectors.push(...page);
        const last = page.at(-1);
        if (pageSize === undefined || page.length < pageSize || !last) return connectors.map(mapConnector);
        after = last.id;
      }
    },

    startSync: async (input: StartSyncInput) => {
      const leaseSeconds = input.leaseSeconds ?? 300;
      assertLeaseSeconds(leaseSeconds);
      const rows = await transport.rpc<{
        started: boolean;
        sync_log_id: string;
        lease_expires_at: Date | string;
        sync_cursor: JsonValue | null;
      }>('start_connector_sync', {
        p_connector_id: input.connectorId,
        p_sync_type: input.syncType ?? 'manual',
        p_sync_mode: input.syncMode ?? 'full',
        p_lease_seconds: leaseSeconds,
        p_worker_id: input.workerId ?? null,
      });
      const row = single(rows, 'start_connector_sync');
      const result: StartSyncResult = {
        status: row.started ? 'started' : 'alreadyRunning',
        syncRunId: row.sync_log_id,
        leaseExpiresAt: toDate(row.lease_expires_at),
        cursor: row.sync_cursor ?? null,
      };
      return result;
    },

    heartbeat: async (syncRunId: string, input: HeartbeatInput = {}) => {
      const leaseSeconds = input.leaseSeconds ?? 300;
      assertLeaseSeconds(leaseSeconds);
      const expiry = await transport.rpcValue<Date | string | null>(
        'heartbeat_connector_sync',
        {
          p_sync_log_id: syncRunId,
          p_lease_seconds: leaseSeconds,
          p_progress:
            input.progress || input.live
              ? rpcJson({
                  ...countsJson(input.progress ?? {}),
                  ...(input.live ? { progress: liveJson(input.live) } : {}),
                })
              : null,
        },
        { leaseGuarded: true },
      );
      if (expiry === null || expiry === undefined) {
        throw new RepositoryError({
          reason: 'database',
          message: 'heartbeat_connector_sync returned no expiry',
        });
      }
      return toDate(expiry);
    },

    commitCheckpoint: async (syncRunId: string, cursor: JsonValue, state?: ConnectorStateChanges) => {
      if (cursor === undefined) throw invalidInput('commitCheckpoint needs a cursor (any JSON value)');
      // PostgREST passes a JSON null argument as SQL NULL, which the RPC refuses: say so up front.
      if (cursor === null && transport.jsonNullIsSqlNull) {
        throw invalidInput(
          'commitCheckpoint needs a cursor (a JSON value other than null)',
          'Through supabase-js a null cursor reaches the RPC as SQL NULL; store e.g. {} instead',
        );
      }
      assertCursorSize(cursor);
      if (state) assertStateChanges(state);
      if (isEmptyStateChanges(state)) {
        await transport.rpcValue(
          'commit_sync_checkpoint',
          { p_sync_log_id: syncRunId, p_cursor: rpcJson(cursor) },
          { leaseGuarded: true },
        );
        return;
      }
      // One call: the function checks the lease and writes state and cursor together.
      await transport.rpcValue(
        'commit_sync_checkpoint_with_state',
        {
          p_sync_log_id: syncRunId,
          p_cursor: rpcJson(cursor),
          p_state_upserts: rpcJson(state?.upserts ?? []),
          p_state_deletes: rpcJson(state?.deletes ?? []),
          p_state_clear: [...(state?.clear ?? [])],
        },
        { leaseGuarded: true },
      );
    },

    finishSync: async (syncRunId: string, input: FinishSyncInput) => {
      const counts = {
        ...countsJson(input.counts ?? {}),
        ...(input.counts?.metadata ? { metadata: input.counts.metadata } : {}),
      };
      const rows = await transport.rpc<SyncRunRow>(
        'finish_connector_sync',
        {
          p_sync_log_id: syncRunId,
          p_status: input.status,
          p_counts: rpcJson(counts),
          p_error_message: input.errorMessage ?? null,
          p_error_details: input.errorDetails === undefined ? null : rpcJson(input.errorDetails),
        },
        { leaseGuarded: true },
      );
      return mapSyncRun(single(rows, 'finish_connector_sync'));
    },

    getSyncRun: async (syncRunId: string) => {
      const rows = await transport.rpc<SyncRunRow>('get_sync_run', { p_sync_log_id: syncRunId });
      return rows[0] ? mapSyncRun(rows[0]) : undefined;
    },

    releaseSync: async (connectorId: string, reason?: string) => {
      const rows = await transport.rpc<{
        sync_log_id: string;
        lease_expires_at: Date | string | null;
        worker_id: string | null;
        was_expired: boolean;
      }>('release_connector_sync', { p_connector_id: connectorId, p_reason: reason ?? null });
      const row = rows[0];
      if (!row) return undefined;
      const released: ReleasedSyncRun = {
        syncRunId: row.sync_log_id,
        leaseExpiresAt: row.lease_expires_at === null ? null : toDate(row.lease_expires_at),
        workerId: row.worker_id,
        wasExpired: row.was_expired === true,
      };
      return released;
    },

    getState: async (connectorId: string, namespace: string, keys: readonly string[]) => {
      assertNamespace(namespace);
      assertGetStateKeys(keys);
      const found = new Map<string, JsonValue>();
      if (keys.length === 0) return found;
      const rows = await transport.rpc<ConnectorStateEntry>('get_connector_state', {
        p_connector_id: connectorId,
        p_namespace: namespace,
        p_keys: [...keys],
      });
      for (const row of rows) found.set(row.key, row.value);
      return found;
    },

    listState: async (connectorId: string, namespace: string, options: ListStateOptions = {}) => {
      assertNamespace(namespace);
      const limit = stateListLimit(options);
      const rows = await transport.rpc<ConnectorStateEntry>('list_connector_state', {
        p_connector_id: connectorId,
        p_namespace: namespace,
        p_after: options.after ?? null,
        p_limit: limit,
        p_prefix: options.prefix ?? null,
      });
      return rows.map((row) => ({ key: row.key, value: row.value }));
    },
  };
}

/** metadata.progress as stored: absent fields left out (jsonb has no undefined). */
function liveJson(live: SyncLiveProgress): Record<string, JsonValue> {
  return {
    listed: live.listed,
    listing: live.listing,
    ...(live.total === undefined ? {} : { total: live.total }),
    at: live.at,
  };
}
