/** Where the app's own files are, the same from src/ (vitest, tsx) and from dist/ (built). */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/** apps/bench: the nearest folder above this module whose package.json is @tessera/app-bench. */
export function appRoot(): string {
  if (root) return root;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pj = path.join(dir, 'package.json');
    if (existsSync(pj)) {
      try {
        if ((JSON.parse(readFileSync(pj, 'utf8')) as { name?: string }).name === '@tessera/app-bench') return (root = dir);
      } catch {
        /* keep looking */
      }
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error('apps/bench: package.json of @tessera/app-bench not found above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

export const appPath = (...parts: string[]): string => path.join(appRoot(), ...parts);

/** True when this code runs from TypeScript sources (vitest/tsx) rather than dist/. */
export const fromSource = (): boolean => import.meta.url.endsWith('.ts');

/** The node arguments that run an entry of this app: `src/<name>.ts` via tsx under vitest, else `dist/<name>.js`. */
export function nodeEntryArgs(name: string): string[] {
  if (fromSource()) return ['--import', 'tsx', appPath('src', `${name}.ts`)];
  const built = appPath('dist', `${name}.js`);
  if (!existsSync(built)) throw new Error(`${built} is missing; build the app first (pnpm --filter @tessera/app-bench build)`);
  return ['--enable-source-maps', built];
}
