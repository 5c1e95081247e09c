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
export {
  type FaultInjectionOptions,
  type FaultInjector,
  type InjectedFault,
  injectFaults,
} from './fault-injection.js';
export {
  applicableChecks,
  type ConformanceCheckName,
  type ConformanceDocument,
  type ConformanceRun,
  type ConformanceSource,
  type InvalidConfigCase,
  runConformanceCheck,
  type TestConnectorOptions,
  testConnector,
} from './test-connector.js';
