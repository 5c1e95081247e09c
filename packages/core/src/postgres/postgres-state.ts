// The state-store half of the Postgres repository: commitCheckpoint (with state changes through
// commit_sync_checkpoint_with_state) and the two reads, each one RPC of 0009_connector_state.sql.
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
import type { SqlQueryable } from './sql-database.js';

export type RunQuery = <T>(
  fn: (tx: SqlQueryable) => Promise<T>,
  options?: { leaseGuarded?: boolean; atomic?: boolean },
) => Promise<T>;

export function postgresStateMethods(
  run: RunQuery,
): Pick<KnowledgeRepository, 'commitCheckpoint' | 'getState' | 'listState'> {
  return {
    commitCheckpoint: async (syncRunId: string, cursor: JsonValue, state?: ConnectorStateChanges) => {
      if (cursor === undefined) throw invalidInput('commitCheckpoint needs a cursor (any JSON value)');
      assertCursorSize(cursor);
      if (state) assertStateChanges(state);
      return run(
        async (tx) => {
          if (isEmptyStateChanges(state)) {
            await tx.query('select 1 from public.commit_sync_checkpoint($1, $2::jsonb)', [
              syncRunId,
              JSON.stringify(cursor),
            ]);
            return;
          }
          // One statement: the function checks the lease and writes state and cursor together.
          await tx.query(
            'select 1 from public.commit_sync_checkpoint_with_state($1, $2::jsonb, $3::jsonb, $4::jsonb, $5::text[])',
            [
              syncRunId,
              JSON.stringify(cursor),
              JSON.stringify(state?.upserts ?? []),
              JSON.stringify(state?.deletes ?? []),
              [...(state?.clear ?? [])],
            ],
          );
        },
        { leaseGuarded: true },
      );
    },

    getState: async (connectorId: string, namespace: string, keys: readonly string[]) => {
      assertNamespace(namespace);
      assertGetStateKeys(keys);
      const found = new Map<string, JsonValue>();
      if (keys.length === 0) return found;
      return run(async (tx) => {
        const { rows } = await tx.query<ConnectorStateEntry>(
          'select key, value from public.get_connector_state($1, $2, $3::text[])',
          [connectorId, namespace, [...keys]],
        );
        for (const row of rows) found.set(row.key, row.value);
        return found;
      });
    },

    listState: async (connectorId: string, namespace: string, options: ListStateOptions = {}) => {
      assertNamespace(namespace);
      const limit = stateListLimit(options);
      return run(async (tx) => {
        const { rows } = await tx.query<ConnectorStateEntry>(
          'select key, value from public.list_connector_state($1, $2, $3, $4, $5)',
          [connectorId, namespace, options.after ?? null, limit, options.prefix ?? null],
        );
        return rows.map((row) => ({ key: row.key, value: row.value }));
      });
    },
  };
}
