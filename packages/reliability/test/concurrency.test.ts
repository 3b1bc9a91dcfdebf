/**
 * Concurrency: two models training at once on one backend (their `fit`s interleaved by
 * awaiting callbacks) end with exactly the weights each gets when trained alone; asynchronous
 * reads racing `dispose` resolve with the right values or a typed error and leak nothing;
 * the native backend's asynchronous kernels (worker thread) give the same training result as
 * inline ones; WebGPU device loss is reported as a BackendError and a new backend works.
 */
import * as core from '@tessera/core';
import { type Backend, DisposedTensorError, type Tensor, TesseraError } from '@tessera/core';
import type { Model } from '@tessera/nn';
import { adam } from '@tessera/optim';
import { describe, expect, it } from 'vitest';
import { createTestBackend } from '../../../scripts/test-backend.mjs';
import { accounting, BACKENDS, openBackend, use } from './support/backends.js';
import { smallCnn, smallMlp, syntheticData } from './support/models.js';

const yieldNow = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Trains `make()` for 2 epochs; `interleave` makes every batch end await a macrotask. */
async function train(make: () => Model, kind: 'mlp' | 'cnn', seed: number, interleave: boolean): Promise<{ weights: number[][]; dispose: () => void }> {
  const shape = kind === 'mlp' ? [8, 8] : [8, 8, 1];
  const d = syntheticData(48, shape, 4, seed);
  const m = make();
  const opt = adam({ learningRate: 0.01 });
  m.compile({ optimizer: opt, loss: 'categoricalCrossentropy' });
  await m.fit(d.x, d.y, { epochs: 2, batchSize: 8, seed, verbose: 0, callbacks: interleave ? [{ onBatchEnd: yieldNow }] : [] });
  const weights = await Promise.all(m.weights.map(async (w) => Array.from(await w.value.data())));
  return {
    weights,
    dispose: () => {
      m.dispose();
      opt.dispose();
      core.dispose([d.x, d.y]);
    },
  };
}

describe.each(BACKENDS)('concurrency on %s', (name) => {
  it('two models training interleaved end exactly as when trained alone', async (ctx) => {
    const { backend, reason } = await openBackend(name);
    if (backend === null) return ctx.skip(reason!);
    use(backend);
    const start = accounting(backend);
    core.setSeed(5);
    const aloneA = await train(() => smallMlp(4, 3), 'mlp', 1, false);
    const aloneB = await train(() => smallCnn(4, 5), 'cnn', 2, false);
    core.setSeed(5);
    const [a, b] = await Promise.all([train(() => smallMlp(4, 3), 'mlp', 1, true), train(() => smallCnn(4, 5), 'cnn', 2, true)]);
    expect(a.weights).toEqual(aloneA.weights);
    expect(b.weights).toEqual(aloneB.weights);
    for (const r of [aloneA, aloneB, a, b]) r.dispose();
    expect(accounting(backend)).toEqual(start);
  });

  it('async reads racing dispose resolve with the values or a typed error, and leak nothing', async (ctx) => {
    const { backend, reason } = await openBackend(name);
    if (backend === null) return ctx.skip(reason!);
    use(backend);
    const start = accounting(backend);
    const outcomes = { values: 0, typed: 0 };
    for (let round = 0; round < 20; round++) {
      const base = core.tensor(Array.from({ length: 64 }, (_, i) => i), [8, 8]);
      const t = core.matmul(base, base); // pending work on asynchronous backends
      const expected = Array.from({ length: 64 }, (_, k) => {
        const [i, j] = [Math.floor(k / 8), k % 8];
        let s = 0;
        for (let q = 0; q < 8; q++) s += (i * 8 + q) * (q * 8 + j);
        return s;
      });
      const reads: Promise<ArrayLike<number>>[] = [];
      for (let k = 0; k < 3; k++) reads.push(t.data() as Promise<ArrayLike<number>>);
      if (round % 2 === 0) t.dispose(); // dispose while the reads are in flight
      else setImmediate(() => t.dispose());
      // A read after dispose (its rejection handled at once, so it is never unhandled).
      const late = t.isDisposed ? t.data().then(() => 'resolved', (e: unknown) => e) : null;
      base.dispose();
      for (const p of reads) {
        try {
          expect(Array.from(await p)).toEqual(expected);
          outcomes.values++;
        } catch (e) {
          expect(e).toBeInstanceOf(TesseraError);
          outcomes.typed++;
        }
      }
      if (late !== null) expect(await late).toBeInstanceOf(DisposedTensorError);
      await yieldNow();
    }
    expect(outcomes.values + outcomes.typed).toBe(60);
    backend.flush?.();
    expect(accounting(backend)).toEqual(start);
  });
});

describe('native asynchronous kernels', () => {
  it('matmuls and convolutions on the worker thread train the same weights as inline kernels', async (ctx) => {
    process.env.TESSERA_TEST_BACKEND = 'native';
    let inline: Backend | null;
    try {
      inline = (await createTestBackend()) as Backend | null;
    } catch (e) {
      return ctx.skip(`native backend cannot be created here: ${(e as Error).message}`);
    } finally {
      delete process.env.TESSERA_TEST_BACKEND;
    }
    const queued = inline as unknown as { setAsyncThreshold?: (n: number) => void };
    if (typeof queued.setAsyncThreshold !== 'function') return ctx.skip('this build of the native backend has no asynchronous kernels (setAsyncThreshold)');
    process.env.TESSERA_TEST_BACKEND = 'native';
    const worker = (await createTestBackend()) as Backend & { setAsyncThreshold(n: number): void };
    delete process.env.TESSERA_TEST_BACKEND;
    queued.setAsyncThreshold!(Infinity);
    worker.setAsyncThreshold(0); // every matmul and convolution queued on the worker thread
    const results: number[][][] = [];
    for (const be of [inline!, worker]) {
      use(be);
      const start = accounting(be);
      core.setSeed(9);
      // Two models at once on the same backend, as in a server training in the background.
      const [a, b] = await Promise.all([train(() => smallCnn(4, 7), 'cnn', 3, true), train(() => smallMlp(4, 8), 'mlp', 4, true)]);
      results.push([...a.weights, ...b.weights]);
      a.dispose();
      b.dispose();
      be.flush?.();
      expect(accounting(be)).toEqual(start);
    }
    expect(results[1]).toEqual(results[0]);
    // Racing reads and disposal of queued work.
    use(worker);
    const x = core.randomNormal([64, 64], { seed: 1 });
    const ys: Tensor[] = Array.from({ length: 8 }, () => core.matmul(x, x));
    const reads = ys.map((y) => y.data());
    ys.forEach((y, i) => (i % 2 === 0 ? y.dispose() : undefined));
    const first = Array.from(await reads[0]!);
    for (const r of reads) expect(Array.from(await r)).toEqual(first);
    for (const y of ys) if (!y.isDisposed) y.dispose();
    x.dispose();
  });
});

describe('WebGPU device loss', () => {
  it('is reported as a BackendError naming the loss, and a new backend works', async (ctx) => {
    const { backend, reason } = await openBackend('webgpu');
    if (backend === null) return ctx.skip(reason!);
    process.env.TESSERA_TEST_BACKEND = 'webgpu';
    const doomed = (await createTestBackend()) as Backend & { device?: { destroy(): void } };
    delete process.env.TESSERA_TEST_BACKEND;
    if (typeof doomed.device?.destroy !== 'function') return ctx.skip('this WebGPU backend does not expose its device, so loss cannot be simulated');
    use(doomed);
    const x = core.tensor([1, 2, 3], [3]);
    const y = core.mul(x, 2);
    expect(Array.from(await y.data())).toEqual([2, 4, 6]);
    doomed.device.destroy(); // what a driver reset or a GPU process crash does
    await new Promise((r) => setTimeout(r, 50));
    let err: unknown = null;
    try {
      const z = core.add(x, 1);
      await z.data();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(core.BackendError);
    expect(String((err as Error).message)).toMatch(/lost|destroyed/i);
    // Disposing tensors of the lost device must not throw (cleanup code runs after a loss).
    expect(() => core.dispose([x, y])).not.toThrow();
    // Recovery: re-initialise with a fresh backend and carry on.
    process.env.TESSERA_TEST_BACKEND = 'webgpu';
    const fresh = (await createTestBackend()) as Backend;
    delete process.env.TESSERA_TEST_BACKEND;
    use(fresh);
    const a = core.tensor([1, 2, 3], [3]);
    const b = core.mul(a, 3);
    expect(Array.from(await b.data())).toEqual([3, 6, 9]);
    core.dispose([a, b]);
    (fresh as unknown as { dispose?: () => void }).dispose?.();
  });
});
