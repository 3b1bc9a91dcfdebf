/**
 * `pnpm --filter @tessera/app-bench bench [-- --full]`: runs the benchmark and writes
 * results/latest.md, results/latest.json and results/latest.svg.
 *
 * Flags: --full; --only matmul,elementwise,overhead,mlp,cnn; --subjects tessera,tfjs-cpu,...;
 * --out <dir> (default apps/bench/results); --samples N; --no-write; --render <results.json>
 * (rewrite latest.md/latest.svg from a saved JSON without measuring); --wait-idle PCT: before
 * each row and training child, wait (up to --wait-max SEC, default 60) until PCT% of the CPUs
 * are idle — for shared machines.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ALL_GROUPS, fullConfig, quickConfig, runBench, type Group } from './bench.js';
import { appPath } from './paths.js';
import { toMarkdown, toSvg, ratios } from './report.js';
import type { Results } from './types.js';

function parseArgs(argv: readonly string[]) {
  const args = argv.filter((a) => a !== '--');
  const flag = (name: string) => args.includes(`--${name}`);
  const value = (name: string) => {
    const i = args.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
    if (i < 0) return undefined;
    const a = args[i];
    return a.includes('=') ? a.slice(a.indexOf('=') + 1) : args[i + 1];
  };
  return { flag, value };
}

async function main(): Promise<void> {
  const { flag, value } = parseArgs(process.argv.slice(2));
  if (flag('help') || flag('h')) {
    console.log('usage: bench [--full] [--only matmul,elementwise,overhead,mlp,cnn] [--subjects tessera,tfjs,jax,torch,numpy] [--samples N] [--out DIR] [--no-write] [--render results.json] [--wait-idle PCT [--wait-max SEC]]');
    return;
  }
  const cfg = flag('full') ? fullConfig() : quickConfig();
  const only = value('only');
  if (only) {
    const gs = only.split(',').map((s) => s.trim()) as Group[];
    const bad = gs.filter((g) => !(ALL_GROUPS as readonly string[]).includes(g));
    if (bad.length) throw new Error(`--only: unknown workload ${bad.join(', ')} (known: ${ALL_GROUPS.join(', ')})`);
    cfg.groups = new Set(gs);
  }
  const subj = value('subjects');
  if (subj) cfg.subjects = subj.split(',').map((s) => s.trim());
  const wait = value('wait-idle');
  if (wait) cfg.waitIdle = { minIdle: Math.min(1, Number(wait) / 100), maxWaitSec: Number(value('wait-max') ?? 60) };
  const samples = value('samples');
  if (samples) cfg.measure.samples = Math.max(1, Number(samples));

  const from = value('render');
  const results: Results = from ? (JSON.parse(readFileSync(from, 'utf8')) as Results) : await runBench(cfg);
  const md = toMarkdown(results);
  console.log('\n' + md);
  if (flag('no-write')) return;
  const out = path.resolve(value('out') ?? appPath('results'));
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, 'latest.md'), md);
  if (!from) writeFileSync(path.join(out, 'latest.json'), JSON.stringify({ ...results, ratios: ratios(results) }, null, 2) + '\n');
  writeFileSync(path.join(out, 'latest.svg'), toSvg(results));
  console.log(`wrote ${path.join(out, 'latest.md')}, latest.json, latest.svg (${(results.machine.durationSec! / 60).toFixed(1)} min)`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : e);
    process.exit(1);
  },
);
