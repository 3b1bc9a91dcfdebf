import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The app's tests run the framework's sources (as the packages' own tests do), so they do not
// depend on a build of every package being present and current.
const src = (pkg: string): string => fileURLToPath(new URL(`../../packages/${pkg}/src/index.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    alias: [
      { find: /^tessera$/, replacement: src('tessera') },
      ...['core', 'autograd', 'losses', 'optim', 'nn', 'data', 'backend-js'].map((p) => ({ find: new RegExp(`^@tessera/${p}$`), replacement: src(p) })),
    ],
  },
  test: { include: ['test/**/*.test.ts'], testTimeout: 120_000 },
});
