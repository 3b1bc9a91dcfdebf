import { BackendError } from '@tessera/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebGpuBackend, sizeClass, type WebGpuBackend } from '../src/index.js';
import { out, read, up, view, within } from './helpers.js';

let be: WebGpuBackend;
beforeAll(async () => {
  be = await createWebGpuBackend();
});
afterAll(() => be?.dispose());

describe('backend object', () => {
  it('is a webgpu backend with strided inputs, async reads only and every fused kernel', async () => {
    expect(be.name).toBe('webgpu');
    expect(be.caps).toEqual({ stridedInputs: true, syncRead: false });
    expect(be.storage.readSync).toBeUndefined();
    for (const k of ['matmulFused', 'conv2d', 'conv2dBackpropInput', 'conv2dBackpropFilter', 'pool2d', 'pool2dBackward',
      'softmax', 'softmaxCrossEntropy', 'layerNorm', 'optimizerStep'] as const) {
      expect(typeof be.fused[k]).toBe('function');
    }
    await expect(be.flush()).resolves.toBeUndefined();
    await Promise.all([be.flush(), be.flush()]);
  });
});

describe('storage', () => {
  it('uploads and reads every dtype; bool is one u32 word per element', async () => {
    const f = be.storage.upload('float32', new Float32Array([1.5, -2, 3, NaN]));
    const i = be.storage.upload('int32', new Int32Array([-2147483648, 7, 2147483647]));
    const b = be.storage.upload('bool', new Uint8Array([1, 0, 1]));
    expect(f.byteLength).toBe(16);
    expect(b.byteLength).toBe(12);
    expect(Array.from(await be.storage.read(f, 'float32', 1, 3))).toEqual([-2, 3, NaN]);
    expect(Array.from(await be.storage.read(i, 'int32', 0, 3))).toEqual([-2147483648, 7, 2147483647]);
    const rb = await be.storage.read(b, 'bool', 0, 3);
    expect(rb).toBeInstanceOf(Uint8Array);
    expect(Array.from(rb)).toEqual([1, 0, 1]);
    for (const x of [f, i, b]) be.storage.release(x);
  });

  it('converts differently typed uploads (bool as x != 0) and copies its input', async () => {
    const src = new Float32Array([0, 0.5, -2, NaN]);
    const b = be.storage.upload('bool', src);
    src[0] = 9;
    expect(Array.from(await be.storage.read(b, 'bool', 0, 4))).toEqual([0, 1, 1, 1]);
    const i = be.storage.upload('int32', new Uint8Array([1, 0, 255]));
    expect(Array.from(await be.storage.read(i, 'int32', 0, 3))).toEqual([1, 0, 255]);
    be.storage.release(b);
    be.storage.release(i);
  });

  it('counts references, rejects double frees, use after free and foreign buffers', async () => {
    const before = be.storage.stats();
    const buf = be.storage.alloc('float32', 8);
    be.storage.retain(buf);
    be.storage.release(buf);
    expect(be.storage.stats().liveBuffers).toBe(before.liveBuffers + 1);
    be.storage.release(buf);
    expect(be.storage.stats().liveBuffers).toBe(before.liveBuffers);
    expect(be.storage.stats().liveBytes).toBe(before.liveBytes);
    expect(() => be.storage.release(buf)).toThrow(/no references left/);
    expect(() => be.storage.retain(buf)).toThrow(/freed/);
    await expect(be.storage.read(buf, 'float32', 0, 1)).rejects.toThrow(/freed/);
    expect(() => be.kernels.fill(view(buf, 'float32', [8]), 1)).toThrow(/freed/);
    expect(() => be.storage.release({ byteLength: 4 })).toThrow(/does not belong/);
  });

  it('rejects out-of-range reads; size-0 buffers work', async () => {
    const buf = be.storage.alloc('int32', 2);
    await expect(be.storage.read(buf, 'int32', 1, 2)).rejects.toThrow(/outside/);
    const z = be.storage.alloc('bool', 0);
    expect(z.byteLength).toBe(0);
    expect((await be.storage.read(z, 'bool', 0, 0)).length).toBe(0);
    be.storage.release(buf);
    be.storage.release(z);
  });

  it('pools freed blocks by size class and reuses them', () => {
    expect(sizeClass(1)).toBe(256);
    expect(sizeClass(1000)).toBe(1024);
    expect(sizeClass(1025)).toBe(1280);
    be.trim();
    const a = be.storage.alloc('float32', 300); // 1200 bytes → class 1280
    be.storage.release(a);
    expect(be.storage.stats().pooledBytes).toBe(1280);
    const b = be.storage.alloc('int32', 310); // same class
    expect(be.storage.stats().pooledBytes).toBe(0);
    be.storage.release(b);
    be.trim();
    expect(be.storage.stats().pooledBytes).toBe(0);
  });

  it('an upload into a pooled block still used by recorded work does not overtake it', async () => {
    const a = up(be, [1, 2, 3]);
    const o = out(be, [3]);
    be.kernels.binary('add', a, a, o);
    be.storage.release(a.buf); // back to the pool while the add is only recorded
    const b = up(be, [10, 20, 30]); // takes the same block
    expect(await read(be, o)).toEqual([2, 4, 6]);
    expect(await read(be, b)).toEqual([10, 20, 30]);
    be.storage.release(o.buf);
    be.storage.release(b.buf);
  });
});

describe('batching and caches', () => {
  it('records kernels into one submit per flush, not one per op', async () => {
    const x = up(be, [1, 2, 3, 4]);
    const o1 = out(be, [4]), o2 = out(be, [4]);
    await be.flush();
    const c0 = be.counters();
    for (let i = 0; i < 50; i++) {
      be.kernels.binary('add', i % 2 ? o1 : x, x, i % 2 ? o2 : o1);
    }
    const got = await read(be, o2);
    const c1 = be.counters();
    expect(c1.dispatches - c0.dispatches).toBe(50);
    expect(c1.submits - c0.submits).toBe(1);
    expect(got).toEqual([3, 6, 9, 12]);
    for (const v of [x, o1, o2]) be.storage.release(v.buf);
  });

  it('reuses one pipeline across shapes and strides', async () => {
    const run = async (n: number) => {
      const a = up(be, Array.from({ length: n }, (_, i) => i));
      const o = out(be, [n]);
      be.kernels.unary('sqrt', a, o);
      const r = await read(be, o);
      be.storage.release(a.buf);
      be.storage.release(o.buf);
      return r;
    };
    await run(5);
    const p0 = be.counters().pipelines;
    expect(await run(9)).toEqual(Array.from({ length: 9 }, (_, i) => Math.fround(Math.sqrt(i))));
    await run(1000);
    expect(be.counters().pipelines).toBe(p0);
  });

  it('several reads issued together share one submit', async () => {
    const xs = [up(be, [1]), up(be, [2]), up(be, [3])];
    const os = xs.map(() => out(be, [1]));
    xs.forEach((x, i) => be.kernels.unary('neg', x, os[i]));
    const c0 = be.counters().submits;
    const got = await Promise.all(os.map((o) => read(be, o)));
    expect(got).toEqual([[-1], [-2], [-3]]);
    expect(be.counters().submits - c0).toBe(1);
    for (const v of [...xs, ...os]) be.storage.release(v.buf);
  });
});

describe('device limits', () => {
  it('splits dispatches over maxComputeWorkgroupsPerDimension', async () => {
    const small = await createWebGpuBackend({ limits: { maxComputeWorkgroupsPerDimension: 4 } });
    try {
      const n = 256 * 10 + 7; // 11 workgroups → a 4 × 3 grid
      const vals = Array.from({ length: n }, (_, i) => (i % 97) - 40);
      const a = up(small, vals);
      const o = out(small, [n]);
      small.kernels.binary('mul', a, a, o);
      expect(await read(small, o)).toEqual(vals.map((v) => v * v));
      // reductions with a workgroup per output, and a tiled matmul with many tiles
      const rows = 9, cols = 2000;
      const m = up(small, Array.from({ length: rows * cols }, (_, i) => (i % 7) - 3), [rows, cols]);
      const s = out(small, [rows]);
      small.kernels.reduce('sum', m, [1], s);
      const ref = Array.from({ length: rows }, (_, r) => {
        let t = 0;
        for (let c = 0; c < cols; c++) t += ((r * cols + c) % 7) - 3;
        return t;
      });
      expect(await read(small, s)).toEqual(ref);
      const k = 3, mm = 70, nn = 130;
      const A = up(small, Array.from({ length: mm * k }, (_, i) => i % 5), [mm, k]);
      const B = up(small, Array.from({ length: k * nn }, (_, i) => i % 3), [k, nn]);
      const C = out(small, [mm, nn]);
      small.kernels.matmul(A, B, C);
      const got = await read(small, C);
      for (const [i, j] of [[0, 0], [69, 129], [33, 64], [1, 127]]) {
        let t = 0;
        for (let q = 0; q < k; q++) t += ((i * k + q) % 5) * ((q * nn + j) % 3);
        expect(got[i * nn + j]).toBe(t);
      }
    } finally {
      small.dispose();
    }
  });

  it('splits element-wise kernels over buffers larger than maxStorageBufferBindingSize, and says so where a kernel cannot', async () => {
    const small = await createWebGpuBackend({ limits: { maxStorageBufferBindingSize: 4096 } });
    try {
      const n = 3000; // 12 000 bytes, three times the binding limit
      const vals = Array.from({ length: n }, (_, i) => i);
      const a = up(small, vals);
      const o = out(small, [n]);
      small.kernels.binary('add', a, view(a.buf, 'float32', [n], [-1], n - 1), o); // x + reversed x
      expect(await read(small, o)).toEqual(vals.map(() => n - 1));
      const t = out(small, [2, 1500]);
      small.kernels.copy(view(a.buf, 'float32', [2, 1500], [1, 2]), t); // a transpose-like gather
      const got = await read(small, t);
      expect(got.slice(0, 3)).toEqual([0, 2, 4]);
      expect(got.slice(1500, 1503)).toEqual([1, 3, 5]);
      small.kernels.fill(view(o.buf, 'float32', [1000], [3], 1), -1);
      const f = await read(small, o);
      expect([f[0], f[1], f[2], f[4], f[2998]]).toEqual([n - 1, -1, n - 1, -1, -1]);
      const c = out(small, [n], 'int32');
      small.kernels.cast(a, c);
      expect((await read(small, c)).slice(2995)).toEqual([2995, 2996, 2997, 2998, 2999]);
      // other kernels plan windows too (test/windows.test.ts); a softmax row is bound whole
      const m = out(small, [1, n]);
      expect(() => small.fused.softmax!(view(a.buf, 'float32', [1, n]), false, m)).toThrow(BackendError);
      expect(() => small.fused.softmax!(view(a.buf, 'float32', [1, n]), false, m)).toThrow(/maxStorageBufferBindingSize/);
    } finally {
      small.dispose();
    }
  });

  it('an allocation over maxBufferSize is a BackendError that says out of memory', async () => {
    const small = await createWebGpuBackend({ limits: { maxBufferSize: 1 << 20 } });
    try {
      expect(() => small.storage.alloc('float32', 1 << 20)).toThrow(BackendError);
      expect(() => small.storage.alloc('float32', 1 << 20)).toThrow(/out of memory/);
      expect(() => small.storage.upload('int32', new Int32Array(1 << 19))).toThrow(/maxBufferSize/);
    } finally {
      small.dispose();
    }
  });
});

describe('device loss and disposal', () => {
  it('a lost device rejects reads and flushes with BackendError instead of hanging', async () => {
    const lost = await createWebGpuBackend();
    const a = up(lost, [1, 2, 3]);
    const o = out(lost, [3]);
    lost.kernels.unary('exp', a, o);
    lost.device.destroy(); // what a driver reset looks like to the page
    const r = within(lost.storage.read(o.buf, 'float32', 0, 3), 10_000, 'read on a lost device');
    await expect(r).rejects.toBeInstanceOf(BackendError);
    await expect(within(lost.flush(), 10_000, 'flush on a lost device')).rejects.toThrow(/device was lost|disposed/);
    expect(() => lost.kernels.unary('exp', a, o)).toThrow(BackendError);
    lost.dispose();
  });

  it('dispose frees everything; later use throws BackendError', async () => {
    const d = await createWebGpuBackend();
    const a = up(d, [1]);
    d.dispose();
    expect(() => d.storage.alloc('float32', 1)).toThrow(BackendError);
    expect(() => d.kernels.fill(a, 1)).toThrow(/disposed/);
    await expect(d.flush()).rejects.toThrow(/disposed/);
    d.dispose(); // idempotent
  });
});

describe('kernel details', () => {
  it('bit-exact threefry2x32 known answers (Random123) and the float transform', async () => {
    const o = out(be, [4], 'int32');
    be.kernels.randomBits([0, 0], 0, o);
    expect((await read(be, o)).map((x) => x >>> 0)).toEqual([0x6b200159, 0x99ba4efe, 0x508efb2c, 0xc0de3f32]);
    const f = out(be, [3]);
    be.kernels.randomBits([0, 0], 0, f);
    expect(await read(be, f)).toEqual([0x6b200159 >>> 8, 0x99ba4efe >>> 8, 0x508efb2c >>> 8].map((b) => b * 2 ** -24));
    // the 64-bit counter carries into its high word
    const c = out(be, [4], 'int32');
    be.kernels.randomBits([5, 6], 4294967295, c);
    const lo = out(be, [2], 'int32'), hi = out(be, [2], 'int32');
    be.kernels.randomBits([5, 6], 4294967295, lo);
    be.kernels.randomBits([5, 6], 4294967296, hi);
    expect(await read(be, c)).toEqual([...(await read(be, lo)), ...(await read(be, hi))]);
    for (const v of [o, f, c, lo, hi]) be.storage.release(v.buf);
  });

  it('scatterAdd accumulates repeated indices in index order, deterministically', async () => {
    const n = 2000;
    const idx = up(be, Array.from({ length: n }, (_, i) => (i * 7) % 3), [n], 'int32');
    const upd = up(be, Array.from({ length: n }, (_, i) => 1 / (i + 1)), [n]);
    const runs: number[][] = [];
    for (let r = 0; r < 2; r++) {
      const o = up(be, [0.25, 0, 0]);
      be.kernels.scatterAdd(idx, upd, 0, o);
      runs.push(await read(be, o));
      be.storage.release(o.buf);
    }
    const ref = [0.25, 0, 0].map(Math.fround);
    for (let i = 0; i < n; i++) ref[(i * 7) % 3] = Math.fround(ref[(i * 7) % 3] + Math.fround(1 / (i + 1)));
    expect(runs[0]).toEqual(ref);
    expect(runs[1]).toEqual(runs[0]);
    be.storage.release(idx.buf);
    be.storage.release(upd.buf);
  });

  it('copy within one buffer (overlapping views) goes through a temporary', async () => {
    const a = up(be, [0, 1, 2, 3, 4, 5]);
    be.kernels.copy(view(a.buf, 'float32', [5], [1], 0), view(a.buf, 'float32', [5], [1], 1));
    expect(await read(be, a)).toEqual([0, 0, 1, 2, 3, 4]);
    be.storage.release(a.buf);
  });
});
