/** The contract between the harness and a training child process. */
import { performance } from 'node:perf_hooks';
import type { MnistSlice } from '../mnist.js';

export type TrainWorkload = 'mlp' | 'cnn';

export interface TrainSpec {
  /** Subject id: tessera-js, tessera-wasm, tessera-wasm-1t, tfjs-cpu, tfjs-wasm, jax-wasm, torch-1t, torch-all. */
  subject: string;
  workload: TrainWorkload;
  mnistDir: string;
  /** Training examples (the first ones of the train split, in file order, not shuffled). */
  trainN: number;
  /** Test examples for the accuracy after the epoch (MLP). */
  testN: number;
  batch: number;
  /** CNN: steps on a throwaway model before the timed part (JIT/kernels warm). */
  warmupSteps: number;
  /**
   * MLP: at most this many full epochs on a throwaway model before the timed ones, fewer
   * once they stop getting faster or `mlpWarmupMaxSec` is spent (see `warmupEpochs`); the
   * first is reported on its own as the cold epoch of a fresh process.
   */
  mlpWarmupEpochs: number;
  mlpWarmupMaxSec: number;
  /** MLP: timed epochs, each on a fresh model (fewer once `mlpTimedMaxSec` is spent; at least one). */
  mlpTimedEpochs: number;
  mlpTimedMaxSec: number;
  /** CNN: timed steps (at most). */
  steps: number;
  /** CNN: stop timing once the timed steps took this long (seconds); at least one is timed. */
  stepBudgetSec: number;
  /** MLP inference: the big batch, and how many timed calls for batch 1 and the big batch. */
  inferBatch: number;
  inferSamples1: number;
  inferSamplesK: number;
  /** MLP: float32 file with the shared initial weights (w1 [784,128], b1, w2 [128,10], b2). */
  initWeights?: string;
  /** Tessera subjects: which backend package and factory options. */
  tessera?: { name: string; pkg: string; entry?: string; options?: Record<string, unknown> };
  seed: number;
}

export interface TrainResult {
  /** MLP: samples/s of each timed epoch (after the warm-up epochs). */
  samplesPerSec?: number[];
  /** MLP: samples/s of the first epoch in the process (the first warm-up epoch, else the timed one). */
  firstEpochSamplesPerSec?: number;
  epochSec?: number;
  /** CNN: samples/s of each timed step. */
  stepSamplesPerSec?: number[];
  /** MLP: test accuracy after the epoch (0..1) and the last batch loss. */
  accuracy?: number;
  loss?: number;
  /** MLP inference latency of each timed call, ms. */
  latency1Ms?: number[];
  latencyKMs?: number[];
  /** Peak resident set size of the child, KiB (VmHWM of /proc/self/status). */
  maxRssKiB: number;
  note?: string;
}

export type Trainer = (spec: TrainSpec, data: TrainData) => Promise<Omit<TrainResult, 'maxRssKiB'>>;

export interface TrainData {
  train: MnistSlice;
  /** One-hot labels of `train`, `[n, 10]`. */
  trainY: Float32Array;
  /** MLP only. */
  test?: MnistSlice;
}

/** Index of the max of each row of `probs` (`rows × cols`) compared with `labels`. */
export function accuracyOf(probs: ArrayLike<number>, labels: Int32Array, cols = 10): number {
  let right = 0;
  for (let i = 0; i < labels.length; i++) {
    let best = 0;
    for (let j = 1; j < cols; j++) if (probs[i * cols + j] > probs[i * cols + best]) best = j;
    if (best === labels[i]) right++;
  }
  return right / labels.length;
}

/** Latency of each of `samples` calls after `warmup` untimed calls, ms. */
export async function latencies(fn: () => Promise<unknown> | unknown, warmup: number, samples: number): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out;
}

export const now = (): number => performance.now();

/**
 * The MLP warm-up every Node trainer shares (py/torch_bench.py does the same): epochs of
 * `epoch` (one full epoch on a throwaway model each) until the epoch time stops improving —
 * after at least two, stop as soon as an epoch is not 5 % faster than the best before it — or
 * `spec.mlpWarmupEpochs` ran, or `spec.mlpWarmupMaxSec` is spent. JIT-compiled frameworks
 * get faster for a few epochs (V8 optimises per-step code only after enough calls); PyTorch
 * stops after two. Returns the seconds of the first epoch (undefined when none ran).
 */
export async function warmupEpochs(spec: TrainSpec, epoch: () => Promise<void>): Promise<number | undefined> {
  let first: number | undefined;
  let best = Infinity;
  const t0 = now();
  for (let e = 0; e < spec.mlpWarmupEpochs; e++) {
    const t = now();
    await epoch();
    const sec = (now() - t) / 1000;
    first ??= sec;
    const improving = sec < 0.95 * best;
    best = Math.min(best, sec);
    if ((now() - t0) / 1000 >= spec.mlpWarmupMaxSec || (e >= 1 && !improving)) break;
  }
  return first;
}

/**
 * The timed MLP epochs: up to `spec.mlpTimedEpochs`, each on a fresh model from the shared
 * initial weights (so every one is "epoch 1", and the accuracy afterwards is after one
 * epoch), fewer once `spec.mlpTimedMaxSec` is spent (at least one). `train` returns the
 * epoch's loss. Returns each epoch's seconds, the last model (the others are dropped) and its loss.
 */
export async function timedEpochs<M>(
  spec: TrainSpec,
  fresh: () => M | Promise<M>,
  train: (m: M) => Promise<number | undefined>,
  drop: (m: M) => void,
): Promise<{ model: M; sec: number[]; loss: number | undefined }> {
  const sec: number[] = [];
  const t0 = now();
  for (;;) {
    const model = await fresh();
    const t = now();
    const loss = await train(model);
    sec.push((now() - t) / 1000);
    if (sec.length >= Math.max(1, spec.mlpTimedEpochs) || (now() - t0) / 1000 >= spec.mlpTimedMaxSec) return { model, sec, loss };
    drop(model);
  }
}

/**
 * The CNN step loop shared by every Node trainer (py/torch_bench.py does the same): warm-up
 * steps (the configs ask for at least one, since jit frameworks compile in the first step; no
 * more once one step alone exceeds the budget), then up to `steps` timed steps until `stepBudgetSec` is spent
 * (at least one). Returns samples/s of each timed step.
 */
export async function stepLoop(spec: TrainSpec, step: (i: number) => Promise<void>): Promise<{ samplesPerSec: number[]; note?: string }> {
  const out: number[] = [];
  let i = 0;
  let note: string | undefined;
  for (const w = spec.warmupSteps; i < w; i++) {
    const t0 = now();
    await step(i);
    const dt = (now() - t0) / 1000;
    if (dt > spec.stepBudgetSec) {
      note = `a warm-up step took ${dt.toFixed(1)} s (> ${spec.stepBudgetSec} s budget): ${i + 1} warm-up step(s)`;
      i++;
      break;
    }
  }
  let spent = 0;
  for (let k = 0; k < spec.steps && (k === 0 || spent < spec.stepBudgetSec); k++, i++) {
    const t0 = now();
    await step(i);
    const dt = (now() - t0) / 1000;
    spent += dt;
    out.push(spec.batch / dt);
  }
  return { samplesPerSec: out, note };
}
