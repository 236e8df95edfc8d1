import { defineConfig } from 'vitest/config';

// Unit tests run anywhere; integration tests (test/integration) need root and
// real namespaces, so they run one file at a time to keep the host calm.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: false,
    reporters: ['default'],
  },
});
