import { defineConfig } from 'tsup';

// Two entries: the browser-safe main entry, and `node` (`@tessera/onnx/node`, saveOnnx), which
// imports node:fs and so must stay out of the main entry's module graph.
export default defineConfig({ entry: ['src/index.ts', 'src/node.ts'], format: ['esm', 'cjs'], dts: true, sourcemap: true, clean: true, target: 'es2022' });
