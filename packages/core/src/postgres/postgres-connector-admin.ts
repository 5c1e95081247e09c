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
import type { SqlQueryable } from './sql-database.js';

/** How the Postgres repository runs a call (as its actor, errors mapped). */
export type RunQuery = <T>(fn: (tx: SqlQueryable) => Promise<T>) => Promise<T>;

function first<Row>(rows: Row[], what: string): Row {
  const row = rows[0];
  if (!row) throw new RepositoryError({ reason: 'database', message: `${what} returned no row` });
  return row;
}

/** The connector management half of the Postgres repository: one RPC per method. */
export function createPostgresConnectorAdmin(run: RunQuery): ConnectorAdminRepository {
  return {
    createConnector: (input) =>
      run(async (tx) => {
        const { rows } = await tx.query<ConnectorRow>(
          'select * from public.create_connector($1, $2, $3, $4::jsonb, $5, $6, $7, $8)',
          [
            input.orgId,
            input.connectorType,
            input.name,
            JSON.stringify(input.settings),
            input.id ?? null,
            input.description ?? null,
            input.syncFrequency ?? 'manual',
            input.isActive ?? true,
          ],
        );
        return mapConnector(first(rows, 'create_connector'));
      }),
    updateConnector: (connectorId, changes) =>
      run(async (tx) => {
        const { rows } = await tx.query<ConnectorRow>(
          'select * from public.update_connector($1, $2::jsonb)',
          [connectorId, JSON.stringify(changesJson(changes))],
        );
        return mapConnector(first(rows, 'update_connector'));
      }),
    deleteConnector: (connectorId) =>
      run(async (tx) => {
        const { rows } = await tx.query<{ documents_deleted: number }>(
          'select documents_deleted from public.delete_connector($1)',
          [connectorId],
        );
        return { documentsDeleted: Number(first(rows, 'delete_connector').documents_deleted) };
      }),
    getConnectorStatus: (connectorId) =>
      run(async (tx) => {
        const { rows } = await tx.query<StatusRow>('select * from public.get_connector_status($1)', [
          connectorId,
        ]);
        return mapStatus(first(rows, 'get_connector_status'));
      }),
    getConnectorSecrets: (connectorId) =>
      run(async (tx) => {
        const { rows } = await tx.query<SecretsRow>('select * from public.get_connector_secrets($1)', [
          connectorId,
        ]);
        return mapStoredSecrets(first(rows, 'get_connector_secrets'), connectorId);
      }),
    putConnectorSecrets: (connectorId, patch) =>
      run(async (tx) => {
        const { rows } = await tx.query<{ revision: number }>(
          'select public.put_connector_secrets($1, $2::jsonb) as revision',
          [connectorId, JSON.stringify(secretsPatchJson(patch))],
        );
        return Number(first(rows, 'put_connector_secrets').revision);
      }),
    listSecretsToRotate: (keyId, afterConnectorId, limit) =>
      run(async (tx) => {
        const { rows } = await tx.query<SecretsRow>(
          'select * from public.list_connector_secrets_to_rotate($1, $2, $3)',
          [keyId, afterConnectorId, limit],
        );
        return rows.map((row) => mapStoredSecrets(row));
      }),
    rewrapSecrets: (rows) =>
      run(async (tx) => {
        if (rows.length === 0) return 0;
        const result = await tx.query<{ updated: number }>(
          'select public.rewrap_connector_secrets($1::jsonb) as updated',
          [JSON.stringify(rewrapJson(rows))],
        );
        return Number(first(result.rows, 'rewrap_connector_secrets').updated);
      }),
  };
}
