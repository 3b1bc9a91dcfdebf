import { defineConfig } from 'vitest/config';

// The relaxed-SIMD build's tests live in their own config (vitest.relaxed.config.ts) because
// they need a V8 flag on Node 20; the root config lists that file as a project of its own.
export default defineConfig({ test: { include: ['test/**/*.test.ts'], exclude: ['test/relaxed/**', '**/node_modules/**'] } });
