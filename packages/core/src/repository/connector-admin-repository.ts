import type { JsonObject, JsonValue } from '../spec/v1/json-value.js';
import type { ConnectorRecord, SyncFrequency, SyncRunStatus } from './knowledge-repository.js';

// Connector management and secret storage: the "connectors and secrets" concern of the
// repository. Every method is one RPC of 0011_connector_management.sql; the adapters only move
// values. The secret methods see ciphertext (or legacy plaintext) only: encryption happens in
// `createConnectorManager`, above this interface, so no adapter ever holds a key.

export interface CreateConnectorRecordInput {
  orgId: string;
  connectorType: string;
  name: string;
  /** Validated config, stored in `connector_configs.settings`. */
  settings: JsonObject;
  /** Chosen by the caller when secrets are encrypted together with the row (they bind to the id). */
  id?: string | undefined;
  description?: string | null | undefined;
  syncFrequency?: SyncFrequency | undefined;
  isActive?: boolean | undefined;
}

/** Only the fields given change. */
export interface ConnectorChanges {
  name?: string | undefined;
  description?: string | null | undefined;
  settings?: JsonObject | undefined;
  syncFrequency?: SyncFrequency | undefined;
  isActive?: boolean | undefined;
}

/** The last run of a connector, as `get_connector_status` reports it. */
export interface ConnectorLastRun {
  id: string;
  status: SyncRunStatus;
  syncType: string;
  syncMode: string;
  startedAt: Date;
  completedAt: Date | null;
  documentsSynced: number;
  documentsUpdated: number;
  documentsSkipped: number;
  documentsFailed: number;
  documentsDeleted: number;
  errorMessage: string | null;
}

export interface ConnectorStatusRecord {
  liveDocuments: number;
  pendingDocuments: number;
  processingDocuments: number;
  completedDocuments: number;
  failedDocuments: number;
  deletedDocuments: number;
  totalChunks: number;
  totalBytes: number;
  hasCredentials: boolean;
  lastRun: ConnectorLastRun | null;
}

/** A `connector_secrets` row as stored: ciphertext, or legacy plaintext, never both per field. */
export interface StoredConnectorSecrets {
  connectorId: string;
  orgId: string;
  /** 0 when nothing was ever stored; every write adds one (optimistic concurrency). */
  revision: number;
  keyId: string | null;
  wrappedDataKey: string | null;
  credentialsCiphertext: string | null;
  webhookSecretCiphertext: string | null;
  /** Legacy plaintext, written before encryption (or by raw SQL). */
  credentials: JsonValue | null;
  webhookSecret: string | null;
}

/** What `putConnectorSecrets` changes; a field set to `null` removes that secret. */
export interface ConnectorSecretsPatch {
  credentialsCiphertext?: string | null | undefined;
  webhookSecretCiphertext?: string | null | undefined;
  /** Plaintext forms, for hosts that explicitly chose no encryption. */
  credentials?: JsonObject | null | undefined;
  webhookSecret?: string | null | undefined;
  keyId?: string | undefined;
  wrappedDataKey?: string | undefined;
  /** The revision read before encrypting; another value stored means a concurrent write (conflict). */
  expectedRevision?: number | undefined;
}

/** One rotated row: its data key rewrapped and, when it held plaintext, that plaintext encrypted. */
export interface RewrappedSecrets {
  connectorId: string;
  expectedRevision: number;
  keyId: string;
  wrappedDataKey: string;
  credentialsCiphertext?: string | undefined;
  webhookSecretCiphertext?: string | undefined;
}

export interface ConnectorAdminRepository {
  createConnector(input: CreateConnectorRecordInput): Promise<ConnectorRecord>;
  updateConnector(connectorId: string, changes: ConnectorChanges): Promise<ConnectorRecord>;
  /** Deletes the connector; its live documents are soft-deleted. Refused while a sync runs. */
  deleteConnector(connectorId: string): Promise<{ documentsDeleted: number }>;
  getConnectorStatus(connectorId: string): Promise<ConnectorStatusRecord>;
  /** Service role only. */
  getConnectorSecrets(connectorId: string): Promise<StoredConnectorSecrets>;
  /** Service role only. Returns the new revision; `reason: 'conflict'` when `expectedRevision` is stale. */
  putConnectorSecrets(connectorId: string, patch: ConnectorSecretsPatch): Promise<number>;
  /** Service role only: rows not yet under `keyId` (or holding plaintext), after `afterConnectorId`. */
  listSecretsToRotate(
    keyId: string,
    afterConnectorId: string | null,
    limit: number,
  ): Promise<StoredConnectorSecrets[]>;
  /** Service role only: writes a page of rotated rows; returns how many were written. */
  rewrapSecrets(rows: readonly RewrappedSecrets[]): Promise<number>;
}
