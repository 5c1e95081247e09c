// Connector management and secret storage: one RPC per method (0011_connector_management).
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
import { type RpcTransport, rpcJson } from '../repository/rpc-transport.js';
import { type ConnectorRow, mapConnector } from '../repository/schema-rows.js';
import { single } from './single-row.js';

export function rpcConnectorAdmin(transport: RpcTransport): ConnectorAdminRepository {
  return {
    createConnector: async (input) => {
      const rows = await transport.rpc<ConnectorRow>('create_connector', {
        p_org_id: input.orgId,
        p_connector_type: input.connectorType,
        p_name: input.name,
        p_settings: rpcJson(input.settings),
        p_id: input.id ?? null,
        p_description: input.description ?? null,
        p_sync_frequency: input.syncFrequency ?? 'manual',
        p_is_active: input.isActive ?? true,
      });
      return mapConnector(single(rows, 'create_connector'));
    },
    updateConnector: async (connectorId, changes) => {
      const rows = await transport.rpc<ConnectorRow>('update_connector', {
        p_connector_id: connectorId,
        p_changes: rpcJson(changesJson(changes)),
      });
      return mapConnector(single(rows, 'update_connector'));
    },
    deleteConnector: async (connectorId) => {
      const rows = await transport.rpc<{ documents_deleted: number }>('delete_connector', {
        p_connector_id: connectorId,
      });
      return { documentsDeleted: Number(single(rows, 'delete_connector').documents_deleted) };
    },
    getConnectorStatus: async (connectorId) => {
      const rows = await transport.rpc<StatusRow>('get_connector_status', { p_connector_id: connectorId });
      return mapStatus(single(rows, 'get_connector_status'));
    },
    getConnectorSecrets: async (connectorId) => {
      const rows = await transport.rpc<SecretsRow>('get_connector_secrets', { p_connector_id: connectorId });
      return mapStoredSecrets(single(rows, 'get_connector_secrets'), connectorId);
    },
    putConnectorSecrets: async (connectorId, patch) =>
      Number(
        await transport.rpcValue<number>('put_connector_secrets', {
          p_connector_id: connectorId,
          p_secrets: rpcJson(secretsPatchJson(patch)),
        }),
      ),
    listSecretsToRotate: async (keyId, afterConnectorId, limit) => {
      const rows = await transport.rpc<SecretsRow>('list_connector_secrets_to_rotate', {
        p_key_id: keyId,
        p_after: afterConnectorId,
        p_limit: limit,
      });
      return rows.map((row) => mapStoredSecrets(row));
    },
    rewrapSecrets: async (rows) => {
      if (rows.length === 0) return 0;
      return Number(
        await transport.rpcValue<number>('rewrap_connector_secrets', { p_rows: rpcJson(rewrapJson(rows)) }),
      );
    },
  };
}
