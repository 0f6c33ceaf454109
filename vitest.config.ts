import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // test/e2e needs programs from Debian's packages: `npm run test:e2e` (vitest.e2e.config.ts)
    exclude: [...configDefaults.exclude, 'test/e2e/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores: suites that start an embedded database each must not all start at once.
    maxWorkers: 2,
    pool: 'forks',
  },
});
