// The contract on a real PostgreSQL server through `@tributary/core/postgres` and a node-postgres
// Pool, calling as the connection's own role. The server has no pgvector, so 0007_vector_search is
// deferred and the vector cases assert the documented `unavailable` errors. Plus what only several
// connections can show: concurrent starts of one connector.
import { readFileSync } from 'node:fs';
import { fromPg, migrate } from '@tributary/sql';
import { type PostgresServer, startPostgresServer } from '@tributary/testkit-postgres';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLexicalEmbedder, defineConnector, runSync } from '../src/index.js';
import { createNodePostgresRepository } from '../src/postgres.js';
import { defineRepositoryContract } from './repository-contract.js';
import { databaseFixture } from './repository-database-fixture.js';

async function migratedServer(): Promise<{ server: PostgresServer; pool: pg.Pool }> {
  // Without pgvector, as described above (the default test server has it now).
  const server = await startPostgresServer({ pgvector: false });
  const database = await server.createDatabase();
  const pool = server.pool(database, { max: 12 });
  await migrate(fromPg(pool), { deferMissingExtensions: ['vector'] });
  return { server, pool };
}

defineRepositoryContract('PostgreSQL server (node-postgres)', async () => {
  const { server, pool } = await migratedServer();
  const repository = createNodePostgresRepository(pool);
  return databaseFixture(fromPg(pool), repository, { vectors: false }, () => server.stop());
});

describe('Postgres repository on several connections', () => {
  let context: Awaited<ReturnType<typeof migratedServer>>;

  beforeAll(async () => {
    context = await migratedServer();
  });
  afterAll(async () => {
    await context?.server.stop();
  });

  it('starts exactly one run when ten workers start the same connector at once', async () => {
    const repository = createNodePostgresRepository(context.pool);
    const { rows } = await context.pool.query<{ id: string }>(
      `insert into public.connector_configs (org_id, connector_type, name)
       values (gen_random_uuid(), 'google_drive', 'Drive') returning id`,
    );
    const connectorId = rows[0]?.id ?? '';
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => repository.startSync({ connectorId, workerId: `worker-${i}` })),
    );
    const started = results.filter((r) => r.status === 'started');
    expect(started).toHaveLength(1);
    expect(new Set(results.map((r) => r.syncRunId))).toEqual(new Set([started[0]?.syncRunId]));
  });

  it('fails a sync at once, before listing, loading or embedding, when the database has no pgvector', async () => {
    const repository = createNodePostgresRepository(context.pool);
    const { rows } = await context.pool.query<{ id: string }>(
      `insert into public.connector_configs (org_id, connector_type, name)
       values (gen_random_uuid(), 'notes', 'Notes') returning id`,
    );
    const connectorId = rows[0]?.id ?? '';
    const calls = { listed: 0, loaded: 0, embedded: 0 };
    const lexical = createLexicalEmbedder();
    const summary = await runSync({
      connector: defineConnector({
        type: 'notes',
        async check() {},
        async *sync() {
          calls.listed += 1;
          yield {
            kind: 'upsert' as const,
            document: {
              externalId: 'a',
              title: 'A',
              content: {
                kind: 'lazy' as const,
                load: async () => {
                  calls.loaded += 1;
                  return { kind: 'text' as const, text: 'alpha' };
                },
              },
            },
          };
        },
      }),
      connectorId,
      repository,
      embedder: {
        ...lexical,
        embed: (texts, options) => {
          calls.embedded += 1;
          return lexical.embed(texts, options);
        },
      },
    });
    expect(summary.status).toBe('failed');
    expect(summary.error).toMatch(/cannot store embeddings \(no pgvector/);
    expect(calls).toEqual({ listed: 0, loaded: 0, embedded: 0 });
    const run = await repository.getSyncRun(summary.runId);
    expect(run).toMatchObject({ status: 'failed' });
    expect(await repository.getConnector(connectorId)).toMatchObject({
      lastSyncStatus: 'failed',
      errorCount: 1,
    });
  });
});

describe('@tributary/core package manifest', () => {
  it('keeps pg and PGlite out of dependencies: optional peers behind their own entries', () => {
    const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      dependencies?: Record<string, string>;
      peerDependenciesMeta?: Record<string, { optional?: boolean }>;
      exports: Record<string, unknown>;
    };
    for (const name of ['pg', '@electric-sql/pglite']) {
      expect(Object.keys(manifest.dependencies ?? {})).not.toContain(name);
      expect(manifest.peerDependenciesMeta?.[name]?.optional).toBe(true);
    }
    expect(Object.keys(manifest.exports)).toEqual(expect.arrayContaining(['./pglite', './postgres']));
  });
});
