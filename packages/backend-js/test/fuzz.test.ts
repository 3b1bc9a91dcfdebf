// Property-style checks: random shapes (rank 0–8, size-0 and size-1 axes) and random views
// (permuted, flipped, stepped, broadcast, offset) against float64 references on the logical values.
import type { DType, View } from '@tessera/core';
import { describe, expect, it } from 'vitest';
import { K, be, cstrides, empty, expectClose, read, size } from './helpers.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

function randShape(r: () => number, maxRank = 5): number[] {
  const rank = Math.floor(r() * (maxRank + 1));
  const dims = [1, 1, 2, 3, 4, 5, 7];
  const shape = Array.from({ length: rank }, () => dims[Math.floor(r() * dims.length)]);
  if (rank > 0 && r() < 0.05) shape[Math.floor(r() * rank)] = 0;
  return shape;
}

/** A random view of `shape` over a fresh buffer, filled with values from `gen`. */
function randView(r: () => number, shape: number[], dtype: DType, gen: () => number, allowBroadcast = true): View {
  const rank = shape.length;
  const step = shape.map(() => (r() < 0.3 ? 2 : 1));
  const bcast = shape.map((n) => allowBroadcast && n > 1 && r() < 0.2);
  const backShape = shape.map((n, d) => (bcast[d] ? 1 : n * step[d]));
  const perm = Array.from({ length: rank }, (_, i) => i).sort(() => r() - 0.5);
  const permShape = perm.map((d) => backShape[d]);
  const permStrides = cstrides(permShape);
  const strides = new Array<number>(rank).fill(0);
  perm.forEach((d, i) => { strides[d] = bcast[d] ? 0 : permStrides[i] * step[d]; });
  const pad = Math.floor(r() * 3);
  const total = size(backShape) + pad;
  const data = new (dtype === 'float32' ? Float32Array : dtype === 'int32' ? Int32Array : Uint8Array)(total);
  for (let i = 0; i < total; i++) data[i] = gen();
  let offset = pad;
  for (let d = 0; d < rank; d++) {
    if (shape[d] > 1 && strides[d] !== 0 && r() < 0.3) {
      offset += (shape[d] - 1) * strides[d];
      strides[d] = -strides[d];
    }
  }
  const buf = be.storage.upload(dtype, data);
  return { buf, dtype, shape, strides, offset, size: size(shape) };
}

const f = Math.fround;
const ITER = 150;

describe('fuzz: random strided views', () => {
  it('binary float32 add/mul/max/sub against logical values', () => {
    const r = rng(1);
    const ops = ['add', 'sub', 'mul', 'max', 'div'] as const;
    const refs = { add: (a: number, b: number) => a + b, sub: (a: number, b: number) => a - b, mul: (a: number, b: number) => a * b, max: Math.max, div: (a: number, b: number) => a / b };
    for (let t = 0; t < ITER; t++) {
      const shape = randShape(r, t % 10 === 0 ? 8 : 5);
      const g = () => f(r() * 8 - 4);
      const a = randView(r, shape, 'float32', g), b = randView(r, shape, 'float32', g);
      const op = ops[t % ops.length];
      const out = empty(shape);
      K.binary(op, a, b, out);
      const la = read(a), lb = read(b);
      expectClose(read(out), la.map((x, i) => f(refs[op](x, lb[i]))), 0, 0);
    }
  });

  it('binary int32 div/mod and compare on random views', () => {
    const r = rng(2);
    for (let t = 0; t < ITER; t++) {
      const shape = randShape(r);
      const g = () => Math.floor(r() * 21) - 10;
      const a = randView(r, shape, 'int32', g), b = randView(r, shape, 'int32', g);
      const la = read(a), lb = read(b);
      const out = empty(shape, 'int32');
      K.binary('div', a, b, out);
      expect(read(out)).toEqual(la.map((x, i) => (lb[i] === 0 ? 0 : Math.floor(x / lb[i]) | 0)));
      K.binary('mod', a, b, out);
      expect(read(out)).toEqual(la.map((x, i) => (lb[i] === 0 ? 0 : (x - Math.floor(x / lb[i]) * lb[i]) | 0)));
      const ob = empty(shape, 'bool');
      K.compare('lessEqual', a, b, ob);
      expect(read(ob)).toEqual(la.map((x, i) => (x <= lb[i] ? 1 : 0)));
    }
  });

  it('unary, copy into a random strided out, cast and where', () => {
    const r = rng(3);
    for (let t = 0; t < ITER; t++) {
      const shape = randShape(r, t % 10 === 0 ? 8 : 5);
      const x = randView(r, shape, 'float32', () => f(r() * 6 - 3));
      const lx = read(x);
      const o = empty(shape);
      K.unary('tanh', x, o);
      expectClose(read(o), lx.map((v) => f(Math.tanh(v))), 0, 0);
      const dst = randView(r, shape, 'float32', () => -99, false);
      K.copy(x, dst);
      expect(read(dst)).toEqual(lx);
      const oi = empty(shape, 'int32');
      K.cast(x, oi);
      expect(read(oi)).toEqual(lx.map((v) => Math.trunc(v) | 0));
      const cond = randView(r, shape, 'bool', () => (r() < 0.5 ? 1 : 0));
      const y = randView(r, shape, 'float32', () => 7);
      const ow = empty(shape);
      K.where(cond, x, y, ow);
      const lc = read(cond);
      expect(read(ow)).toEqual(lx.map((v, i) => (lc[i] ? v : 7)));
      const fillDst = randView(r, shape, 'int32', () => 0, false);
      K.fill(fillDst, 3);
      expect(read(fillDst)).toEqual(new Array(size(shape)).fill(3));
    }
  });

  it('reduce sum/max over random axes of random views', () => {
    const r = rng(4);
    for (let t = 0; t < ITER; t++) {
      const shape = randShape(r, t % 10 === 0 ? 8 : 5);
      const x = randView(r, shape, 'float32', () => f(r() * 4 - 2));
      const axes = shape.map((_, d) => d).filter(() => r() < 0.5);
      const kept = shape.map((_, d) => d).filter((d) => !axes.includes(d));
      const outShape = kept.map((d) => shape[d]);
      const lx = read(x);
      for (const op of ['sum', 'max'] as const) {
        const ref = new Array(size(outShape)).fill(op === 'sum' ? 0 : -Infinity);
        const idx = new Array(shape.length).fill(0);
        for (let i = 0; i < lx.length; i++) {
          let o = 0;
          for (const d of kept) o = o * shape[d] + idx[d];
          ref[o] = op === 'sum' ? ref[o] + lx[i] : Math.max(ref[o], lx[i]);
          for (let d = shape.length - 1; d >= 0; d--) { if (++idx[d] < shape[d]) break; idx[d] = 0; }
        }
        const out = empty(outShape);
        K.reduce(op, x, axes, out);
        expectClose(read(out), ref.map(f), 1e-6, 1e-6);
      }
      if (shape.length > 0 && shape.every((n) => n > 0)) {
        const axis = Math.floor(r() * shape.length);
        const cs = empty(shape);
        const ex = t % 2 === 0, rev = t % 3 === 0;
        K.cumulative('sum', x, axis, ex, rev, cs);
        {
          const st = cstrides(shape), n = shape[axis];
          const ref = new Array(lx.length).fill(0);
          for (let i = 0; i < lx.length; i++) {
            const pos = Math.floor(i / st[axis]) % n;
            if (pos !== 0) continue;
            let acc = 0;
            for (let j = 0; j < n; j++) {
              const p = rev ? n - 1 - j : j;
              const at = i + p * st[axis];
              if (ex) { ref[at] = acc; acc += lx[at]; } else { acc += lx[at]; ref[at] = acc; }
            }
          }
          expectClose(read(cs), ref.map(f), 1e-6, 1e-6);
        }
        const am = empty(shape.filter((_, d) => d !== axis), 'int32');
        K.argReduce('argmax', x, axis, am);
        // check argmax against logical values
        const strides = cstrides(shape);
        const keptShape = shape.filter((_, d) => d !== axis);
        const got = read(am);
        for (let k = 0; k < got.length; k++) {
          let rem = k, base = 0;
          for (let d = shape.length - 1, kd = keptShape.length - 1; d >= 0; d--) {
            if (d === axis) continue;
            base += (rem % keptShape[kd]) * strides[d];
            rem = Math.floor(rem / keptShape[kd]);
            kd--;
          }
          let best = 0;
          for (let i = 1; i < shape[axis]; i++) if (lx[base + i * strides[axis]] > lx[base + best * strides[axis]]) best = i;
          expect(got[k]).toBe(best);
        }
      }
    }
  });

  it('matmul on random strided, flipped and broadcast operands', () => {
    const r = rng(5);
    for (let t = 0; t < 60; t++) {
      const batch = randShape(r, 2).map((d) => Math.min(d, 3));
      const m = 1 + Math.floor(r() * 20), k = Math.floor(r() * 20), n = 1 + Math.floor(r() * 20);
      const a = randView(r, [...batch, m, k], 'float32', () => f(r() * 2 - 1));
      const b = randView(r, [...batch, k, n], 'float32', () => f(r() * 2 - 1));
      const out = empty([...batch, m, n]);
      K.matmul(a, b, out);
      const la = read(a), lb = read(b), B = size(batch);
      const ref: number[] = [];
      for (let q = 0; q < B; q++) for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let p = 0; p < k; p++) acc += la[q * m * k + i * k + p] * lb[q * k * n + p * n + j];
        ref.push(f(acc));
      }
      expectClose(read(out), ref, 1e-5, 1e-5);
    }
  });
});
