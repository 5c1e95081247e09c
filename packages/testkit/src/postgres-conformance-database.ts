import { createNodePostgresRepository } from '@tributary/core/postgres';
import { fromPg, migrate } from '@tributary/sql';
import { startPostgresServer } from '@tributary/testkit-postgres';
import type { ConformanceDatabase, ConformanceStore, DatabaseSettings } from './conformance-database.js';
import { createSqlConformanceStore } from './sql-conformance-store.js';

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
      createStore: (connectorType): Promise<ConformanceStore> =>
        createSqlConformanceStore(
          pool,
          connectorType,
          createNodePostgresRepository(pool, { actor: { role: 'service_role' } }),
        ),
      close: () => server.stop(),
    };
  } catch (error) {
    await server.stop();
    throw error;
  }
}
