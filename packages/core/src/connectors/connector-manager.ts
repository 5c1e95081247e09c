import { randomUUID } from 'node:crypto';
import { InvalidConfigError } from '../errors/invalid-config-error.js';
import type { ConnectorStatusRecord } from '../repository/connector-admin-repository.js';
import type {
  ConnectorRecord,
  KnowledgeRepository,
  ListConnectorsFilter,
  SyncFrequency,
} from '../repository/knowledge-repository.js';
import { RepositoryError } from '../repository/repository-error.js';
import { MissingSecretKeyError } from '../secrets/secret-errors.js';
import { type SecretKeyRing, secretKeyRingFromEnv } from '../secrets/secret-key-ring.js';
import { assertSupportedConnector } from '../spec/assert-supported-connector.js';
import type { ConnectorV1 } from '../spec/v1/connector-v1.js';
import type { JsonObject } from '../spec/v1/json-value.js';
import { assertKnownFields, type SettingsInput } from './config-input.js';
import { ConnectorTypeMismatchError } from './connector-errors.js';
import { type ConnectorSecrets, readConnectorSecrets, writeConnectorSecrets } from './connector-secrets.js';
import {
  type RotateSecretKeyOptions,
  rotateSecretKey,
  type SecretKeyRotationReport,
} from './rotate-secret-key.js';

export interface ConnectorManagerOptions {
  /** Secrets need the service role (a server connection or the service role key). */
  repository: KnowledgeRepository;
  /** Default: `secretKeyRingFromEnv()` (TRIBUTARY_SECRET_KEYS / TRIBUTARY_SECRET_KEY). */
  keyRing?: SecretKeyRing | undefined;
  /** Store secrets unencrypted when no key ring is configured. Development only; default false. */
  allowPlaintextSecrets?: boolean | undefined;
}

export interface CreateConnectorInput<Config, Credentials> {
  orgId: string;
  /** Default: the plugin's display name. */
  name?: string | undefined;
  description?: string | undefined;
  config: SettingsInput<Config>;
  credentials?: SettingsInput<Credentials> | undefined;
  webhookSecret?: string | undefined;
  syncFrequency?: SyncFrequency | undefined;
  isActive?: boolean | undefined;
}

export interface UpdateConnectorInput<Config> {
  name?: string | undefined;
  description?: string | null | undefined;
  config?: SettingsInput<Config> | undefined;
  syncFrequency?: SyncFrequency | undefined;
  isActive?: boolean | undefined;
}

export interface ConnectorDetails {
  connector: ConnectorRecord;
  status: ConnectorStatusRecord;
}

/** A stored connector ready to run: its row, its config and its decrypted secrets. */
export interface StoredConnectorRuntime extends ConnectorSecrets {
  record: ConnectorRecord;
  config: JsonObject;
}

export interface ConnectorManager {
  create<Config, Credentials>(
    connector: ConnectorV1<Config, Credentials>,
    input: CreateConnectorInput<Config, Credentials>,
  ): Promise<ConnectorRecord>;
  update<Config, Credentials>(
    connector: ConnectorV1<Config, Credentials>,
    connectorId: string,
    changes: UpdateConnectorInput<Config>,
  ): Promise<ConnectorRecord>;
  /** Sets (or replaces: that is rotation) the credentials and/or webhook secret. */
  setSecrets<Config, Credentials>(
    connector: ConnectorV1<Config, Credentials>,
    connectorId: string,
    secrets: { credentials?: SettingsInput<Credentials> | undefined; webhookSecret?: string | undefined },
  ): Promise<void>;
  clearSecret(connectorId: string, which: 'credentials' | 'webhookSecret'): Promise<void>;
  list(filter?: ListConnectorsFilter): Promise<ConnectorRecord[]>;
  show(connectorId: string): Promise<ConnectorDetails>;
  /** Deletes the connector; its documents are soft-deleted (they leave search at once). */
  remove(connectorId: string): Promise<{ documentsDeleted: number }>;
  /** The row (checked against the plugin's type), its config and its decrypted secrets. */
  load(connector: ConnectorV1<unknown, unknown>, connectorId: string): Promise<StoredConnectorRuntime>;
  /** Rewraps every data key under the key ring's primary key and encrypts legacy plaintext. */
  rotateKey(options?: RotateSecretKeyOptions): Promise<SecretKeyRotationReport>;
}

/**
 * Connector management: create a connector from its plugin with config checked by the plugin's own
 * schema (a misspelt field is a compile error and an `InvalidConfigError` naming it), change it,
 * set, rotate and clear its secrets (encrypted with the host's key before they leave the process),
 * list, show, remove. Atomic work is in the 0011 RPCs; this layer validates and encrypts.
 *
 * @example
 * const manager = createConnectorManager({ repository });
 * const row = await manager.create(createUrlConnector(), {
 *   orgId, name: 'Docs site', config: { sitemapUrl: 'https://docs.example.com/sitemap.xml' },
 * });
 */
export function createConnectorManager(options: ConnectorManagerOptions): ConnectorManager {
  const { repository } = options;
  const keyRing = options.keyRing ?? secretKeyRingFromEnv();
  const policy = { keyRing, allowPlaintextSecrets: options.allowPlaintextSecrets };

  const validate = (
    connector: ConnectorV1<unknown, unknown>,
    subject: 'config' | 'credentials',
    value: unknown,
  ): JsonObject => {
    assertKnownFields(connector, subject, value);
    const schema = subject === 'config' ? connector.configSchema : connector.credentialsSchema;
    const result = schema.safeParse(value);
    if (!result.success) {
      throw InvalidConfigError.fromSchemaIssues(result.error, {
        connector: connector.type,
        subject,
        hint: `Fix the ${connector.displayName} ${subject}; nothing was stored`,
      });
    }
    // What the host wrote is stored (not the parsed output), so later default changes apply.
    const json = JSON.parse(JSON.stringify(value ?? {})) as unknown;
    if (typeof json !== 'object' || json === null || Array.isArray(json)) {
      throw new InvalidConfigError({
        connector: connector.type,
        subject,
        issues: [{ fieldPath: '', message: 'must be a JSON object' }],
      });
    }
    return json as JsonObject;
  };

  const stored = async (connector: ConnectorV1<unknown, unknown>, connectorId: string) => {
    const record = await repository.getConnector(connectorId);
    if (!record) {
      throw new RepositoryError({
        reason: 'not_found',
        message: `connector ${connectorId} not found`,
        sqlState: 'P0002',
      });
    }
    if (record.connectorType !== connector.type) {
      throw new ConnectorTypeMismatchError({
        connectorId,
        storedType: record.connectorType,
        pluginType: connector.type,
      });
    }
    return record;
  };

  const requireKeyRingFor = (connectorId: string) => {
    if (!keyRing && !options.allowPlaintextSecrets) {
      throw new MissingSecretKeyError({
        message: `refusing to store secrets of connector ${connectorId} unencrypted: no secret key is configured (TRIBUTARY_SECRET_KEYS is not set)`,
      });
    }
  };

  const manager: ConnectorManager = {
    async create(connector, input) {
      assertSupportedConnector(connector);
      const any = connector as ConnectorV1<unknown, unknown>;
      const settings = validate(any, 'config', input.config);
      const credentials =
        input.credentials === undefined ? undefined : validate(any, 'credentials', input.credentials);
      const id = randomUUID();
      // Fail before the row exists rather than leave a connector without its secrets.
      if (credentials !== undefined || input.webhookSecret !== undefined) requireKeyRingFor(id);
      const record = await repository.createConnector({
        id,
        orgId: input.orgId,
        connectorType: connector.type,
        name: input.name ?? connector.displayName,
        description: input.description,
        settings,
        syncFrequency: input.syncFrequency,
        isActive: input.isActive,
      });
      if (credentials !== undefined || input.webhookSecret !== undefined) {
        try {
          await writeConnectorSecrets(repository, policy, id, {
            credentials,
            webhookSecret: input.webhookSecret,
          });
        } catch (error) {
          await repository.deleteConnector(id).catch(() => undefined);
          throw error;
        }
      }
      return record;
    },

    async update(connector, connectorId, changes) {
      const any = connector as ConnectorV1<unknown, unknown>;
      await stored(any, connectorId);
      return repository.updateConnector(connectorId, {
        name: changes.name,
        description: changes.description,
        settings: changes.config === undefined ? undefined : validate(any, 'config', changes.config),
        syncFrequency: changes.syncFrequency,
        isActive: changes.isActive,
      });
    },

    async setSecrets(connector, connectorId, secrets) {
      const any = connector as ConnectorV1<unknown, unknown>;
      await stored(any, connectorId);
      const credentials =
        secrets.credentials === undefined ? undefined : validate(any, 'credentials', secrets.credentials);
      if (secrets.webhookSecret === '') {
        throw new InvalidConfigError({
          connector: connector.type,
          subject: 'webhook secret',
          issues: [{ fieldPath: '', message: 'is empty' }],
        });
      }
      await writeConnectorSecrets(repository, policy, connectorId, {
        credentials,
        webhookSecret: secrets.webhookSecret,
      });
    },

    clearSecret: (connectorId, which) =>
      writeConnectorSecrets(
        repository,
        policy,
        connectorId,
        which === 'credentials' ? { credentials: null } : { webhookSecret: null },
      ),

    list: (filter) => repository.listConnectors(filter),

    async show(connectorId) {
      const connector = await repository.getConnector(connectorId);
      if (!connector) {
        throw new RepositoryError({
          reason: 'not_found',
          message: `connector ${connectorId} not found`,
          sqlState: 'P0002',
        });
      }
      return { connector, status: await repository.getConnectorStatus(connectorId) };
    },

    remove: (connectorId) => repository.deleteConnector(connectorId),

    async load(connector, connectorId) {
      const record = await stored(connector, connectorId);
      const secrets = await readConnectorSecrets(repository, keyRing, connectorId);
      return { record, config: record.settings, ...secrets };
    },

    async rotateKey(rotateOptions) {
      if (!keyRing) {
        throw new MissingSecretKeyError({
          message: 'cannot rotate: no secret key is configured (TRIBUTARY_SECRET_KEYS is not set)',
        });
      }
      return rotateSecretKey(repository, keyRing, rotateOptions);
    },
  };
  return manager;
}
