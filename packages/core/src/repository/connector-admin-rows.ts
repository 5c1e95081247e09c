// Arguments and rows of the 0011 connector management RPCs, shared by the SQL and supabase-js
// adapters so both send and read exactly the same shapes.

import type { JsonObject, JsonValue } from '../spec/v1/json-value.js';
import type {
  ConnectorChanges,
  ConnectorSecretsPatch,
  ConnectorStatusRecord,
  RewrappedSecrets,
  StoredConnectorSecrets,
} from './connector-admin-repository.js';
import type { SyncRunStatus } from './knowledge-repository.js';
import { toDate, toDateOrNull } from './schema-rows.js';

export function changesJson(changes: ConnectorChanges): JsonObject {
  const json: JsonObject = {};
  if (changes.name !== undefined) json.name = changes.name;
  if (changes.description !== undefined) json.description = changes.description;
  if (changes.settings !== undefined) json.settings = changes.settings;
  if (changes.syncFrequency !== undefined) json.sync_frequency = changes.syncFrequency;
  if (changes.isActive !== undefined) json.is_active = changes.isActive;
  return json;
}

export function secretsPatchJson(patch: ConnectorSecretsPatch): JsonObject {
  const json: JsonObject = {};
  const put = (key: string, value: JsonValue | undefined) => {
    if (value !== undefined) json[key] = value;
  };
  put('credentials', patch.credentials);
  put('webhook_secret', patch.webhookSecret);
  put('credentials_ciphertext', patch.credentialsCiphertext);
  put('webhook_secret_ciphertext', patch.webhookSecretCiphertext);
  put('key_id', patch.keyId);
  put('wrapped_data_key', patch.wrappedDataKey);
  put('expected_revision', patch.expectedRevision);
  return json;
}

export function rewrapJson(rows: readonly RewrappedSecrets[]): JsonObject[] {
  return rows.map((row) => ({
    connector_id: row.connectorId,
    expected_revision: row.expectedRevision,
    key_id: row.keyId,
    wrapped_data_key: row.wrappedDataKey,
    credentials_ciphertext: row.credentialsCiphertext ?? null,
    webhook_secret_ciphertext: row.webhookSecretCiphertext ?? null,
  }));
}

export interface SecretsRow {
  connector_id?: string;
  org_id: string;
  revision: number;
  key_id: string | null;
  wrapped_data_key: string | null;
  credentials_ciphertext: string | null;
  webhook_secret_ciphertext: string | null;
  credentials: JsonValue | null;
  webhook_secret: string | null;
}

export function mapStoredSecrets(row: SecretsRow, connectorId?: string): StoredConnectorSecrets {
  return {
    connectorId: row.connector_id ?? (connectorId as string),
    orgId: row.org_id,
    revision: Number(row.revision),
    keyId: row.key_id,
    wrappedDataKey: row.wrapped_data_key,
    credentialsCiphertext: row.credentials_ciphertext,
    webhookSecretCiphertext: row.webhook_secret_ciphertext,
    credentials: row.credentials,
    webhookSecret: row.webhook_secret,
  };
}

export interface StatusRow {
  live_documents: number;
  pending_documents: number;
  processing_documents: number;
  completed_documents: number;
  failed_documents: number;
  deleted_documents: number;
  total_chunks: number | string;
  total_bytes: number | string;
  has_credentials: boolean | null;
  last_run: Record<string, unknown> | null;
}

export function mapStatus(row: StatusRow): ConnectorStatusRecord {
  const run = row.last_run;
  return {
    liveDocuments: Number(row.live_documents),
    pendingDocuments: Number(row.pending_documents),
    processingDocuments: Number(row.processing_documents),
    completedDocuments: Number(row.completed_documents),
    failedDocuments: Number(row.failed_documents),
    deletedDocuments: Number(row.deleted_documents),
    totalChunks: Number(row.total_chunks),
    totalBytes: Number(row.total_bytes),
    hasCredentials: row.has_credentials === true,
    lastRun:
      run == null
        ? null
        : {
            id: String(run.id),
            status: run.status as SyncRunStatus,
            syncType: String(run.sync_type),
            syncMode: String(run.sync_mode),
            startedAt: toDate(run.started_at as string),
            completedAt: toDateOrNull(run.completed_at as string | null),
            documentsSynced: Number(run.documents_synced),
            documentsUpdated: Number(run.documents_updated),
            documentsSkipped: Number(run.documents_skipped),
            documentsFailed: Number(run.documents_failed),
            documentsDeleted: Number(run.documents_deleted),
            errorMessage: (run.error_message as string | null) ?? null,
          },
  };
}
