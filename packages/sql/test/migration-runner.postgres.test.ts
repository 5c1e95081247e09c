import { type PostgresServer, startPostgresServer } from '@tributary/testkit-postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fromPg,
  loadMigrations,
  MissingExtensionError,
  migrate,
  migrationLockKey,
  migrationStatus,
  rollback,
  type SqlDatabase,
} from '../src/index.js';
import { appliedNames, catalogSnapshot, fixture, rejectionOf, schemaExists, tableExists } from './helpers.js';
import { defineRunnerSuite } from './runner-suite.js';

// One server for the file; every test gets its own database on it.
let server: PostgresServer;

beforeAll(async () => {
  server = await startPostgresServer();
});
afterAll(async () => {
  await server?.stop();
});

async function freshDatabase(): Promise<{ name: string; db: SqlDatabase }> {
  const name = await server.createDatabase();
  return { name, db: fromPg(server.pool(name)) };
}

describe('migration runner on a PostgreSQL server', () => {
  defineRunnerSuite({ fresh: async () => (await freshDatabase()).db });

  it('two runners started at once leave one clean history and no errors', async () => {
    const { name, db } = await freshDatabase();
    const migrations = await loadMigrations(fixture('basic'));
    // Separate pools: separate sessions, as two app instances starting together would have.
    const runners = [fromPg(server.pool(name, { max: 2 })), fromPg(server.pool(name, { max: 2 }))];
    const results = await Promise.all(runners.map((runner) => migrate(runner, { migrations })));

    // Each file was applied by exactly one runner; the other skipped it (both files use plain
    // `create`, so a double run would have failed).
    const appliedByAny = results.flatMap((result) => result.applied.map((entry) => entry.name)).sort();
    expect(appliedByAny).toEqual(['0001_shim', '0002_notes', '0003_tags']);
    for (const result of results) {
      const seen = [
        ...result.applied.map((entry) => entry.name),
        ...result.skipped.map((entry) => entry.name),
      ];
      expect(seen.sort()).toEqual(['0001_shim', '0002_notes', '0003_tags']);
    }
    const history = await db.query<{ name: string; checksum: string }>(
      'select name, checksum from tributary_migrations.applied order by name',
    );
    expect(history.rows).toEqual(
      migrations.map((migration) => ({ name: migration.name, checksum: migration.checksum })),
    );
    const notes = await db.query<{ n: number }>('select count(*)::int as n from fixture_app.notes');
    expect(notes.rows[0]?.n).toBe(2);

    // Two rollbacks of one step at once: the latest file is rolled back once, the other runner
    // skips it instead of rolling back one more. "At once" is made sure of: a third session holds
    // the migration lock until both runners have planned (read the history) and wait for it; left to
    // chance, a runner started late on a loaded machine plans after the first one finished and
    // rightly rolls back the next file.
    const holderPool = server.pool(name, { max: 1 });
    const holder = await holderPool.connect();
    let downs: Awaited<ReturnType<typeof rollback>>[];
    try {
      await holder.query('begin');
      await holder.query(`select pg_advisory_xact_lock(${migrationLockKey})`);
      const pending = Promise.all(runners.map((runner) => rollback(runner, { migrations, steps: 1 })));
      pending.catch(() => undefined);
      const deadline = Date.now() + 30_000;
      for (;;) {
        const waiting = await db.query<{ n: number }>(
          "select count(*)::int as n from pg_locks l join pg_database d on d.oid = l.database where l.locktype = 'advisory' and not l.granted and d.datname = current_database()",
        );
        if ((waiting.rows[0]?.n ?? 0) >= 2) break;
        if (Date.now() > deadline)
          throw new Error('the two rollbacks never both waited for the migration lock');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await holder.query('commit');
      downs = await pending;
    } finally {
      holder.release();
      await holderPool.end();
    }
    expect(downs.flatMap((result) => result.rolledBack.map((entry) => entry.name))).toEqual(['0003_tags']);
    expect(downs.flatMap((result) => result.skipped)).toEqual([
      { name: '0003_tags', reason: 'rolled-back-concurrently' },
    ]);
    expect(await appliedNames(db)).toEqual(['0001_shim', '0002_notes']);
  });

  it('throws MissingExtensionError for a vector file, and defers it when asked', async () => {
    // This case needs a server without pgvector (the file's server has it).
    const bare = await startPostgresServer({ pgvector: false });
    try {
      await missingExtensionCase(fromPg(bare.pool(await bare.createDatabase())));
    } finally {
      await bare.stop();
    }
  });

  it('applies the vector file where pgvector is installed', async () => {
    const { db } = await freshDatabase();
    const migrations = await loadMigrations(fixture('extensions'));
    const result = await migrate(db, { migrations });
    expect(result.applied.map((entry) => entry.name)).toEqual(['0001_base', '0002_embeddings', '0003_after']);
    expect(await tableExists(db, 'fixture_app.embeddings')).toBe(true);
  });
});

async function missingExtensionCase(db: SqlDatabase): Promise<void> {
  const migrations = await loadMigrations(fixture('extensions'));
  const empty = await catalogSnapshot(db);

  const error = await rejectionOf(migrate(db, { migrations }));
  expect(error).toBeInstanceOf(MissingExtensionError);
  expect((error as MissingExtensionError).extension).toBe('vector');
  expect((error as MissingExtensionError).migration).toBe('0002_embeddings');
  expect(error.message).toMatch(/pgvector/);
  expect(error.message).toMatch(/deferMissingExtensions/);
  // Checked before anything runs: not even 0001 was applied.
  expect(await catalogSnapshot(db)).toEqual(empty);
  await expect(migrate(db, { migrations, deferMissingExtensions: ['postgis'] })).rejects.toBeInstanceOf(
    MissingExtensionError,
  );
  expect(await schemaExists(db, 'tributary_migrations')).toBe(false);

  const result = await migrate(db, { migrations, deferMissingExtensions: true });
  expect(result.applied.map((entry) => entry.name)).toEqual(['0001_base', '0003_after']);
  expect(result.deferred).toEqual([{ name: '0002_embeddings', missingExtensions: ['vector'] }]);
  expect(await appliedNames(db)).toEqual(['0001_base', '0003_after']);
  expect(await tableExists(db, 'fixture_app.after_embeddings')).toBe(true);
  expect(await tableExists(db, 'fixture_app.embeddings')).toBe(false);

  const status = await migrationStatus(db, { migrations });
  expect(status.migrations.map((entry) => [entry.name, entry.state])).toEqual([
    ['0001_base', 'applied'],
    ['0002_embeddings', 'blocked'],
    ['0003_after', 'applied'],
  ]);
  // A later run still defers it (it is not recorded) and does not re-run the others.
  const again = await migrate(db, { migrations, deferMissingExtensions: ['vector'] });
  expect(again.applied).toEqual([]);
  expect(again.deferred.map((entry) => entry.name)).toEqual(['0002_embeddings']);
}
