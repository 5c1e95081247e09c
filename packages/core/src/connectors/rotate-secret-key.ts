import { InvalidConfigError } from '../errors/invalid-config-error.js';
import type { ConnectorAdminRepository, RewrappedSecrets } from '../repository/connector-admin-repository.js';
import {
  createDataKey,
  encryptField,
  type SecretScope,
  unwrapDataKey,
  wrapDataKey,
} from '../secrets/secret-envelope.js';
import { SecretDecryptionError } from '../secrets/secret-errors.js';
import type { SecretKeyRing } from '../secrets/secret-key-ring.js';

export interface RotateSecretKeyOptions {
  /**
   * Rows per page (one list call and one write call each): a whole number from 1 to 1,000, default
   * 100. Anything else is refused with an InvalidConfigError before a row is read.
   */
  pageSize?: number | undefined;
  onPage?: ((report: SecretKeyRotationReport) => void) | undefined;
}

export interface SecretKeyRotationReport {
  /** The key every row now uses. */
  keyId: string;
  /** Rows whose data key was rewrapped under `keyId`. */
  rewrapped: number;
  /** Of those, rows that held legacy plaintext, now encrypted. */
  encryptedLegacy: number;
  /** Rows written by someone else meanwhile: run the rotation again to pick them up. */
  skipped: number;
  /** Rows that could not be opened (their key id is not in the ring, or they do not authenticate). */
  failed: Array<{ connectorId: string; reason: string }>;
}

/**
 * Moves every connector's data key under the ring's primary key, and encrypts legacy plaintext
 * rows. Set-based: a page of rows is read, rewrapped in memory, and written in one call that skips
 * rows changed meanwhile; only data keys are rewrapped (the secrets' ciphertext stays as it is).
 * Resumable: rows already under the primary key are not listed again.
 */
export async function rotateSecretKey(
  repository: ConnectorAdminRepository,
  keyRing: SecretKeyRing,
  options: RotateSecretKeyOptions = {},
): Promise<SecretKeyRotationReport> {
  const pageSize = options.pageSize ?? 100;
  if (typeof pageSize !== 'number' || !Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) {
    // Before, NaN went through the clamp untouched and reached SQL as the page limit.
    throw new InvalidConfigError({
      subject: 'rotateKey options',
      issues: [
        { fieldPath: 'pageSize', message: `must be a whole number from 1 to 1000, got ${String(pageSize)}` },
      ],
      hint: 'Pass a page size from 1 to 1000, or leave it out for 100; no key was rotated.',
    });
  }
  const report: SecretKeyRotationReport = {
    keyId: keyRing.primaryKeyId,
    rewrapped: 0,
    encryptedLegacy: 0,
    skipped: 0,
    failed: [],
  };
  let after: string | null = null;
  for (;;) {
    const page = await repository.listSecretsToRotate(keyRing.primaryKeyId, after, pageSize);
    if (page.length === 0) break;
    after = page[page.length - 1]?.connectorId ?? null;
    const rows: RewrappedSecrets[] = [];
    let legacy = 0;
    for (const stored of page) {
      const scope: SecretScope = { orgId: stored.orgId, connectorId: stored.connectorId };
      try {
        const dataKey =
          stored.keyId && stored.wrappedDataKey
            ? unwrapDataKey(keyRing, scope, stored.keyId, stored.wrappedDataKey)
            : createDataKey();
        const row: RewrappedSecrets = {
          connectorId: stored.connectorId,
          expectedRevision: stored.revision,
          ...wrapDataKey(keyRing, scope, dataKey),
        };
        if (stored.credentials !== null) {
          row.credentialsCiphertext = encryptField(
            dataKey,
            scope,
            'credentials',
            JSON.stringify(stored.credentials),
          );
        }
        if (stored.webhookSecret !== null) {
          row.webhookSecretCiphertext = encryptField(dataKey, scope, 'webhook_secret', stored.webhookSecret);
        }
        if (stored.credentials !== null || stored.webhookSecret !== null) legacy += 1;
        rows.push(row);
      } catch (error) {
        // The error names connector and key id only; never material.
        const reason =
          SecretDecryptionError.isInstance(error) || error instanceof Error ? error.message : String(error);
        report.failed.push({ connectorId: stored.connectorId, reason });
      }
    }
    const written = await repository.rewrapSecrets(rows);
    report.rewrapped += written;
    report.skipped += rows.length - written;
    report.encryptedLegacy += written === rows.length ? legacy : 0;
    options.onPage?.({ ...report, failed: [...report.failed] });
    if (page.length < pageSize) break;
  }
  return report;
}
