// The Postgres harnesses, re-exported so one devDependency gives a connector's tests everything.
export {
  createPgliteDatabase,
  findPgvectorBinDir,
  httpStatusForSqlState,
  type PgliteDatabaseOptions,
  PgvectorServerMissingError,
  type PostgresServer,
  type PostgresServerOptions,
  type PostgrestServer,
  type PostgrestServerOptions,
  startPostgresServer,
  startPostgrestServer,
} from '@tributary/testkit-postgres';
export type {
  ConformanceDatabase,
  ConformanceDatabaseOption,
  ConformanceStore,
  DatabaseSettings,
  StoredDocument,
} from './conformance-database.js';
export { openConformanceDatabase } from './conformance-database.js';
export type {
  ConformanceCheckName,
  ConformanceDocument,
  ConformanceRun,
  ConformanceSource,
  InvalidConfigCase,
  TestConnectorOptions,
} from './conformance-types.js';
export {
  type FaultInjectionOptions,
  type FaultInjector,
  type InjectedFault,
  injectFaults,
} from './fault-injection.js';
export { applicableChecks, runConformanceCheck, testConnector } from './test-connector.js';
