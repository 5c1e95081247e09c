import { defineConfig } from 'vitest/config';

// Shared by every package's vitest.config.ts. Real databases boot in seconds, hence the timeouts;
// the JSON report feeds scripts/print-test-summary.mjs (the closing "N passed, N failed" line).
export const sharedTestConfig = defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 180_000,
    reporters: ['default', ['json', { outputFile: 'test-results.json' }]],
  },
});
