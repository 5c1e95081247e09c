// Superuser set-up for the Postgres contract runs: what a host does with SQL or its admin UI.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { migrationsDirectory } from '@tributary/sql';
import type { KnowledgeRepository, SqlQueryable } from '../src/index.js';
import type { RepositoryCapabilities, RepositoryContractFixture } from './repository-contract.js';

/** A key that changes whenever a bundled migration file changes (for the PGlite snapshot). */
export function migrationsFingerprint(): string {
  const hash = createHash('sha256');
  for (const file of readdirSync(migrationsDirectory).sort()) {
    hash.update(file).update(readFileSync(join(migrationsDirectory, file)));
  }
  return hash.digest('hex').slice(0, 16);
}

export function databaseFixture(
  superuser: SqlQueryable,
  repository: KnowledgeRepository,
  capabilities: RepositoryCapabilities,
  close: () => Promise<void>,
): RepositoryContractFixture {
  return {
    repository,
    capabilities,
    async createConnector(orgId, options = {}) {
      const { rows } = await superuser.query<{ id: string }>(
        `insert into public.connector_configs (org_id, connector_type, name, is_active)
         values ($1, 'google_drive', 'Team Drive', $2) returning id`,
        [orgId, options.isActive ?? true],
      );
      const id = rows[0]?.id;
      if (!id) throw new Error('no connector inserted');
      return id;
    },
    async addMember(userId, orgId, role) {
      await superuser.query(
        'insert into tributary_private.memberships (user_id, org_id, role) values ($1, $2, $3)',
        [userId, orgId, role],
      );
    },
    async expireLease(syncRunId) {
      await superuser.query(
        `update public.connector_sync_logs set lease_expires_at = now() - interval '1 second' where id = $1`,
        [syncRunId],
      );
    },
    async backdateDocuments(connectorId) {
      // PGlite's clock has millisecond resolution: two quick transactions can share a now().
      await superuser.query(
        `update public.imported_documents set last_seen_at = last_seen_at - interval '1 minute' where connector_id = $1`,
        [connectorId],
      );
    },
    close,
  };
}
