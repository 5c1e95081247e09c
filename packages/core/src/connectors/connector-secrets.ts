import type {
  ConnectorAdminRepository,
  ConnectorSecretsPatch,
  StoredConnectorSecrets,
} from '../repository/connector-admin-repository.js';
import { RepositoryError } from '../repository/repository-error.js';
import {
  createDataKey,
  decryptField,
  encryptField,
  type SecretScope,
  unwrapDataKey,
  wrapDataKey,
} from '../secrets/secret-envelope.js';
import { MissingSecretKeyError, SecretDecryptionError } from '../secrets/secret-errors.js';
import type { SecretKeyRing } from '../secrets/secret-key-ring.js';
import type { JsonObject } from '../spec/v1/json-value.js';

/** Decrypted secrets of one connector. Never log them. */
export interface ConnectorSecrets {
  credentials: unknown;
  webhookSecret: string | undefined;
}

/** What to change: a value sets it, `null` removes it, `undefined` keeps it. */
export interface ConnectorSecretsUpdate {
  credentials?: JsonObject | null | undefined;
  webhookSecret?: string | null | undefined;
}

export interface SecretsPolicy {
  keyRing: SecretKeyRing | undefined;
  /** Store plaintext when no key ring is configured (development only). Default false. */
  allowPlaintextSecrets?: boolean | undefined;
}

/** Reads and decrypts; legacy plaintext rows are returned as stored. */
export async function readConnectorSecrets(
  repository: ConnectorAdminRepository,
  keyRing: SecretKeyRing | undefined,
  connectorId: string,
): Promise<ConnectorSecrets> {
  const stored = await repository.getConnectorSecrets(connectorId);
  return openStoredSecrets(stored, keyRing);
}

export function openStoredSecrets(
  stored: StoredConnectorSecrets,
  keyRing: SecretKeyRing | undefined,
): ConnectorSecrets {
  const scope: SecretScope = { orgId: stored.orgId, connectorId: stored.connectorId };
  const encrypted = stored.credentialsCiphertext !== null || stored.webhookSecretCiphertext !== null;
  const dataKey =
    encrypted && stored.keyId && stored.wrappedDataKey
      ? unwrapDataKey(keyRing, scope, stored.keyId, stored.wrappedDataKey)
      : undefined;
  let credentials: unknown = stored.credentials ?? undefined;
  if (dataKey && stored.credentialsCiphertext !== null) {
    const text = decryptField(dataKey, scope, 'credentials', stored.credentialsCiphertext);
    try {
      credentials = JSON.parse(text) as unknown;
    } catch {
      throw new SecretDecryptionError({ connectorId: stored.connectorId, field: 'credentials' });
    }
  }
  const webhookSecret =
    dataKey && stored.webhookSecretCiphertext !== null
      ? decryptField(dataKey, scope, 'webhook_secret', stored.webhookSecretCiphertext)
      : (stored.webhookSecret ?? undefined);
  return { credentials, webhookSecret };
}

/**
 * Encrypts and writes. The connector's data key is reused (and rewrapped under the primary key) so
 * the field not being changed stays readable; legacy plaintext in the other field is encrypted on
 * the way. A concurrent writer makes the RPC answer `conflict`; then it reads again and retries.
 */
export async function writeConnectorSecrets(
  repository: ConnectorAdminRepository,
  policy: SecretsPolicy,
  connectorId: string,
  update: ConnectorSecretsUpdate,
): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    const stored = await repository.getConnectorSecrets(connectorId);
    const patch = buildPatch(stored, policy, update);
    try {
      await repository.putConnectorSecrets(connectorId, patch);
      return;
    } catch (error) {
      if (attempt < 3 && RepositoryError.isInstance(error) && error.reason === 'conflict') continue;
      throw error;
    }
  }
}

function buildPatch(
  stored: StoredConnectorSecrets,
  policy: SecretsPolicy,
  update: ConnectorSecretsUpdate,
): ConnectorSecretsPatch {
  const { keyRing } = policy;
  const writesValue = update.credentials != null || update.webhookSecret != null;
  if (!keyRing) {
    if (writesValue && !policy.allowPlaintextSecrets) {
      throw new MissingSecretKeyError({
        message: `refusing to store secrets of connector ${stored.connectorId} unencrypted: no secret key is configured (TRIBUTARY_SECRET_KEYS is not set)`,
      });
    }
    return {
      credentials: update.credentials,
      webhookSecret: update.webhookSecret,
      expectedRevision: stored.revision,
    };
  }
  const scope: SecretScope = { orgId: stored.orgId, connectorId: stored.connectorId };
  const dataKey =
    stored.keyId && stored.wrappedDataKey
      ? unwrapDataKey(keyRing, scope, stored.keyId, stored.wrappedDataKey)
      : createDataKey();
  const patch: ConnectorSecretsPatch = {
    ...wrapDataKey(keyRing, scope, dataKey),
    expectedRevision: stored.revision,
  };
  const credentials =
    update.credentials !== undefined ? update.credentials : (stored.credentials as JsonObject | null);
  const webhookSecret = update.webhookSecret !== undefined ? update.webhookSecret : stored.webhookSecret;
  if (update.credentials !== undefined || credentials !== null) {
    patch.credentialsCiphertext =
      credentials === null ? null : encryptField(dataKey, scope, 'credentials', JSON.stringify(credentials));
  }
  if (update.webhookSecret !== undefined || webhookSecret !== null) {
    patch.webhookSecretCiphertext =
      webhookSecret === null ? null : encryptField(dataKey, scope, 'webhook_secret', webhookSecret);
  }
  return patch;
}
