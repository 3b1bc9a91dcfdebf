import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The core's own tests run its source on the reference backend's source: the core cannot
// depend on a backend package (backends depend on the core), so the link is test-only.
export default defineConfig({
  resolve: {
    alias: {
      '@tessera/core': fileURLToPath(new URL('./src/index.ts', import.meta.url)),
      '@tessera/backend-js': fileURLToPath(new URL('../backend-js/src/index.ts', import.meta.url)),
    },
  },
  test: { include: ['test/**/*.test.ts'] },
});
