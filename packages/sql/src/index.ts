export type { Database as TributaryDatabase } from './database.types.js';
export {
  InvalidMigrationError,
  InvalidMigrationOptionsError,
  MigrationChecksumError,
  MigrationFailedError,
  MigrationNotFoundError,
  MissingDownMigrationError,
  MissingExtensionError,
  SupabaseExportConflictError,
  TributarySqlError,
  UnknownAppliedMigrationError,
  VectorSettingsMismatchError,
} from './errors.js';
export type {
  ExportedMigrationFile,
  ExportSupabaseMigrationsOptions,
  ExportSupabaseMigrationsResult,
} from './export-supabase-migrations.js';
export { exportSupabaseMigrations } from './export-supabase-migrations.js';
export type { GenerateDatabaseTypesOptions } from './generate-database-types.js';
export { generateDatabaseTypes } from './generate-database-types.js';
export type { LintDatabaseOptions, LintFinding, LintRule } from './lint-database.js';
export { lintDatabase, lintRules } from './lint-database.js';
export { loadMigrations } from './load-migrations.js';
export type { Migration } from './migration.js';
export { createMigration } from './migration.js';
export type { AppliedMigrationRecord } from './migration-history.js';
export { migrationLockKey } from './migration-history.js';
export type {
  MigrateOptions,
  MigrateResult,
  MigrationEvent,
  MigrationSkipReason,
  MigrationTiming,
  MigrationWarning,
  RollbackOptions,
  RollbackResult,
} from './migration-runner.js';
export { migrate, rollback } from './migration-runner.js';
export type {
  MigrationState,
  MigrationStatusEntry,
  MigrationStatusOptions,
  MigrationStatusResult,
} from './migration-status.js';
export { migrationStatus } from './migration-status.js';
export { migrationsDirectory } from './migrations-directory.js';
export type {
  ExecOptions,
  PgClientLike,
  PgliteLike,
  PgliteTransactionLike,
  PgPoolLike,
  SqlDatabase,
  SqlNotice,
  SqlQueryable,
} from './sql-database.js';
export { fromPg, fromPglite } from './sql-database.js';
export type { VectorOptions, VectorSettings } from './vector-settings.js';
export { readVectorSettings } from './vector-settings.js';
