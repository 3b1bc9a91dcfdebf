/**
 * Every loss against a float64 host reference (value, per-sample values, and the gradient
 * against central finite differences of the reference), reductions and sample weights,
 * numerical stability at probabilities 0/1 and logits ±1e4, Keras names, and leaks.
 */
import * as c from '@tessera/core';
import type { Tensor } from '@tessera/core';
import { grad, vjp } from '@tessera/autograd';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  binaryCrossentropy,
  categoricalCrossentropy,
  categoricalHinge,
  cosineSimilarity,
  getLoss,
  hinge,
  huber,
  kullbackLeiblerDivergence,
  listLosses,
  logCosh,
  meanAbsoluteError,
  meanAbsolutePercentageError,
  meanSquaredError,
  meanSquaredLogarithmicError,
  poisson,
  sparseCategoricalCrossentropy,
  squaredHinge,
  withOptions,
  type LossFn,
} from '../src/index.js';
import { rng, setupBackend, snapshot } from '../../../scripts/test-helpers.mjs';

beforeAll(setupBackend);

const EPS = 1e-7;
const clip = (v: number, lo: number, hi: number): number => Math.min(Math.max(v, lo), hi);
const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
const sum = (v: number[]): number => v.reduce((a, b) => a + b, 0);
const softplus = (v: number): number => Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)));
const logSoftmax = (l: number[]): number[] => {
  const m = Math.max(...l);
  const s = Math.log(sum(l.map((v) => Math.exp(v - m)))) + m;
  return l.map((v) => v - s);
};

/** A per-sample reference: one row of yTrue and yPred → that sample's loss. */
type RowRef = (t: number[], p: number[]) => number;

interface LossCase {
  name: string;
  loss: LossFn<any>;
  opts?: Record<string, unknown>;
  rows: number;
  cols: number;
  /** Generates a row of yTrue / yPred. */
  yTrue: (r: () => number, cols: number) => number[];
  yPred: (r: () => number, cols: number) => number[];
  ref: RowRef;
  sparse?: boolean;
}

const uniform = (lo: number, hi: number) => (r: () => number, n: number) => Array.from({ length: n }, () => lo + (hi - lo) * r());
const probs = (r: () => number, n: number): number[] => {
  const v = Array.from({ length: n }, () => 0.05 + r());
  const s = sum(v);
  return v.map((x) => x / s);
};
const oneHotRow = (r: () => number, n: number): number[] => {
  const k = Math.floor(r() * n);
  return Array.from({ length: n }, (_, i) => (i === k ? 1 : 0));
};
const bits = (r: () => number, n: number): number[] => Array.from({ length: n }, () => (r() < 0.5 ? 0 : 1));
const signs = (r: () => number, n: number): number[] => Array.from({ length: n }, () => (r() < 0.5 ? -1 : 1));

const CASES: LossCase[] = [
  { name: 'meanSquaredError', loss: meanSquaredError, rows: 3, cols: 4, yTrue: uniform(-2, 2), yPred: uniform(-2, 2), ref: (t, p) => mean(p.map((v, i) => (v - t[i]!) ** 2)) },
  { name: 'meanAbsoluteError', loss: meanAbsoluteError, rows: 3, cols: 4, yTrue: uniform(-2, 0), yPred: uniform(0.1, 2), ref: (t, p) => mean(p.map((v, i) => Math.abs(v - t[i]!))) },
  {
    name: 'meanAbsolutePercentageError',
    loss: meanAbsolutePercentageError,
    rows: 3,
    cols: 4,
    yTrue: uniform(0.5, 2),
    yPred: uniform(2.1, 3),
    ref: (t, p) => 100 * mean(p.map((v, i) => Math.abs((t[i]! - v) / Math.max(Math.abs(t[i]!), EPS)))),
  },
  {
    name: 'meanSquaredLogarithmicError',
    loss: meanSquaredLogarithmicError,
    rows: 3,
    cols: 4,
    yTrue: uniform(0, 2),
    yPred: uniform(0.1, 2),
    ref: (t, p) => mean(p.map((v, i) => (Math.log1p(Math.max(v, EPS)) - Math.log1p(Math.max(t[i]!, EPS))) ** 2)),
  },
  {
    name: 'huber delta 0.7',
    loss: huber,
    opts: { delta: 0.7 },
    rows: 3,
    cols: 4,
    yTrue: uniform(-1, 1),
    yPred: (r, n) => Array.from({ length: n }, (_, i) => (i % 2 ? 0.3 : 2) * (r() < 0.5 ? -1 : 1)),
    ref: (t, p) =>
      mean(
        p.map((v, i) => {
          const e = Math.abs(v - t[i]!);
          return e <= 0.7 ? 0.5 * e * e : 0.7 * (e - 0.35);
        }),
      ),
  },
  { name: 'logCosh', loss: logCosh, rows: 3, cols: 4, yTrue: uniform(-3, 3), yPred: uniform(-3, 3), ref: (t, p) => mean(p.map((v, i) => Math.log(Math.cosh(v - t[i]!)))) },
  {
    name: 'binaryCrossentropy (probabilities)',
    loss: binaryCrossentropy,
    rows: 3,
    cols: 4,
    yTrue: bits,
    yPred: uniform(0.05, 0.95),
    ref: (t, p) => -mean(p.map((v, i) => t[i]! * Math.log(clip(v, EPS, 1 - EPS)) + (1 - t[i]!) * Math.log(1 - clip(v, EPS, 1 - EPS)))),
  },
  {
    name: 'binaryCrossentropy (logits, soft targets, label smoothing 0.2)',
    loss: binaryCrossentropy,
    opts: { fromLogits: true, labelSmoothing: 0.2 },
    rows: 3,
    cols: 4,
    yTrue: uniform(0, 1),
    yPred: uniform(-4, 4),
    ref: (t, z) => mean(z.map((v, i) => softplus(v) - v * (t[i]! * 0.8 + 0.1))),
  },
  {
    name: 'categoricalCrossentropy (unnormalised probabilities)',
    loss: categoricalCrossentropy,
    rows: 3,
    cols: 4,
    yTrue: oneHotRow,
    yPred: uniform(0.1, 1),
    ref: (t, p) => {
      const s = sum(p);
      return -sum(p.map((v, i) => t[i]! * Math.log(clip(v / s, EPS, 1 - EPS))));
    },
  },
  {
    name: 'categoricalCrossentropy (logits, label smoothing 0.1)',
    loss: categoricalCrossentropy,
    opts: { fromLogits: true, labelSmoothing: 0.1 },
    rows: 3,
    cols: 4,
    yTrue: probs,
    yPred: uniform(-3, 3),
    ref: (t, z) => {
      const ls = logSoftmax(z);
      return -sum(ls.map((v, i) => (t[i]! * 0.9 + 0.1 / 4) * v));
    },
  },
  {
    name: 'sparseCategoricalCrossentropy (probabilities)',
    loss: sparseCategoricalCrossentropy,
    sparse: true,
    rows: 3,
    cols: 4,
    yTrue: oneHotRow,
    yPred: probs,
    ref: (t, p) => {
      const s = sum(p);
      return -Math.log(clip(p[t.indexOf(1)]! / s, EPS, 1 - EPS));
    },
  },
  {
    name: 'sparseCategoricalCrossentropy (logits)',
    loss: sparseCategoricalCrossentropy,
    opts: { fromLogits: true },
    sparse: true,
    rows: 3,
    cols: 4,
    yTrue: oneHotRow,
    yPred: uniform(-3, 3),
    ref: (t, z) => -logSoftmax(z)[t.indexOf(1)]!,
  },
  {
    name: 'kullbackLeiblerDivergence',
    loss: kullbackLeiblerDivergence,
    rows: 3,
    cols: 4,
    yTrue: probs,
    yPred: probs,
    ref: (t, p) => sum(t.map((v, i) => clip(v, EPS, 1) * Math.log(clip(v, EPS, 1) / clip(p[i]!, EPS, 1)))),
  },
  {
    name: 'cosineSimilarity',
    loss: cosineSimilarity,
    rows: 3,
    cols: 4,
    yTrue: uniform(-2, 2),
    yPred: uniform(-2, 2),
    ref: (t, p) => {
      const nt = Math.sqrt(Math.max(sum(t.map((v) => v * v)), 1e-12));
      const np = Math.sqrt(Math.max(sum(p.map((v) => v * v)), 1e-12));
      return -sum(t.map((v, i) => (v / nt) * (p[i]! / np)));
    },
  },
  {
    name: 'hinge (labels ±1)',
    loss: hinge,
    rows: 3,
    cols: 4,
    yTrue: signs,
    yPred: (r, n) => Array.from({ length: n }, () => (r() < 0.5 ? -1 : 1) * (0.2 + 1.5 * r())),
    ref: (t, p) => mean(p.map((v, i) => Math.max(1 - t[i]! * v, 0))),
  },
  {
    name: 'hinge (labels 0/1 mapped to ±1)',
    loss: hinge,
    rows: 3,
    cols: 4,
    yTrue: bits,
    yPred: (r, n) => Array.from({ length: n }, () => (r() < 0.5 ? -1 : 1) * (0.2 + 1.5 * r())),
    ref: (t, p) => mean(p.map((v, i) => Math.max(1 - (2 * t[i]! - 1) * v, 0))),
  },
  {
    name: 'squaredHinge',
    loss: squaredHinge,
    rows: 3,
    cols: 4,
    yTrue: signs,
    yPred: (r, n) => Array.from({ length: n }, () => (r() < 0.5 ? -1 : 1) * (0.2 + 1.5 * r())),
    ref: (t, p) => mean(p.map((v, i) => Math.max(1 - t[i]! * v, 0) ** 2)),
  },
  {
    name: 'categoricalHinge',
    loss: categoricalHinge,
    rows: 3,
    cols: 4,
    yTrue: oneHotRow,
    yPred: uniform(-1, 1),
    ref: (t, p) => Math.max(Math.max(...p.map((v, i) => (1 - t[i]!) * v)) - sum(p.map((v, i) => t[i]! * v)) + 1, 0),
  },
  { name: 'poisson', loss: poisson, rows: 3, cols: 4, yTrue: uniform(0, 3), yPred: uniform(0.2, 3), ref: (t, p) => mean(p.map((v, i) => v - t[i]! * Math.log(v + EPS))) },
];

function build(lc: LossCase, seed: number): { t: number[][]; p: number[][]; yTrue: Tensor; yPred: Tensor } {
  const r = rng(seed);
  const t = Array.from({ length: lc.rows }, () => lc.yTrue(r, lc.cols));
  const p = Array.from({ length: lc.rows }, () => lc.yPred(r, lc.cols).map(Math.fround));
  const yTrue = lc.sparse ? c.tensor(Int32Array.from(t.map((row) => row.indexOf(1))), [lc.rows], 'int32') : c.tensor(t.flat(), [lc.rows, lc.cols]);
  const yPred = c.tensor(p.flat(), [lc.rows, lc.cols]);
  return { t, p, yTrue, yPred };
}

const near = (got: number, want: number, rtol = 1e-4, atol = 1e-5): void => {
  expect(Math.abs(got - want), `got ${got}, want ${want}`).toBeLessThanOrEqual(atol + rtol * Math.abs(want));
};

describe('each loss against a float64 reference', () => {
  CASES.forEach((lc, k) => {
    it(lc.name, () => {
      const { t, p, yTrue, yPred } = build(lc, 100 + k);
      const per = t.map((row, i) => lc.ref(row, p[i]!));
      // per-sample values and the default 'mean' reduction
      const none = lc.loss(yTrue, yPred, { ...lc.opts, reduction: 'none' });
      expect(none.shape).toEqual([lc.rows]);
      Array.from(none.dataSync()).forEach((v, i) => near(v, per[i]!));
      none.dispose();
      // the gradient of the mean loss against central differences of the reference
      const before = snapshot();
      const { value, grads } = vjp((q) => lc.loss(yTrue, q!, lc.opts), [yPred]);
      near(value.dataSync()[0]!, mean(per));
      const got = Array.from(grads[0]!.dataSync());
      c.dispose([value, ...grads]);
      expect(snapshot()).toEqual(before);
      const L = (rows: number[][]): number => mean(t.map((row, i) => lc.ref(row, rows[i]!)));
      for (let i = 0; i < lc.rows; i++) {
        for (let j = 0; j < lc.cols; j++) {
          const h = 1e-6;
          const plus = p.map((row) => row.slice());
          const minus = p.map((row) => row.slice());
          plus[i]![j]! += h;
          minus[i]![j]! -= h;
          near(got[i * lc.cols + j]!, (L(plus) - L(minus)) / (2 * h), 1e-3, 1e-5);
        }
      }
      c.dispose([yTrue, yPred]);
    });
  });
});

describe('reductions and sample weights', () => {
  it("'sum', 'none', 'mean' and weights of shape [batch], [batch, 1], and a number", () => {
    const yTrue = c.tensor([[0, 1], [1, 1], [2, 0]]);
    const yPred = c.tensor([[1, 1], [1, 3], [0, 0]]);
    const per = [0.5, 2, 2];
    const w = c.tensor([1, 0.5, 2]);
    const w1 = c.tensor([[1], [0.5], [2]]);
    const before = snapshot();
    const vals = (x: Tensor): number[] => {
      const v = Array.from(x.dataSync());
      x.dispose();
      return v;
    };
    expect(vals(meanSquaredError(yTrue, yPred, { reduction: 'none' }))).toEqual(per);
    near(vals(meanSquaredError(yTrue, yPred))[0]!, 4.5 / 3);
    near(vals(meanSquaredError(yTrue, yPred, { reduction: 'sum' }))[0]!, 4.5);
    // Keras sum_over_batch_size: the weighted sum divided by the batch size (not the weight sum).
    near(vals(meanSquaredError(yTrue, yPred, { sampleWeight: w }))[0]!, (0.5 + 1 + 4) / 3);
    near(vals(meanSquaredError(yTrue, yPred, { sampleWeight: w1 }))[0]!, (0.5 + 1 + 4) / 3);
    near(vals(meanSquaredError(yTrue, yPred, { sampleWeight: 2, reduction: 'sum' }))[0]!, 9);
    expect(vals(meanSquaredError(yTrue, yPred, { sampleWeight: w, reduction: 'none' }))).toEqual([0.5, 1, 4]);
    expect(snapshot()).toEqual(before);
    expect(() => meanSquaredError(yTrue, yPred, { reduction: 'avg' as 'mean' })).toThrow(/reduction/);
    const bad = c.tensor([1, 2]);
    const before2 = snapshot();
    expect(() => meanSquaredError(yTrue, yPred, { sampleWeight: bad })).toThrow(/sampleWeight/);
    expect(snapshot()).toEqual(before2);
    c.dispose([yTrue, yPred, w, w1, bad]);
  });

  it('per-sample losses of a [batch, time, features] prediction keep [batch, time]; [batch] weights weigh samples', () => {
    const yTrue = c.zeros([2, 3, 2]);
    const yPred = c.ones([2, 3, 2]);
    const w = c.tensor([1, 3]);
    const l = meanAbsoluteError(yTrue, yPred, { reduction: 'none', sampleWeight: w });
    expect(l.shape).toEqual([2, 3]);
    expect(Array.from(l.dataSync())).toEqual([1, 1, 1, 3, 3, 3]);
    c.dispose([yTrue, yPred, w, l]);
  });

  it('an empty batch gives 0, not NaN', () => {
    const t = c.zeros([0, 3]);
    const l = meanSquaredError(t, t);
    expect(l.dataSync()[0]).toBe(0);
    c.dispose([t, l]);
  });
});

describe('numerical stability', () => {
  const finite = (x: Tensor): boolean => Array.from(x.dataSync()).every(Number.isFinite);

  it('probabilities of exactly 0 and 1 give finite losses and gradients (clipped entries pass no gradient)', () => {
    const yTrue = c.tensor([[1, 0, 0], [0, 1, 0]]);
    const yPred = c.tensor([[0, 1, 0], [1, 0, 0]]);
    const labels = c.tensor([0, 1], [2], 'int32');
    const bTrue = c.tensor([[1, 0], [0, 1]]);
    const bPred = c.tensor([[0, 1], [1, 0]]);
    const before = snapshot();
    for (const [loss, t, p] of [
      [categoricalCrossentropy, yTrue, yPred],
      [sparseCategoricalCrossentropy, labels, yPred],
      [binaryCrossentropy, bTrue, bPred],
      [kullbackLeiblerDivergence, yTrue, yPred],
    ] as const) {
      const { value, grads } = vjp((q) => (loss as LossFn)(t, q!), [p]);
      expect(finite(value), `${loss.name} value`).toBe(true);
      expect(finite(grads[0]!), `${loss.name} gradient`).toBe(true);
      c.dispose([value, ...grads]);
    }
    // -log(1e-7) = 16.118 for each wrong-and-certain sample
    const v = categoricalCrossentropy(yTrue, yPred);
    near(v.dataSync()[0]!, -Math.log(1e-7), 1e-4);
    // binary: -log(1e-7) for a 0 that should be 1, -log(1 - fround(1 - 1e-7)) for a 1 that should be 0
    const b = binaryCrossentropy(bTrue, bPred);
    near(b.dataSync()[0]!, (-Math.log(Math.fround(1e-7)) - Math.log(1 - Math.fround(1 - 1e-7))) / 2, 1e-5);
    c.dispose([v, b]);
    expect(snapshot()).toEqual(before);
    c.dispose([yTrue, yPred, labels, bTrue, bPred]);
  });

  it('logits of ±1e4 neither overflow nor lose the answer', () => {
    const yTrue = c.tensor([[1, 0, 0], [0, 0, 1]]);
    const logits = c.tensor([[1e4, -1e4, 0], [1e4, -1e4, 0]]);
    const labels = c.tensor([0, 2], [2], 'int32');
    const bTrue = c.tensor([[1, 0], [0, 1]]);
    const bLogits = c.tensor([[1e4, -1e4], [1e4, -1e4]]);
    for (const fused of [true, false]) {
      c.withFusedKernels(fused, () => {
        const before = snapshot();
        const cce = vjp((z) => categoricalCrossentropy(yTrue, z!, { fromLogits: true, reduction: 'none' }), [logits]);
        expect(Array.from(cce.value.dataSync(), (v) => v + 0)).toEqual([0, 1e4]);
        expect(finite(cce.grads[0]!)).toBe(true);
        near(cce.grads[0]!.dataSync()[3]!, 1); // softmax - onehot on row 2
        const scce = sparseCategoricalCrossentropy(labels, logits, { fromLogits: true, reduction: 'none' });
        expect(Array.from(scce.dataSync(), (v) => v + 0)).toEqual([0, 1e4]);
        const bce = vjp((z) => binaryCrossentropy(bTrue, z!, { fromLogits: true, reduction: 'none' }), [bLogits]);
        expect(Array.from(bce.value.dataSync(), (v) => v + 0)).toEqual([0, 1e4]);
        expect(finite(bce.grads[0]!)).toBe(true);
        c.dispose([cce.value, ...cce.grads, scce, bce.value, ...bce.grads]);
        expect(snapshot()).toEqual(before);
      });
    }
    c.dispose([yTrue, logits, labels, bTrue, bLogits]);
  });

  it('logCosh stays finite for errors of 1e4', () => {
    const t = c.tensor([[0, 0]]);
    const p = c.tensor([[1e4, -1e4]]);
    const l = logCosh(t, p);
    near(l.dataSync()[0]!, 1e4 - Math.LN2);
    const g = grad((q) => logCosh(t, q))(p);
    expect(Array.from(g.dataSync()).map((v) => Math.round(v * 2))).toEqual([1, -1]);
    c.dispose([t, p, l, g]);
  });
});

describe('names', () => {
  it('Keras string names resolve through getLoss; functions pass through; unknown names are rejected', () => {
    expect(getLoss('mse')).toBe(meanSquaredError);
    expect(getLoss('mean_squared_error')).toBe(meanSquaredError);
    expect(getLoss('categoricalCrossentropy')).toBe(categoricalCrossentropy);
    expect(getLoss('categorical_crossentropy')).toBe(categoricalCrossentropy);
    expect(getLoss('sparse_categorical_crossentropy')).toBe(sparseCategoricalCrossentropy);
    expect(getLoss('binary_crossentropy')).toBe(binaryCrossentropy);
    expect(getLoss('kl_divergence')).toBe(kullbackLeiblerDivergence);
    expect(getLoss('kullback_leibler_divergence')).toBe(kullbackLeiblerDivergence);
    expect(getLoss('mae')).toBe(meanAbsoluteError);
    expect(getLoss('mape')).toBe(meanAbsolutePercentageError);
    expect(getLoss('huber_loss')).toBe(huber);
    expect(getLoss('log_cosh')).toBe(logCosh);
    expect(getLoss('cosine_similarity')).toBe(cosineSimilarity);
    expect(getLoss(hinge)).toBe(hinge);
    expect(() => getLoss('nope')).toThrow(/unknown loss 'nope'/);
    expect(listLosses()).toContain('sparseCategoricalCrossentropy');
  });

  it('withOptions fixes options', () => {
    const t = c.tensor([[1, 0]]);
    const z = c.tensor([[2, -1]]);
    const f = withOptions(binaryCrossentropy, { fromLogits: true });
    const a = f(t, z);
    const b = binaryCrossentropy(t, z, { fromLogits: true });
    expect(a.dataSync()[0]).toBeCloseTo(b.dataSync()[0]!, 6);
    c.dispose([t, z, a, b]);
  });

  it('bad arguments are rejected with the loss named', () => {
    const a = c.tensor([[1, 0]]);
    const b = c.tensor([[1, 0, 0]]);
    expect(() => meanSquaredError(a, b)).toThrow(/meanSquaredError: yTrue \[1,2\] and yPred \[1,3\]/);
    expect(() => categoricalCrossentropy(a, b)).toThrow(/categoricalCrossentropy/);
    expect(() => sparseCategoricalCrossentropy(c.tensor([0, 1], [2], 'int32'), b)).toThrow(/labels \[2\] do not fit yPred \[1,3\]/);
    c.dispose([a, b]);
  });
});
