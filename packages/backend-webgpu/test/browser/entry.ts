/**
 * The page the browser test loads: creates the WebGPU backend from `navigator.gpu`, runs a
 * subset of the conformance suite (both modes, with its leak/determinism checks), its
 * lifecycle checks and a training-like workload, and publishes the results on `window`.
 */
import * as core from '@tessera/core';
import { buildCase, lifecycleChecks, listCases, runCase } from '@tessera/conformance';
import { createWebGpuBackend } from '../../src/index.js';
import { runTraining, type TrainingResult } from '../shared/train.js';

/** Case ids the browser runs: one or a few per kernel family, special values included. */
export const BROWSER_CASES = new RegExp('^(' + [
  'add/float32/(same|transposed|special|bcast-\\[2,3,4\\]x\\[4\\])', 'add/int32/int-overflow',
  'exp/float32/(mat|special)', 'erf/float32/special', 'mod/float32/special', 'mod/int32/div-zero',
  'sum/float32/(axis1-\\[3,4\\]|large-rows)', 'max/float32/special', 'argmax/float32/special',
  'cumsum/float32/exclusive-reverse', 'matmul/float32/(17x33x65|transposeAB|special)', 'linear/float32/gelu-bias-\\[5',
  'softmax/float32/special', 'softmaxCrossEntropy/float32/onehot', 'layerNorm/float32/rows',
  'gather/float32/(idx-2d|out-of-range)', 'gather/bool/rows', 'scatterAdd/float32/rows-repeats',
  'randomBits/int32/reference-\\[1001\\]', 'randomUniform/float32/reference-\\[1001\\]',
  'conv2d/float32/same-s2', 'maxPool/float32/3x3-s2', 'avgPool/float32/3x3-s2',
  'where/float32/special', 'equal/float32/special', 'cast/float32/to-int32-special', 'cast/int32/to-float32-special',
  'optimizerStep/float32/adam-two-params', 'transpose/float32/odd', 'concat/float32/axis1',
].join('|') + ')');

export interface PageResult {
  adapter: string;
  cases: { id: string; mode: string; ok: boolean; message?: string }[];
  lifecycle: { name: string; ok: boolean; message?: string }[];
  training: TrainingResult | null;
  trainingError?: string;
  error?: string;
  ms: number;
}

declare global {
  interface Window { __result?: PageResult; __progress?: string }
}

async function main(): Promise<PageResult> {
  const t0 = performance.now();
  const be = await createWebGpuBackend();
  core.setBackend(be);
  const info = (be.adapter as GPUAdapter & { info?: { vendor?: string; architecture?: string; description?: string } }).info;
  const result: PageResult = { adapter: [info?.vendor, info?.architecture, info?.description].filter(Boolean).join(' '), cases: [], lifecycle: [], training: null, ms: 0 };
  // `?full` runs the whole database (a manual check: TESSERA_BROWSER_FULL=1).
  const full = new URLSearchParams(location.search).has('full');
  for (const c of listCases(full ? {} : { filter: BROWSER_CASES })) {
    if (c.def.requires?.syncRead === true) continue;
    const built = buildCase(c);
    for (const mode of ['fused', 'unfused'] as const) {
      window.__progress = `${c.id} ${mode}`;
      try {
        await runCase(core, be, c, built, mode);
        result.cases.push({ id: c.id, mode, ok: true });
      } catch (e) {
        result.cases.push({ id: c.id, mode, ok: false, message: (e as Error).message });
      }
    }
  }
  for (const [name, check] of Object.entries(lifecycleChecks)) {
    window.__progress = `lifecycle ${name}`;
    try {
      await check(core, be, () => createWebGpuBackend());
      result.lifecycle.push({ name, ok: true });
    } catch (e) {
      result.lifecycle.push({ name, ok: false, message: (e as Error).message });
    }
  }
  window.__progress = 'training';
  try {
    result.training = await runTraining(core, 6);
  } catch (e) {
    result.trainingError = (e as Error).message;
  }
  be.dispose();
  result.ms = performance.now() - t0;
  return result;
}

main().then(
  (r) => { window.__result = r; },
  (e) => { window.__result = { adapter: '', cases: [], lifecycle: [], training: null, error: `${(e as Error).name}: ${(e as Error).message}`, ms: 0 }; },
);
