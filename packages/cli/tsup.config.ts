import { defineConfig } from 'tsup';

// The demo (examples/demo and its folder connector: private workspace packages, TypeScript
// sources) is bundled in, so the published CLI runs the same demo as scripts/demo.sh.
const noExternal = ['@tributary/examples-demo', '@tributary/examples-folder-connector'];

export default defineConfig([
  {
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    // Both builds run at once: keep the bin files the second one writes (bin.js loads the
    // commands as a separate chunk, after its Node.js version check).
    clean: ['!bin.js', '!bin.js.map', '!program-*.js', '!program-*.js.map', '!chunk-*.js', '!chunk-*.js.map'],
    sourcemap: true,
    target: 'node22',
    noExternal,
    // import.meta.url (finding the clone's example corpus) in the CJS build.
    shims: true,
  },
  {
    // The `tributary` executable: ESM only, keeps its `#!/usr/bin/env node` line.
    entry: ['src/bin.ts'],
    format: ['esm'],
    dts: false,
    clean: false,
    sourcemap: true,
    target: 'node22',
    noExternal,
  },
]);
