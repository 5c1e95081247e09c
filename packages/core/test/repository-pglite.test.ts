// The contract on PGlite (in-process PostgreSQL with pgvector) through `@tributary/core/pglite`,
// acting as the service role the way a Supabase worker would.

import { fromPglite, migrate } from '@tributary/sql';
import { createPgliteDatabase } from '@tributary/testkit';
import { createPgliteRepository } from '../src/pglite.js';
import { defineRepositoryContract } from './repository-contract.js';
import { databaseFixture, migrationsFingerprint } from './repository-database-fixture.js';

defineRepositoryContract('PGlite (service role)', async () => {
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
