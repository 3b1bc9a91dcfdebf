/**
 * Operands larger than maxStorageBufferBindingSize: the window planner (src/window.ts) cuts
 * every kernel's work into pieces whose bindings fit. The backends here plan with an
 * artificially small binding limit (the `limits` option: 4 KiB = 1024 elements, and 16 KiB
 * for the workgroup-tree variants), so the split paths run on small tensors; results are
 * checked against float64 (or exact float32-sequential) host references, and each check also
 * asserts that the split really happened (more dispatches than the unsplit kernel needs).
 */
import { BackendError, type DType, type View, type WindowParams } from '@tessera/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebGpuBackend, type WebGpuBackend } from '../src/index.js';
import { out, read, up, view } from './helpers.js';

const LIMIT = 4096; // bytes: 1024 elements per binding
let small: WebGpuBackend; // binding limit LIMIT
let medium: WebGpuBackend; // 16 KiB: windows long enough for the workgroup-tree kernels
let plain: WebGpuBackend; // the device's own limits (nothing is split)

beforeAll(async () => {
  small = await createWebGpuBackend({ limits: { maxStorageBufferBindingSize: LIMIT } });
  medium = await createWebGpuBackend({ limits: { maxStorageBufferBindingSize: 16384 } });
  plain = await createWebGpuBackend();
});
afterAll(() => {
  small?.dispose();
  medium?.dispose();
  plain?.dispose();
});

/** Deterministic pseudo-random numbers in [0, 1) (mulberry32). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` float32-representable values in [-1, 1). */
function values(n: number, seed: number): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => Math.fround(r() * 2 - 1));
}

function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    s[d] = acc;
    acc *= shape[d];
  }
  return s;
}

/** Runs `body` and returns how many dispatches it recorded. */
function dispatches(be: WebGpuBackend, body: () => void): number {
  const d0 = be.counters().dispatches;
  body();
  return be.counters().dispatches - d0;
}

function close(got: readonly number[], want: readonly number[], tol = 1e-5): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const w = want[i];
    if (Number.isNaN(w)) {
      expect(got[i], `element ${i}`).toBeNaN();
      continue;
    }
    const err = Math.abs(got[i] - w);
    if (err > tol * Math.max(1, Math.abs(w))) expect.fail(`element ${i}: got ${got[i]}, want ${w}`);
  }
}

function release(be: WebGpuBackend, ...vs: View[]): void {
  for (const v of vs) be.storage.release(v.buf);
}

describe('window planner (binding limit 4 KiB)', () => {
  it('gather: x and out both larger than a binding, x a row slice of a larger buffer (the nn shuffle)', async () => {
    const rows = 500, cols = 7;
    const data = values(rows * cols, 1);
    const base = up(small, data, [rows, cols]);
    // x = rows [100, 400) of the buffer: 2100 elements, twice the limit
    const x = view(base.buf, 'float32', [300, cols], [cols, 1], 100 * cols);
    const r = rng(2);
    const idxVals = Array.from({ length: 260 }, () => Math.floor(r() * 300));
    idxVals[5] = -1; // out of range: 0
    idxVals[77] = 300;
    idxVals[100] = idxVals[101] = 299;
    const idx = up(small, idxVals, [260], 'int32');
    const o = out(small, [260, cols]);
    expect(dispatches(small, () => small.kernels.gather(x, idx, 0, o))).toBeGreaterThan(2);
    const want: number[] = [];
    for (const j of idxVals) for (let c = 0; c < cols; c++) want.push(j >= 0 && j < 300 ? data[(100 + j) * cols + c] : 0);
    expect(await read(small, o)).toEqual(want);
    release(small, base, idx, o);
  });

  it('gather along an inner axis of a transposed view, for int32 and bool', async () => {
    for (const dtype of ['int32', 'bool'] as DType[]) {
      const rows = 300, cols = 9;
      const data = Array.from({ length: rows * cols }, (_, i) => (dtype === 'bool' ? (i * 7) % 3 === 0 ? 1 : 0 : i * 3 - 1000));
      const buf = up(small, data, [rows, cols], dtype);
      const xt = view(buf.buf, dtype, [cols, rows], [1, cols]); // [9, 300], transposed
      const idxVals = [299, 0, 150, -3, 42, 42, 1000, 7];
      const idx = up(small, idxVals, [2, 4], 'int32');
      const o = out(small, [cols, 2, 4], dtype);
      small.kernels.gather(xt, idx, 1, o);
      const want: number[] = [];
      for (let c = 0; c < cols; c++) for (const j of idxVals) want.push(j >= 0 && j < rows ? data[j * cols + c] : 0);
      expect(await read(small, o)).toEqual(want);
      release(small, buf, idx, o);
    }
  });

  it('scatterAdd: out and updates larger than a binding; index order (and rounding) kept exactly', async () => {
    const len = 400, cols = 5, nIdx = 600;
    const baseVals = values(len * cols, 3);
    const updVals = values(nIdx * cols, 4);
    const r = rng(5);
    const idxVals = Array.from({ length: nIdx }, () => Math.floor(r() * 60) * 6 + 3); // repeats, in range
    idxVals[10] = -1;
    idxVals[20] = len;
    const o = up(small, baseVals, [len, cols]);
    const idx = up(small, idxVals, [nIdx], 'int32');
    const upd = up(small, updVals, [nIdx, cols]);
    expect(dispatches(small, () => small.kernels.scatterAdd(idx, upd, 0, o))).toBeGreaterThan(6);
    const want = baseVals.slice();
    idxVals.forEach((j, p) => {
      if (j < 0 || j >= len) return;
      for (let c = 0; c < cols; c++) want[j * cols + c] = Math.fround(want[j * cols + c] + updVals[p * cols + c]);
    });
    expect(await read(small, o)).toEqual(want);
    release(small, o, idx, upd);
  });

  it('scatterAdd along axis 1 with 2-D indices, into a strided out', async () => {
    const rows = 30, len = 50, nI = [4, 10];
    const cnt = nI[0] * nI[1];
    const buf = up(small, new Array<number>(rows * len * 2).fill(0), [rows * len * 2]);
    const o = view(buf.buf, 'float32', [rows, len], [len * 2, 2], 1); // every other element
    const r = rng(6);
    const idxVals = Array.from({ length: cnt }, () => Math.floor(r() * len));
    const idx = up(small, idxVals, nI, 'int32');
    const updVals = values(rows * cnt, 7);
    const upd = up(small, updVals, [rows, ...nI]);
    small.kernels.scatterAdd(idx, upd, 1, o);
    const want = new Array<number>(rows * len * 2).fill(0);
    for (let i = 0; i < rows; i++) {
      for (let p = 0; p < cnt; p++) {
        const at = 1 + i * len * 2 + idxVals[p] * 2;
        want[at] = Math.fround(want[at] + updVals[i * cnt + p]);
      }
    }
    expect(await read(small, buf)).toEqual(want);
    release(small, buf, idx, upd);
  });

  it('fill, copy and cast of strided views over large buffers', async () => {
    const n = 60 * 50;
    const data = values(n, 8).map((v) => Math.fround(v * 1000));
    const a = up(small, data, [60, 50]);
    const t = out(small, [50, 60], 'int32');
    expect(dispatches(small, () => small.kernels.cast(view(a.buf, 'float32', [50, 60], [1, 50]), t))).toBeGreaterThan(2);
    const want: number[] = [];
    for (let j = 0; j < 50; j++) for (let i = 0; i < 60; i++) want.push(Math.trunc(data[i * 50 + j]));
    expect(await read(small, t)).toEqual(want);
    small.kernels.fill(view(a.buf, 'float32', [60, 25], [50, 2], 1), 0.5);
    const f = await read(small, a);
    expect([f[0], f[1], f[2], f[3], f[n - 1]]).toEqual([data[0], 0.5, data[2], 0.5, 0.5]);
    release(small, a, t);
  });

  it('reduce: whole-tensor and per-axis sums, max, int32 sum and bool any/all over cut reduced axes', async () => {
    const n = 3000;
    const data = values(n, 9);
    const x = up(small, data, [n]);
    const s = out(small, []);
    expect(dispatches(small, () => small.kernels.reduce('sum', x, [0], s))).toBeGreaterThan(2);
    close(await read(small, s), [data.reduce((p, v) => p + v, 0)], 1e-6);
    // [40, 75] → max over axis 0 (reduced axis cut), sum over axis 1 (kept axis cut)
    const m = view(x.buf, 'float32', [40, 75]);
    const mx = out(small, [75]), sm = out(small, [40]);
    small.kernels.reduce('max', m, [0], mx);
    small.kernels.reduce('sum', m, [1], sm);
    close(await read(small, mx), Array.from({ length: 75 }, (_, c) => Math.max(...Array.from({ length: 40 }, (_, r) => data[r * 75 + c]))), 0);
    close(await read(small, sm), Array.from({ length: 40 }, (_, r) => data.slice(r * 75, r * 75 + 75).reduce((p, v) => p + v, 0)), 1e-6);
    // prod over a transposed view: product of (1 + v/100) over 3000 values
    const p = out(small, []);
    const px = up(small, data.map((v) => Math.fround(1 + v / 100)), [60, 50]);
    small.kernels.reduce('prod', view(px.buf, 'float32', [50, 60], [1, 50]), [0, 1], p);
    close(await read(small, p), [data.reduce((q, v) => q * Math.fround(1 + v / 100), 1)], 1e-4);
    // int32 sum (exact) and bool any / all into bool
    const ints = up(small, data.map((v) => Math.round(v * 1e6)), [n], 'int32');
    const is = out(small, [], 'int32');
    small.kernels.reduce('sum', ints, [0], is);
    expect(await read(small, is)).toEqual([data.map((v) => Math.round(v * 1e6)).reduce((q, v) => (q + v) | 0, 0)]);
    const flags = new Array<number>(n).fill(1);
    flags[2999] = 0;
    const b = up(small, flags, [n], 'bool');
    const any = out(small, [], 'bool'), all = out(small, [], 'bool');
    small.kernels.reduce('max', b, [0], any);
    small.kernels.reduce('min', b, [0], all);
    expect([...(await read(small, any)), ...(await read(small, all))]).toEqual([1, 0]);
    release(small, x, s, mx, sm, p, px, ints, is, b, any, all);
  });

  it('reduce with workgroup trees per window (16 KiB limit)', async () => {
    const n = 20000;
    const data = values(n, 10);
    const x = up(medium, data, [2, n / 2]);
    const s = out(medium, [2]);
    expect(dispatches(medium, () => medium.kernels.reduce('sum', x, [1], s))).toBeGreaterThan(2);
    close(await read(medium, s), [0, 1].map((r) => data.slice(r * n / 2, (r + 1) * n / 2).reduce((p, v) => p + v, 0)), 1e-6);
    release(medium, x, s);
  });

  it('argReduce: windows carry the best value and index (ties → first, NaN wins)', async () => {
    const n = 3000;
    const data = values(n, 11);
    data[500] = 5; // max, tie at 2500 → 500
    data[2500] = 5;
    data[1700] = -5; // min
    const x = up(small, data, [n]);
    const am = out(small, [], 'int32'), an = out(small, [], 'int32');
    expect(dispatches(small, () => small.kernels.argReduce('argmax', x, 0, am))).toBeGreaterThan(1);
    small.kernels.argReduce('argmin', x, 0, an);
    expect([...(await read(small, am)), ...(await read(small, an))]).toEqual([500, 1700]);
    // NaNs: the first NaN wins
    const withNan = data.slice();
    withNan[2200] = NaN;
    withNan[2900] = NaN;
    const xn = up(small, withNan, [n]);
    const nanAt = out(small, [], 'int32');
    small.kernels.argReduce('argmax', xn, 0, nanAt);
    expect(await read(small, nanAt)).toEqual([2200]);
    // per column of [60, 50] along axis 0 (stride 50: the axis is cut)
    const cols = out(small, [50], 'int32');
    small.kernels.argReduce('argmin', view(x.buf, 'float32', [60, 50]), 0, cols);
    const want = Array.from({ length: 50 }, (_, c) => {
      let best = 0;
      for (let r = 1; r < 60; r++) if (data[r * 50 + c] < data[best * 50 + c]) best = r;
      return best;
    });
    expect(await read(small, cols)).toEqual(want);
    // int32, workgroup trees per window
    const big = 20000;
    const ivals = Array.from({ length: big }, (_, i) => (i * 7919) % 10007);
    const xi = up(medium, ivals, [big], 'int32');
    const ai = out(medium, [], 'int32');
    expect(dispatches(medium, () => medium.kernels.argReduce('argmax', xi, 0, ai))).toBeGreaterThan(1);
    expect(await read(medium, ai)).toEqual([ivals.indexOf(Math.max(...ivals))]);
    release(small, x, am, an, xn, nanAt, cols);
    release(medium, xi, ai);
  });

  it('cumulative: sums carried across windows, forward, reverse and exclusive; int32 max', async () => {
    const n = 3000;
    const data = values(n, 12);
    const x = up(small, data, [n]);
    for (const [exclusive, reverse] of [[false, false], [true, false], [false, true], [true, true]] as const) {
      const o = out(small, [n]);
      expect(dispatches(small, () => small.kernels.cumulative('sum', x, 0, exclusive, reverse, o))).toBeGreaterThan(1);
      const want = new Array<number>(n);
      let acc = 0;
      for (let k = 0; k < n; k++) {
        const i = reverse ? n - 1 - k : k;
        if (exclusive) want[i] = acc;
        acc += data[i];
        if (!exclusive) want[i] = acc;
      }
      close(await read(small, o), want, 1e-5);
      release(small, o);
    }
    const ints = data.map((v) => Math.round(v * 1000));
    const xi = up(small, ints, [30, 100], 'int32');
    const oi = out(small, [30, 100], 'int32');
    small.kernels.cumulative('max', xi, 0, false, false, oi); // down the columns
    const want: number[] = new Array(n);
    for (let c = 0; c < 100; c++) {
      let m = -Infinity;
      for (let r = 0; r < 30; r++) want[r * 100 + c] = m = Math.max(m, ints[r * 100 + c]);
    }
    expect(await read(small, oi)).toEqual(want);
    release(small, x, xi, oi);
  });

  it('matmul: a large A and out are cut along M (batched, broadcast B, bias and activation)', async () => {
    const m = 200, k = 10, n = 30;
    const A = values(m * k, 13), B = values(k * n, 14), bias = values(n, 15);
    const a = up(small, A, [m, k]), b = up(small, B, [k, n]), bb = up(small, bias, [n]);
    const o = out(small, [m, n]);
    expect(dispatches(small, () => small.fused.matmulFused!(a, b, bb, 'relu', o))).toBeGreaterThan(4);
    const want: number[] = [];
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = bias[j];
        for (let q = 0; q < k; q++) s += A[i * k + q] * B[q * n + j];
        want.push(Math.max(0, s));
      }
    }
    close(await read(small, o), want, 1e-5);
    // batched [3, 100, 8] @ [8, 20] (batch broadcast), A read transposed from a [3, 8, 100] buffer
    const nb = 3, mm = 100, kk = 8, nn = 20;
    const At = values(nb * kk * mm, 16), B2 = values(kk * nn, 17);
    const a2 = up(small, At, [nb, kk, mm]);
    const b2 = up(small, B2, [kk, nn]);
    const o2 = out(small, [nb, mm, nn]);
    small.kernels.matmul(view(a2.buf, 'float32', [nb, mm, kk], [kk * mm, 1, mm]), view(b2.buf, 'float32', [nb, kk, nn], [0, nn, 1]), o2);
    const want2: number[] = [];
    for (let t = 0; t < nb; t++) {
      for (let i = 0; i < mm; i++) {
        for (let j = 0; j < nn; j++) {
          let s = 0;
          for (let q = 0; q < kk; q++) s += At[t * kk * mm + q * mm + i] * B2[q * nn + j];
          want2.push(s);
        }
      }
    }
    close(await read(small, o2), want2, 1e-5);
    // a large B stored N-major (x @ Wᵀ) is cut along N
    const B3 = values(600 * 4, 18);
    const b3 = up(small, B3, [600, 4]), a3 = up(small, A.slice(0, 8), [2, 4]);
    const o3 = out(small, [2, 600]);
    small.kernels.matmul(a3, view(b3.buf, 'float32', [4, 600], [1, 4]), o3);
    const want3: number[] = [];
    for (let i = 0; i < 2; i++) for (let j = 0; j < 600; j++) want3.push([0, 1, 2, 3].reduce((s, q) => s + A[i * 4 + q] * B3[j * 4 + q], 0));
    close(await read(small, o3), want3, 1e-5);
    release(small, a, b, bb, o, a2, b2, o2, a3, b3, o3);
  });

  it('randomBits: windows start at even elements and are bit-identical to the unsplit kernel', async () => {
    for (const [dtype, n, counter] of [['int32', 5001, 7], ['float32', 4000, 4294967290]] as const) {
      const o = out(small, [n], dtype);
      expect(dispatches(small, () => small.kernels.randomBits([0x12345678, 0x9abcdef0], counter, o))).toBeGreaterThan(4);
      const ref = out(plain, [n], dtype);
      plain.kernels.randomBits([0x12345678, 0x9abcdef0], counter, ref);
      expect(await read(small, o)).toEqual(await read(plain, ref));
      small.storage.release(o.buf);
      plain.storage.release(ref.buf);
    }
  });

  it('softmax, softmax cross-entropy and layer norm are cut along rows', async () => {
    const rows = 300, n = 10;
    const data = values(rows * n, 19).map((v) => v * 4);
    const labels = Array.from({ length: rows * n }, (_, i) => (i % n === (Math.floor(i / n) * 3) % n ? 1 : 0));
    const gamma = values(n, 20), beta = values(n, 21);
    const x = up(small, data, [rows, n]), l = up(small, labels, [rows, n]);
    const g = up(small, gamma, [n]), bt = up(small, beta, [n]);
    const sm = out(small, [rows, n]), ce = out(small, [rows]), ln = out(small, [rows, n]);
    expect(dispatches(small, () => small.fused.softmax!(x, false, sm))).toBeGreaterThan(2);
    small.fused.softmaxCrossEntropy!(x, l, ce);
    small.fused.layerNorm!(x, g, bt, 1e-5, ln);
    const wantSm: number[] = [], wantCe: number[] = [], wantLn: number[] = [];
    for (let r = 0; r < rows; r++) {
      const row = data.slice(r * n, r * n + n);
      const mx = Math.max(...row);
      const s = row.reduce((p, v) => p + Math.exp(v - mx), 0);
      row.forEach((v) => wantSm.push(Math.exp(v - mx) / s));
      wantCe.push(-row.reduce((p, v, i) => p + labels[r * n + i] * (v - mx - Math.log(s)), 0));
      const mean = row.reduce((p, v) => p + v, 0) / n;
      const vr = row.reduce((p, v) => p + (v - mean) ** 2, 0) / n;
      row.forEach((v, i) => wantLn.push(((v - mean) / Math.sqrt(vr + 1e-5)) * gamma[i] + beta[i]));
    }
    close(await read(small, sm), wantSm, 1e-5);
    close(await read(small, ce), wantCe, 1e-5);
    close(await read(small, ln), wantLn, 1e-4);
    release(small, x, l, g, bt, sm, ce, ln);
  });

  it('optimizerStep (adam) updates a large tensor in windows', async () => {
    const n = 3000;
    const P = values(n, 22), G = values(n, 23), M = values(n, 24).map((v) => v / 10), V = values(n, 25).map((v) => Math.abs(v) / 10);
    const p = up(small, P), g = up(small, G), m = up(small, M), v = up(small, V);
    const hyper = { lr: 0.01, step: 3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };
    expect(dispatches(small, () => small.fused.optimizerStep!('adam', [p], [g], [[m, v]], hyper))).toBeGreaterThan(2);
    const alpha = (hyper.lr * Math.sqrt(1 - hyper.beta2 ** 3)) / (1 - hyper.beta1 ** 3);
    const wantM = M.map((x, i) => 0.9 * x + 0.1 * G[i]);
    const wantV = V.map((x, i) => 0.999 * x + 0.001 * G[i] * G[i]);
    const wantP = P.map((x, i) => x - (alpha * wantM[i]) / (Math.sqrt(wantV[i]) + 1e-7));
    close(await read(small, m), wantM, 1e-6);
    close(await read(small, v), wantV, 1e-5);
    close(await read(small, p), wantP, 1e-5);
    release(small, p, g, m, v);
  });

  it('conv2d, its gradients and pooling are cut along the batch', async () => {
    const [bn, h, w, c, co] = [24, 6, 6, 2, 3];
    const X = values(bn * h * w * c, 26), F = values(3 * 3 * c * co, 27);
    const p: WindowParams = { window: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1] };
    const x = up(small, X, [bn, h, w, c]), f = up(small, F, [3, 3, c, co]);
    const y = out(small, [bn, h, w, co]);
    expect(dispatches(small, () => small.fused.conv2d!(x, f, p, y))).toBeGreaterThan(1);
    const xs = strides([bn, h, w, c]), fs = strides([3, 3, c, co]);
    const want: number[] = [];
    for (let b = 0; b < bn; b++) for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) for (let o = 0; o < co; o++) {
      let s = 0;
      for (let ky = 0; ky < 3; ky++) for (let kx = 0; kx < 3; kx++) {
        const iy = i - 1 + ky, ix = j - 1 + kx;
        if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
        for (let q = 0; q < c; q++) s += X[b * xs[0] + iy * xs[1] + ix * xs[2] + q] * F[ky * fs[0] + kx * fs[1] + q * fs[2] + o];
      }
      want.push(s);
    }
    close(await read(small, y), want, 1e-5);
    // filter gradient: batch windows summed
    const DY = values(bn * h * w * co, 28);
    const dy = up(small, DY, [bn, h, w, co]);
    const df = out(small, [3, 3, c, co]);
    small.fused.conv2dBackpropFilter!(x, dy, p, df);
    const wantDf: number[] = [];
    for (let ky = 0; ky < 3; ky++) for (let kx = 0; kx < 3; kx++) for (let q = 0; q < c; q++) for (let o = 0; o < co; o++) {
      let s = 0;
      for (let b = 0; b < bn; b++) for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) {
        const iy = i - 1 + ky, ix = j - 1 + kx;
        if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
        s += X[b * xs[0] + iy * xs[1] + ix * xs[2] + q] * DY[((b * h + i) * w + j) * co + o];
      }
      wantDf.push(s);
    }
    close(await read(small, df), wantDf, 1e-4);
    // input gradient and max pooling (+ gradient): the same as the unsplit kernels, exactly
    const dx = out(small, [bn, h, w, c]);
    small.fused.conv2dBackpropInput!(dy, f, p, dx);
    const pp: WindowParams = { window: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0], dilations: [1, 1] };
    const pooled = out(small, [bn, 3, 3, c]);
    small.fused.pool2d!('max', x, pp, pooled);
    const DP = values(bn * 9 * c, 29);
    const dp = up(small, DP, [bn, 3, 3, c]);
    const dpx = out(small, [bn, h, w, c]);
    small.fused.pool2dBackward!('max', x, dp, pp, dpx);
    const px = up(plain, X, [bn, h, w, c]), pf = up(plain, F, [3, 3, c, co]), pdy = up(plain, DY, [bn, h, w, co]), pdp = up(plain, DP, [bn, 3, 3, c]);
    const rdx = out(plain, [bn, h, w, c]), rpool = out(plain, [bn, 3, 3, c]), rdpx = out(plain, [bn, h, w, c]);
    plain.fused.conv2dBackpropInput!(pdy, pf, p, rdx);
    plain.fused.pool2d!('max', px, pp, rpool);
    plain.fused.pool2dBackward!('max', px, pdp, pp, rdpx);
    expect(await read(small, dx)).toEqual(await read(plain, rdx));
    expect(await read(small, pooled)).toEqual(await read(plain, rpool));
    expect(await read(small, dpx)).toEqual(await read(plain, rdpx));
    release(small, x, f, y, dy, df, dx, pooled, dp, dpx);
    release(plain, px, pf, pdy, pdp, rdx, rpool, rdpx);
  });

  it('matmul: a long K (and a large row-major B) is cut along K, the windows adding into out', async () => {
    const n = 3000;
    const A = values(n, 30);
    const a = up(small, A);
    const m = out(small, [1, 1]);
    expect(dispatches(small, () => small.kernels.matmul(view(a.buf, 'float32', [1, n]), view(a.buf, 'float32', [n, 1]), m))).toBeGreaterThan(2);
    close(await read(small, m), [A.reduce((s, v) => s + v * v, 0)], 1e-5);
    // x @ W with W [k, n] row-major larger than a binding, with bias and gelu in the last K window
    const k = 150, nn = 40, rows = 5;
    const X = values(rows * k, 31), W = values(k * nn, 32), bias = values(nn, 33);
    const x = up(small, X, [rows, k]), w = up(small, W, [k, nn]), b = up(small, bias, [nn]);
    const o = out(small, [rows, nn]);
    expect(dispatches(small, () => small.fused.matmulFused!(x, w, b, 'gelu', o))).toBeGreaterThan(1);
    const erf = (z: number): number => {
      // the Maclaurin series (float64, exact enough below 4; beyond, |erf| is 1 within 2e-8)
      if (Math.abs(z) >= 4) return Math.sign(z);
      let sum = 0, term = z;
      for (let i = 0; i < 60; i++) {
        sum += term / (2 * i + 1);
        term *= (-z * z) / (i + 1);
      }
      return (2 / Math.sqrt(Math.PI)) * sum;
    };
    const want: number[] = [];
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < nn; j++) {
        let s = bias[j];
        for (let q = 0; q < k; q++) s += X[i * k + q] * W[q * nn + j];
        want.push(0.5 * s * (1 + erf(s / Math.SQRT2)));
      }
    }
    close(await read(small, o), want, 1e-5);
    release(small, a, m, x, w, b, o);
  });

  it('what cannot be cut still throws the BackendError naming the limit', async () => {
    const n = 3000;
    const a = up(small, values(n, 30));
    // scatterAdd: the counting sort binds all indices at once (here 2000 > 1024)
    const idx = up(small, new Array<number>(2000).fill(0), [2000], 'int32');
    const upd = up(small, new Array<number>(2000).fill(1), [2000]);
    const o = out(small, [4]);
    expect(() => small.kernels.scatterAdd(idx, upd, 0, o)).toThrow(/maxStorageBufferBindingSize/);
    // a row longer than a binding (softmax binds a row whole)
    const sm = out(small, [1, n]);
    expect(() => small.fused.softmax!(view(a.buf, 'float32', [1, n]), false, sm)).toThrow(BackendError);
    await small.flush();
    release(small, a, idx, upd, o, sm);
  });
});
