import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { MissingSecretKeyError, SecretDecryptionError } from './secret-errors.js';
import type { SecretKeyRing } from './secret-key-ring.js';

// Envelope encryption with AES-256-GCM. A random data key per connector encrypts its secrets; the
// data key is stored wrapped (encrypted) by a key-encryption key of the host's key ring. Every
// ciphertext is bound by GCM associated data to its organisation, connector and field (and the
// wrapped key to its key id), so a value copied to another row fails authentication instead of
// decrypting there. Stored form: base64(12-byte IV | ciphertext | 16-byte tag).

const IV_BYTES = 12;
const TAG_BYTES = 16;

export type SecretField = 'credentials' | 'webhook_secret';

export interface SecretScope {
  orgId: string;
  connectorId: string;
}

function seal(key: Uint8Array, plaintext: Uint8Array, aad: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64');
}

/** Returns `undefined` on any failure: callers raise an error that names no material. */
function open(key: Uint8Array, sealed: string, aad: string): Buffer | undefined {
  try {
    const bytes = Buffer.from(sealed, 'base64');
    if (bytes.byteLength < IV_BYTES + TAG_BYTES) return undefined;
    const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(bytes.subarray(bytes.byteLength - TAG_BYTES));
    return Buffer.concat([
      decipher.update(bytes.subarray(IV_BYTES, bytes.byteLength - TAG_BYTES)),
      decipher.final(),
    ]);
  } catch {
    return undefined;
  }
}

const dataKeyAad = (scope: SecretScope, keyId: string) =>
  `tributary/data-key/v1|${scope.orgId}|${scope.connectorId}|${keyId}`;
const fieldAad = (scope: SecretScope, field: SecretField) =>
  `tributary/secret/v1|${scope.orgId}|${scope.connectorId}|${field}`;

/** A fresh random 32-byte data key. */
export function createDataKey(): Uint8Array {
  return new Uint8Array(randomBytes(32));
}

/** Wraps a data key with the ring's primary key. */
export function wrapDataKey(
  ring: SecretKeyRing,
  scope: SecretScope,
  dataKey: Uint8Array,
): { keyId: string; wrappedDataKey: string } {
  const keyId = ring.primaryKeyId;
  const kek = ring.key(keyId) as Uint8Array;
  return { keyId, wrappedDataKey: seal(kek, dataKey, dataKeyAad(scope, keyId)) };
}

/** Unwraps a stored data key; `MissingSecretKeyError` when the ring lacks its key id. */
export function unwrapDataKey(
  ring: SecretKeyRing | undefined,
  scope: SecretScope,
  keyId: string,
  wrappedDataKey: string,
): Uint8Array {
  const kek = ring?.key(keyId);
  if (!kek) {
    throw new MissingSecretKeyError({
      keyId,
      message: ring
        ? `connector ${scope.connectorId} has secrets encrypted with key "${keyId}", which is not in TRIBUTARY_SECRET_KEYS (it has ${ring.keyIds.join(', ')})`
        : `connector ${scope.connectorId} has encrypted secrets but no secret key is configured (TRIBUTARY_SECRET_KEYS is not set)`,
    });
  }
  const dataKey = open(kek, wrappedDataKey, dataKeyAad(scope, keyId));
  if (dataKey?.byteLength !== 32) {
    throw new SecretDecryptionError({ connectorId: scope.connectorId, field: 'data key', keyId });
  }
  return new Uint8Array(dataKey);
}

export function encryptField(
  dataKey: Uint8Array,
  scope: SecretScope,
  field: SecretField,
  value: string,
): string {
  return seal(dataKey, Buffer.from(value, 'utf8'), fieldAad(scope, field));
}

export function decryptField(
  dataKey: Uint8Array,
  scope: SecretScope,
  field: SecretField,
  sealed: string,
): string {
  const plaintext = open(dataKey, sealed, fieldAad(scope, field));
  if (!plaintext) throw new SecretDecryptionError({ connectorId: scope.connectorId, field });
  return plaintext.toString('utf8');
}
