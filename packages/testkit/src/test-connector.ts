import { afterAll, describe, it } from 'vitest';
import { checks } from './conformance-checks.js';
import { type ConformanceDatabase, openConformanceDatabase } from './conformance-database.js';
import { connectorOf, LEASE_SECONDS, suiteEmbedder } from './conformance-harness.js';
import type { ConformanceCheckName, TestConnectorOptions } from './conformance-types.js';

function openDatabase(options: TestConnectorOptions): Promise<ConformanceDatabase> {
  return openConformanceDatabase(options.database, {
    dimensions: suiteEmbedder(options).dimensions,
    leaseSeconds: options.sync?.leaseSeconds ?? LEASE_SECONDS,
  });
}

/** The checks `testConnector` registers for these options (all, or all but the HTTP faults one). */
export function applicableChecks(options: Pick<TestConnectorOptions, 'httpFaults'>): ConformanceCheckName[] {
  return (Object.keys(checks) as ConformanceCheckName[]).filter(
    (name) => name !== 'survives rate limits and server errors' || options.httpFaults !== false,
  );
}

/**
 * Runs one check outside `testConnector` (a rejected promise is a failed check), in a database
 * of its own that is closed afterwards.
 */
export async function runConformanceCheck(
  name: ConformanceCheckName,
  options: TestConnectorOptions,
): Promise<void> {
  const check = checks[name];
  if (!check) throw new TypeError(`[tributary] [testkit] unknown conformance check ${JSON.stringify(name)}`);
  const database = await openDatabase(options);
  try {
    await check({ options, database });
  } finally {
    await database.close();
  }
}

/**
 * Registers the connector conformance suite with vitest: call it at the top level of a test file.
 * Every check runs the real pipeline (`runSync`) with the lexical embedder on a fresh source from
 * `options.source()`, storing into PGlite with every bundled migration applied (one database for
 * the file, a connector of its own per check; `database: 'memory'` uses core's in-memory
 * repository instead).
 *
 * @example
 * testConnector({
 *   connector: () => createFolderConnector({ checkpointEvery: 2 }),
 *   source: async () => createFolderSource(),   // your fixture
 *   invalidConfigs: [{ config: { path: 'relative/path' }, field: 'path' }],
 * });
 */
export function testConnector(options: TestConnectorOptions): void {
  const name = options.name ?? connectorOf(options).type;
  const timeout = options.timeoutMs ?? 120_000;
  describe(`${name}: connector conformance`, () => {
    let opened: Promise<ConformanceDatabase> | undefined;
    const database = () => {
      opened ??= openDatabase(options);
      return opened;
    };
    afterAll(async () => {
      if (opened) await (await opened).close();
    });
    for (const check of applicableChecks(options)) {
      it(check, async () => checks[check]({ options, database: await database() }), timeout);
    }
  });
}
