import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Whole-job tests start worker pools of their own; two files at a time suit a 2-core machine.
    maxWorkers: 2,
  },
});
