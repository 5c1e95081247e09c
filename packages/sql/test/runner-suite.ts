import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  createMigration,
  InvalidMigrationOptionsError,
  loadMigrations,
  MigrationChecksumError,
  type MigrationEvent,
  MigrationFailedError,
  MigrationNotFoundError,
  MissingDownMigrationError,
  migrate,
  migrationStatus,
  rollback,
  type SqlDatabase,
  UnknownAppliedMigrationError,
} from '../src/index.js';
import {
  appliedNames,
  catalogSnapshot,
  copyFixture,
  fixture,
  rejectionOf,
  schemaExists,
  tableExists,
} from './helpers.js';

export interface RunnerBackend {
  /** An empty database (no history, no fixture objects). */
  fresh(): Promise<SqlDatabase>;
}

/**
 * The behaviour every database must show, run once on PGlite and once on the embedded PostgreSQL
 * server (kysely-style: one suite, several dialects).
 */
export function defineRunnerSuite(backend: RunnerBackend): void {
  describe('migrate', () => {
    it('applies a fresh database in name order, records checksums and timings, runs do-blocks whole', async () => {
      const db = await backend.fresh();
      const migrations = await loadMigrations(fixture('basic'));
      const events: MigrationEvent[] = [];
      const result = await migrate(db, { migrations, onEvent: (event) => events.push(event) });

      expect(result.dryRun).toBe(false);
      expect(result.applied.map((entry) => entry.name)).toEqual(['0001_shim', '0002_notes', '0003_tags']);
      for (const entry of result.applied) expect(Number.isInteger(entry.executionMs)).toBe(true);
      expect(result.skipped).toEqual([]);
      expect(result.deferred).toEqual([]);
      expect(events.map((event) => event.type)).toEqual(['start', 'applied', 'applied', 'applied']);

      const history = await db.query<{ name: string; checksum: string; execution_ms: number }>(
        'select name, checksum, execution_ms from tributary_migrations.applied order by name',
      );
      expect(history.rows.map((row) => [row.name, row.checksum])).toEqual(
        migrations.map((migration) => [migration.name, migration.checksum]),
      );
      const notes = await db.query<{ body: string }>('select body from fixture_app.notes order by id');
      expect(notes.rows.map((row) => row.body)).toEqual(['first; with a semicolon', 'second']);
      const tags = await db.query<{ n: number }>('select fixture_app.tag_count() as n');
      expect(tags.rows[0]?.n).toBe(3);
    });

    it('is a no-op the second time: everything skipped, catalog and history unchanged', async () => {
      const db = await backend.fresh();
      const migrations = await loadMigrations(fixture('basic'));
      await migrate(db, { migrations });
      const before = await catalogSnapshot(db);

      const again = await migrate(db, { migrations });
      expect(again.applied).toEqual([]);
      expect(again.skipped).toEqual([
        { name: '0001_shim', reason: 'already-applied' },
        { name: '0002_notes', reason: 'already-applied' },
        { name: '0003_tags', reason: 'already-applied' },
      ]);
      expect(await catalogSnapshot(db)).toEqual(before);
    });

    it('stops after `target` and rejects an unknown target', async () => {
      const db = await backend.fresh();
      const migrations = await loadMigrations(fixture('basic'));
      const result = await migrate(db, { migrations, target: '0002_notes' });
      expect(result.applied.map((entry) => entry.name)).toEqual(['0001_shim', '0002_notes']);
      expect(await appliedNames(db)).toEqual(['0001_shim', '0002_notes']);
      expect(await tableExists(db, 'fixture_app.tags')).toBe(false);

      const error = await rejectionOf(migrate(db, { migrations, target: '0009_nope' }));
      expect(error).toBeInstanceOf(MigrationNotFoundError);
      expect(await appliedNames(db)).toEqual(['0001_shim', '0002_notes']);
    });

    it('refuses to run when an applied file was edited, and applies nothing (not even later files)', async () => {
      const db = await backend.fresh();
      const directory = await copyFixture('basic');
      await migrate(db, { migrations: await loadMigrations(directory), target: '0002_notes' });
      const before = await catalogSnapshot(db);
      const original = await loadMigrations(directory);

      const file = join(directory, '0002_notes.sql');
      await writeFile(file, `${await readFile(file, 'utf8')}\n-- an innocent-looking edit\n`);
      const tampered = await loadMigrations(directory);
      const error = await rejectionOf(migrate(db, { migrations: tampered }));

      expect(error).toBeInstanceOf(MigrationChecksumError);
      const checksumError = error as MigrationChecksumError;
      expect(checksumError.migration).toBe('0002_notes');
      expect(checksumError.appliedChecksum).toBe(original[1]?.checksum);
      expect(checksumError.fileChecksum).toBe(tampered[1]?.checksum);
      expect(checksumError.message).toContain('0002_notes');
      expect(checksumError.message).toContain(checksumError.appliedChecksum);
      expect(checksumError.message).toContain(checksumError.fileChecksum);
      // 0003 was pending and must not have run.
      expect(await tableExists(db, 'fixture_app.tags')).toBe(false);
      expect(await catalogSnapshot(db)).toEqual(before);
      await rm(directory, { recursive: true, force: true });
    });

    it('refuses a database that recorded migrations the package does not know', async () => {
      const db = await backend.fresh();
      const migrations = await loadMigrations(fixture('basic'));
      await migrate(db, { migrations });
      const before = await catalogSnapshot(db);

      const older = migrations.slice(0, 2);
      const error = await rejectionOf(migrate(db, { migrations: older }));
      expect(error).toBeInstanceOf(UnknownAppliedMigrationError);
      expect((error as UnknownAppliedMigrationError).migrations).toEqual(['0003_tags']);
      expect(error.message).toContain('newer version');
      const rollbackError = await rejectionOf(rollback(db, { migrations: older, steps: 1 }));
      expect(rollbackError).toBeInstanceOf(UnknownAppliedMigrationError);
      expect(await catalogSnapshot(db)).toEqual(before);
    });

    it('rolls back only the failing file, keeps earlier ones, and reports the line', async () => {
      const db = await backend.fresh();
      const migrations = await loadMigrations(fixture('failing'));
      const error = await rejectionOf(migrate(db, { migrations }));

      expect(error).toBeInstanceOf(MigrationFailedError);
      const failure = error as MigrationFailedError;
      expect(failure.migration).toBe('0002_broken');
      expect(failure.direction).toBe('up');
      expect(failure.postgresCode).toBe('42P01');
      expect(failure.postgresMessage).toContain('missing_table');
      expect(failure.line).toBe(6);
      expect(failure.column).toBe(13);
      expect(failure.message).toContain('0002_broken.sql failed at line 6');

      expect(await appliedNames(db)).toEqual(['0001_ok']);
      expect(await tableExists(db, 'fixture_app.ok')).toBe(true);
      expect(await tableExists(db, 'fixture_app.half_done')).toBe(false);
      expect(await tableExists(db, 'fixture_app.never')).toBe(false);
    });

    it('names the do-block context when Postgres gives no position', async () => {
      const db = await backend.fresh();
      const broken = createMigration(
        '0001_divide',
        'create table public.fixture_divide (id integer);\ndo $$\nbegin\n  perform 1 / 0;\nend\n$$;\n',
      );
      const failure = (await rejectionOf(migrate(db, { migrations: [broken] }))) as MigrationFailedError;
      expect(failure).toBeInstanceOf(MigrationFailedError);
      expect(failure.postgresCode).toBe('22012');
      expect(failure.line).toBeUndefined();
      expect(failure.message).toContain('division by zero');
      expect(failure.message).toContain('PL/pgSQL');
      expect(await tableExists(db, 'public.fixture_divide')).toBe(false);
      expect(await appliedNames(db)).toEqual([]);
    });

    it('dry-run reports the plan and changes nothing, on a fresh and on a partly migrated database', async () => {
      const db = await backend.fresh();
      const migrations = await loadMigrations(fixture('basic'));
      const empty = await catalogSnapshot(db);
      const plan = await migrate(db, { migrations, dryRun: true });
      expect(plan.dryRun).toBe(true);
      expect(plan.applied).toEqual([
        { name: '0001_shim', executionMs: 0 },
        { name: '0002_notes', executionMs: 0 },
        { name: '0003_tags', executionMs: 0 },
      ]);
      expect(await catalogSnapshot(db)).toEqual(empty);

      await migrate(db, { migrations, target: '0001_shim' });
      const partly = await catalogSnapshot(db);
      const rest = await migrate(db, { migrations, dryRun: true });
      expect(rest.applied.map((entry) => entry.name)).toEqual(['0002_notes', '0003_tags']);
      expect(rest.skipped.map((entry) => entry.name)).toEqual(['0001_shim']);
      expect(await catalogSnapshot(db)).toEqual(partly);

      await migrate(db, { migrations });
      const full = await catalogSnapshot(db);
      const down = await rollback(db, { migrations, steps: 2, dryRun: true });
      expect(down.rolledBack.map((entry) => entry.name)).toEqual(['0003_tags', '0002_notes']);
      expect(await catalogSnapshot(db)).toEqual(full);
    });
  });

  describe('rollback', () => {
    it('rolls back N steps in reverse order, never further than asked, then re-applies', async () => {
      const db = await backend.fresh();
      const migrations = await loadMigrations(fixture('basic'));
      await migrate(db, { migrations });

      const events: MigrationEvent[] = [];
      const down = await rollback(db, { migrations, steps: 2, onEvent: (event) => events.push(event) });
      expect(down.rolledBack.map((entry) => entry.name)).toEqual(['0003_tags', '0002_notes']);
      expect(events.map((event) => event.type)).toEqual(['start', 'rolled-back', 'rolled-back']);
      expect(await appliedNames(db)).toEqual(['0001_shim']);
      expect(await tableExists(db, 'fixture_app.notes')).toBe(false);
      const uid = await db.query<{ uid: string }>('select fixture_auth.uid()::text as uid');
      expect(uid.rows[0]?.uid).toBe('00000000-0000-0000-0000-000000000001');

      const again = await migrate(db, { migrations });
      expect(again.applied.map((entry) => entry.name)).toEqual(['0002_notes', '0003_tags']);
      const tags = await db.query<{ n: number }>('select fixture_app.tag_count() as n');
      expect(tags.rows[0]?.n).toBe(3);

      const toFirst = await rollback(db, { migrations, to: '0002_notes' });
      expect(toFirst.rolledBack.map((entry) => entry.name)).toEqual(['0003_tags']);
      expect(await appliedNames(db)).toEqual(['0001_shim', '0002_notes']);
      const nothing = await rollback(db, { migrations, to: '0002_notes' });
      expect(nothing.rolledBack).toEqual([]);

      const all = await rollback(db, { migrations, steps: 10 });
      expect(all.rolledBack.map((entry) => entry.name)).toEqual(['0002_notes', '0001_shim']);
      expect(await appliedNames(db)).toEqual([]);
      expect(await schemaExists(db, 'fixture_auth')).toBe(false);
    });

    it('refuses before doing anything when a migration to roll back has no down script', async () => {
      const db = await backend.fresh();
      const directory = await copyFixture('basic');
      await rm(join(directory, '0002_notes.down.sql'));
      const migrations = await loadMigrations(directory);
      await migrate(db, { migrations });
      const before = await catalogSnapshot(db);

      const error = await rejectionOf(rollback(db, { migrations, steps: 2 }));
      expect(error).toBeInstanceOf(MissingDownMigrationError);
      expect((error as MissingDownMigrationError).migrations).toEqual(['0002_notes']);
      // 0003 has a down script but must not have been rolled back either.
      expect(await catalogSnapshot(db)).toEqual(before);

      expect((await rollback(db, { migrations, steps: 1 })).rolledBack.map((entry) => entry.name)).toEqual([
        '0003_tags',
      ]);
      await expect(rollback(db, { migrations })).rejects.toBeInstanceOf(InvalidMigrationOptionsError);
      await expect(rollback(db, { migrations, steps: 0 })).rejects.toBeInstanceOf(
        InvalidMigrationOptionsError,
      );
      await expect(rollback(db, { migrations, to: '0001_shim', steps: 1 })).rejects.toBeInstanceOf(
        InvalidMigrationOptionsError,
      );
      await rm(directory, { recursive: true, force: true });
    });
  });

  describe('migrationStatus', () => {
    it('reports applied, pending, changed, blocked and unknown applied rows without changing anything', async () => {
      const db = await backend.fresh();
      const basic = await loadMigrations(fixture('basic'));
      const fresh = await migrationStatus(db, { migrations: basic });
      expect(fresh.migrations.map((entry) => entry.state)).toEqual(['pending', 'pending', 'pending']);
      expect(await appliedNames(db)).toEqual([]);

      const [shim, notes, tags] = basic;
      if (!shim || !notes || !tags) throw new Error('fixture set incomplete');
      const extra = createMigration('0009_extra', 'create table public.fixture_extra (id integer);');
      // History: 0001 and 0002, plus 0009 which the status call below does not know about.
      await migrate(db, { migrations: [shim, notes, extra] });
      const changedNotes = createMigration(notes.name, `${notes.sql}\n-- edited\n`, notes.downSql);
      const blocked = createMigration(
        '0004_needs_extension',
        '-- tributary:requires-extension tributary_no_such_extension\ncreate extension tributary_no_such_extension;\n',
      );
      const before = await catalogSnapshot(db);

      const status = await migrationStatus(db, { migrations: [shim, changedNotes, tags, blocked] });
      expect(status.migrations.map((entry) => [entry.name, entry.state])).toEqual([
        ['0001_shim', 'applied'],
        ['0002_notes', 'changed'],
        ['0003_tags', 'pending'],
        ['0004_needs_extension', 'blocked'],
      ]);
      const [appliedEntry, changedEntry, , blockedEntry] = status.migrations;
      expect(appliedEntry?.appliedAt).toBeInstanceOf(Date);
      expect(changedEntry?.appliedChecksum).toBe(notes.checksum);
      expect(changedEntry?.checksum).toBe(changedNotes.checksum);
      expect(blockedEntry?.missingExtensions).toEqual(['tributary_no_such_extension']);
      expect(status.unknownApplied.map((record) => record.name)).toEqual(['0009_extra']);
      expect(await catalogSnapshot(db)).toEqual(before);
    });
  });
}
