import { defineConfig } from 'vitest/config';

// `npm run test:e2e`: tests against real external programs (ffmpeg, a GStreamer RTSP server), from Debian's packages.
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 90_000,
    maxWorkers: 1,
    pool: 'forks',
  },
});
