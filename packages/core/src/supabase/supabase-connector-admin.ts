import type { SupabaseClient } from '@supabase/supabase-js';
import type { ConnectorAdminRepository } from '../repository/connector-admin-repository.js';
import {
  changesJson,
  mapStatus,
  mapStoredSecrets,
  rewrapJson,
  type SecretsRow,
  type StatusRow,
  secretsPatchJson,
} from '../repository/connector-admin-rows.js';
import { RepositoryError } from '../repository/repository-error.js';
import { type ConnectorRow, mapConnector } from '../repository/schema-rows.js';

interface PostgrestOutcome {
  data: unknown;
  error: unknown;
  count?: number | null;
  status: number;
}

/** How the Supabase repository sends one request (errors mapped). */
export type CallRpc = <T>(
  request: (client: SupabaseClient) => PromiseLike<PostgrestOutcome>,
) => Promise<{ data: T; count: number | null }>;

/** A set-returning RPC answers an array; a composite one an object. */
function one<Row>(data: Row | Row[] | null, what: string): Row {
  const row = Array.isArray(data) ? data[0] : data;
  if (!row) throw new RepositoryError({ reason: 'database', message: `${what} returned no row` });
  return row;
}

/** The connector management half of the Supabase repository: one `rpc` per method. */
export function createSupabaseConnectorAdmin(call: CallRpc): ConnectorAdminRepository {
  return {
    createConnector: async (input) => {
      const { data } = await call<ConnectorRow | ConnectorRow[]>((client) =>
        client.rpc('create_connector', {
          p_org_id: input.orgId,
          p_connector_type: input.connectorType,
          p_name: input.name,
          p_settings: input.settings,
          p_id: input.id ?? null,
          p_description: input.description ?? null,
          p_sync_frequency: input.syncFrequency ?? 'manual',
          p_is_active: input.isActive ?? true,
        }),
      );
      return mapConnector(one(data, 'create_connector'));
    },
    updateConnector: async (connectorId, changes) => {
      const { data } = await call<ConnectorRow | ConnectorRow[]>((client) =>
        client.rpc('update_connector', { p_connector_id: connectorId, p_changes: changesJson(changes) }),
      );
      return mapConnector(one(data, 'update_connector'));
    },
    deleteConnector: async (connectorId) => {
      const { data } = await call<Array<{ documents_deleted: number }>>((client) =>
        client.rpc('delete_connector', { p_connector_id: connectorId }),
      );
      return { documentsDeleted: Number(one(data, 'delete_connector').documents_deleted) };
    },
    getConnectorStatus: async (connectorId) => {
      const { data } = await call<StatusRow[]>((client) =>
        client.rpc('get_connector_status', { p_connector_id: connectorId }),
      );
      return mapStatus(one(data, 'get_connector_status'));
    },
    getConnectorSecrets: async (connectorId) => {
      const { data } = await call<SecretsRow[]>((client) =>
        client.rpc('get_connector_secrets', { p_connector_id: connectorId }),
      );
      return mapStoredSecrets(one(data, 'get_connector_secrets'), connectorId);
    },
    putConnectorSecrets: async (connectorId, patch) => {
      const { data } = await call<number>((client) =>
        client.rpc('put_connector_secrets', {
          p_connector_id: connectorId,
          p_secrets: secretsPatchJson(patch),
        }),
      );
      return Number(data);
    },
    listSecretsToRotate: async (keyId, afterConnectorId, limit) => {
      const { data } = await call<SecretsRow[]>((client) =>
        client.rpc('list_connector_secrets_to_rotate', {
          p_key_id: keyId,
          p_after: afterConnectorId,
          p_limit: limit,
        }),
      );
      return (data ?? []).map((row) => mapStoredSecrets(row));
    },
    rewrapSecrets: async (rows) => {
      if (rows.length === 0) return 0;
      const { data } = await call<number>((client) =>
        client.rpc('rewrap_connector_secrets', { p_rows: rewrapJson(rows) }),
      );
      return Number(data);
    },
  };
}
