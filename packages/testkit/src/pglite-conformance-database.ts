import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { createPgliteRepository } from '@tributary/core/pglite';
import { fromPglite, migrate, migrationsDirectory } from '@tributary/sql';
import { createPgliteDatabase } from '@tributary/testkit-postgres';
import type { ConformanceDatabase, ConformanceStore, DatabaseSettings } from './conformance-database.js';
import { createSqlConformanceStore } from './sql-conformance-store.js';

/** Changes whenever a bundled migration changes, so a stale snapshot is never reused. */
function migrationsFingerprint(): string {
  const hash = createHash('sha256');
  for (const file of readdirSync(migrationsDirectory).sort()) {
    hash.update(file).update(readFileSync(join(migrationsDirectory, file)));
  }
  return hash.digest('hex').slice(0, 16);
}

async function openPglite(dimensions: number): Promise<PGlite> {
  try {
    return await createPgliteDatabase({
      snapshot: {
        key: `tributary-testkit-conformance-${dimensions}-${migrationsFingerprint()}`,
        prepare: async (fresh) => {
          await migrate(fromPglite(fresh), { vector: { dimensions } });
        },
      },
    });
  } catch (error) {
    if (error instanceof Error && /Cannot find (module|package) '@electric-sql\/pglite/.test(error.message)) {
      throw new Error(
        '[tributary] [testkit] the conformance suite runs on PGlite by default: install @electric-sql/pglite and @electric-sql/pglite-pgvector as dev dependencies, or pass database: "memory".',
        { cause: error },
      );
    }
    throw error;
  }
}

/**
 * One PGlite database with every bundled migration applied (from a snapshot after the first
 * boot), the vector column sized for the suite's embedder; each store is a connector row in an
 * organisation of its own, written through the Postgres adapter as the service role.
 */
export async function createPgliteConformanceDatabase(
  settings: DatabaseSettings,
): Promise<ConformanceDatabase> {
  const pglite = await openPglite(settings.dimensions);
  return {
    createStore: (connectorType): Promise<ConformanceStore> =>
      createSqlConformanceStore(
        pglite,
        connectorType,
        createPgliteRepository(pglite, { actor: { role: 'service_role' } }),
      ),
    close: () => pglite.close(),
  };
}
