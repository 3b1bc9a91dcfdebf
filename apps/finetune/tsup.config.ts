import { defineConfig } from 'tsup';

// A command-line app: one ESM entry, no type declarations.
export default defineConfig({ entry: ['src/main.ts'], format: ['esm'], dts: false, sourcemap: true, clean: true, target: 'es2022', platform: 'node' });
