// The state-store half of the supabase-js repository: each method is one RPC of
// 0009_connector_state.sql, so the checkpoint and its state changes commit in one transaction even
// over HTTP.
import type { SupabaseClient } from '@supabase/supabase-js';
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
import type { KnowledgeRepository } from '../repository/knowledge-repository.js';
import { invalidInput } from '../repository/validate-input.js';
import type { JsonValue } from '../spec/v1/json-value.js';

type PostgrestOutcome = { data: unknown; error: unknown; status: number; count?: number | null };

export type CallRpc = <T>(
  request: (client: SupabaseClient) => PromiseLike<PostgrestOutcome>,
  errorOptions?: { leaseGuarded?: boolean },
) => Promise<{ data: T; count: number | null }>;

export function supabaseStateMethods(
  call: CallRpc,
): Pick<KnowledgeRepository, 'commitCheckpoint' | 'getState' | 'listState'> {
  return {
    commitCheckpoint: async (syncRunId: string, cursor: JsonValue, state?: ConnectorStateChanges) => {
      // PostgREST passes a JSON null argument as SQL NULL, which the RPC refuses: say so up front.
      if (cursor === undefined || cursor === null) {
        throw invalidInput(
          'commitCheckpoint needs a cursor (a JSON value other than null)',
          'Through supabase-js a null cursor reaches the RPC as SQL NULL; store e.g. {} instead',
        );
      }
      assertCursorSize(cursor);
      if (state) assertStateChanges(state);
      if (isEmptyStateChanges(state)) {
        await call(
          (client) => client.rpc('commit_sync_checkpoint', { p_sync_log_id: syncRunId, p_cursor: cursor }),
          {
            leaseGuarded: true,
          },
        );
        return;
      }
      await call(
        (client) =>
          client.rpc('commit_sync_checkpoint_with_state', {
            p_sync_log_id: syncRunId,
            p_cursor: cursor,
            p_state_upserts: state?.upserts ?? [],
            p_state_deletes: state?.deletes ?? [],
            p_state_clear: [...(state?.clear ?? [])],
          }),
        { leaseGuarded: true },
      );
    },

    getState: async (connectorId: string, namespace: string, keys: readonly string[]) => {
      assertNamespace(namespace);
      assertGetStateKeys(keys);
      const found = new Map<string, JsonValue>();
      if (keys.length === 0) return found;
      const { data } = await call<ConnectorStateEntry[] | null>((client) =>
        client.rpc('get_connector_state', {
          p_connector_id: connectorId,
          p_namespace: namespace,
          p_keys: [...keys],
        }),
      );
      for (const row of data ?? []) found.set(row.key, row.value);
      return found;
    },

    listState: async (connectorId: string, namespace: string, options: ListStateOptions = {}) => {
      assertNamespace(namespace);
      const limit = stateListLimit(options);
      const { data } = await call<ConnectorStateEntry[] | null>((client) =>
        client.rpc('list_connector_state', {
          p_connector_id: connectorId,
          p_namespace: namespace,
          p_after: options.after ?? null,
          p_limit: limit,
          p_prefix: options.prefix ?? null,
        }),
      );
      return (data ?? []).map((row) => ({ key: row.key, value: row.value }));
    },
  };
}
