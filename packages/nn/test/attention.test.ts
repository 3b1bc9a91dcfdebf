/**
 * MultiHeadAttention, the KV cache and padding-mask plumbing: weight layout, masks that give
 * exactly-zero weights, decoding with and without a cache, typed errors, freezing, dropout,
 * training and leaks.
 */
import { variableGrads } from '@tessera/autograd';
import {
  ArgumentError,
  concat,
  dispose,
  DTypeError,
  mul,
  randomNormal,
  scaledDotProductAttention,
  ShapeError,
  slice,
  sum,
  type Tensor,
  tensor,
  tidy,
} from '@tessera/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { input, KVCache, layers, model, MultiHeadAttention, sequential } from '../src/index.js';
import { expectNoLeak, snapshot, useTestBackend } from './helpers.js';

beforeAll(useTestBackend);

const read = async (t: Tensor): Promise<number[]> => Array.from(await t.data());
const maxAbsDiff = async (a: Tensor, b: Tensor): Promise<number> => {
  const [x, y] = [await read(a), await read(b)];
  expect(a.shape).toEqual(b.shape);
  return x.reduce((m, v, i) => Math.max(m, Math.abs(v - y[i]!)), 0);
};

describe('MultiHeadAttention', () => {
  it('has four Dense projections in the golden layout, weights in query/key/value/output order', () => {
    const before = snapshot();
    const mha = layers.multiHeadAttention({ numHeads: 3, keyDim: 4, valueDim: 5, outputDim: 7 });
    const x = randomNormal([2, 6, 8], { seed: 1 });
    const y = mha.apply(x);
    expect(y.shape).toEqual([2, 6, 7]);
    expect(mha.weights.map((w) => w.shape)).toEqual([[8, 12], [12], [8, 12], [12], [8, 15], [15], [15, 7], [7]]);
    expect(mha.weights[0]).toBe(mha.queryDense!.kernel);
    expect(mha.weights[6]).toBe(mha.outputDense!.kernel);
    expect(mha.weightEntries.map((w) => w.name)).toEqual([
      'query/kernel', 'query/bias', 'key/kernel', 'key/bias', 'value/kernel', 'value/bias', 'attention_output/kernel', 'attention_output/bias',
    ]);
    expect(mha.countParams()).toBe(8 * 12 + 12 + 8 * 12 + 12 + 8 * 15 + 15 + 15 * 7 + 7);
    dispose([x, y]);
    mha.dispose();
    expectNoLeak(before);
  });

  it('cross-attends [query, value] and [query, value, key] with different feature sizes', () => {
    const before = snapshot();
    const mha = layers.multiHeadAttention({ numHeads: 2, keyDim: 3 });
    const q = randomNormal([2, 4, 6], { seed: 1 });
    const v = randomNormal([2, 5, 10], { seed: 2 });
    const k = randomNormal([2, 5, 9], { seed: 3 });
    const y = mha.apply([q, v, k]);
    expect(y.shape).toEqual([2, 4, 6]);
    expect(mha.keyDense!.kernel!.shape).toEqual([9, 6]);
    expect(mha.valueDense!.kernel!.shape).toEqual([10, 6]);
    const mha2 = layers.multiHeadAttention({ numHeads: 2, keyDim: 3, useBias: false });
    const y2 = mha2.apply([q, v]);
    expect(y2.shape).toEqual([2, 4, 6]);
    expect(mha2.weights).toHaveLength(4);
    dispose([q, v, k, y, y2]);
    mha.dispose();
    mha2.dispose();
    expectNoLeak(before);
  });

  it('returns scores [batch, heads, Tq, Tk] whose rows sum to 1; the causal mask gives exactly-zero weights', async () => {
    const before = snapshot();
    const mha = layers.multiHeadAttention({ numHeads: 2, keyDim: 4 });
    const x = randomNormal([2, 5, 8], { seed: 4 });
    const [y, scores] = mha.applyAll(x, { useCausalMask: true, returnAttentionScores: true }) as Tensor[];
    expect(y!.shape).toEqual([2, 5, 8]);
    expect(scores!.shape).toEqual([2, 2, 5, 5]);
    const s = await read(scores!);
    for (let r = 0; r < 2 * 2 * 5; r++) {
      const i = r % 5;
      const row = s.slice(r * 5, r * 5 + 5);
      expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      for (let j = 0; j < 5; j++) {
        if (j > i) expect(row[j]).toBe(0);
        else expect(row[j]).toBeGreaterThan(0);
      }
    }
    // The plain (possibly fused) path computes the same output.
    const y2 = mha.apply(x, { useCausalMask: true });
    expect(await maxAbsDiff(y!, y2)).toBeLessThan(1e-6);
    dispose([x, y!, scores!, y2]);
    mha.dispose();
    expectNoLeak(before);
  });

  it('an attention mask (bool or 0/1) gives exactly-zero weights on masked keys and fully masked rows are zero, not NaN', async () => {
    const before = snapshot();
    const mha = layers.multiHeadAttention({ numHeads: 2, keyDim: 2 });
    const x = randomNormal([1, 3, 4], { seed: 5 });
    const maskValues = [1, 0, 1, 0, 0, 0, 1, 1, 0];
    for (const mask of [tensor(maskValues, [1, 3, 3]), tensor(maskValues.map(Boolean), [1, 3, 3], 'bool')]) {
      const [y, scores] = mha.applyAll(x, { attentionMask: mask, returnAttentionScores: true }) as Tensor[];
      const s = await read(scores!);
      s.forEach((w, n) => {
        const m = maskValues[n % 9]!;
        if (m === 0) expect(w).toBe(0);
        else expect(w).toBeGreaterThan(0);
      });
      expect((await read(y!)).every(Number.isFinite)).toBe(true);
      dispose([y!, scores!, mask]);
    }
    x.dispose();
    mha.dispose();
    expectNoLeak(before);
  });

  it('padding masks from Embedding({ maskZero }) reach attention in functional and Sequential models', async () => {
    const before = snapshot();
    const ids = tensor([[3, 1, 4, 0, 0], [2, 7, 0, 0, 0]], [2, 5], 'int32');
    const idsOtherPad = tensor([[3, 1, 4, 0, 0], [2, 7, 0, 0, 0]], [2, 5], 'int32');
    // Functional: the scores output shows the masked (padded) keys.
    const inp = input({ shape: [5], dtype: 'int32' });
    const emb = layers.embedding({ inputDim: 10, outputDim: 8, maskZero: true });
    const mha = layers.multiHeadAttention({ numHeads: 2, keyDim: 4 });
    const [out, sc] = mha.applyAll(emb.apply(inp), { returnAttentionScores: true }) as unknown as [never, never];
    const m = model({ inputs: inp, outputs: [out, sc] });
    const outs = m.applyAll(ids) as Tensor[];
    const scores = outs[1];
    expect(scores!.shape).toEqual([2, 2, 5, 5]);
    const s = await read(scores!);
    const lens = [3, 2];
    for (let b = 0; b < 2; b++) {
      for (let h = 0; h < 2; h++) {
        for (let i = 0; i < 5; i++) {
          for (let j = 0; j < 5; j++) {
            const w = s[((b * 2 + h) * 5 + i) * 5 + j]!;
            if (i >= lens[b]! || j >= lens[b]!) expect(w).toBe(0);
            else expect(w).toBeGreaterThan(0);
          }
        }
      }
    }
    // Sequential: real positions do not depend on what the padded positions hold.
    const seq = sequential([layers.embedding({ inputDim: 10, outputDim: 8, maskZero: true, inputShape: [5] }), layers.multiHeadAttention({ numHeads: 2, keyDim: 4 })]);
    const a = seq.apply(ids);
    const b2 = seq.apply(idsOtherPad);
    expect(await maxAbsDiff(a, b2)).toBe(0);
    // Changing a padded id to a real one changes the real positions' outputs.
    const unpadded = tensor([[3, 1, 4, 5, 0], [2, 7, 0, 0, 0]], [2, 5], 'int32');
    const c = seq.apply(unpadded);
    const first = (t: Tensor): Tensor => slice(t, [0, 0, 0], [1, 3, 8]);
    const [fa, fc] = [first(a), first(c)];
    expect(await maxAbsDiff(fa, fc)).toBeGreaterThan(1e-4);
    dispose([ids, idsOtherPad, unpadded, a, b2, c, fa, fc, ...outs]);
    m.dispose();
    seq.dispose();
    expectNoLeak(before);
  });

  it('decodes with a KV cache exactly as without one (prompt, then one token at a time)', async () => {
    const before = snapshot();
    const mha = layers.multiHeadAttention({ numHeads: 2, keyDim: 4 });
    const x = randomNormal([2, 7, 8], { seed: 6 });
    const full = mha.apply(x, { useCausalMask: true });
    const cache = new KVCache();
    const entry = cache.layer(0);
    // Each step in tidy(): the cache keeps its tensors beyond the step's scope.
    const steps = [tidy(() => mha.apply(slice(x, [0, 0, 0], [2, 4, 8]), { useCausalMask: true, cache: entry }))];
    expect(cache.length).toBe(4);
    for (let t = 4; t < 7; t++) steps.push(tidy(() => mha.apply(slice(x, [0, t, 0], [2, 1, 8]), { useCausalMask: true, cache: entry })));
    expect(cache.length).toBe(7);
    expect(entry.keys!.shape).toEqual([2, 2, 7, 4]);
    const inc = concat(steps, 1);
    expect(await maxAbsDiff(full, inc)).toBeLessThan(1e-5);
    cache.dispose();
    expect(cache.length).toBe(0);
    dispose([x, full, inc, ...steps]);
    mha.dispose();
    expectNoLeak(before);
  });

  it('raises typed errors naming the layer', () => {
    const before = snapshot();
    expect(() => layers.multiHeadAttention({ numHeads: 0, keyDim: 4 })).toThrow(ArgumentError);
    expect(() => layers.multiHeadAttention({ numHeads: 2, keyDim: 4, dropout: 1 })).toThrow(ArgumentError);
    const mha = layers.multiHeadAttention({ numHeads: 2, keyDim: 4, name: 'att' });
    const x2 = randomNormal([2, 8], { seed: 1 });
    expect(() => mha.apply(x2)).toThrow(ShapeError);
    expect(() => mha.apply(x2)).toThrow(/att/);
    const xi = tensor([[[1, 2]]], [1, 1, 2], 'int32');
    const intLayer = layers.multiHeadAttention({ numHeads: 1, keyDim: 2 });
    expect(() => intLayer.apply(xi)).toThrow(DTypeError);
    intLayer.dispose();
    const x = randomNormal([2, 3, 8], { seed: 2 });
    const badMask = tensor([1, 1, 1, 1], [2, 2]);
    expect(() => mha.apply(x, { attentionMask: badMask })).toThrow(ShapeError);
    const v = randomNormal([3, 4, 8], { seed: 3 });
    expect(() => mha.apply([x, v])).toThrow(ShapeError);
    const cache = new KVCache();
    mha.apply(x, { cache: cache.layer(0) }).dispose();
    const other = randomNormal([1, 1, 8], { seed: 4 });
    expect(() => mha.apply(other, { cache: cache.layer(0) })).toThrow(ShapeError);
    expect(() => cache.layer(-1)).toThrow(ArgumentError);
    cache.dispose();
    dispose([x2, xi, x, badMask, v, other]);
    mha.dispose();
    expectNoLeak(before);
  });

  it('freezes all four projections with trainable = false', () => {
    const mha = layers.multiHeadAttention({ numHeads: 2, keyDim: 4 });
    const x = randomNormal([1, 2, 8], { seed: 1 });
    mha.apply(x).dispose();
    expect(mha.trainableWeights).toHaveLength(8);
    mha.trainable = false;
    expect(mha.trainableWeights).toHaveLength(0);
    expect(mha.nonTrainableWeights).toHaveLength(8);
    expect(mha.queryDense!.trainable).toBe(false);
    mha.trainable = true;
    expect(mha.trainableWeights).toHaveLength(8);
    x.dispose();
    mha.dispose();
  });

  it('applies dropout to the attention weights only while training', async () => {
    const before = snapshot();
    const mha = layers.multiHeadAttention({ numHeads: 2, keyDim: 4, dropout: 0.5, seed: 7 });
    const ref = layers.multiHeadAttention({ numHeads: 2, keyDim: 4 });
    const x = randomNormal([2, 6, 8], { seed: 8 });
    const a = mha.apply(x);
    ref.apply(x).dispose();
    const ws = mha.getWeights();
    ref.setWeights(ws);
    dispose(ws);
    const b = ref.apply(x);
    expect(await maxAbsDiff(a, b)).toBeLessThan(1e-6);
    const c = mha.apply(x, { training: true });
    expect(await maxAbsDiff(a, c)).toBeGreaterThan(1e-3);
    dispose([x, a, b, c]);
    mha.dispose();
    ref.dispose();
    expectNoLeak(before);
  });

  it('gradients flow to every projection', async () => {
    const before = snapshot();
    const mha = layers.multiHeadAttention({ numHeads: 2, keyDim: 4 });
    const x = randomNormal([2, 4, 8], { seed: 9 });
    mha.apply(x).dispose();
    const up = randomNormal([2, 4, 8], { seed: 10 });
    const { value, grads } = variableGrads(() => sum(mul(mha.apply(x, { useCausalMask: true }), up)), mha.trainableWeights);
    expect(grads.size).toBe(8);
    for (const g of grads.values()) expect((await read(g)).some((v) => v !== 0)).toBe(true);
    dispose([value, ...grads.values(), x, up]);
    mha.dispose();
    expectNoLeak(before);
  });

  it('round-trips its config', () => {
    const mha = new MultiHeadAttention({ numHeads: 3, keyDim: 5, valueDim: 2, dropout: 0.1, useBias: false, outputDim: 4, name: 'mha_cfg' });
    const back = MultiHeadAttention.fromConfig(mha.getConfig());
    expect(back.getConfig()).toEqual(mha.getConfig());
  });

  it('core scaledDotProductAttention matches attention written out by hand', async () => {
    const before = snapshot();
    const q = tensor([[1, 0], [0, 1]], [1, 2, 2]);
    const k = tensor([[1, 0], [0, 1], [1, 1]], [1, 3, 2]);
    const v = tensor([[1, 2], [3, 4], [5, 6]], [1, 3, 2]);
    const y = scaledDotProductAttention(q, k, v, { scale: 1 });
    // Row 0 scores [1, 0, 1], row 1 [0, 1, 1].
    const e = Math.E;
    const w0 = [e, 1, e].map((s) => s / (2 * e + 1));
    const w1 = [1, e, e].map((s) => s / (2 * e + 1));
    const want = [w0[0]! * 1 + w0[1]! * 3 + w0[2]! * 5, w0[0]! * 2 + w0[1]! * 4 + w0[2]! * 6, w1[0]! * 1 + w1[1]! * 3 + w1[2]! * 5, w1[0]! * 2 + w1[1]! * 4 + w1[2]! * 6];
    (await read(y)).forEach((got, i) => expect(got).toBeCloseTo(want[i]!, 5));
    dispose([q, k, v, y]);
    expectNoLeak(before);
  });
});
