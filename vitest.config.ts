import { defineConfig } from 'vitest/config';

// Unit tests sit beside their module; integration tests live in test/integration and run against both
// databases (SQLite always, PostgreSQL when TEST_DATABASE_URL is set or reachable on 127.0.0.1:5432).
// Browser tests (test/browser) drive /usr/bin/chromium with playwright-core against the built web app.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'load',
          include: ['test/load/**/*.test.ts'],
          // Scaled-down load scenarios (npm run soak runs them full size): real processes, loaded machine.
          // One at a time: each starts several processes and measures rates; on 2 cores they would only
          // slow each other down.
          fileParallelism: false,
          // After unit, integration and browser tests (group 0), before fuzzing (group 2): alone on the machine.
          sequence: { groupOrder: 1 },
          testTimeout: 300_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          // Integration tests start servers and child processes; generous timeouts keep a loaded 2-core machine green.
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          // Debian's Chromium against the built UI (npm run build:web); a loaded machine needs room.
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'fuzz',
          // Property tests (fast-check): FUZZ_RUNS raises the runs, FUZZ_SEED replays a failure.
          include: ['test/fuzz/**/*.test.ts'],
          // After unit and integration: fuzzing is CPU-bound and would starve their timing-sensitive tests.
          sequence: { groupOrder: 2 },
          testTimeout: 300_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
