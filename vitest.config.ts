import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // At least two test files at once, also on 2 cores (vitest's default there is one):
    // most files spend their time waiting on real sockets and child processes, and each
    // forked worker spends about half a second importing before its file runs, so two
    // take the suite from about 15 to about 9 minutes on 2 cores.
    maxWorkers: Math.max(2, availableParallelism() - 1),
  },
});
