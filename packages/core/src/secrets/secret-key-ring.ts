import { MissingSecretKeyError } from './secret-errors.js';

/** Names of the environment variables a key ring is read from. */
export const SECRET_KEYS_ENV = 'TRIBUTARY_SECRET_KEYS';
export const SECRET_KEY_ENV = 'TRIBUTARY_SECRET_KEY';

const KEY_ID_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * Key-encryption keys (KEKs) held by the host, by id. The first is the primary: new data keys are
 * wrapped with it and `rotateSecretKey` moves every row onto it; the others only unwrap, so a key
 * can be replaced without downtime. Keys stay out of `JSON.stringify` and `util.inspect`.
 */
export interface SecretKeyRing {
  readonly primaryKeyId: string;
  readonly keyIds: readonly string[];
  /** The 32-byte key with that id, or `undefined`. */
  key(keyId: string): Uint8Array | undefined;
}

/**
 * Builds a key ring from `[id, 32-byte key]` pairs (primary first). Throws `MissingSecretKeyError`
 * for an empty list, a bad id or a key that is not exactly 32 bytes.
 */
export function createSecretKeyRing(keys: ReadonlyArray<readonly [string, Uint8Array]>): SecretKeyRing {
  if (keys.length === 0) throw new MissingSecretKeyError({ message: 'the secret key ring is empty' });
  const byId = new Map<string, Uint8Array>();
  for (const [id, key] of keys) {
    if (!KEY_ID_PATTERN.test(id)) {
      throw new MissingSecretKeyError({
        message: `secret key id ${JSON.stringify(id)} is not valid`,
        hint: 'Key ids are 1 to 64 characters of A-Z, a-z, 0-9, _, . and -',
      });
    }
    if (key.byteLength !== 32) {
      throw new MissingSecretKeyError({
        message: `secret key "${id}" is ${key.byteLength} bytes; AES-256 needs exactly 32`,
        hint: 'Generate one with `openssl rand -base64 32`',
      });
    }
    if (byId.has(id)) throw new MissingSecretKeyError({ message: `secret key id "${id}" is given twice` });
    byId.set(id, Uint8Array.from(key));
  }
  const ring: SecretKeyRing = {
    primaryKeyId: keys[0]?.[0] as string,
    keyIds: [...byId.keys()],
    key: (keyId) => byId.get(keyId),
  };
  Object.defineProperty(ring, 'toJSON', { enumerable: false, value: () => ({ keyIds: ring.keyIds }) });
  Object.defineProperty(ring, Symbol.for('nodejs.util.inspect.custom'), {
    enumerable: false,
    value: () => `SecretKeyRing(${ring.keyIds.join(', ')})`,
  });
  return Object.freeze(ring);
}

/**
 * Reads the key ring from the environment: `TRIBUTARY_SECRET_KEYS=id1:base64,id2:base64` (first =
 * primary), or `TRIBUTARY_SECRET_KEY=base64` (id `default`). Returns `undefined` when neither is
 * set; throws `MissingSecretKeyError` naming the variable when one is malformed (never echoing it).
 */
export function secretKeyRingFromEnv(
  env: Readonly<Record<string, string | undefined>> = process.env,
): SecretKeyRing | undefined {
  const list = env[SECRET_KEYS_ENV]?.trim();
  const single = env[SECRET_KEY_ENV]?.trim();
  if (list) {
    const entries = list.split(',').map((entry, index) => {
      const separator = entry.indexOf(':');
      if (separator < 1) {
        throw new MissingSecretKeyError({
          message: `${SECRET_KEYS_ENV} entry ${index + 1} is not <id>:<base64 key>`,
          hint: `Write ${SECRET_KEYS_ENV}=<id>:<base64 of 32 bytes>[,<id>:<base64>...]`,
        });
      }
      const id = entry.slice(0, separator).trim();
      return [id, decodeKey(entry.slice(separator + 1), `${SECRET_KEYS_ENV} key "${id}"`)] as const;
    });
    return createSecretKeyRing(entries);
  }
  if (single) return createSecretKeyRing([['default', decodeKey(single, SECRET_KEY_ENV)]]);
  return undefined;
}

function decodeKey(text: string, what: string): Uint8Array {
  const trimmed = text.trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed)) {
    throw new MissingSecretKeyError({
      message: `${what} is not base64`,
      hint: 'Generate a key with `openssl rand -base64 32`',
    });
  }
  return new Uint8Array(Buffer.from(trimmed, 'base64'));
}
