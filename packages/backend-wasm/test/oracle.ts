/**
 * A differential harness: runs the same core op on the wasm backend and on backend-js (the
 * oracle) from the same host data, through the same views, and compares the outputs.
 */
import * as core from '@tessera/core';
import type { Backend, DType } from '@tessera/core';
import { jsBackend } from '@tessera/backend-js';

export type T = core.Tensor;

/** A seeded uniform generator (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type ViewKind = 'none' | 'transpose' | 'step' | 'flip' | 'broadcast' | 'offset';

/** Host description of an input: values (row-major, logical) and how core should see it. */
export interface Input {
  shape: number[];
  dtype: DType;
  values: number[];
  view?: ViewKind;
}

/** Random values for a shape. */
export function gen(shape: number[], dtype: DType = 'float32', seed = 1, lo = -3, hi = 3): Input {
  const u = rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const values = Array.from({ length: n }, () => {
    const v = lo + (hi - lo) * u();
    return dtype === 'float32' ? Math.fround(v) : dtype === 'int32' ? Math.floor(v) : (v > (lo + hi) / 2 ? 1 : 0);
  });
  return { shape, dtype, values };
}

/** Makes a tensor on the current backend whose logical values are `inp.values`, through a view. */
export function make(inp: Input): T {
  const { shape, dtype, values } = inp;
  const view = inp.view ?? 'none';
  const rank = shape.length;
  if (view === 'none' || rank === 0) return core.tensor(values as number[], shape, dtype);
  if (view === 'transpose') {
    // base laid out transposed (reverse axes), then transposed back
    const rev = [...shape].reverse();
    const perm = shape.map((_, i) => rank - 1 - i);
    const base = new Array<number>(values.length);
    const strides = stridesOf(shape);
    const rstr = stridesOf(rev);
    for (let i = 0; i < values.length; i++) {
      const idx = unravel(i, shape);
      let j = 0;
      for (let d = 0; d < rank; d++) j += idx[d]! * rstr[rank - 1 - d]!;
      base[j] = values[i]!;
      void strides;
    }
    const t = core.tensor(base, rev, dtype);
    const y = core.transpose(t, perm);
    t.dispose();
    return y;
  }
  if (view === 'flip') {
    const base = new Array<number>(values.length);
    for (let i = 0; i < values.length; i++) {
      const idx = unravel(i, shape).map((k, d) => shape[d]! - 1 - k);
      base[ravel(idx, shape)] = values[i]!;
    }
    const t = core.tensor(base, shape, dtype);
    const y = core.flip(t, shape.map((_, d) => d));
    t.dispose();
    return y;
  }
  if (view === 'step') {
    const bshape = shape.map((n) => 2 * n + 1);
    const base = new Array<number>(bshape.reduce((a, b) => a * b, 1)).fill(dtype === 'float32' ? NaN : 7);
    for (let i = 0; i < values.length; i++) base[ravel(unravel(i, shape).map((k) => 2 * k + 1), bshape)] = values[i]!;
    const t = core.tensor(base, bshape, dtype);
    const y = core.stridedSlice(t, shape.map(() => 1), bshape, shape.map(() => 2));
    t.dispose();
    return y;
  }
  if (view === 'offset') {
    const bshape = [shape[0]! + 2, ...shape.slice(1)];
    const inner = shape.slice(1).reduce((a, b) => a * b, 1);
    const base = new Array<number>(bshape.reduce((a, b) => a * b, 1)).fill(dtype === 'float32' ? NaN : 7);
    for (let i = 0; i < values.length; i++) base[i + inner] = values[i]!;
    const t = core.tensor(base, bshape, dtype);
    const y = core.slice(t, shape.map((_, d) => (d === 0 ? 1 : 0)), shape);
    t.dispose();
    return y;
  }
  // broadcast: values must be constant along axis 0; take the first row
  const row = values.slice(0, values.length / shape[0]!);
  const t = core.tensor(row, [1, ...shape.slice(1)], dtype);
  const y = core.broadcastTo(t, shape);
  t.dispose();
  return y;
}

function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) { s[d] = acc; acc *= shape[d]!; }
  return s;
}
function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) { idx[d] = i % shape[d]!; i = Math.floor(i / shape[d]!); }
  return idx;
}
function ravel(idx: readonly number[], shape: readonly number[]): number {
  let j = 0;
  for (let d = 0; d < shape.length; d++) j = j * shape[d]! + idx[d]!;
  return j;
}

export interface Result {
  shape: number[];
  dtype: DType;
  data: Float32Array | Int32Array | Uint8Array;
}

/** Runs `fn` on a backend with inputs made from `ins`, returning every output's data. */
export async function runOn(be: Backend, ins: Input[], fn: (xs: T[]) => T | T[], fused = true): Promise<Result[]> {
  core.setBackend(be);
  const xs = ins.map(make);
  const ys = core.withFusedKernels(fused, () => fn(xs));
  const outs = Array.isArray(ys) ? ys : [ys];
  const res: Result[] = [];
  for (const y of outs) res.push({ shape: [...y.shape], dtype: y.dtype, data: (await y.data()) as Result['data'] });
  for (const y of outs) if (!y.isDisposed) y.dispose();
  for (const x of xs) if (!x.isDisposed) x.dispose();
  return res;
}

export const oracle = jsBackend();

/** Null when `got` matches `want` (NaN with NaN, infinities exactly, finite within tolerance). */
export function diff(got: Result, want: Result, rtol: number, atol: number): string | null {
  if (got.shape.join() !== want.shape.join()) return `shape [${got.shape}] vs [${want.shape}]`;
  if (got.dtype !== want.dtype) return `dtype ${got.dtype} vs ${want.dtype}`;
  const bad: string[] = [];
  let nbad = 0;
  const exact = got.dtype !== 'float32';
  for (let i = 0; i < want.data.length; i++) {
    const g = got.data[i]!, w = want.data[i]!;
    let ok: boolean;
    if (Number.isNaN(w) || Number.isNaN(g)) ok = Number.isNaN(w) && Number.isNaN(g);
    else if (!Number.isFinite(w) || !Number.isFinite(g)) ok = g === w;
    else ok = exact ? g === w : Math.abs(g - w) <= atol + rtol * Math.abs(w);
    if (!ok) {
      nbad++;
      if (bad.length < 6) bad.push(`[${i}] got ${g} want ${w}`);
    }
  }
  return nbad === 0 ? null : `${nbad}/${want.data.length} differ: ${bad.join('; ')}`;
}

/** Runs on both backends (fused on and off for wasm) and returns the first mismatch, or null. */
export async function check(be: Backend, ins: Input[], fn: (xs: T[]) => T | T[], rtol = 1e-5, atol = 1e-6): Promise<string | null> {
  const want = await runOn(oracle, ins, fn, true);
  for (const fused of [true, false]) {
    const got = await runOn(be, ins, fn, fused);
    if (got.length !== want.length) return `${got.length} outputs vs ${want.length}`;
    for (let i = 0; i < got.length; i++) {
      const d = diff(got[i]!, want[i]!, rtol, atol);
      if (d !== null) return `${fused ? 'fused' : 'unfused'} output ${i}: ${d}`;
    }
  }
  return null;
}
