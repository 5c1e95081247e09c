import { fromPg, migrate } from '@tributary/sql';
import { type PostgresServer, startPostgresServer } from '@tributary/testkit-postgres';
import type pg from 'pg';

export interface TestDatabase {
  server: PostgresServer;
  connectionString: string;
  pool: pg.Pool;
}

/** A fresh migrated database on a real PostgreSQL server. */
export async function startTestDatabase(): Promise<TestDatabase> {
  const server = await startPostgresServer({ settings: { max_connections: '300' } });
  const name = await server.createDatabase();
  const pool = server.pool(name, { max: 10 });
  await migrate(fromPg(pool));
  return { server, connectionString: server.connectionString(name), pool };
}

/** Inserts `count` tick connectors of one organisation; returns their ids. */
export async function createConnectors(
  pool: pg.Pool,
  options: {
    orgId: string;
    count: number;
    syncFrequency?: string;
    settings?: Record<string, unknown>;
    type?: string;
  },
): Promise<string[]> {
  const { rows } = await pool.query<{ id: string }>(
    `insert into connector_configs (org_id, connector_type, name, settings, sync_frequency, next_sync_at)
     select $1, $5, 'Tick ' || n, $2::jsonb, $3, case when $3 = 'manual' then null else now() end
     from generate_series(1, $4) n returning id`,
    [
      options.orgId,
      JSON.stringify(options.settings ?? { docs: 2, round: 0 }),
      options.syncFrequency ?? 'manual',
      options.count,
      options.type ?? 'tick',
    ],
  );
  return rows.map((row) => row.id);
}
