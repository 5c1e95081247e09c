import {
  InvalidMigrationOptionsError,
  MigrationNotFoundError,
  MissingDownMigrationError,
  MissingExtensionError,
} from './errors.js';
import { loadMigrations } from './load-migrations.js';
import type { Migration } from './migration.js';
import {
  deleteApplied,
  findMissingExtensions,
  lockHistory,
  orderMigrations,
  readHistory,
  recordApplied,
  toMigrationFailedError,
  verifyHistory,
} from './migration-history.js';
import type { SqlDatabase, SqlNotice, SqlQueryable } from './sql-database.js';
import {
  assertSameVectorSettings,
  normalizeVectorOptions,
  passVectorSettings,
  readVectorSettings,
  type VectorOptions,
} from './vector-settings.js';

/** Progress reported while migrating or rolling back, e.g. to print one line per migration. */
export type MigrationEvent =
  | { type: 'start'; direction: 'up' | 'down'; dryRun: boolean; planned: string[] }
  | { type: 'applied'; name: string; executionMs: number; dryRun: boolean }
  | { type: 'rolled-back'; name: string; executionMs: number; dryRun: boolean }
  | { type: 'skipped'; name: string; reason: MigrationSkipReason }
  | { type: 'deferred'; name: string; missingExtensions: string[] }
  | ({ type: 'warning' } & MigrationWarning);

/**
 * A `raise warning` a migration (or down script) sent while it ran, e.g. 0012_input_guards saying
 * which legacy rows it repaired. Reported only for files whose transaction committed. NOTICE-level
 * messages (`create table if not exists` skipping, ...) are not warnings and are left out.
 */
export interface MigrationWarning {
  /** The migration that raised it. */
  name: string;
  direction: 'up' | 'down';
  message: string;
  detail?: string | undefined;
  hint?: string | undefined;
}

/**
 * `already-applied`: recorded before this run started. `applied-concurrently`: another runner
 * applied it while this one waited for the lock. `rolled-back-concurrently`: another runner
 * rolled it back meanwhile.
 */
export type MigrationSkipReason = 'already-applied' | 'applied-concurrently' | 'rolled-back-concurrently';

export interface MigrateOptions {
  /** Migrations to apply; default: the ones bundled with this package (`loadMigrations()`). */
  migrations?: readonly Migration[];
  /** Work out and report the plan (in `applied`, with `executionMs: 0`) without changing anything. */
  dryRun?: boolean;
  /**
   * What to do with a pending file that requires an extension the server does not offer.
   * Default (`false`): throw {@link MissingExtensionError} before applying anything. `true`: skip
   * every such file (not recorded, so a later run applies it once the extension is there) and go
   * on with later files. A list: defer only files whose missing extensions are all in it.
   */
  deferMissingExtensions?: boolean | readonly string[];
  /** Stop after this migration (name such as `0002_schema`); later files stay pending. */
  target?: string;
  onEvent?: (event: MigrationEvent) => void;
  /**
   * Type and size of stored embeddings, used when `0010_vector_models` is applied (default: keep
   * the column as it is, `vector(1536)` on a new database). Once applied, a different value is
   * refused with {@link VectorSettingsMismatchError} before anything runs.
   */
  vector?: VectorOptions | undefined;
}

export interface MigrationTiming {
  name: string;
  /** Time spent running the file (0 on a dry run). */
  executionMs: number;
}

export interface MigrateResult {
  dryRun: boolean;
  /** Applied by this call, in order; on a dry run, what would be applied. */
  applied: MigrationTiming[];
  skipped: { name: string; reason: MigrationSkipReason }[];
  /** Pending files left out because the server lacks an extension they require. */
  deferred: { name: string; missingExtensions: string[] }[];
  /** Warnings raised by the files applied (none on a dry run, which runs nothing). */
  warnings: MigrationWarning[];
  durationMs: number;
}

function findIndex(migrations: readonly Migration[], name: string): number {
  const wanted = name.endsWith('.sql') ? name.slice(0, -'.sql'.length) : name;
  const index = migrations.findIndex((migration) => migration.name === wanted);
  if (index < 0) {
    throw new MigrationNotFoundError(
      name,
      migrations.map((migration) => migration.name),
    );
  }
  return index;
}

function elapsedSince(start: number): number {
  return Math.round(performance.now() - start);
}

/** Runs one migration file (or down script), collecting the WARNING messages it raises. */
async function execCollectingWarnings(
  tx: SqlQueryable,
  sql: string,
  name: string,
  direction: 'up' | 'down',
  warnings: MigrationWarning[],
  dryRun = false,
): Promise<void> {
  const onNotice = (notice: SqlNotice) => {
    if (notice.severity.toUpperCase() !== 'WARNING') return;
    warnings.push({ name, direction, message: notice.message, detail: notice.detail, hint: notice.hint });
  };
  try {
    await tx.exec(sql, { onNotice });
  } catch (error) {
    throw toMigrationFailedError(error, name, direction, sql, dryRun);
  }
}

function emitWarnings(warnings: readonly MigrationWarning[], onEvent: MigrateOptions['onEvent']): void {
  for (const warning of warnings) onEvent?.({ type: 'warning', ...warning });
}

/**
 * Applies pending migrations in name order, each file in its own transaction that first takes
 * the advisory lock {@link migrationLockKey}, so concurrent runners (several app instances
 * starting at once) apply each file exactly once. Before anything runs it refuses a database
 * whose history holds unknown migrations or applied files whose checksum changed. Needs a
 * direct or session connection (not a transaction pooler) since files may hold session state.
 */
export async function migrate(db: SqlDatabase, options: MigrateOptions = {}): Promise<MigrateResult> {
  const started = performance.now();
  const dryRun = options.dryRun ?? false;
  const known = orderMigrations(options.migrations ?? (await loadMigrations()));
  const last = options.target === undefined ? known.length - 1 : findIndex(known, options.target);

  const history = await readHistory(db);
  verifyHistory(known, history);
  const appliedNames = new Set(history.map((record) => record.name));
  const vector = options.vector === undefined ? undefined : normalizeVectorOptions(options.vector);
  assertSameVectorSettings(await readVectorSettings(db), vector);

  const result: MigrateResult = {
    dryRun,
    applied: [],
    skipped: [],
    deferred: [],
    warnings: [],
    durationMs: 0,
  };
  const inScope = known.slice(0, last + 1);
  const pending = inScope.filter((migration) => !appliedNames.has(migration.name));
  const missing = await findMissingExtensions(
    db,
    pending.flatMap((migration) => migration.requiresExtensions),
  );
  const deferList = options.deferMissingExtensions ?? false;
  const toApply: Migration[] = [];
  const deferred = new Map<string, string[]>();
  for (const migration of pending) {
    const lacking = migration.requiresExtensions.filter((extension) => missing.has(extension));
    if (lacking.length === 0) {
      toApply.push(migration);
      continue;
    }
    const notDeferrable = lacking.filter(
      (name) => !(deferList === true || (Array.isArray(deferList) && deferList.includes(name))),
    );
    const [first] = notDeferrable;
    if (first !== undefined) throw new MissingExtensionError(migration.name, first);
    deferred.set(migration.name, lacking);
  }

  options.onEvent?.({
    type: 'start',
    direction: 'up',
    dryRun,
    planned: toApply.map((migration) => migration.name),
  });
  for (const migration of inScope) {
    if (appliedNames.has(migration.name)) {
      result.skipped.push({ name: migration.name, reason: 'already-applied' });
      options.onEvent?.({ type: 'skipped', name: migration.name, reason: 'already-applied' });
      continue;
    }
    const lacking = deferred.get(migration.name);
    if (lacking) {
      result.deferred.push({ name: migration.name, missingExtensions: lacking });
      options.onEvent?.({ type: 'deferred', name: migration.name, missingExtensions: lacking });
      continue;
    }
    if (dryRun) {
      result.applied.push({ name: migration.name, executionMs: 0 });
      options.onEvent?.({ type: 'applied', name: migration.name, executionMs: 0, dryRun });
      continue;
    }
    const warnings: MigrationWarning[] = [];
    const outcome = await db.transaction(async (tx) => {
      const current = await lockHistory(tx);
      // Another runner (maybe another version of the package) may have moved on meanwhile.
      verifyHistory(known, current);
      if (current.some((record) => record.name === migration.name)) return undefined;
      const start = performance.now();
      try {
        await passVectorSettings(tx, vector);
      } catch (error) {
        throw toMigrationFailedError(error, migration.name, 'up', migration.sql);
      }
      await execCollectingWarnings(tx, migration.sql, migration.name, 'up', warnings);
      const executionMs = elapsedSince(start);
      await recordApplied(tx, migration, executionMs);
      return executionMs;
    });
    if (outcome === undefined) {
      result.skipped.push({ name: migration.name, reason: 'applied-concurrently' });
      options.onEvent?.({ type: 'skipped', name: migration.name, reason: 'applied-concurrently' });
    } else {
      result.applied.push({ name: migration.name, executionMs: outcome });
      options.onEvent?.({ type: 'applied', name: migration.name, executionMs: outcome, dryRun });
      result.warnings.push(...warnings);
      emitWarnings(warnings, options.onEvent);
    }
  }
  result.durationMs = elapsedSince(started);
  return result;
}

export interface RollbackOptions {
  /** Roll back every applied migration after this one (it stays applied). */
  to?: string;
  /** Roll back this many of the latest applied migrations (at least 1). */
  steps?: number;
  /** Known migrations; default: the ones bundled with this package. */
  migrations?: readonly Migration[];
  /**
   * Report what would be rolled back (in `rolledBack`) without changing anything. The down scripts
   * really run, under the same lock, in a transaction that is then rolled back: a script that
   * refuses (0003_schema on a database upgraded in place) makes the dry run fail exactly as the real
   * rollback would, instead of promising a plan that cannot happen.
   */
  dryRun?: boolean;
  onEvent?: (event: MigrationEvent) => void;
}

export interface RollbackResult {
  dryRun: boolean;
  /** Rolled back by this call, latest first; on a dry run, what would be rolled back. */
  rolledBack: MigrationTiming[];
  skipped: { name: string; reason: MigrationSkipReason }[];
  /** Warnings the down scripts raised. */
  warnings: MigrationWarning[];
  durationMs: number;
}

/** Thrown inside a dry run's transaction so that it rolls back; never escapes `rollback`. */
const undoDryRun = Symbol('tributary.rollback.dry-run');

interface DownOutcome {
  name: string;
  /** undefined: another runner rolled it back meanwhile. */
  executionMs: number | undefined;
}

/**
 * Runs down scripts (`NNNN_name.down.sql`) in reverse name order, all in one transaction under the
 * advisory lock (all or nothing), deleting their history rows. Pass exactly one of `to` or `steps`. Checks
 * up front that every migration to roll back has a down script and an unchanged checksum. A dry run
 * takes the same path and rolls its transaction back at the end, so it lists and refuses the same.
 */
export async function rollback(db: SqlDatabase, options: RollbackOptions): Promise<RollbackResult> {
  const started = performance.now();
  const dryRun = options.dryRun ?? false;
  if ((options.to === undefined) === (options.steps === undefined)) {
    throw new InvalidMigrationOptionsError(
      'rollback needs exactly one of `to` (a migration name) or `steps` (a count).',
    );
  }
  if (options.steps !== undefined && !(Number.isInteger(options.steps) && options.steps >= 1)) {
    throw new InvalidMigrationOptionsError(
      `rollback \`steps\` must be a whole number of at least 1, got ${options.steps}.`,
    );
  }
  const known = orderMigrations(options.migrations ?? (await loadMigrations()));
  const history = await readHistory(db);
  verifyHistory(known, history);
  const appliedNames = new Set(history.map((record) => record.name));
  const applied = known.filter((migration) => appliedNames.has(migration.name));

  let targets: Migration[];
  if (options.to !== undefined) {
    const keep = known[findIndex(known, options.to)]?.name ?? '';
    targets = applied.filter((migration) => migration.name > keep);
  } else {
    targets = applied.slice(-(options.steps ?? 1));
  }
  targets.reverse();
  const withoutDown = targets
    .filter((migration) => migration.downSql === undefined)
    .map((migration) => migration.name);
  if (withoutDown.length > 0) throw new MissingDownMigrationError(withoutDown);

  const result: RollbackResult = { dryRun, rolledBack: [], skipped: [], warnings: [], durationMs: 0 };
  options.onEvent?.({
    type: 'start',
    direction: 'down',
    dryRun,
    planned: targets.map((migration) => migration.name),
  });
  const warnings: MigrationWarning[] = [];
  // All down scripts of one rollback run in ONE transaction: if any refuses (e.g. 0003_schema on a
  // database upgraded in place), nothing is rolled back, rather than leaving the schema half undone.
  const runDownScripts = async (tx: SqlQueryable): Promise<DownOutcome[]> => {
    const current = await lockHistory(tx);
    verifyHistory(known, current);
    const stillApplied = new Set(current.map((record) => record.name));
    const done: DownOutcome[] = [];
    for (const migration of targets) {
      if (!stillApplied.has(migration.name)) {
        done.push({ name: migration.name, executionMs: undefined });
        continue;
      }
      const downSql = migration.downSql ?? '';
      const start = performance.now();
      await execCollectingWarnings(tx, downSql, migration.name, 'down', warnings, dryRun);
      await deleteApplied(tx, migration.name);
      done.push({ name: migration.name, executionMs: elapsedSince(start) });
    }
    return done;
  };
  let outcomes: DownOutcome[] = [];
  if (targets.length > 0) {
    if (dryRun) {
      await db
        .transaction(async (tx) => {
          outcomes = await runDownScripts(tx);
          throw undoDryRun;
        })
        .catch((error: unknown) => {
          if (error !== undoDryRun) throw error;
        });
    } else {
      outcomes = await db.transaction(runDownScripts);
    }
  }
  for (const outcome of outcomes) {
    if (outcome.executionMs === undefined) {
      result.skipped.push({ name: outcome.name, reason: 'rolled-back-concurrently' });
      options.onEvent?.({ type: 'skipped', name: outcome.name, reason: 'rolled-back-concurrently' });
    } else {
      const executionMs = dryRun ? 0 : outcome.executionMs;
      result.rolledBack.push({ name: outcome.name, executionMs });
      options.onEvent?.({ type: 'rolled-back', name: outcome.name, executionMs, dryRun });
    }
  }
  result.warnings.push(...warnings);
  emitWarnings(warnings, options.onEvent);
  result.durationMs = elapsedSince(started);
  return result;
}
