/**
 * Training on a backend without synchronous reads (WebGPU's situation), emulated here by the
 * js backend with `caps.syncRead` off and no `storage.readSync`: fit, evaluate and the batch
 * logs a callback reads must never call `dataSync`, and give the same numbers as on the js
 * backend itself.
 */
import { createJsBackend } from '@tessera/backend-js';
import { type Backend, dispose, getBackend, setBackend, type Storage, type Tensor, tensor } from '@tessera/core';
import { SGD } from '@tessera/optim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { layers, type Logs, ProgressBar, resolveLogs, sequential, TerminateOnNaN } from '../src/index.js';
import { expectNoLeak, Sink, snapshot } from './helpers.js';

/** The js backend without synchronous reads; counts the asynchronous ones. */
function asyncOnly(inner: Backend): Backend & { reads: number } {
  const storage = new Proxy(inner.storage, {
    get(target, key) {
      if (key === 'readSync') return undefined;
      if (key === 'read') {
        return (...args: Parameters<Storage['read']>) => {
          be.reads++;
          return target.read(...args);
        };
      }
      const v = Reflect.get(target, key) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  const be = { ...inner, name: 'js-async', caps: { ...inner.caps, syncRead: false }, storage, reads: 0 };
  return be;
}

let previous: Backend | null = null;
let sync: Backend;
let asyncBe: Backend & { reads: number };

beforeAll(async () => {
  try {
    previous = getBackend();
  } catch {
    previous = null;
  }
  sync = await createJsBackend();
  asyncBe = asyncOnly(await createJsBackend());
});

afterAll(() => {
  if (previous !== null) setBackend(previous);
});

/** 12 samples of 4 features, one-hot labels of 3 classes. */
function data(): { x: Tensor; y: Tensor } {
  const xs = new Float32Array(12 * 4);
  const ys = new Float32Array(12 * 3);
  for (let i = 0; i < 12; i++) {
    for (let j = 0; j < 4; j++) xs[i * 4 + j] = (j === i % 3 ? 1 : 0) + 0.1 * Math.sin(i * 7 + j);
    ys[i * 3 + (i % 3)] = 1;
  }
  return { x: tensor(xs, [12, 4]), y: tensor(ys, [12, 3]) };
}

/** A small model with fixed weights, compiled with SGD and accuracy. */
function build(): { m: ReturnType<typeof sequential>; opt: SGD } {
  const m = sequential([layers.dense({ units: 5, activation: 'tanh', inputShape: [4] }), layers.dense({ units: 3, activation: 'softmax' })]);
  const init = m.weights.map((w, k) => tensor(Float32Array.from({ length: w.value.size }, (_v, i) => 0.3 * Math.sin(i * 1.7 + k)), w.value.shape));
  m.setWeights(init);
  dispose(init);
  const opt = new SGD({ learningRate: 0.1, momentum: 0.5 });
  m.compile({ optimizer: opt, loss: 'categorical_crossentropy', metrics: ['accuracy'] });
  return { m, opt };
}

type Run = { batch: Logs[]; resolved: Logs[]; epochs: Record<string, number[]>; evaluated: Logs; weights: number[][] };

/** Trains on `be` with a callback that reads batch logs both ways; returns what it saw. */
async function train(be: Backend): Promise<Run> {
  setBackend(be);
  const before = snapshot();
  const { x, y } = data();
  const { m, opt } = build();
  const batch: Logs[] = [];
  const resolved: Logs[] = [];
  const h = await m.fit(x, y, {
    epochs: 2,
    batchSize: 4,
    shuffle: false,
    verbose: 0,
    callbacks: [
      // Plain property reads, as most callbacks do.
      { onBatchEnd: (_b: number, logs?: Logs) => void batch.push({ loss: logs!.loss!, accuracy: logs!.accuracy!, batchLoss: logs!.batchLoss! }) },
      { onBatchEnd: async (_b: number, logs?: Logs) => void resolved.push(await resolveLogs(logs)) },
      new TerminateOnNaN({ printFn: () => {} }),
    ],
  });
  const evaluated = await m.evaluate(x, y, { batchSize: 5 });
  const ws = m.getWeights();
  const weights = await Promise.all(ws.map(async (w) => Array.from(await w.data())));
  dispose([...ws, x, y]);
  m.dispose();
  opt.dispose();
  expectNoLeak(before);
  return { batch, resolved, epochs: h.history, evaluated, weights };
}

describe('training on a backend without synchronous reads', () => {
  it('fit hands batch-end callbacks values read asynchronously: the same numbers as with synchronous reads', async () => {
    const want = await train(sync);
    const got = await train(asyncBe);
    expect(got.batch).toHaveLength(6);
    expect(got.batch).toEqual(want.batch);
    expect(got.batch.every((l) => Number.isFinite(l.loss) && Number.isFinite(l.batchLoss) && Number.isFinite(l.accuracy))).toBe(true);
    expect(got.epochs).toEqual(want.epochs);
    expect(got.evaluated).toEqual(want.evaluated);
    expect(got.weights).toEqual(want.weights);
    // resolveLogs gives every value a plain read gives, batchLoss included, on both backends.
    for (const run of [want, got]) run.resolved.forEach((l, i) => expect(l).toEqual({ batch: i % 3, size: 4, ...run.batch[i] }));
  });

  it('fit, trainOnBatch and testOnBatch never read synchronously; a progress bar alone costs no read per batch', async () => {
    setBackend(asyncBe);
    const before = snapshot();
    const { x, y } = data();
    const { m, opt } = build();
    const readsOf = async (f: () => Promise<unknown>): Promise<number> => {
      const r0 = asyncBe.reads;
      await f();
      return asyncBe.reads - r0;
    };
    const quiet = await readsOf(() => m.fit(x, y, { epochs: 2, batchSize: 2, shuffle: false, verbose: 0 }));
    const line = new Sink(false);
    const withBar = await readsOf(() => m.fit(x, y, { epochs: 2, batchSize: 2, shuffle: false, verbose: 0, callbacks: [new ProgressBar({ stream: line, mode: 'line' })] }));
    expect(line.text).toMatch(/Epoch 2\/2 - 6\/6 .* - loss: [0-9.]+ - accuracy: [0-9.]+/);
    const bar = new Sink(true);
    await m.fit(x, y, { epochs: 1, batchSize: 2, shuffle: false, verbose: 0, callbacks: [new ProgressBar({ stream: bar, mode: 'bar' })] });
    expect(bar.text).toMatch(/6\/6 .* - loss: [0-9.]+ - accuracy: [0-9.]+/);
    expect(withBar).toBe(quiet);
    const perBatch = await readsOf(() => m.fit(x, y, { epochs: 2, batchSize: 2, shuffle: false, verbose: 0, callbacks: [{ onBatchEnd: () => {} }] }));
    expect(perBatch).toBeGreaterThanOrEqual(quiet + 12);
    const one = await m.trainOnBatch(x, y);
    expect(Object.keys(one)).toEqual(['loss', 'accuracy']);
    const test = await m.testOnBatch(x, y);
    expect(Number.isFinite(test.loss)).toBe(true);
    dispose([x, y]);
    m.dispose();
    opt.dispose();
    expectNoLeak(before);
  });
});
