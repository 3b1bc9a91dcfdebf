import type { View } from '@tessera/core';
import { describe, expect, it } from 'vitest';
import { F, broadcast, empty, expectClose, rand, read, tensor, transposed } from './helpers.js';

function refSoftmaxRows(v: number[], n: number, log: boolean): number[] {
  const out: number[] = [];
  for (let r = 0; r < v.length / n; r++) {
    const row = v.slice(r * n, r * n + n);
    const m = Math.max(...row);
    const s = row.reduce((a, x) => a + Math.exp(x - m), 0);
    for (const x of row) out.push(Math.fround(log ? x - m - Math.log(s) : Math.exp(x - m) / s));
  }
  return out;
}

describe('softmax', () => {
  for (const log of [false, true]) {
    it(`${log ? 'log-' : ''}softmax over the last axis, contiguous and transposed`, () => {
      const v = rand(4 * 7, 3, -5, 5);
      const out = empty([4, 7]);
      F.softmax!(tensor(v, [4, 7]), log, out);
      expectClose(read(out), refSoftmaxRows(v, 7, log), 1e-6, 1e-7);
      const t = transposed(tensor(v, [7, 4]));
      const out2 = empty([4, 7]);
      F.softmax!(t, log, out2);
      expectClose(read(out2), refSoftmaxRows(read(t), 7, log), 1e-6, 1e-7);
    });
  }
  it('is stable for large logits and handles -Inf entries', () => {
    const out = empty([1, 3]);
    F.softmax!(tensor([1000, 1000, -Infinity], [1, 3]), false, out);
    expect(read(out)).toEqual([0.5, 0.5, 0]);
    F.softmax!(tensor([1000, 1000, -Infinity], [1, 3]), true, out);
    expectClose(read(out), [-Math.LN2, -Math.LN2, -Infinity], 1e-6, 0);
  });
  it('NaN in a row poisons only that row; size 0 is a no-op', () => {
    const out = empty([2, 2]);
    F.softmax!(tensor([NaN, 1, 0, 0], [2, 2]), false, out);
    expect(read(out)).toEqual([NaN, NaN, 0.5, 0.5]);
    F.softmax!(empty([0, 3]), false, empty([0, 3]));
  });
});

describe('softmaxCrossEntropy', () => {
  it('equals -Σ labels · logSoftmax(logits) per row', () => {
    const n = 5, rows = 6;
    const lg = rand(rows * n, 8, -3, 3);
    const lb = rand(rows * n, 9, 0, 1);
    const out = empty([2, 3]);
    F.softmaxCrossEntropy!(tensor(lg, [2, 3, n]), tensor(lb, [2, 3, n]), out);
    const ls = refSoftmaxRows(lg, n, true);
    const ref = Array.from({ length: rows }, (_, r) => Math.fround(-lb.slice(r * n, r * n + n).reduce((a, l, i) => a + l * ls[r * n + i], 0)));
    expectClose(read(out), ref, 1e-5, 1e-6);
  });
  it('one-hot labels give -log p; broadcast labels view', () => {
    const out = empty([1]);
    F.softmaxCrossEntropy!(tensor([0, 0], [1, 2]), tensor([1, 0], [1, 2]), out);
    expectClose(read(out), [Math.LN2], 1e-6, 0);
    const out2 = empty([2]);
    F.softmaxCrossEntropy!(tensor([0, 0, 1, 1], [2, 2]), broadcast(tensor([0.5, 0.5], [2]), [2, 2]), out2);
    expectClose(read(out2), [Math.LN2, Math.LN2], 1e-6, 0);
  });
});

describe('layerNorm', () => {
  it('normalises the last axis with biased variance, gamma and beta', () => {
    const d = 6, rows = 5;
    const v = rand(rows * d, 4, -2, 3), g = rand(d, 5, 0.5, 1.5), b = rand(d, 6);
    const out = empty([rows, d]);
    F.layerNorm!(tensor(v, [rows, d]), tensor(g, [d]), tensor(b, [d]), 1e-5, out);
    const ref: number[] = [];
    for (let r = 0; r < rows; r++) {
      const row = v.slice(r * d, r * d + d);
      const mean = row.reduce((a, x) => a + x, 0) / d;
      const varr = row.reduce((a, x) => a + (x - mean) ** 2, 0) / d;
      row.forEach((x, i) => ref.push(Math.fround(((x - mean) / Math.sqrt(varr + 1e-5)) * g[i] + b[i])));
    }
    expectClose(read(out), ref, 1e-5, 1e-6);
  });
  it('strided x, constant rows give beta', () => {
    const x: View = transposed(tensor([1, 1, 2, 2, 3, 3], [3, 2])); // rows [1,2,3] twice
    const out = empty([2, 3]);
    F.layerNorm!(x, tensor([1, 1, 1], [3]), tensor([0, 0, 0], [3]), 0, out);
    const s = Math.sqrt(2 / 3);
    expectClose(read(out), [-1 / s, 0, 1 / s, -1 / s, 0, 1 / s], 1e-6, 1e-6);
    const out2 = empty([1, 3]);
    F.layerNorm!(tensor([4, 4, 4], [1, 3]), tensor([2, 2, 2], [3]), tensor([7, 8, 9], [3]), 1e-3, out2);
    expect(read(out2)).toEqual([7, 8, 9]);
  });
});

describe('optimizerStep', () => {
  const p0 = [1, -2, 3, 0.5], g = [0.1, -0.2, 0.3, 0];
  it('sgd', () => {
    const p = tensor(p0, [4]);
    F.optimizerStep!('sgd', [p], [tensor(g, [4])], [[]], { lr: 0.5, step: 1 });
    expectClose(read(p), p0.map((x, i) => Math.fround(x - 0.5 * g[i])), 1e-7, 0);
  });
  it('momentum and nesterov update state then params', () => {
    for (const kind of ['momentum', 'nesterov'] as const) {
      const p = tensor(p0, [4]), v = tensor([0.1, 0.1, 0.1, 0.1], [4]);
      F.optimizerStep!(kind, [p], [tensor(g, [4])], [[v]], { lr: 0.1, step: 1, momentum: 0.9 });
      const vn = g.map((x) => Math.fround(0.9 * 0.1 - 0.1 * x));
      expectClose(read(v), vn, 1e-7, 0);
      const pn = p0.map((x, i) => Math.fround(kind === 'momentum' ? x + vn[i] : x + 0.9 * vn[i] - 0.1 * g[i]));
      expectClose(read(p), pn, 1e-6, 1e-7);
    }
  });
  it('adam (Keras form) over two steps, with AdamW decay, several tensors', () => {
    const b1 = 0.9, b2 = 0.999, eps = 1e-7, lr = 0.01, wd = 0.1;
    const p = tensor(p0, [2, 2]), m = tensor([0, 0, 0, 0], [2, 2]), v = tensor([0, 0, 0, 0], [2, 2]);
    const q = tensor([5], [1]), qm = tensor([0], [1]), qv = tensor([0], [1]);
    const P = p0.slice(), M = [0, 0, 0, 0], V = [0, 0, 0, 0];
    for (let step = 1; step <= 2; step++) {
      F.optimizerStep!('adam', [p, q], [tensor(g, [2, 2]), tensor([1], [1])], [[m, v], [qm, qv]], { lr, step, beta1: b1, beta2: b2, epsilon: eps, weightDecay: wd });
      const alpha = (lr * Math.sqrt(1 - b2 ** step)) / (1 - b1 ** step);
      for (let i = 0; i < 4; i++) {
        P[i] -= lr * wd * P[i];
        M[i] = b1 * M[i] + (1 - b1) * g[i];
        V[i] = b2 * V[i] + (1 - b2) * g[i] * g[i];
        P[i] -= (alpha * M[i]) / (Math.sqrt(V[i]) + eps);
      }
    }
    expectClose(read(p), P.map(Math.fround), 1e-5, 1e-6);
    expectClose(read(m), M.map(Math.fround), 1e-6, 0);
    expectClose(read(v), V.map(Math.fround), 1e-5, 0);
    expect(read(q)[0]).toBeLessThan(5);
  });
  it('accepts a strided gradient', () => {
    const p = tensor([1, 1, 1, 1], [2, 2]);
    F.optimizerStep!('sgd', [p], [transposed(tensor([1, 2, 3, 4], [2, 2]))], [[]], { lr: 1, step: 1 });
    expect(read(p)).toEqual([0, -2, -1, -3]);
  });
});
