import { defineConfig } from 'vitest/config';

// Test workers and the servers they start get the thread pool `tenantgate serve` gives
// itself (src/server/threadPool.ts); set here, before any worker process starts.
process.env.UV_THREADPOOL_SIZE ??= '16';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'tests/**/*.test.ts'],
    globalSetup: ['tests/support/globalSetup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Each file starts its own gateway on port 0; two workers match the two cores.
    pool: 'forks',
    maxWorkers: 2,
  },
});
