import type { Activation, View } from '@tessera/core';
import { describe, expect, it } from 'vitest';
import { gemm } from '../src/gemm.js';
import { erf } from '../src/math.js';
import { F, K, broadcast, empty, expectClose, flipped, rand, read, tensor, transposed, viewOf } from './helpers.js';

/** float64 reference of a batched matmul on logical values. */
function refMatmul(a: number[], b: number[], batch: number, m: number, k: number, n: number): number[] {
  const out: number[] = [];
  for (let t = 0; t < batch; t++) {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += a[t * m * k + i * k + p] * b[t * k * n + p * n + j];
        out.push(Math.fround(s));
      }
    }
  }
  return out;
}

function mm(a: View, b: View): number[] {
  const r = a.shape.length;
  const out = empty([...a.shape.slice(0, r - 2), a.shape[r - 2], b.shape[r - 1]]);
  K.matmul(a, b, out);
  return read(out);
}

describe('matmul', () => {
  const sizes: [number, number, number][] = [
    [1, 1, 1], [2, 3, 4], [1, 7, 5], [6, 9, 1], [5, 1, 3], [4, 4, 4], [13, 17, 11], [64, 64, 64],
    [65, 67, 66], [130, 3, 257], [3, 300, 5], [100, 260, 70], [70, 1030, 9],
  ];
  for (const [m, k, n] of sizes) {
    it(`${m}x${k} @ ${k}x${n} matches float64, contiguous and transposed operands`, () => {
      const av = rand(m * k, m + k), bv = rand(k * n, k + n + 1);
      const a = tensor(av, [m, k]), b = tensor(bv, [k, n]);
      const ref = refMatmul(av, bv, 1, m, k, n);
      const tol = 1e-5 * Math.sqrt(k);
      expectClose(mm(a, b), ref, tol, tol);
      const at = transposed(tensor(read(transposed(a)), [k, m]));
      const bt = transposed(tensor(read(transposed(b)), [n, k]));
      expectClose(mm(at, bt), ref, tol, tol);
    });
  }

  it('flipped and offset operands', () => {
    const av = rand(12, 1), bv = rand(12, 2);
    const a = tensor(av, [3, 4]), b = tensor(bv, [4, 3]);
    const fa = flipped(a, 0), fb = flipped(b, 1);
    expectClose(mm(fa, fb), refMatmul(read(fa), read(fb), 1, 3, 4, 3), 1e-6, 1e-6);
    const big = tensor([0, 0, 0, ...av], [15]);
    const sub = viewOf(big, [3, 4], [4, 1], 3);
    expectClose(mm(sub, b), refMatmul(av, bv, 1, 3, 4, 3), 1e-6, 1e-6);
  });

  it('batched with per-batch and broadcast operands', () => {
    const batch = 3, m = 10, k = 20, n = 9;
    const av = rand(batch * m * k, 3), bv = rand(batch * k * n, 4);
    const a = tensor(av, [batch, m, k]), b = tensor(bv, [batch, k, n]);
    expectClose(mm(a, b), refMatmul(av, bv, batch, m, k, n), 1e-5, 1e-5);
    // shared b (stride-0 batch): folded into one GEMM
    const b1 = tensor(bv.slice(0, k * n), [k, n]);
    const bb = broadcast(b1, [batch, k, n]);
    const shared = [...bv.slice(0, k * n), ...bv.slice(0, k * n), ...bv.slice(0, k * n)];
    expectClose(mm(a, bb), refMatmul(av, shared, batch, m, k, n), 1e-5, 1e-5);
    // shared a, transposed per-batch b
    const ab = broadcast(tensor(av.slice(0, m * k), [m, k]), [batch, m, k]);
    const bT = transposed(tensor(bv, [batch, n, k]));
    expectClose(mm(ab, bT), refMatmul([...av.slice(0, m * k), ...av.slice(0, m * k), ...av.slice(0, m * k)], read(bT), batch, m, k, n), 1e-5, 1e-5);
    // 2 batch axes
    const a4 = tensor(av.slice(0, 2 * 2 * 3 * 4), [2, 2, 3, 4]);
    const b4 = broadcast(tensor(bv.slice(0, 2 * 4 * 5), [2, 1, 4, 5]), [2, 2, 4, 5]);
    const bl = read(b4);
    expectClose(mm(a4, b4), refMatmul(read(a4), bl, 4, 3, 4, 5), 1e-5, 1e-5);
  });

  it('k = 0 gives zeros; m or n = 0 does nothing', () => {
    const out = tensor([5, 5, 5, 5], [2, 2]);
    K.matmul(empty([2, 0]), empty([0, 2]), out);
    expect(read(out)).toEqual([0, 0, 0, 0]);
    const z = empty([0, 3]);
    K.matmul(empty([0, 2]), empty([2, 3]), z);
    expect(z.size).toBe(0);
  });

  it('propagates NaN and Inf', () => {
    const a = tensor([NaN, 1, 1, 1], [2, 2]), b = tensor([1, 0, 0, Infinity], [2, 2]);
    const r = mm(a, b);
    expect(r[0]).toBeNaN();
    expect(r[3]).toBe(Infinity);
  });

  it('writes a strided out', () => {
    const big = tensor(new Array(8).fill(-1), [2, 4]);
    K.matmul(tensor([1, 2, 3, 4], [2, 2]), tensor([1, 0, 0, 1], [2, 2]), viewOf(big, [2, 2], [4, 2], 0));
    expect(read(big)).toEqual([1, -1, 2, -1, 3, -1, 4, -1]);
  });
});

describe('gemm', () => {
  it('accumulates into C when asked, with any leading dimension', () => {
    const a = new Float32Array([1, 2, 3, 4]), b = new Float32Array([5, 6, 7, 8]);
    const c = new Float32Array([1, 1, 0, 1, 1, 0]);
    gemm(2, 2, 2, a, 0, 2, 1, b, 0, 2, 1, c, 0, 3, true);
    expect(Array.from(c)).toEqual([20, 23, 0, 44, 51, 0]);
    const m = 70, k = 300, n = 33;
    const A = Float32Array.from(rand(m * k, 8)), B = Float32Array.from(rand(k * n, 9));
    const C = new Float32Array(m * n).fill(1);
    gemm(m, n, k, A, 0, k, 1, B, 0, n, 1, C, 0, n, true);
    const ref = refMatmul(Array.from(A), Array.from(B), 1, m, k, n).map((v) => Math.fround(v + 1));
    expectClose(C, ref, 1e-4, 1e-4);
  });
});

describe('matmulFused', () => {
  const act: Record<Activation, (x: number) => number> = {
    linear: (x) => x, relu: (x) => Math.max(0, x), sigmoid: (x) => 1 / (1 + Math.exp(-x)), tanh: Math.tanh,
    gelu: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
  };
  for (const a of Object.keys(act) as Activation[]) {
    it(`bias + ${a}`, () => {
      const m = 9, k = 33, n = 7;
      const av = rand(m * k, 31, -1, 1), bv = rand(k * n, 32, -1, 1), bias = rand(n, 33);
      const out = empty([m, n]);
      F.matmulFused!(tensor(av, [m, k]), tensor(bv, [k, n]), tensor(bias, [n]), a, out);
      const ref = refMatmul(av, bv, 1, m, k, n).map((v, i) => Math.fround(act[a](Math.fround(v + bias[i % n]))));
      expectClose(read(out), ref, 1e-5, 1e-6);
    });
  }
  it('no bias, batched, broadcast bias view', () => {
    const av = rand(2 * 3 * 4, 1), bv = rand(4 * 5, 2);
    const out = empty([2, 3, 5]);
    F.matmulFused!(tensor(av, [2, 3, 4]), broadcast(tensor(bv, [4, 5]), [2, 4, 5]), null, 'relu', out);
    const ref = refMatmul(av, [...bv, ...bv], 2, 3, 4, 5).map((v) => Math.max(0, v));
    expectClose(read(out), ref, 1e-6, 1e-6);
    const out2 = empty([3, 5]);
    F.matmulFused!(tensor(av.slice(0, 12), [3, 4]), tensor(bv, [4, 5]), broadcast(tensor([0.5], [1]), [5]), 'linear', out2);
    expectClose(read(out2), refMatmul(av, bv, 1, 3, 4, 5).map((v) => Math.fround(v + 0.5)), 1e-6, 1e-6);
  });
});
