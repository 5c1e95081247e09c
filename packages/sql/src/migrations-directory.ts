import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Absolute path of the `migrations/` folder shipped in this package. Both `src/` and `dist/` sit
 * next to it, so one `..` works from the sources (tests) and from the ESM and CJS builds (tsup's
 * `shims` turns `import.meta.url` into the CJS equivalent).
 */
export const migrationsDirectory: string = join(dirname(fileURLToPath(import.meta.url)), '..', 'migrations');
