import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { createPgliteRepository } from '@tributary/core/pglite';
import { fromPglite, migrate, migrationsDirectory } from '@tributary/sql';
import { createPgliteDatabase } from '@tributary/testkit-postgres';
import {
  type ConformanceDatabase,
  type ConformanceStore,
  type DatabaseSettings,
  newOrgId,
} from './conformance-database.js';

/** Changes whenever a bundled migration changes, so a stale snapshot is never reused. */
function migrationsFingerprint(): string {
  const hash = createHash('sha256');
  for (const file of readdirSync(migrationsDirectory).sort()) {
    hash.update(file).update(readFileSync(join(migrationsDirectory, file)));
  }
  return hash.digest('hex').slice(0, 16);
}

async function openPglite(dimensions: number): Promise<PGlite> {
  try {
    return await createPgliteDatabase({
      snapshot: {
        key: `tributary-testkit-conformance-${dimensions}-${migrationsFingerprint()}`,
        prepare: async (fresh) => {
          await migrate(fromPglite(fresh), { vector: { dimensions } });
        },
      },
    });
  } catch (error) {
    if (error instanceof Error && /Cannot find (module|package) '@electric-sql\/pglite/.test(error.message)) {
      throw new Error(
        '[tributary] [testkit] the conformance suite runs on PGlite by default: install @electric-sql/pglite and @electric-sql/pglite-pgvector as dev dependencies, or pass database: "memory".',
        { cause: error },
      );
    }
    throw error;
  }
}

/**
 * One PGlite database with every bundled migration applied (from a snapshot after the first
 * boot), the vector column sized for the suite's embedder; each store is a connector row in an
 * organisation of its own, written through the Postgres adapter as the service role.
 */
export async function createPgliteConformanceDatabase(
  settings: DatabaseSettings,
): Promise<ConformanceDatabase> {
  const pglite = await openPglite(settings.dimensions);
  return {
    async createStore(connectorType): Promise<ConformanceStore> {
      const { rows } = await pglite.query<{ id: string }>(
        `insert into public.connector_configs (org_id, connector_type, name)
         values ($1, $2, 'conformance') returning id`,
        [newOrgId(), connectorType],
      );
      const connectorId = rows[0]?.id;
      if (connectorId === undefined) throw new Error('[tributary] [testkit] no connector row was created');
      return {
        repository: createPgliteRepository(pglite, { actor: { role: 'service_role' } }),
        connectorId,
        async listDocuments() {
          const result = await pglite.query<{
            external_id: string;
            title: string | null;
            content_hash: string | null;
            processing_status: string;
            is_deleted: boolean;
            chunk_count: number;
          }>(
            `select d.external_id, d.title, d.content_hash, d.processing_status, d.is_deleted,
                    (select count(*)::int from public.document_chunks c where c.document_id = d.id) as chunk_count
             from public.imported_documents d
             where d.connector_id = $1
             order by d.external_id`,
            [connectorId],
          );
          return result.rows.map((row) => ({
            externalId: row.external_id,
            title: row.title,
            contentHash: row.content_hash,
            processingStatus: row.processing_status,
            isDeleted: row.is_deleted,
            chunkCount: row.chunk_count,
          }));
        },
        async expireLeases() {
          await pglite.query(
            `update public.connector_sync_logs set lease_expires_at = now() - interval '1 second'
             where connector_id = $1 and status = 'running'`,
            [connectorId],
          );
        },
      };
    },
    close: () => pglite.close(),
  };
}
