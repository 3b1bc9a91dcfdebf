import { defineConfig } from 'vitest/config';

export default defineConfig({
  // backend-wasm's relaxed-SIMD tests run under a V8 flag, so they are a project of their own.
  test: { projects: ['packages/*', 'apps/*', 'packages/backend-wasm/vitest.relaxed.config.ts'] },
});
