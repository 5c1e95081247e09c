import { defineConfig } from 'tsup';

export default defineConfig([
  {
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    // Both builds run at once: keep the bin files the second one writes.
    clean: ['!bin.js', '!bin.js.map'],
    sourcemap: true,
    target: 'node22',
  },
  {
    // The `tributary` executable: ESM only, keeps its `#!/usr/bin/env node` line.
    entry: ['src/bin.ts'],
    format: ['esm'],
    dts: false,
    clean: false,
    sourcemap: true,
    target: 'node22',
  },
]);
