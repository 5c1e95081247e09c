// search() on PGlite (in process), on a real PostgreSQL server with pgvector (node-postgres), and
// through supabase-js against a PostgREST-compatible endpoint on that server, all with the bundled
// migrations; the same contract as the memory adapter.
import { createClient } from '@supabase/supabase-js';
import { fromPg, fromPglite, migrate } from '@tributary/sql';
import { createPgliteDatabase, startPostgresServer, startPostgrestServer } from '@tributary/testkit-postgres';
import { createPgliteRepository } from '../src/pglite.js';
import { createNodePostgresRepository } from '../src/postgres.js';
import { createSupabaseRepository } from '../src/supabase.js';
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

defineSearchContract('Supabase (supabase-js over PostgREST, server with pgvector)', async () => {
  const server = await startPostgresServer();
  const pool = server.pool(await server.createDatabase(), { max: 8 });
  await migrate(fromPg(pool));
  const api = await startPostgrestServer({ pool });
  const auth = { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false };
  const repository = createSupabaseRepository(createClient(api.url, api.serviceRoleKey, { auth }), {
    clientForUser: async (userId) =>
      createClient(api.url, api.anonKey, {
        auth,
        global: { headers: { Authorization: `Bearer ${await api.signUserToken(userId)}` } },
      }),
  });
  return databaseFixture(fromPg(pool), repository, { vectors: true }, async () => {
    await api.stop();
    await server.stop();
  });
});
