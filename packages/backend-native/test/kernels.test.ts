/**
 * Differential kernel tests: every kernel on the native backend (2 threads and 1 thread)
 * against backend-js as the oracle, at sizes that cross the native backend's thresholds
 * (threaded element-wise splits, packed/threaded GEMM, chunked im2col, split reductions)
 * and with strided, flipped, broadcast and offset views. Whole output buffers are compared,
 * so a write outside the output view is caught too. The conformance suite covers the
 * semantics at small sizes; this covers the fast paths.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend, Buf, DataArray, DType, View, WindowParams } from '@tessera/core';
import { createJsBackend } from '@tessera/backend-js';
import { createNativeBackend, type NativeBackend } from '../src/index.js';

let js: Backend;
let nat: NativeBackend;
let nat1: NativeBackend;

beforeAll(async () => {
  js = await createJsBackend();
  nat = await createNativeBackend({ threads: 2 });
  nat1 = await createNativeBackend({ threads: 1 });
});

afterAll(() => {
  for (const b of [js, nat, nat1]) b.dispose();
});

/** A host buffer: dtype and contents. */
interface Host {
  dtype: DType;
  data: DataArray;
}
/** A view over one of the case's host buffers (index `buf`). */
interface VSpec {
  buf: number;
  dtype: DType;
  shape: number[];
  strides: number[];
  offset: number;
}

let seed = 12345;
function rnd(): number {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed / 4294967296;
}
function floats(n: number, lo = -3, hi = 3, special = false): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * rnd();
  if (special && n > 8) {
    a[1] = NaN;
    a[3] = Infinity;
    a[5] = -Infinity;
    a[7] = -0;
  }
  return a;
}
function ints(n: number, lo: number, hi: number): Int32Array {
  return Int32Array.from({ length: n }, () => lo + Math.floor(rnd() * (hi - lo + 1)));
}
function bools(n: number): Uint8Array {
  return Uint8Array.from({ length: n }, () => (rnd() < 0.5 ? 1 : 0));
}
function contiguous(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    s[d] = acc;
    acc *= shape[d]!;
  }
  return s;
}
const f32 = (data: Float32Array): Host => ({ dtype: 'float32', data });
const i32 = (data: Int32Array): Host => ({ dtype: 'int32', data });
const u8 = (data: Uint8Array): Host => ({ dtype: 'bool', data });
const zeros = (dtype: DType, n: number): Host => ({ dtype, data: dtype === 'float32' ? new Float32Array(n) : dtype === 'int32' ? new Int32Array(n) : new Uint8Array(n) });
/** A contiguous view of host buffer `buf`. */
function cv(buf: number, dtype: DType, shape: number[], offset = 0): VSpec {
  return { buf, dtype, shape, strides: contiguous(shape), offset };
}
/** A transposed view (axes reversed) of a contiguous buffer laid out as `shape` reversed. */
function tv(buf: number, dtype: DType, shape: number[]): VSpec {
  const rev = [...shape].reverse();
  return { buf, dtype, shape, strides: contiguous(rev).reverse(), offset: 0 };
}
/** A view with every axis flipped. */
function fv(buf: number, dtype: DType, shape: number[]): VSpec {
  const st = contiguous(shape);
  const off = shape.reduce((o, n, d) => o + (n - 1) * st[d]!, 0);
  return { buf, dtype, shape, strides: st.map((s) => -s), offset: off };
}

interface Tol {
  rtol: number;
  atol: number;
}
const EXACT: Tol = { rtol: 0, atol: 0 };

/**
 * Runs `call` on js, native (2 threads) and native (1 thread) over fresh copies of `hosts`,
 * then compares the listed output buffers in full.
 */
function diff(hosts: Host[], outs: number[], call: (be: Backend, v: (s: VSpec) => View) => void, tol: Tol = EXACT): void {
  const results = [js, nat, nat1].map((be) => {
    const bufs: Buf[] = hosts.map((h) => be.storage.upload(h.dtype, h.data));
    const v = (s: VSpec): View => ({ buf: bufs[s.buf]!, dtype: s.dtype, shape: s.shape, strides: s.strides, offset: s.offset, size: s.shape.reduce((a, b) => a * b, 1) });
    call(be, v);
    const read = outs.map((i) => be.storage.readSync!(bufs[i]!, hosts[i]!.dtype, 0, hosts[i]!.data.length));
    for (const b of bufs) be.storage.release(b);
    return read;
  });
  const [ref, ...others] = results;
  others.forEach((got, which) => {
    got.forEach((g, o) => {
      const r = ref![o]!;
      const exact = hosts[outs[o]!]!.dtype !== 'float32';
      let bad = 0;
      let first = '';
      for (let i = 0; i < r.length; i++) {
        const a = g[i]!, b = r[i]!;
        if (Number.isNaN(a) || Number.isNaN(b)) {
          if (Number.isNaN(a) && Number.isNaN(b)) continue;
        } else if (a === b || (!exact && Math.abs(a - b) <= tol.atol + tol.rtol * Math.abs(b))) continue;
        if (bad++ === 0) first = `[${i}] native${which === 0 ? '' : '(1 thread)'} ${a} vs js ${b}`;
      }
      expect(bad === 0 ? '' : `${bad}/${r.length} differ, first ${first}`).toBe('');
    });
  });
}

const F: Tol = { rtol: 1e-6, atol: 1e-7 };
const T: Tol = { rtol: 2e-6, atol: 1e-6 };
const mm = (k: number): Tol => ({ rtol: 1e-5 + 4 * 2 ** -24 * Math.sqrt(k), atol: 8 * 2 ** -24 * k * 9 });

describe('element-wise (threaded and strided paths)', () => {
  const n = [300, 257];
  const N = 300 * 257;
  it('binary float32: contiguous, broadcast, transposed, flipped', () => {
    for (const op of ['add', 'sub', 'mul', 'div', 'pow', 'max', 'min', 'mod', 'atan2', 'and', 'or'] as const) {
      const hosts = [f32(floats(N, -3, 3, true)), f32(floats(N, 0.5, 3)), f32(floats(257, -2, 2)), zeros('float32', N)];
      diff(hosts, [3], (be, v) => be.kernels.binary(op, v(cv(0, 'float32', n)), v(cv(1, 'float32', n)), v(cv(3, 'float32', n))), op === 'pow' || op === 'atan2' || op === 'mod' ? T : F);
      diff(hosts, [3], (be, v) => be.kernels.binary(op, v(tv(0, 'float32', n)), v({ buf: 2, dtype: 'float32', shape: n, strides: [0, 1], offset: 0 }), v(cv(3, 'float32', n))), op === 'pow' || op === 'atan2' || op === 'mod' ? T : F);
      diff(hosts, [3], (be, v) => be.kernels.binary(op, v(fv(1, 'float32', n)), v(cv(0, 'float32', n)), v(fv(3, 'float32', n))), op === 'pow' || op === 'atan2' || op === 'mod' ? T : F);
    }
  });

  it('binary int32 and bool', () => {
    for (const op of ['add', 'sub', 'mul', 'div', 'pow', 'max', 'min', 'mod', 'atan2', 'and', 'or'] as const) {
      const hosts = [i32(ints(N, -50, 50)), i32(ints(N, -7, 7)), zeros('int32', N)];
      if (op === 'pow') hosts[1] = i32(ints(N, -2, 9));
      diff(hosts, [2], (be, v) => be.kernels.binary(op, v(cv(0, 'int32', n)), v(tv(1, 'int32', n)), v(cv(2, 'int32', n))));
    }
    for (const op of ['and', 'or', 'max', 'min', 'add', 'mul', 'sub'] as const) {
      const hosts = [u8(bools(N)), u8(bools(N)), zeros('bool', N)];
      diff(hosts, [2], (be, v) => be.kernels.binary(op, v(cv(0, 'bool', n)), v(fv(1, 'bool', n)), v(cv(2, 'bool', n))));
    }
  });

  it('compare and where', () => {
    for (const op of ['equal', 'notEqual', 'less', 'lessEqual', 'greater', 'greaterEqual'] as const) {
      const a = floats(N, -2, 2, true);
      const b = Float32Array.from(a, (x, i) => (i % 3 === 0 ? x : x + 0.5));
      diff([f32(a), f32(b), zeros('bool', N)], [2], (be, v) => be.kernels.compare(op, v(cv(0, 'float32', n)), v(tv(1, 'float32', n)), v(cv(2, 'bool', n))));
      diff([i32(ints(N, -3, 3)), i32(ints(N, -3, 3)), zeros('bool', N)], [2], (be, v) => be.kernels.compare(op, v(fv(0, 'int32', n)), v(cv(1, 'int32', n)), v(cv(2, 'bool', n))));
    }
    diff([u8(bools(N)), f32(floats(N)), f32(floats(257)), zeros('float32', N)], [3], (be, v) =>
      be.kernels.where(v(cv(0, 'bool', n)), v(tv(1, 'float32', n)), v({ buf: 2, dtype: 'float32', shape: n, strides: [0, 1], offset: 0 }), v(cv(3, 'float32', n))));
    diff([u8(bools(N)), i32(ints(N, -9, 9)), i32(ints(N, -9, 9)), zeros('int32', N)], [3], (be, v) =>
      be.kernels.where(v(fv(0, 'bool', n)), v(cv(1, 'int32', n)), v(cv(2, 'int32', n)), v(cv(3, 'int32', n))));
  });

  it('unary float32 (SIMD rows, strided rows) and int32', () => {
    const ops = ['neg', 'abs', 'sign', 'exp', 'expm1', 'log', 'log1p', 'sqrt', 'rsqrt', 'square', 'reciprocal', 'sin', 'cos', 'tanh', 'sigmoid', 'erf', 'floor', 'ceil', 'round', 'relu', 'not'] as const;
    for (const op of ops) {
      const lo = op === 'log' || op === 'sqrt' || op === 'rsqrt' ? 0.01 : op === 'log1p' ? -0.9 : -6;
      const x = floats(N, lo, 6, true);
      if (op === 'round') for (let i = 0; i < 200; i++) x[i * 7] = (i - 100) / 2;
      const tol = ['exp', 'expm1', 'tanh', 'sigmoid', 'erf', 'log', 'log1p', 'sin', 'cos'].includes(op) ? T : F;
      diff([f32(x), zeros('float32', N)], [1], (be, v) => be.kernels.unary(op, v(cv(0, 'float32', n)), v(cv(1, 'float32', n))), tol);
      diff([f32(x), zeros('float32', N)], [1], (be, v) => be.kernels.unary(op, v(tv(0, 'float32', n)), v(fv(1, 'float32', n))), tol);
    }
    for (const op of ['neg', 'abs', 'sign', 'square', 'floor', 'ceil', 'round', 'relu', 'not'] as const) {
      diff([i32(ints(N, -(2 ** 31), 2 ** 31 - 1)), zeros('int32', N)], [1], (be, v) => be.kernels.unary(op, v(tv(0, 'int32', n)), v(cv(1, 'int32', n))));
    }
    diff([u8(bools(N)), zeros('bool', N)], [1], (be, v) => be.kernels.unary('not', v(fv(0, 'bool', n)), v(cv(1, 'bool', n))));
    diff([i32(ints(N, -20, 20)), zeros('float32', N)], [1], (be, v) => be.kernels.unary('exp', v(cv(0, 'int32', n)), v(cv(1, 'float32', n))), T);
  });

  it('cast, copy, fill (negative and zero strides, sub-views, overlapping copies)', () => {
    const x = floats(N, -3e9, 3e9, true);
    for (const to of ['int32', 'bool', 'float32'] as const) {
      diff([f32(x), zeros(to, N)], [1], (be, v) => be.kernels.cast(v(tv(0, 'float32', n)), v(cv(1, to, n))));
    }
    diff([i32(ints(N, -(2 ** 31), 2 ** 31 - 1)), zeros('float32', N)], [1], (be, v) => be.kernels.cast(v(fv(0, 'int32', n)), v(cv(1, 'float32', n))));
    diff([u8(bools(N)), zeros('int32', N)], [1], (be, v) => be.kernels.cast(v(cv(0, 'bool', n)), v(cv(1, 'int32', n))));
    // copy into a strided sub-view (what concat/pad do), from a flipped source
    diff([f32(floats(N)), f32(floats(2 * N))], [1], (be, v) =>
      be.kernels.copy(v(fv(0, 'float32', n)), v({ buf: 1, dtype: 'float32', shape: n, strides: [514, 2], offset: 1 })));
    // stride-0 source (broadcast) into contiguous
    diff([f32(floats(257)), zeros('float32', N)], [1], (be, v) => be.kernels.copy(v({ buf: 0, dtype: 'float32', shape: n, strides: [0, 1], offset: 0 }), v(cv(1, 'float32', n))));
    // overlapping source and destination in one buffer
    diff([f32(floats(N + 1000))], [0], (be, v) => be.kernels.copy(v(cv(0, 'float32', [N], 0)), v(cv(0, 'float32', [N], 1000))));
    diff([f32(floats(N + 1000))], [0], (be, v) => be.kernels.copy(v(cv(0, 'float32', [N], 1000)), v(cv(0, 'float32', [N], 0))));
    diff([u8(bools(N + 64))], [0], (be, v) => be.kernels.copy(v(fv(0, 'bool', [N])), v(cv(0, 'bool', [N], 3))));
    for (const [dt, val] of [['float32', 2.5], ['int32', -7.9], ['bool', NaN], ['int32', 1e12]] as const) {
      diff([zeros(dt, 2 * N)], [0], (be, v) => be.kernels.fill(v({ buf: 0, dtype: dt, shape: n, strides: [-514, 2], offset: 299 * 514 + 1 }), val));
      diff([zeros(dt, N)], [0], (be, v) => be.kernels.fill(v(cv(0, dt, n)), val));
    }
  });
});

describe('reductions', () => {
  const shape = [64, 300, 17];
  const N = 64 * 300 * 17;
  it('reduce over every axis combination, all ops and dtypes', () => {
    const axesList = [[0], [1], [2], [0, 1], [0, 2], [1, 2], [0, 1, 2], []];
    const hosts: Host[] = [f32(floats(N, -2, 2)), i32(ints(N, -3, 3)), u8(bools(N))];
    for (const axes of axesList) {
      const kept = shape.filter((_, d) => !axes.includes(d));
      const outN = kept.reduce((a, b) => a * b, 1);
      for (const op of ['sum', 'prod', 'max', 'min'] as const) {
        const xs = op === 'prod' ? f32(floats(N, 0.999, 1.001)) : hosts[0]!;
        diff([xs, zeros('float32', outN)], [1], (be, v) => be.kernels.reduce(op, v(cv(0, 'float32', shape)), axes, v(cv(1, 'float32', kept))), { rtol: 1e-6, atol: 1e-5 });
        diff([xs, zeros('float32', outN)], [1], (be, v) => be.kernels.reduce(op, v(tv(0, 'float32', shape)), axes, v(cv(1, 'float32', kept))), { rtol: 1e-6, atol: 1e-5 });
        diff([hosts[1]!, zeros('int32', outN)], [1], (be, v) => be.kernels.reduce(op, v(fv(0, 'int32', shape)), axes, v(cv(1, 'int32', kept))));
        diff([hosts[2]!, zeros('bool', outN)], [1], (be, v) => be.kernels.reduce(op, v(cv(0, 'bool', shape)), axes, v(cv(1, 'bool', kept))));
        diff([hosts[2]!, zeros('int32', outN)], [1], (be, v) => be.kernels.reduce(op, v(cv(0, 'bool', shape)), axes, v(cv(1, 'int32', kept))));
      }
    }
  });

  it('one huge reduction (split across threads) and NaN propagation', () => {
    const big = floats(400 * 1000, -1, 1);
    diff([f32(big), zeros('float32', 1)], [1], (be, v) => be.kernels.reduce('sum', v(cv(0, 'float32', [400, 1000])), [0, 1], v(cv(1, 'float32', []))), { rtol: 1e-6, atol: 1e-4 });
    big[123456] = NaN;
    for (const op of ['max', 'min', 'sum'] as const) {
      diff([f32(big), zeros('float32', 1)], [1], (be, v) => be.kernels.reduce(op, v(cv(0, 'float32', [400000])), [0], v(cv(1, 'float32', []))));
    }
  });

  it('argReduce and cumulative', () => {
    const x = floats(N, -2, 2);
    for (let i = 0; i < N; i += 97) x[i] = 1.5; // ties
    x[5000] = NaN;
    for (const axis of [0, 1, 2]) {
      const kept = shape.filter((_, d) => d !== axis);
      for (const op of ['argmax', 'argmin'] as const) {
        diff([f32(x), zeros('int32', N / shape[axis]!)], [1], (be, v) => be.kernels.argReduce(op, v(tv(0, 'float32', shape)), axis, v(cv(1, 'int32', kept))));
      }
      for (const op of ['sum', 'prod', 'max', 'min'] as const) {
        for (const [exclusive, reverse] of [[false, false], [true, false], [false, true], [true, true]] as const) {
          const xs = op === 'prod' ? floats(N, 0.99, 1.01) : floats(N, -2, 2);
          diff([f32(xs), zeros('float32', N)], [1], (be, v) => be.kernels.cumulative(op, v(fv(0, 'float32', shape)), axis, exclusive, reverse, v(cv(1, 'float32', shape))), { rtol: 1e-6, atol: 1e-5 });
          diff([i32(ints(N, -5, 5)), zeros('int32', N)], [1], (be, v) => be.kernels.cumulative(op, v(cv(0, 'int32', shape)), axis, exclusive, reverse, v(cv(1, 'int32', shape))));
        }
      }
    }
  });
});

describe('matmul (packed, threaded, batched, fused epilogue)', () => {
  const cases: [number, number, number][] = [[300, 500, 200], [1, 3000, 300], [3000, 1, 300], [7, 513, 129], [130, 17, 1025], [2, 2, 2], [97, 101, 0]];
  it('2-D with every transpose combination', () => {
    for (const [m, n, k] of cases) {
      for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]]) {
        const hosts = [f32(floats(m * k, -1, 1)), f32(floats(k * n, -1, 1)), zeros('float32', m * n)];
        diff(hosts, [2], (be, v) => be.kernels.matmul(v((ta ? tv : cv)(0, 'float32', [m, k])), v((tb ? tv : cv)(1, 'float32', [k, n])), v(cv(2, 'float32', [m, n]))), mm(k));
      }
    }
  });

  it('batched with broadcast batch axes and a strided out', () => {
    const [b, m, n, k] = [6, 40, 70, 90];
    const hosts = [f32(floats(b * m * k, -1, 1)), f32(floats(k * n, -1, 1)), f32(floats(2 * b * m * n)), f32(floats(b * k * n, -1, 1))];
    // b shared (stride 0) and a folding into rows: one GEMM
    diff(hosts, [2], (be, v) => be.kernels.matmul(v(cv(0, 'float32', [b, m, k])), v({ buf: 1, dtype: 'float32', shape: [b, k, n], strides: [0, n, 1], offset: 0 }), v(cv(2, 'float32', [b, m, n]))), mm(k));
    // per-item GEMMs, a transposed per item, out strided (every other row block)
    diff(hosts, [2], (be, v) =>
      be.kernels.matmul(v({ buf: 0, dtype: 'float32', shape: [2, 3, m, k], strides: [3 * m * k, m * k, 1, m], offset: 0 }), v({ buf: 3, dtype: 'float32', shape: [2, 3, k, n], strides: [0, k * n, n, 1], offset: 0 }),
        v({ buf: 2, dtype: 'float32', shape: [2, 3, m, n], strides: [6 * m * n, 2 * m * n, n, 1], offset: 5 })), mm(k));
  });

  it('matmulFused: bias (strided) and every activation', () => {
    for (const [m, n, k] of [[300, 200, 150], [5, 40, 30], [64, 1, 33]] as [number, number, number][]) {
      for (const act of ['linear', 'relu', 'sigmoid', 'tanh', 'gelu'] as const) {
        const hosts = [f32(floats(m * k, -1, 1)), f32(floats(k * n, -1, 1)), f32(floats(2 * n)), zeros('float32', m * n)];
        diff(hosts, [3], (be, v) =>
          be.fused.matmulFused!(v(cv(0, 'float32', [m, k])), v(tv(1, 'float32', [k, n])), v({ buf: 2, dtype: 'float32', shape: [n], strides: [-2], offset: 2 * n - 1 }), act, v(cv(3, 'float32', [m, n]))), mm(k));
        diff(hosts, [3], (be, v) => be.fused.matmulFused!(v(cv(0, 'float32', [m, k])), v(cv(1, 'float32', [k, n])), null, act, v(cv(3, 'float32', [m, n]))), mm(k));
      }
    }
  });
});

describe('indexing and random bits', () => {
  it('gather and scatterAdd (large, strided, out-of-range indices)', () => {
    const x = floats(500 * 64);
    const idx = ints(3000, -2, 501);
    diff([f32(x), i32(idx), zeros('float32', 3000 * 64)], [2], (be, v) => be.kernels.gather(v(cv(0, 'float32', [500, 64])), v(cv(1, 'int32', [3000])), 0, v(cv(2, 'float32', [3000, 64]))));
    diff([f32(x), i32(ints(40, 0, 63)), zeros('float32', 500 * 40)], [2], (be, v) => be.kernels.gather(v(tv(0, 'float32', [64, 500])), v(cv(1, 'int32', [5, 8])), 0, v(cv(2, 'float32', [5, 8, 500]))));
    diff([f32(x), i32(ints(30, -1, 64)), zeros('float32', 500 * 30)], [2], (be, v) => be.kernels.gather(v(cv(0, 'float32', [500, 64])), v(cv(1, 'int32', [30])), 1, v(cv(2, 'float32', [500, 30]))));
    diff([u8(bools(500 * 64)), i32(ints(100, 0, 63)), zeros('bool', 500 * 100)], [2], (be, v) => be.kernels.gather(v(cv(0, 'bool', [500, 64])), v(cv(1, 'int32', [100])), 1, v(cv(2, 'bool', [500, 100]))));
    diff([i32(idx), f32(floats(3000 * 64)), f32(floats(500 * 64))], [2], (be, v) => be.kernels.scatterAdd(v(cv(0, 'int32', [3000])), v(cv(1, 'float32', [3000, 64])), 0, v(cv(2, 'float32', [500, 64]))), { rtol: 1e-5, atol: 1e-5 });
    diff([i32(ints(50, 0, 63)), i32(ints(500 * 50, -9, 9)), i32(ints(500 * 64, -9, 9))], [2], (be, v) => be.kernels.scatterAdd(v(cv(0, 'int32', [50])), v(tv(1, 'int32', [500, 50])), 1, v(cv(2, 'int32', [500, 64]))));
  });

  it('randomBits is bit-identical (contiguous, strided, counter carry past 2^32)', () => {
    for (const dtype of ['int32', 'float32'] as const) {
      diff([zeros(dtype, 100001)], [0], (be, v) => be.kernels.randomBits([0xdeadbeef, 42], 2 ** 32 - 7, v(cv(0, dtype, [100001]))));
      diff([zeros(dtype, 2 * 3001)], [0], (be, v) => be.kernels.randomBits([7, 9], 123456789, v({ buf: 0, dtype, shape: [3001], strides: [-2], offset: 6000 })));
    }
  });
});

describe('convolution and pooling', () => {
  const geoms: { x: [number, number, number, number]; f: [number, number]; cout: number; p: WindowParams }[] = [
    { x: [4, 30, 30, 8], f: [3, 3], cout: 16, p: { window: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1] } },
    { x: [2, 31, 29, 5], f: [5, 3], cout: 7, p: { window: [5, 3], strides: [2, 3], pads: [2, 1, 0, 2], dilations: [1, 1] } },
    { x: [1, 40, 40, 3], f: [3, 3], cout: 4, p: { window: [3, 3], strides: [1, 1], pads: [0, 0, 0, 0], dilations: [2, 2] } },
    { x: [8, 16, 16, 32], f: [1, 1], cout: 24, p: { window: [1, 1], strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1] } },
    // strided: backprop input splits into one GEMM per stride phase (some phases with no taps)
    { x: [2, 17, 19, 6], f: [3, 3], cout: 5, p: { window: [3, 3], strides: [2, 2], pads: [0, 1, 0, 1], dilations: [1, 1] } },
    { x: [1, 23, 21, 4], f: [3, 2], cout: 3, p: { window: [3, 2], strides: [4, 3], pads: [1, 1, 0, 2], dilations: [2, 3] } },
    { x: [3, 12, 12, 7], f: [2, 2], cout: 9, p: { window: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0], dilations: [1, 1] } },
    { x: [4, 29, 29, 16], f: [3, 3], cout: 32, p: { window: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], dilations: [1, 1] } },
  ];
  const outHW = (g: (typeof geoms)[number]): [number, number] => {
    const [, h, w] = g.x;
    const { strides: [sh, sw], pads: [pt, pb, pl, pr], dilations: [dh, dw] } = g.p;
    return [Math.floor((h + pt + pb - dh * (g.f[0] - 1) - 1) / sh) + 1, Math.floor((w + pl + pr - dw * (g.f[1] - 1) - 1) / sw) + 1];
  };
  it('conv2d and both backprops', () => {
    for (const g of geoms) {
      const [n, , , c] = g.x;
      const [oh, ow] = outHW(g);
      const xs = g.x, fs = [g.f[0], g.f[1], c, g.cout], ys = [n, oh, ow, g.cout];
      const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
      const k = g.f[0] * g.f[1] * c;
      const hosts = [f32(floats(size(xs), -1, 1)), f32(floats(size(fs), -1, 1)), f32(floats(size(ys), -1, 1)), zeros('float32', size(ys)), zeros('float32', size(xs)), zeros('float32', size(fs))];
      diff(hosts, [3], (be, v) => be.fused.conv2d!(v(cv(0, 'float32', xs)), v(cv(1, 'float32', fs)), g.p, v(cv(3, 'float32', ys))), mm(k));
      diff(hosts, [4], (be, v) => be.fused.conv2dBackpropInput!(v(cv(2, 'float32', ys)), v(cv(1, 'float32', fs)), g.p, v(cv(4, 'float32', xs))), mm(g.f[0] * g.f[1] * g.cout));
      diff(hosts, [5], (be, v) => be.fused.conv2dBackpropFilter!(v(cv(0, 'float32', xs)), v(cv(2, 'float32', ys)), g.p, v(cv(5, 'float32', fs))), mm(n * oh * ow));
    }
  });

  it('pool2d and its backward (max with ties, avg with padding)', () => {
    for (const g of geoms.slice(0, 3)) {
      const [n, h, w, c] = g.x;
      const p = { ...g.p, window: g.f };
      const [oh, ow] = outHW(g);
      const size = n * h * w * c, ysz = n * oh * ow * c;
      const x = Float32Array.from(floats(size, -1, 1), (v, i) => (i % 11 === 0 ? 0.5 : v));
      for (const kind of ['max', 'avg'] as const) {
        const hosts = [f32(x), f32(floats(ysz)), zeros('float32', ysz), zeros('float32', size)];
        diff(hosts, [2], (be, v) => be.fused.pool2d!(kind, v(cv(0, 'float32', [n, h, w, c])), p, v(cv(2, 'float32', [n, oh, ow, c]))), F);
        diff(hosts, [3], (be, v) => be.fused.pool2dBackward!(kind, v(cv(0, 'float32', [n, h, w, c])), v(cv(1, 'float32', [n, oh, ow, c])), p, v(cv(3, 'float32', [n, h, w, c]))), { rtol: 1e-6, atol: 1e-6 });
      }
    }
  });
});

describe('softmax, cross-entropy, layer norm, optimizer step', () => {
  it('softmax / log-softmax (contiguous and transposed rows, infinities)', () => {
    const x = floats(300 * 1000, -20, 20);
    for (let j = 0; j < 1000; j++) x[5 * 1000 + j] = -Infinity;
    x[9 * 1000 + 4] = NaN;
    // (+Inf in a row is left out: for log-softmax backend-js gives NaN for the whole row,
    // native follows core's decomposition, -Inf for the finite entries; see the README)
    for (const log of [false, true]) {
      diff([f32(x), zeros('float32', 300 * 1000)], [1], (be, v) => be.fused.softmax!(v(cv(0, 'float32', [300, 1000])), log, v(cv(1, 'float32', [300, 1000]))), { rtol: 1e-5, atol: 1e-6 });
      diff([f32(x), zeros('float32', 300 * 1000)], [1], (be, v) => be.fused.softmax!(v(tv(0, 'float32', [1000, 300])), log, v(cv(1, 'float32', [1000, 300]))), { rtol: 1e-5, atol: 1e-6 });
    }
  });

  it('softmaxCrossEntropy and layerNorm', () => {
    const r = 500, d = 300;
    const labels = floats(r * d, 0, 1);
    diff([f32(floats(r * d, -8, 8)), f32(labels), zeros('float32', r)], [2], (be, v) => be.fused.softmaxCrossEntropy!(v(cv(0, 'float32', [r, d])), v(tv(1, 'float32', [r, d])), v(cv(2, 'float32', [r]))), { rtol: 1e-5, atol: 1e-4 });
    diff([f32(floats(r * d, -3, 5)), f32(floats(d)), f32(floats(d)), zeros('float32', r * d)], [3], (be, v) =>
      be.fused.layerNorm!(v(tv(0, 'float32', [r, d])), v(cv(1, 'float32', [d])), v(fv(2, 'float32', [d])), 1e-5, v(cv(3, 'float32', [r, d]))), { rtol: 1e-5, atol: 1e-5 });
  });

  it('optimizerStep: every kind, many tensors (grows the scratch array)', () => {
    const sizes = [70000, 3, 1, 129, ...Array.from({ length: 600 }, (_, i) => (i % 7) + 1)];
    for (const kind of ['sgd', 'momentum', 'nesterov', 'adam'] as const) {
      const nState = kind === 'sgd' ? 0 : kind === 'adam' ? 2 : 1;
      const hosts: Host[] = [];
      for (const s of sizes) {
        hosts.push(f32(floats(s)), f32(floats(s)));
        for (let j = 0; j < nState; j++) hosts.push(f32(j === 1 ? floats(s, 0, 1) : floats(s)));
      }
      const per = 2 + nState;
      const outs = hosts.map((_, i) => i).filter((i) => i % per !== 1);
      const hyper = { lr: 0.01, step: 3, momentum: 0.8, beta1: 0.85, beta2: 0.995, epsilon: 1e-6, weightDecay: kind === 'adam' ? 0.01 : 0 };
      diff(hosts, outs, (be, v) => {
        const params: View[] = [], grads: View[] = [], state: View[][] = [];
        sizes.forEach((s, i) => {
          params.push(v(cv(i * per, 'float32', [s])));
          grads.push(v(cv(i * per + 1, 'float32', [s])));
          state.push(Array.from({ length: nState }, (_, j) => v(cv(i * per + 2 + j, 'float32', [s]))));
        });
        be.fused.optimizerStep!(kind, params, grads, state, hyper);
      }, { rtol: 2e-6, atol: 2e-6 }); // backend-js rounds once in float64, native per float32 op like the core's decomposition
    }
  });
});
