import { defineConfig } from 'vitest/config';

// LocalStack runs in Docker: pulling and starting it, and its Lambda containers, takes minutes.
export default defineConfig({
  test: {
    include: ['test/localstack/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 600_000,
    maxWorkers: 1,
  },
});
