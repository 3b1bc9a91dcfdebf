import { defineConfig } from 'vitest/config';

// The relaxed-SIMD (FMA) build's conformance run. Node 20 needs this V8 flag for relaxed SIMD;
// Node 22+ and current browsers have it on by default, and there the backend picks that build itself.
export default defineConfig({
  test: { name: 'backend-wasm-relaxed-simd', include: ['test/relaxed/**/*.test.ts'], execArgv: ['--experimental-wasm-relaxed-simd'] },
});
