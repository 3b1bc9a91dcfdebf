/**
 * A training child process: `node dist/child.js '<TrainSpec json>'`. Loads only the framework
 * it measures, trains, and prints one line `RESULT {json}` with its peak resident memory
 * (VmHWM), so each training run's memory is its own.
 */
import { readFileSync } from 'node:fs';
import { oneHot, readMnist } from './mnist.js';
import type { TrainData, TrainResult, TrainSpec, Trainer } from './train/spec.js';

async function trainerFor(subject: string): Promise<Trainer | undefined> {
  if (subject === 'baseline') return undefined;
  if (subject.startsWith('tessera-')) return (await import('./train/tessera.js')).trainTessera;
  if (subject.startsWith('tfjs-')) return (await import('./train/tfjs.js')).trainTfjs;
  if (subject.startsWith('jax-')) return (await import('./train/jax.js')).trainJax;
  throw new Error(`no trainer for subject '${subject}'`);
}

export async function runChild(spec: TrainSpec): Promise<TrainResult> {
  const train = readMnist(spec.mnistDir, 'train', spec.trainN);
  const data: TrainData = { train, trainY: oneHot(train.labels) };
  if (spec.workload === 'mlp') data.test = readMnist(spec.mnistDir, 't10k', spec.testN);
  const trainer = await trainerFor(spec.subject);
  const r = trainer ? await trainer(spec, data) : { note: 'baseline: Node + harness + the MNIST slice, no framework' };
  return { ...r, maxRssKiB: peakRssKiB() };
}

/**
 * Peak resident set size of this process image, KiB: VmHWM from /proc/self/status. Not
 * getrusage's maxRSS, which survives exec and so starts at the (large) harness's RSS at
 * fork time.
 */
export function peakRssKiB(): number {
  try {
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]);
  } catch {
    /* not Linux */
  }
  return process.resourceUsage().maxRSS;
}

const isMain = process.argv[1] !== undefined && /child\.(js|ts|mjs)$/.test(process.argv[1]);
if (isMain) {
  const spec = JSON.parse(process.argv[2] ?? '{}') as TrainSpec;
  runChild(spec).then(
    (r) => {
      process.stdout.write(`RESULT ${JSON.stringify(r)}\n`);
      // Worker pools (wasm backends) may keep the event loop alive.
      process.exit(0);
    },
    (e: unknown) => {
      process.stderr.write(`ERROR ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(1);
    },
  );
}
