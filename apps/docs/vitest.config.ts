import { defineConfig } from 'vitest/config';

// The e2e suite drives one Chromium for several minutes; the snippet suite spawns Node
// processes. Neither may run in parallel with itself on a 2-core machine.
export default defineConfig({
  test: { include: ['test/**/*.test.ts'], testTimeout: 240_000, hookTimeout: 300_000, fileParallelism: false },
});
