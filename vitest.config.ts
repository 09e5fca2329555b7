import { defineConfig } from 'vitest/config';

/**
 * Two projects: `unit` is `npm test` (the whole behaviour, in about 1.5 minutes on an idle 2-core
 * machine); `learning` holds the long checks (`*.long.test.ts`: learning at full length and at
 * 10,000 decisions, the learning run over HTTP, 100,000 members through a SIGKILL), run by
 * `npm run test:learning` and by CI.
 */
const shared = {
  setupFiles: ['test/setup/fast-check-seed.ts', 'test/setup/destinations.ts'],
  testTimeout: 60_000,
  hookTimeout: 60_000,
};

export default defineConfig({
  test: {
    // both cores: the default (cores − 1) runs one file at a time on a 2-core machine
    maxWorkers: 2,
    projects: [
      {
        test: {
          ...shared,
          name: 'unit',
          // test files share their worker's modules (zod, the schemas, the adapters are loaded once per
          // worker, not once per file: 100 s → 55 s); a test leaves global state as it found it
          isolate: false,
          include: ['test/**/*.test.ts'],
          exclude: ['test/**/*.long.test.ts', 'test/bench/**', 'node_modules/**'],
        },
      },
      {
        test: {
          ...shared,
          name: 'learning',
          include: ['test/**/*.long.test.ts'],
          exclude: ['test/bench/**', 'node_modules/**'],
          testTimeout: 600_000,
        },
      },
    ],
  },
});
