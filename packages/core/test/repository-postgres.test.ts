// The contract on a real PostgreSQL server through `@tributary/core/postgres` and a node-postgres
// Pool, calling as the connection's own role. The server has no pgvector, so 0007_vector_search is
// deferred and the vector cases assert the documented `unavailable` errors.
import { fromPg, migrate } from '@tributary/sql';
import { startPostgresServer } from '@tributary/testkit';
import { createNodePostgresRepository } from '../src/postgres.js';
import { defineRepositoryContract } from './repository-contract.js';
import { databaseFixture } from './repository-database-fixture.js';

defineRepositoryContract('PostgreSQL server (node-postgres)', async () => {
  const server = await startPostgresServer();
  const database = await server.createDatabase();
  const pool = server.pool(database, { max: 10 });
  await migrate(fromPg(pool), { deferMissingExtensions: ['vector'] });
  const repository = createNodePostgresRepository(pool);
  return databaseFixture(fromPg(pool), repository, { vectors: false }, () => server.stop());
});
