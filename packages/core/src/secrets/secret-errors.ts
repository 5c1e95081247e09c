import { hasErrorMarker, TributaryError } from '../errors/tributary-error.js';

const missingMarker = Symbol.for('tributary.error.missing_secret_key');
const decryptMarker = Symbol.for('tributary.error.secret_decryption');

/**
 * Encrypted connector secrets exist (or must be written) but the host has no key-encryption key,
 * or not the one a row was wrapped with. Names the environment variable to set; never a key.
 */
export class MissingSecretKeyError extends TributaryError {
  readonly [missingMarker] = true;
  /** The key id that is needed, when a stored row names one. */
  readonly keyId: string | undefined;
  readonly isRetryable = false;

  constructor(options: { message: string; keyId?: string | undefined; hint?: string | undefined }) {
    super({
      code: 'missing_secret_key',
      area: 'secrets',
      message: options.message,
      hint:
        options.hint ??
        'Set TRIBUTARY_SECRET_KEYS=<id>:<base64 of 32 random bytes>[,<older id>:<base64>...] (or TRIBUTARY_SECRET_KEY=<base64>, id "default") in the environment of this process',
    });
    this.keyId = options.keyId;
  }

  static override isInstance(error: unknown): error is MissingSecretKeyError {
    return hasErrorMarker(error, missingMarker);
  }
}

/**
 * A stored secret failed authentication (wrong key for that key id, tampered ciphertext, or a row
 * copied from another connector or organisation). The message names the connector and field only:
 * never ciphertext, key material or plaintext.
 */
export class SecretDecryptionError extends TributaryError {
  readonly [decryptMarker] = true;
  readonly connectorId: string;
  readonly field: string;
  readonly isRetryable = false;

  constructor(options: { connectorId: string; field: string; keyId?: string | undefined; message?: string }) {
    super({
      code: 'secret_decryption_failed',
      area: 'secrets',
      message:
        options.message ??
        `the ${options.field} of connector ${options.connectorId} cannot be decrypted${options.keyId ? ` with key "${options.keyId}"` : ''}`,
      hint: 'Check that the key with that id in TRIBUTARY_SECRET_KEYS is the one the secret was written with; a secret copied from another connector never decrypts: set it again with `tributary connector set-secret`',
    });
    this.connectorId = options.connectorId;
    this.field = options.field;
  }

  static override isInstance(error: unknown): error is SecretDecryptionError {
    return hasErrorMarker(error, decryptMarker);
  }
}
