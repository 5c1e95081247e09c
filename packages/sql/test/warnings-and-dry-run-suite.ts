// Warnings raised by migrations reach the caller, and a dry-run rollback agrees with the real one
// (same migrations in the same order, same refusals). Run on PGlite and on a PostgreSQL server.
import { describe, expect, it } from 'vitest';
import {
  createMigration,
  loadMigrations,
  type Migration,
  type MigrationEvent,
  MigrationFailedError,
  MissingDownMigrationError,
  migrate,
  type RollbackOptions,
  rollback,
  type SqlDatabase,
} from '../src/index.js';
import { appliedNames, catalogSnapshot, fixture, rejectionOf } from './helpers.js';
import type { RunnerBackend } from './runner-suite.js';

const warns = createMigration(
  '0004_warns',
  `do $$ begin
     raise notice 'only a notice';
     raise warning 'repaired % rows', 2 using detail = 'ids 1 and 2', hint = 'See fixture_app.notes';
   end $$;
   create table if not exists fixture_app.notes (id integer);
   do $$ begin raise warning 'second warning'; end $$;`,
  `do $$ begin raise warning 'undone'; end $$;`,
);

/** A migration whose down script refuses, the way 0003_schema does on an upgraded database. */
const refusing = createMigration(
  '0004_refusing',
  'create table fixture_app.kept (id integer);',
  `drop table fixture_app.kept;
   do $$ begin
     raise exception using errcode = '55000', message = 'refusing to undo 0004_refusing', hint = 'Fix forward instead.';
   end $$;`,
);
const plain = createMigration(
  '0005_plain',
  'create table fixture_app.plain (id integer);',
  'drop table fixture_app.plain;',
);

async function outcomeOf(
  db: SqlDatabase,
  migrations: readonly Migration[],
  options: Pick<RollbackOptions, 'to' | 'steps'>,
  dryRun: boolean,
) {
  const events: MigrationEvent[] = [];
  const onEvent = (event: MigrationEvent) => events.push(event);
  try {
    const result = await rollback(db, { migrations, ...options, dryRun, onEvent });
    return { names: result.rolledBack.map((entry) => entry.name), events, error: undefined };
  } catch (error) {
    return { names: undefined, events, error: error as Error };
  }
}

export function defineWarningsAndDryRunSuite(backend: RunnerBackend): void {
  describe('migration warnings', () => {
    it('returns the WARNINGs a file raises (not its NOTICEs), in order, as results and events, up and down', async () => {
      const db = await backend.fresh();
      const migrations = [...(await loadMigrations(fixture('basic'))), warns];
      const events: MigrationEvent[] = [];
      const result = await migrate(db, { migrations, onEvent: (event) => events.push(event) });
      expect(result.warnings).toEqual([
        {
          name: '0004_warns',
          direction: 'up',
          message: 'repaired 2 rows',
          detail: 'ids 1 and 2',
          hint: 'See fixture_app.notes',
        },
        { name: '0004_warns', direction: 'up', message: 'second warning' },
      ]);
      // Reported right after the file that raised them.
      expect(events.map((event) => event.type).slice(-3)).toEqual(['applied', 'warning', 'warning']);
      expect(events.filter((event) => event.type === 'warning')).toEqual(
        result.warnings.map((warning) => ({ type: 'warning', ...warning })),
      );
      expect((await migrate(db, { migrations })).warnings).toEqual([]);

      const down = await rollback(db, { migrations, steps: 1 });
      expect(down.warnings).toEqual([{ name: '0004_warns', direction: 'down', message: 'undone' }]);
    });

    it('reports no warnings from a file that failed (its transaction, warnings included, was undone)', async () => {
      const db = await backend.fresh();
      const failing = createMigration(
        '0001_warns_then_fails',
        "do $$ begin raise warning 'about to fail'; end $$;\nselect 1 / 0;",
      );
      const events: MigrationEvent[] = [];
      const error = await rejectionOf(
        migrate(db, { migrations: [failing], onEvent: (event) => events.push(event) }),
      );
      expect(error).toBeInstanceOf(MigrationFailedError);
      expect(events.filter((event) => event.type === 'warning')).toEqual([]);
    });
  });

  describe('rollback dry run', () => {
    it('lists the same migrations in the same order as the real rollback, and changes nothing', async () => {
      const db = await backend.fresh();
      const migrations = [...(await loadMigrations(fixture('basic'))), plain];
      const cases: Pick<RollbackOptions, 'to' | 'steps'>[] = [
        { steps: 1 },
        { steps: 3 },
        { to: '0001_shim' },
        { steps: 99 },
      ];
      for (const options of cases) {
        await migrate(db, { migrations });
        const before = await catalogSnapshot(db);
        const dry = await outcomeOf(db, migrations, options, true);
        expect(await catalogSnapshot(db)).toEqual(before);
        const real = await outcomeOf(db, migrations, options, false);
        expect(dry.error).toBeUndefined();
        expect(real.error).toBeUndefined();
        expect(dry.names).toEqual(real.names);
        expect(dry.names?.length).toBeGreaterThan(0);
        expect(dry.events.map((event) => event.type)).toEqual(real.events.map((event) => event.type));
      }
    });

    it('refuses exactly as the real rollback does, and both messages say what really happened', async () => {
      const db = await backend.fresh();
      const migrations = [...(await loadMigrations(fixture('basic'))), refusing, plain];
      await migrate(db, { migrations });
      const before = await catalogSnapshot(db);

      const dry = await outcomeOf(db, migrations, { to: '0002_notes' }, true);
      expect(await catalogSnapshot(db)).toEqual(before);
      const real = await outcomeOf(db, migrations, { to: '0002_notes' }, false);
      expect(await catalogSnapshot(db)).toEqual(before);
      // 0005_plain's down script ran before the refusal in the same transaction: undone as well.
      expect(await appliedNames(db)).toEqual([
        '0001_shim',
        '0002_notes',
        '0003_tags',
        '0004_refusing',
        '0005_plain',
      ]);

      for (const outcome of [dry, real]) {
        expect(outcome.error).toBeInstanceOf(MigrationFailedError);
        expect(outcome.error).toMatchObject({
          migration: '0004_refusing',
          direction: 'down',
          postgresCode: '55000',
          hint: 'Fix forward instead.',
        });
        expect(outcome.error?.message).toContain(
          '0004_refusing.down.sql failed: refusing to undo 0004_refusing (SQLSTATE 55000)',
        );
        expect(outcome.error?.message).toContain('Hint: Fix forward instead.');
        // Neither reports a migration as rolled back: the only event is the plan.
        expect(outcome.events.map((event) => event.type)).toEqual(['start']);
      }
      expect((dry.error as MigrationFailedError).dryRun).toBe(true);
      expect(dry.error?.message).toMatch(
        /Dry run: .*nothing changed; the real rollback would fail the same way\.$/,
      );
      expect((real.error as MigrationFailedError).dryRun).toBe(false);
      expect(real.error?.message).toMatch(/nothing was rolled back and every migration stays applied\.$/);
      // The old message claimed the failing migration alone stayed applied.
      expect(real.error?.message).not.toContain('later down scripts did not run');

      // A missing down script is refused up front, the same way in both.
      const withoutDown = createMigration('0006_no_down', 'create table fixture_app.no_down (id integer);');
      const all = [...migrations, withoutDown];
      await migrate(db, { migrations: all });
      const missingDry = await outcomeOf(db, all, { steps: 2 }, true);
      const missingReal = await outcomeOf(db, all, { steps: 2 }, false);
      for (const outcome of [missingDry, missingReal]) {
        expect(outcome.error).toBeInstanceOf(MissingDownMigrationError);
        expect((outcome.error as MissingDownMigrationError).migrations).toEqual(['0006_no_down']);
      }
      expect(missingDry.error?.message).toBe(missingReal.error?.message);
    });
  });
}
