// search() on PGlite (in process) and on a real PostgreSQL server with pgvector (node-postgres), both
// with the bundled migrations; the same contract as the memory adapter.
import { fromPg, fromPglite, migrate } from '@tributary/sql';
import { createPgliteDatabase, startPostgresServer } from '@tributary/testkit-postgres';
import { createPgliteRepository } from '../src/pglite.js';
import { createNodePostgresRepository } from '../src/postgres.js';
import { databaseFixture, migrationsFingerprint } from './repository-database-fixture.js';
import { defineSearchContract } from './search-contract.js';

defineSearchContract('PGlite', async () => {
  const pglite = await createPgliteDatabase({
    snapshot: {
      key: `tributary-core-repository-${migrationsFingerprint()}`,
      prepare: async (fresh) => {
        await migrate(fromPglite(fresh));
      },
    },
  });
  const repository = createPgliteRepository(pglite, { actor: { role: 'service_role' } });
  return databaseFixture(fromPglite(pglite), repository, { vectors: true }, () => pglite.close());
});

defineSearchContract('PostgreSQL server with pgvector (node-postgres)', async () => {
  const server = await startPostgresServer();
  const pool = server.pool(await server.createDatabase(), { max: 4 });
  await migrate(fromPg(pool));
  const repository = createNodePostgresRepository(pool);
  return databaseFixture(fromPg(pool), repository, { vectors: true }, () => server.stop());
});
