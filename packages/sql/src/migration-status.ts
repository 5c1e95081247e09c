import { loadMigrations } from './load-migrations.js';
import type { Migration } from './migration.js';
import {
  type AppliedMigrationRecord,
  findMissingExtensions,
  orderMigrations,
  readHistory,
} from './migration-history.js';
import type { SqlQueryable } from './sql-database.js';

/**
 * `applied`: recorded with the same checksum as the file. `pending`: not applied yet.
 * `changed`: applied, but the file's checksum differs now (migrate will refuse to run).
 * `blocked`: not applied and needs an extension the server does not offer.
 */
export type MigrationState = 'applied' | 'pending' | 'changed' | 'blocked';

export interface MigrationStatusEntry {
  name: string;
  state: MigrationState;
  /** Checksum of the file. */
  checksum: string;
  /** Checksum recorded when applied (differs from `checksum` when `changed`). */
  appliedChecksum?: string;
  appliedAt?: Date;
  executionMs?: number;
  /** Required extensions the server does not offer (non-empty when `blocked`). */
  missingExtensions: string[];
  hasDownScript: boolean;
}

export interface MigrationStatusResult {
  migrations: MigrationStatusEntry[];
  /** History rows for migrations the caller does not know: the database is newer than the package. */
  unknownApplied: AppliedMigrationRecord[];
}

export interface MigrationStatusOptions {
  /** Known migrations; default: the ones bundled with this package. */
  migrations?: readonly Migration[];
}

/** Reports each known migration's state against a database, without changing anything. */
export async function migrationStatus(
  db: SqlQueryable,
  options: MigrationStatusOptions = {},
): Promise<MigrationStatusResult> {
  const known = orderMigrations(options.migrations ?? (await loadMigrations()));
  const history = await readHistory(db);
  const byName = new Map(history.map((record) => [record.name, record]));
  const pending = known.filter((migration) => !byName.has(migration.name));
  const missing = await findMissingExtensions(
    db,
    pending.flatMap((migration) => migration.requiresExtensions),
  );
  const knownNames = new Set(known.map((migration) => migration.name));
  return {
    migrations: known.map((migration) => {
      const record = byName.get(migration.name);
      const base = {
        name: migration.name,
        checksum: migration.checksum,
        hasDownScript: migration.downSql !== undefined,
      };
      if (record) {
        return {
          ...base,
          state: record.checksum === migration.checksum ? 'applied' : 'changed',
          appliedChecksum: record.checksum,
          appliedAt: record.appliedAt,
          executionMs: record.executionMs,
          missingExtensions: [],
        };
      }
      const missingExtensions = migration.requiresExtensions.filter((name) => missing.has(name));
      return { ...base, state: missingExtensions.length > 0 ? 'blocked' : 'pending', missingExtensions };
    }),
    unknownApplied: history.filter((record) => !knownNames.has(record.name)),
  };
}
