import { InvalidMigrationOptionsError, VectorSettingsMismatchError } from './errors.js';
import type { SqlQueryable } from './sql-database.js';

/**
 * How embeddings are stored, chosen by the host when `0010_vector_models` is applied:
 * `vector` (4 bytes a value, HNSW up to 2,000 dimensions) or `halfvec` (2 bytes a value, half the
 * storage and index size, HNSW up to 4,000 dimensions; recall is about the same for cosine).
 */
export interface VectorOptions {
  /** Size of every stored embedding; must match the embedder (e.g. 1536 for text-embedding-3-small). */
  dimensions: number;
  /** Default `vector`. */
  type?: 'vector' | 'halfvec' | undefined;
}

export interface VectorSettings {
  type: 'vector' | 'halfvec';
  dimensions: number;
}

/** Checks the option's shape; returns it with the default type filled in. */
export function normalizeVectorOptions(options: VectorOptions): VectorSettings {
  const type = options.type ?? 'vector';
  if (type !== 'vector' && type !== 'halfvec') {
    throw new InvalidMigrationOptionsError(
      `vector.type must be "vector" or "halfvec", got "${String(type)}".`,
    );
  }
  const limit = type === 'vector' ? 2000 : 4000;
  if (!Number.isInteger(options.dimensions) || options.dimensions < 1 || options.dimensions > limit) {
    throw new InvalidMigrationOptionsError(
      `vector.dimensions must be a whole number from 1 to ${limit} for ${type} (the most HNSW indexes), ` +
        `got ${options.dimensions}.${type === 'vector' ? ' Use type "halfvec" for up to 4000.' : ''}`,
    );
  }
  return { type, dimensions: options.dimensions };
}

/** The stored settings, or undefined before `0010_vector_models` is applied. */
export async function readVectorSettings(db: SqlQueryable): Promise<VectorSettings | undefined> {
  const { rows } = await db.query<{ present: boolean }>(
    "select to_regclass('tributary_private.vector_settings') is not null as present",
  );
  if (!rows[0]?.present) return undefined;
  const settings = await db.query<{ vector_type: 'vector' | 'halfvec'; dimensions: number }>(
    'select vector_type, dimensions from tributary_private.vector_settings',
  );
  const [row] = settings.rows;
  return row ? { type: row.vector_type, dimensions: Number(row.dimensions) } : undefined;
}

/** Refuses a requested setting that differs from the stored one (before anything is applied). */
export function assertSameVectorSettings(
  stored: VectorSettings | undefined,
  requested: VectorSettings | undefined,
): void {
  if (!stored || !requested) return;
  if (stored.type !== requested.type || stored.dimensions !== requested.dimensions) {
    throw new VectorSettingsMismatchError(stored, requested);
  }
}

/**
 * Hands the setting to the vector migration as transaction-local settings (the file's text, and so
 * its checksum, stays the same whatever the host chose).
 */
export async function passVectorSettings(
  tx: SqlQueryable,
  requested: VectorSettings | undefined,
): Promise<void> {
  if (!requested) return;
  await tx.query(
    "select set_config('tributary.vector_type', $1, true), set_config('tributary.vector_dimensions', $2, true)",
    [requested.type, String(requested.dimensions)],
  );
}
