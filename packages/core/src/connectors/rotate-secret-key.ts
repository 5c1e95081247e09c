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
  /** Rows per page (one list call and one write call each). Default 100, at most 1,000. */
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
  const pageSize = Math.min(Math.max(Math.trunc(options.pageSize ?? 100), 1), 1000);
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
