/**
 * Loads Tessera packages that this app reaches only through the umbrella `tessera`
 * (@tessera/autograd, @tessera/nn, @tessera/data, @tessera/optim). Prefers the umbrella's own
 * exports; while the umbrella does not re-export them yet, loads the package's ESM build from
 * the umbrella's dependencies (same files, so the same @tessera/core instance).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);
/** A variable, so the build and tsc leave the umbrella to run time (it may not be built). */
const UMBRELLA: string = 'tessera';
const cache = new Map<string, Promise<Record<string, unknown>>>();

/** The ESM entry file of a package, resolved from `fromDir`'s node_modules. */
function esmEntry(pkg: string, fromDir: string): string {
  const req = createRequire(path.join(fromDir, 'package.json'));
  const pj = req.resolve(`${pkg}/package.json`);
  const meta = JSON.parse(readFileSync(pj, 'utf8')) as {
    module?: string;
    main?: string;
    exports?: Record<string, { import?: string | { default?: string } } | string>;
  };
  const dot = meta.exports?.['.'];
  let rel: string | undefined;
  if (typeof dot === 'string') rel = dot;
  else if (dot && typeof dot.import === 'string') rel = dot.import;
  else if (dot && dot.import && typeof dot.import === 'object') rel = dot.import.default;
  rel ??= meta.module ?? meta.main ?? 'index.js';
  return path.join(path.dirname(pj), rel);
}

async function load(pkg: string): Promise<Record<string, unknown>> {
  let umbrella: Record<string, unknown> | undefined;
  let umbrellaErr = '';
  try {
    umbrella = (await import(UMBRELLA)) as Record<string, unknown>;
  } catch (e) {
    umbrellaErr = e instanceof Error ? e.message.split('\n')[0] : String(e);
  }
  let dir: string;
  try {
    dir = path.dirname(require.resolve('tessera/package.json'));
  } catch {
    throw new Error(`${pkg} is not reachable: the 'tessera' package is not installed`);
  }
  const file = esmEntry(pkg, dir);
  try {
    return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (e) {
    const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
    const hint = umbrella ? '' : ` (and 'tessera' itself failed: ${umbrellaErr})`;
    throw new Error(`${pkg} failed to load: ${why}${hint}. Build it with \`pnpm --filter ${pkg} build\``);
  }
}

/**
 * The exports `names` of a Tessera package: from the umbrella when it has all of them, else
 * from the package itself. Throws an Error naming what is missing.
 */
export async function tesseraExports<T = Record<string, unknown>>(pkg: string, names: readonly string[]): Promise<T> {
  try {
    const umbrella = (await import(UMBRELLA)) as Record<string, unknown>;
    if (names.every((n) => umbrella[n] !== undefined)) return umbrella as T;
  } catch {
    /* fall through to the package itself */
  }
  let p = cache.get(pkg);
  if (!p) {
    p = load(pkg);
    cache.set(pkg, p);
  }
  const mod = await p;
  const missing = names.filter((n) => mod[n] === undefined);
  if (missing.length > 0) throw new Error(`${pkg} does not export ${missing.join(', ')} yet`);
  return mod as T;
}
