import { defineConfig } from 'tsup';

// shims: `import.meta.url` works in the CJS build too (the loader finds build/*.node from it).
export default defineConfig({ entry: ['src/index.ts'], format: ['esm', 'cjs'], dts: true, sourcemap: true, clean: true, target: 'es2022', shims: true });
