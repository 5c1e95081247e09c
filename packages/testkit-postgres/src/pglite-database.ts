import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';

export interface PgliteDatabaseOptions {
  /**
   * Reuse a prepared database across test files and runs. The first call with a given key boots
   * PGlite, runs `prepare` (apply migrations, load fixtures) and saves the data directory; later
   * calls start from that saved copy, which takes about a second instead of a full boot + prepare.
   * Put everything `prepare` depends on (e.g. a hash of the migration files) into the key.
   */
  snapshot?: { key: string; prepare: (db: PGlite) => Promise<void> };
  /** Where snapshots are kept. Default: `<os tmpdir>/tributary-pglite-snapshots`. */
  snapshotDir?: string;
}

const defaultSnapshotDir = () => join(tmpdir(), 'tributary-pglite-snapshots');

/**
 * An in-process PostgreSQL (PGlite) with the pgvector extension available
 * (`create extension vector` works). Close it with `await db.close()`.
 */
export async function createPgliteDatabase(options: PgliteDatabaseOptions = {}): Promise<PGlite> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { vector } = await import('@electric-sql/pglite-pgvector');
  const extensions = { vector };
  const snapshot = options.snapshot;
  if (!snapshot) return PGlite.create({ extensions });

  const directory = options.snapshotDir ?? defaultSnapshotDir();
  const file = join(directory, `${snapshot.key.replace(/[^A-Za-z0-9._-]/g, '_')}.tar.gz`);
  const saved = await readFile(file).catch(() => undefined);
  if (saved) {
    return PGlite.create({ extensions, loadDataDir: new Blob([saved]) });
  }
  const db = await PGlite.create({ extensions });
  await snapshot.prepare(db);
  const dump = await db.dumpDataDir('gzip');
  await mkdir(directory, { recursive: true });
  // Write then rename, so a concurrent reader never sees half a file.
  const partial = `${file}.${process.pid}.${Date.now()}.partial`;
  await writeFile(partial, Buffer.from(await dump.arrayBuffer()));
  await rename(partial, file);
  return db;
}
