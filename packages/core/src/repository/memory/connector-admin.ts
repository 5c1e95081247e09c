import { randomUUID } from 'node:crypto';
import type {
  ConnectorAdminRepository,
  ConnectorStatusRecord,
  StoredConnectorSecrets,
} from '../connector-admin-repository.js';
import type { ConnectorRecord } from '../knowledge-repository.js';
import { RepositoryError } from '../repository-error.js';
import { publicConnector, type State, tick } from './state.js';

// The in-memory twin of 0011_connector_management.sql, for unit tests: same refusals (null or
// unknown ids, the type rule, non-object credentials, stale revisions, deleting while a sync runs),
// same effects (documents soft-deleted with their connector, secrets gone with it).

const TYPE_RULE = /^[a-z][a-z0-9_]{0,62}$/;

const fail = (reason: RepositoryError['reason'], message: string, sqlState: string, hint?: string) =>
  new RepositoryError({ reason, message, sqlState, hint });

export function createMemoryConnectorAdmin(
  state: State,
  userId: string | undefined,
): ConnectorAdminRepository {
  const roleIn = (orgId: string) =>
    userId === undefined ? 'service' : state.memberships.get(userId)?.get(orgId);
  const assertService = (what: string) => {
    if (userId !== undefined) throw fail('not_allowed', `permission denied for function ${what}`, '42501');
  };
  const visible = (connectorId: string) => {
    if (!connectorId) throw fail('invalid_input', 'connector id is null', '22004');
    const connector = state.connectors.get(connectorId);
    if (!connector || roleIn(connector.orgId) === undefined) {
      throw fail('not_found', `connector ${connectorId} not found`, 'P0002');
    }
    return connector;
  };
  const assertManager = (orgId: string, what: string) => {
    const role = roleIn(orgId);
    if (role !== 'service' && role !== 'owner' && role !== 'admin') {
      throw fail(
        'not_allowed',
        `not allowed to ${what}`,
        '42501',
        'Owners and admins of the organisation manage its connectors',
      );
    }
  };
  const emptySecrets = (connector: ConnectorRecord): StoredConnectorSecrets => ({
    connectorId: connector.id,
    orgId: connector.orgId,
    revision: 0,
    keyId: null,
    wrappedDataKey: null,
    credentialsCiphertext: null,
    webhookSecretCiphertext: null,
    credentials: null,
    webhookSecret: null,
  });
  const documentsOf = (connectorId: string) =>
    [...state.documents.values()].filter((document) => document.connectorId === connectorId);

  return {
    async createConnector(input) {
      if (!input.orgId) throw fail('invalid_input', 'org id is null', '22004');
      if (!TYPE_RULE.test(input.connectorType)) {
        throw fail('invalid_input', `connector type '${input.connectorType}' is not valid`, '22023');
      }
      assertManager(input.orgId, `create connectors in organisation ${input.orgId}`);
      const id = input.id ?? randomUUID();
      if (state.connectors.has(id)) throw fail('invalid_input', `connector ${id} already exists`, '23505');
      const frequency = input.syncFrequency ?? 'manual';
      const record = {
        id,
        orgId: input.orgId,
        connectorType: input.connectorType,
        name: input.name,
        description: input.description ?? null,
        settings: input.settings,
        filters: {},
        metadata: {},
        isActive: input.isActive ?? true,
        syncFrequency: frequency,
        syncCursor: null,
        lastSyncAt: null,
        lastSyncStatus: null,
        nextSyncAt: frequency === 'manual' ? null : new Date(tick(state)),
        errorCount: 0,
        lastError: null,
        createdAt: tick(state),
      };
      state.connectors.set(id, record);
      return publicConnector(record);
    },

    async updateConnector(connectorId, changes) {
      const connector = visible(connectorId);
      assertManager(connector.orgId, `change connector ${connectorId}`);
      if (changes.name !== undefined) connector.name = changes.name;
      if (changes.description !== undefined) connector.description = changes.description;
      if (changes.settings !== undefined) connector.settings = changes.settings;
      if (changes.isActive !== undefined) connector.isActive = changes.isActive;
      if (changes.syncFrequency !== undefined) connector.syncFrequency = changes.syncFrequency;
      connector.nextSyncAt =
        connector.syncFrequency === 'manual' ? null : (connector.nextSyncAt ?? new Date(tick(state)));
      return publicConnector(connector);
    },

    async deleteConnector(connectorId) {
      const connector = visible(connectorId);
      const now = tick(state);
      for (const run of state.runs.values()) {
        if (
          run.connectorId === connectorId &&
          run.status === 'running' &&
          (run.leaseExpiresAt?.getTime() ?? 0) > now
        ) {
          throw fail('wrong_state', `connector ${connectorId} has a sync running (run ${run.id})`, '55000');
        }
      }
      assertManager(connector.orgId, `remove connector ${connectorId}`);
      let documentsDeleted = 0;
      for (const document of documentsOf(connectorId)) {
        if (!document.isDeleted) {
          document.isDeleted = true;
          document.deletedAt = now;
          documentsDeleted += 1;
        }
      }
      state.connectors.delete(connectorId);
      state.secrets.delete(connectorId);
      return { documentsDeleted };
    },

    async getConnectorStatus(connectorId) {
      visible(connectorId);
      const documents = documentsOf(connectorId);
      const live = documents.filter((document) => !document.isDeleted);
      const count = (status: string) =>
        live.filter((document) => document.processingStatus === status).length;
      const runs = [...state.runs.values()]
        .filter((run) => run.connectorId === connectorId)
        .sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime());
      const last = runs[0];
      const secrets = state.secrets.get(connectorId);
      const status: ConnectorStatusRecord = {
        liveDocuments: live.length,
        pendingDocuments: count('pending'),
        processingDocuments: count('processing'),
        completedDocuments: count('completed'),
        failedDocuments: count('failed'),
        deletedDocuments: documents.length - live.length,
        totalChunks: live.reduce((sum, document) => sum + document.chunkCount, 0),
        totalBytes: 0,
        hasCredentials: Boolean(secrets?.credentials ?? secrets?.credentialsCiphertext),
        lastRun: last
          ? {
              id: last.id,
              status: last.status,
              syncType: last.syncType,
              syncMode: last.syncMode,
              startedAt: last.startedAt,
              completedAt: last.completedAt,
              documentsSynced: last.documentsSynced,
              documentsUpdated: last.documentsUpdated,
              documentsSkipped: last.documentsSkipped,
              documentsFailed: last.documentsFailed,
              documentsDeleted: last.documentsDeleted,
              errorMessage: last.errorMessage,
            }
          : null,
      };
      return status;
    },

    async getConnectorSecrets(connectorId) {
      assertService('get_connector_secrets');
      const connector = visible(connectorId);
      return { ...(state.secrets.get(connectorId) ?? emptySecrets(connector)) };
    },

    async putConnectorSecrets(connectorId, patch) {
      assertService('put_connector_secrets');
      const connector = visible(connectorId);
      const current = state.secrets.get(connectorId) ?? emptySecrets(connector);
      if (
        patch.credentials != null &&
        (typeof patch.credentials !== 'object' || Array.isArray(patch.credentials))
      ) {
        throw fail('invalid_input', 'credentials must be a JSON object', '22023');
      }
      if (
        (patch.credentialsCiphertext || patch.webhookSecretCiphertext) &&
        !(patch.keyId && patch.wrappedDataKey)
      ) {
        throw fail('invalid_input', 'ciphertext needs key_id and wrapped_data_key', '22023');
      }
      if (patch.expectedRevision !== undefined && patch.expectedRevision !== current.revision) {
        throw fail(
          'conflict',
          `the secrets of connector ${connectorId} changed while they were being written`,
          '40001',
        );
      }
      const next = { ...current, revision: current.revision + 1 };
      if (patch.credentials !== undefined) {
        next.credentials = patch.credentials;
        next.credentialsCiphertext = null;
      } else if (patch.credentialsCiphertext !== undefined) {
        next.credentialsCiphertext = patch.credentialsCiphertext;
        next.credentials = null;
      }
      if (patch.webhookSecret !== undefined) {
        next.webhookSecret = patch.webhookSecret;
        next.webhookSecretCiphertext = null;
      } else if (patch.webhookSecretCiphertext !== undefined) {
        next.webhookSecretCiphertext = patch.webhookSecretCiphertext;
        next.webhookSecret = null;
      }
      if (patch.wrappedDataKey) {
        next.keyId = patch.keyId ?? null;
        next.wrappedDataKey = patch.wrappedDataKey;
      }
      if (next.credentialsCiphertext === null && next.webhookSecretCiphertext === null) {
        next.keyId = null;
        next.wrappedDataKey = null;
      }
      state.secrets.set(connectorId, next);
      return next.revision;
    },

    async listSecretsToRotate(keyId, afterConnectorId, limit) {
      assertService('list_connector_secrets_to_rotate');
      return [...state.secrets.values()]
        .filter(
          (row) =>
            (afterConnectorId === null || row.connectorId > afterConnectorId) &&
            ((row.wrappedDataKey !== null && row.keyId !== keyId) ||
              row.credentials !== null ||
              row.webhookSecret !== null),
        )
        .sort((a, b) => (a.connectorId < b.connectorId ? -1 : 1))
        .slice(0, limit)
        .map((row) => ({ ...row }));
    },

    async rewrapSecrets(rows) {
      assertService('rewrap_connector_secrets');
      let updated = 0;
      for (const row of rows) {
        const current = state.secrets.get(row.connectorId);
        if (!current || current.revision !== row.expectedRevision) continue;
        state.secrets.set(row.connectorId, {
          ...current,
          keyId: row.keyId,
          wrappedDataKey: row.wrappedDataKey,
          credentialsCiphertext: row.credentialsCiphertext ?? current.credentialsCiphertext,
          credentials: row.credentialsCiphertext ? null : current.credentials,
          webhookSecretCiphertext: row.webhookSecretCiphertext ?? current.webhookSecretCiphertext,
          webhookSecret: row.webhookSecretCiphertext ? null : current.webhookSecret,
          revision: current.revision + 1,
        });
        updated += 1;
      }
      return updated;
    },
  };
}
