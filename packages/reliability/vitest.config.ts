import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Points Dawn at lavapipe when it is installed (the WebGPU cases skip, saying why, when not).
    setupFiles: ['test/setup-env.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
});
