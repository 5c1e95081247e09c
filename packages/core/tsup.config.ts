import { defineConfig } from 'tsup';

export default defineConfig({
  // `testing` holds the in-memory repository. `openai`, `pglite`, `postgres` and `supabase` are their own entries so their optional peer dependencies are only needed by hosts that import them.
  entry: [
    'src/index.ts',
    'src/extractors.ts',
    'src/openai.ts',
    'src/pglite.ts',
    'src/postgres.ts',
    'src/supabase.ts',
    'src/testing.ts',
  ],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node22',
  // import.meta.url in the CJS build (resolving pdfjs-dist's cMaps next to core).
  shims: true,
});
