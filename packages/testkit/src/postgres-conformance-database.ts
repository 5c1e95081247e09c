import { createNodePostgresRepository } from '@tributary/core/postgres';
import { fromPg, migrate } from '@tributary/sql';
import { startPostgresServer } from '@tributary/testkit-postgres';
import {
  type ConformanceDatabase,
  type ConformanceStore,
  type DatabaseSettings,
  newOrgId,
} from './conformance-database.js';

/**
 * A real PostgreSQL server with pgvector (the machine's, started by `startPostgresServer` in a
 * temporary directory and stopped by `close()`), one fresh database with every bundled migration
 * applied; each store is a connector row in an organisation of its own, written through the
 * node-postgres adapter as the service role.
 */
export async function createPostgresConformanceDatabase(
  settings: DatabaseSettings,
): Promise<ConformanceDatabase> {
  const server = await startPostgresServer();
  try {
    const name = await server.createDatabase();
    const pool = server.pool(name, { max: 4 });
    await migrate(fromPg(pool), { vector: { dimensions: settings.dimensions } });
    return {
      async createStore(connectorType): Promise<ConformanceStore> {
        const { rows } = await pool.query<{ id: string }>(
          `insert into public.connector_configs (org_id, connector_type, name)
           values ($1, $2, 'conformance') returning id`,
          [newOrgId(), connectorType],
        );
        const connectorId = rows[0]?.id;
        if (connectorId === undefined) throw new Error('[tributary] [testkit] no connector row was created');
        return {
          repository: createNodePostgresRepository(pool, { actor: { role: 'service_role' } }),
          connectorId,
          async listDocuments() {
            const result = await pool.query<{
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
            await pool.query(
              `update public.connector_sync_logs set lease_expires_at = now() - interval '1 second'
               where connector_id = $1 and status = 'running'`,
              [connectorId],
            );
          },
        };
      },
      close: () => server.stop(),
    };
  } catch (error) {
    await server.stop();
    throw error;
  }
}
