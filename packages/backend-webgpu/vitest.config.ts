import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Points Dawn at the CPU Vulkan driver (lavapipe); fails every test loudly when it is missing.
    setupFiles: ['test/setup-vulkan.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
  },
});
