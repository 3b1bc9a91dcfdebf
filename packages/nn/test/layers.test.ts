import { tidy, add, dispose, matmul, mean, mul, ones, randomNormal, randomUniform, softmax, std, sum, square, type Tensor, tensor, transpose, zeros, max, min, linear, abs, sub } from '@tessera/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { activationNames, getActivation, getInitializer, initializers, layers, regularizers, sequential } from '../src/index.js';
import { expectNoLeak, snapshot, useTestBackend } from './helpers.js';

beforeAll(useTestBackend);

const num = (t: Tensor): number => t.dataSync()[0] as number;
const tidyPair = <T extends Record<string, Tensor>>(f: () => T): T => tidy(f);
function maxAbsDiff(a: Tensor, b: Tensor): number {
  const d = sub(a, b);
  const ad = abs(d);
  const m = max(ad);
  const v = num(m);
  dispose([d, ad, m]);
  return v;
}

describe('initializers', () => {
  it('follow the Keras definitions (fans, limits, stddevs) and seeds', () => {
    const before = snapshot();
    const w = initializers.glorotUniform({ seed: 1 }).apply([300, 200]);
    const lim = Math.sqrt(6 / 500);
    const [hi, lo, s] = [max(w), min(w), std(w)];
    expect(num(hi)).toBeLessThanOrEqual(lim);
    expect(num(lo)).toBeGreaterThanOrEqual(-lim);
    expect(num(s)).toBeCloseTo(lim / Math.sqrt(3), 2);
    const again = initializers.glorotUniform({ seed: 1 }).apply([300, 200]);
    expect(maxAbsDiff(w, again)).toBe(0);
    const he = initializers.heNormal({ seed: 2 }).apply([3, 3, 64, 32]); // fan_in 576
    const hs = std(he);
    expect(num(hs)).toBeCloseTo(Math.sqrt(2 / 576), 2);
    const q = initializers.orthogonal({ seed: 3 }).apply([6, 4]);
    const qt = transpose(q);
    const qtq = matmul(qt, q);
    const eye = tensor([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], [4, 4]);
    expect(maxAbsDiff(qtq, eye)).toBeLessThan(1e-5);
    const c = getInitializer({ className: 'Constant', config: { value: 2.5 } }).apply([2]);
    expect(Array.from(c.dataSync())).toEqual([2.5, 2.5]);
    expect(getInitializer('he_uniform').getConfig()).toEqual({ seed: null });
    for (const name of ['zeros', 'ones', 'glorot_normal', 'lecun_normal', 'random_normal', 'random_uniform', 'truncated_normal', 'variance_scaling']) {
      const t = getInitializer(name).apply([4, 3]);
      expect(t.shape).toEqual([4, 3]);
      t.dispose();
    }
    expect(() => getInitializer('nope')).toThrow(/unknown initializer/);
    dispose([w, again, hi, lo, s, he, hs, q, qt, qtq, eye, c]);
    expectNoLeak(before);
  });
});

describe('layers', () => {
  it('Dense applies fused and unfused activations like the ops they name', () => {
    const before = snapshot();
    const x = randomNormal([4, 5], { seed: 4 });
    for (const act of ['relu', 'softmax', 'gelu', 'elu', 'linear'] as const) {
      const d = layers.dense({ units: 3, activation: act });
      const y = d.apply(x);
      const [k, b] = d.getWeights();
      const lin = linear(x, k!, b!);
      const want = getActivation(act)(lin);
      expect(maxAbsDiff(y, want)).toBeLessThan(1e-6);
      dispose([y, k!, b!, lin, want]);
      d.dispose();
    }
    x.dispose();
    expectNoLeak(before);
  });

  it('every named activation resolves and computes', () => {
    const before = snapshot();
    const x = tensor([-2, -0.5, 0.5, 2]);
    for (const n of activationNames()) {
      const y = getActivation(n)(x);
      expect(Array.from(y.dataSync()).every(Number.isFinite)).toBe(true);
      if (y !== x) y.dispose();
    }
    const hs = getActivation('hard_sigmoid')(x);
    expect(Array.from(hs.dataSync())).toEqual([1 / 6, 2.5 / 6, 3.5 / 6, 5 / 6].map(Math.fround));
    dispose([x, hs]);
    expectNoLeak(before);
  });

  it('Dropout drops only while training, scales by 1/(1-rate), and is reproducible with a seed', () => {
    const before = snapshot();
    const x = ones([200, 50]);
    const d1 = layers.dropout({ rate: 0.4, seed: 11 });
    const d2 = layers.dropout({ rate: 0.4, seed: 11 });
    const inf = d1.apply(x);
    expect(inf).toBe(x);
    const a = d1.apply(x, { training: true });
    const b = d2.apply(x, { training: true });
    const c = d1.apply(x, { training: true });
    expect(maxAbsDiff(a, b)).toBe(0);
    expect(maxAbsDiff(a, c)).toBeGreaterThan(0);
    const values = new Set(Array.from(a.dataSync()));
    expect([...values].sort()).toEqual([0, Math.fround(1 / 0.6)]);
    const m = mean(a);
    expect(num(m)).toBeCloseTo(1, 1);
    dispose([x, a, b, c, m]);
    expectNoLeak(before);
  });

  it('Reshape, Flatten, GlobalAveragePooling2D, Add, Concatenate, Activation and Embedding compute shapes and values', () => {
    const before = snapshot();
    const x = randomUniform([2, 4, 6, 3], { seed: 1 });
    const r = layers.reshape({ targetShape: [-1, 3] }).apply(x);
    expect(r.shape).toEqual([2, 24, 3]);
    const f = layers.flatten().apply(x);
    expect(f.shape).toEqual([2, 72]);
    const g = layers.globalAveragePooling2d().apply(x);
    const gm = mean(x, [1, 2]);
    expect(maxAbsDiff(g, gm)).toBeLessThan(1e-6);
    const s = layers.add().apply([g, gm]);
    const g2 = mul(g, 2);
    expect(maxAbsDiff(s, g2)).toBeLessThan(1e-6);
    const cat = layers.concatenate().apply([g, gm]);
    expect(cat.shape).toEqual([2, 6]);
    const sm = layers.activation({ activation: 'softmax' }).apply(g);
    const want = softmax(g);
    expect(maxAbsDiff(sm, want)).toBe(0);
    const emb = layers.embedding({ inputDim: 5, outputDim: 2, embeddingsInitializer: 'ones' });
    const ids = tensor([[0, 4, 1]], [1, 3], 'int32');
    const e = emb.apply(ids);
    expect(e.shape).toEqual([1, 3, 2]);
    expect(emb.countParams()).toBe(10);
    dispose([x, r, f, g, gm, s, g2, cat, sm, want, ids, e]);
    emb.dispose();
    expectNoLeak(before);
  });

  it('getWeights/setWeights round-trip and countParams counts every weight', () => {
    const before = snapshot();
    const bn = layers.batchNormalization();
    const x = zeros([2, 3]);
    bn.apply(x).dispose();
    expect(bn.weights.map((v) => v.shape)).toEqual([[3], [3], [3], [3]]);
    expect(bn.trainableWeights).toHaveLength(2);
    expect(bn.nonTrainableWeights).toHaveLength(2);
    expect(bn.countParams()).toBe(12);
    const vals = [tensor([1, 2, 3]), tensor([4, 5, 6]), tensor([7, 8, 9]), tensor([10, 11, 12])];
    bn.setWeights(vals);
    const got = bn.getWeights();
    expect(got.map((t) => Array.from(t.dataSync()))).toEqual([[1, 2, 3], [4, 5, 6], [7, 8, 9], [10, 11, 12]]);
    dispose([x, ...vals, ...got]);
    bn.dispose();
    expectNoLeak(before);
  });
});

describe('regularizers', () => {
  it('penalties enter the training loss (evaluate reports data loss + penalty)', async () => {
    const before = snapshot();
    const m = sequential([layers.dense({ units: 2, inputShape: [3], kernelRegularizer: regularizers.l2(0.5), biasRegularizer: regularizers.l1(0.25), biasInitializer: 'ones' })]);
    m.compile({ optimizer: 'sgd', loss: 'mse' });
    const x = randomUniform([4, 3], { seed: 2 });
    const y = zeros([4, 2]);
    const { loss } = await m.evaluate(x, y);
    const [k, b] = m.getWeights();
    const p = m.predict(x) as Tensor;
    const { mse, penalty } = tidyPair(() => ({ mse: mean(square(p)), penalty: add(mul(sum(square(k!)), 0.5), mul(sum(abs(b!)), 0.25)) }));
    expect(loss).toBeCloseTo(num(mse) + num(penalty), 5);
    expect(regularizers.l1l2({ l1: 0.1, l2: 0.2 }).getConfig()).toEqual({ l1: 0.1, l2: 0.2 });
    dispose([x, y, k!, b!, p]);
    m.dispose();
    dispose([mse, penalty]);
    expectNoLeak(before);
  });
});

describe('Keras-style factories', () => {
  it('builds the classic model with positional dense() and top-level flatten()', async () => {
    const { dense: d, flatten: f, dropout: dr, sequential: seq } = await import('../src/index.js');
    await useTestBackend();
    const m = seq([f({ inputShape: [28, 28] }), d(128, 'relu'), dr(0.5), d(10, 'softmax')]);
    expect(m.countParams()).toBe(784 * 128 + 128 + 128 * 10 + 10);
    m.dispose();
  });
});
