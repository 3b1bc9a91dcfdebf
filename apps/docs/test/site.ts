/**
 * Shared by the docs tests: makes sure the site is built (reusing `dist/` when it is newer
 * than every source, as after `turbo run build`), and lists its pages.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const APP = fileURLToPath(new URL('..', import.meta.url));
export const DIST = join(APP, 'dist');

function newest(dir: string, skip: (p: string) => boolean): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (skip(p)) continue;
    t = Math.max(t, e.isDirectory() ? newest(p, skip) : statSync(p).mtimeMs);
  }
  return t;
}

/** Builds the site unless dist/ is up to date with src/ and scripts/; returns what it did. */
export function ensureBuilt(): 'reused' | 'built' {
  const index = join(DIST, 'index.html');
  const generated = (p: string) => /src\/(public\/(data|models|api|bench)|_gen)(\/|$)/.test(p) || p.includes('node_modules');
  const sources = Math.max(newest(join(APP, 'src'), generated), newest(join(APP, 'scripts'), () => false));
  if (process.env.TESSERA_DOCS_REBUILD !== '1' && existsSync(index) && statSync(index).mtimeMs > sources) return 'reused';
  const r = spawnSync('pnpm', ['run', 'build'], { cwd: APP, encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) throw new Error(`docs build failed (exit ${r.status}):\n${r.stdout.slice(-4000)}\n${r.stderr.slice(-4000)}`);
  return 'built';
}

/** Every page of the site (paths relative to dist/), without the typedoc output. */
export function pages(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      const rel = relative(DIST, p);
      if (e.isDirectory()) {
        if (!['api', 'assets', 'data', 'models', 'bench'].includes(rel)) walk(p);
      } else if (e.name.endsWith('.html') && rel !== '404.html') out.push(rel);
    }
  };
  walk(DIST);
  return out.sort();
}
