import type { PGlite } from '@electric-sql/pglite';
import { createPgliteDatabase } from '@tributary/testkit-postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromPglite, loadMigrations, migrate, migrationStatus, type SqlDatabase } from '../src/index.js';
import { appliedNames, fixture, tableExists } from './helpers.js';
import { defineRunnerSuite } from './runner-suite.js';
import { defineWarningsAndDryRunSuite } from './warnings-and-dry-run-suite.js';

// One PGlite for the whole file (it takes seconds to boot); each test starts from a reset database.
let pglite: PGlite;
let db: SqlDatabase;

beforeAll(async () => {
  pglite = await createPgliteDatabase();
  db = fromPglite(pglite);
});
afterAll(async () => {
  await pglite?.close();
});

async function reset(): Promise<SqlDatabase> {
  await db.exec(`
    drop schema if exists tributary_migrations cascade;
    drop schema if exists fixture_app cascade;
    drop schema if exists fixture_auth cascade;
    drop table if exists public.fixture_extra, public.fixture_divide;
    drop extension if exists vector cascade;`);
  return db;
}

describe('migration runner on PGlite', () => {
  defineRunnerSuite({ fresh: reset });
  defineWarningsAndDryRunSuite({ fresh: reset });

  it('applies a `requires-extension vector` file when the extension is available', async () => {
    const fresh = await reset();
    const migrations = await loadMigrations(fixture('extensions'));
    expect((await migrationStatus(fresh, { migrations })).migrations.map((entry) => entry.state)).toEqual([
      'pending',
      'pending',
      'pending',
    ]);
    const result = await migrate(fresh, { migrations });
    expect(result.applied.map((entry) => entry.name)).toEqual(['0001_base', '0002_embeddings', '0003_after']);
    expect(result.deferred).toEqual([]);
    expect(await appliedNames(fresh)).toEqual(['0001_base', '0002_embeddings', '0003_after']);
    expect(await tableExists(fresh, 'fixture_app.embeddings')).toBe(true);
  });
});
