/**
 * Numerical safety: TerminateOnNaN stops a run at the first step whose loss is not finite and
 * says which (step, epoch, batch), on every backend, for a NaN in the data and for a run that
 * diverges; gradient clipping keeps the diverging run finite.
 */
import * as core from '@tessera/core';
import { layers, sequential, TerminateOnNaN } from '@tessera/nn';
import { sgd } from '@tessera/optim';
import { describe, expect, it } from 'vitest';
import { accounting, BACKENDS, openBackend, use } from './support/backends.js';

/** y = 50·x on 64 samples; a linear model learns it with a small rate and diverges with a big one. */
function regression(nanAt?: number): { x: core.Tensor; y: core.Tensor } {
  const xs = Array.from({ length: 64 }, (_, i) => ((i % 16) - 8) / 2);
  if (nanAt !== undefined) xs[nanAt] = NaN;
  return { x: core.tensor(xs, [64, 1]), y: core.tensor(xs.map((v) => 50 * v), [64, 1]) };
}

async function run(learningRate: number, opts: { nanAt?: number; clipNorm?: number } = {}) {
  const d = regression(opts.nanAt);
  const m = sequential([layers.dense(1, 'linear', { inputShape: [1], kernelInitializer: 'zeros' })]);
  const opt = sgd({ learningRate, clipNorm: opts.clipNorm });
  m.compile({ optimizer: opt, loss: 'meanSquaredError' });
  const lines: string[] = [];
  const stop = new TerminateOnNaN({ printFn: (l) => lines.push(l) });
  const h = await m.fit(d.x, d.y, { epochs: 5, batchSize: 8, shuffle: false, verbose: 0, callbacks: [stop] });
  m.dispose();
  opt.dispose();
  core.dispose([d.x, d.y]);
  return { stop, lines, epochs: h.epoch.length, losses: h.history.loss ?? [] };
}

describe.each(BACKENDS)('TerminateOnNaN on %s', (name) => {
  it('stops at the batch holding a NaN sample and names the step', async (ctx) => {
    const { backend, reason } = await openBackend(name);
    if (backend === null) return ctx.skip(reason!);
    use(backend);
    const start = accounting(backend);
    const clean = await run(0.001);
    expect(clean.stop.terminatedAt).toBeNull(); // finite throughout: it does not stop a healthy run
    expect(clean.epochs).toBe(5);
    const r2 = await run(0.001, { nanAt: 8 * 2 + 3 }); // sample 19: batch 3 (1-based) of epoch 1
    expect(r2.stop.terminatedAt).toEqual({ epoch: 0, batch: 2, step: 3 });
    expect(r2.lines).toEqual(['TerminateOnNaN: the loss is NaN at step 3 (epoch 1, batch 3); terminating training']);
    expect(r2.stop.message).toBe(r2.lines[0]);
    expect(r2.epochs).toBe(1);
    expect(accounting(backend)).toEqual(start);
  });

  it('stops a diverging run at the first non-finite loss; clipNorm keeps the same run finite', async (ctx) => {
    const { backend, reason } = await openBackend(name);
    if (backend === null) return ctx.skip(reason!);
    use(backend);
    const start = accounting(backend);
    const diverging = await run(10);
    expect(diverging.stop.terminatedAt).not.toBeNull();
    const step = diverging.stop.terminatedAt!.step;
    expect(step).toBeGreaterThan(1);
    expect(step).toBeLessThan(40); // 5 epochs × 8 batches: it stopped early
    expect(diverging.stop.message).toMatch(new RegExp(`^TerminateOnNaN: the loss is (NaN|Infinity|-Infinity) at step ${step} \\(epoch \\d+, batch \\d+\\); terminating training$`));
    const clipped = await run(10, { clipNorm: 1 });
    expect(clipped.stop.terminatedAt).toBeNull();
    expect(clipped.losses.every(Number.isFinite)).toBe(true);
    expect(accounting(backend)).toEqual(start);
  });
});
