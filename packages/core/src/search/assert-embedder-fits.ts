import type { Embedder } from '../embedding/embedder.js';
import { InvalidConfigError } from '../errors/index.js';
import type { StoredVectorSettings } from '../repository/knowledge-repository.js';

/**
 * Refuses an embedder whose vectors the database cannot store or compare (another size than the
 * `document_chunks.embedding` column), before a single text is embedded and paid for. Settings
 * undefined (no pgvector) are left to the caller, which has its own message for that case.
 */
export function assertEmbedderFits(embedder: Embedder, settings: StoredVectorSettings | undefined): void {
  if (settings === undefined || settings.dimensions === null) return;
  if (embedder.dimensions === settings.dimensions) return;
  throw new InvalidConfigError({
    subject: 'embedder',
    issues: [
      {
        fieldPath: 'dimensions',
        message:
          `${embedder.id} makes ${embedder.dimensions}-dimension vectors, and this database stores ` +
          `${settings.type}(${settings.dimensions})`,
      },
    ],
    hint:
      `Use an embedder of ${settings.dimensions} dimensions (OpenAI text-embedding-3 models take a dimensions ` +
      'option), or, for a new database, migrate with vector: { dimensions: ' +
      `${embedder.dimensions} } (CLI: tributary migrate --vector-dimensions ${embedder.dimensions}). ` +
      'Nothing was embedded',
  });
}
