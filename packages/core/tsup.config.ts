import { defineConfig } from 'tsup';

export default defineConfig({
  // `openai` is its own entry so the optional `openai` peer dependency is only loaded by hosts that import it.
  entry: ['src/index.ts', 'src/openai.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node22',
});
