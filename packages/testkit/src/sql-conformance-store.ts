import type { KnowledgeRepository } from '@tributary/core';
import { type ConformanceStore, newOrgId } from './conformance-database.js';

/** What both conformance databases query through: PGlite and a node-postgres pool alike. */
export interface ConformanceQueryable {
  query<T>(sql: string, params?: unknown[]): Promise<{ rows: T[] }>;
}

/**
 * A store on a migrated database: a connector row in an organisation of its own, the repository
 * the caller made for it, and the suite's read-backs as plain SQL.
 */
export async function createSqlConformanceStore(
  db: ConformanceQueryable,
  connectorType: string,
  repository: KnowledgeRepository,
): Promise<ConformanceStore> {
  const { rows } = await db.query<{ id: string }>(
    `insert into public.connector_configs (org_id, connector_type, name)
     values ($1, $2, 'conformance') returning id`,
    [newOrgId(), connectorType],
  );
  const connectorId = rows[0]?.id;
  if (connectorId === undefined) throw new Error('[tributary] [testkit] no connector row was created');
  return {
    repository,
    connectorId,
    async listDocuments() {
      const result = await db.query<{
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
      await db.query(
        `update public.connector_sync_logs set lease_expires_at = now() - interval '1 second'
         where connector_id = $1 and status = 'running'`,
        [connectorId],
      );
    },
  };
}
