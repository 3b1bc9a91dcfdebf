/**
 * Reductions, index reductions, running ops, gather/scatterAdd and random bits.
 * @module
 */
import type { ArgReduceOp, DType, ReduceOp, View } from '@tessera/core';
import { CAST, REDUCE } from './codes.js';
import { fill } from './elementwise.js';
import { contiguousStrides, isContiguous, sizeOf } from './layout.js';
import { copyNd, intoContiguous, materialize } from './ops.js';
import { split, type Runtime } from './runtime.js';
import { ELEMENT_BYTES } from './storage.js';

const DT: Record<DType, number> = { float32: 0, int32: 1, bool: 2 };

function identity(op: number, dtype: DType): number {
  if (dtype === 'bool') return op === 0 || op === 2 ? 0 : 1;
  switch (op) {
    case 0: return 0;
    case 1: return 1;
    case 2: return dtype === 'float32' ? -Infinity : -2147483648;
    default: return dtype === 'float32' ? Infinity : 2147483647;
  }
}

/** Axis groups of a contiguous view: runs of kept (false) / reduced (true) axes, sizes multiplied. */
function groups(shape: readonly number[], axes: readonly number[]): { red: boolean; n: number }[] {
  const g: { red: boolean; n: number }[] = [];
  for (let d = 0; d < shape.length; d++) {
    const n = shape[d]!;
    if (n === 1) continue;
    const red = axes.includes(d);
    const last = g[g.length - 1];
    if (last !== undefined && last.red === red) last.n *= n;
    else g.push({ red, n });
  }
  return g;
}

export function reduce(rt: Runtime, op: ReduceOp, x: View, axes: readonly number[], out: View): void {
  if (out.size === 0) return;
  let code = REDUCE[op];
  if (code === undefined) throw new Error(`wasm backend: unknown reduce op '${String(op)}'`);
  if (x.dtype === 'bool') code = code === 0 || code === 2 ? 2 : 3;
  if (x.size === 0) {
    fill(rt, out, identity(code, out.dtype));
    return;
  }
  const dt = DT[x.dtype];
  const eb = ELEMENT_BYTES[x.dtype];
  const m = rt.mark();
  try {
    intoContiguous(rt, out, (o) => {
      let xp: number;
      let g: { red: boolean; n: number }[];
      if (isContiguous(x)) {
        xp = rt.ptr(x);
        g = groups(x.shape, axes);
      } else {
        // Materialise with the reduced axes last: [kept..., reduced...].
        const kept = x.shape.map((_, d) => d).filter((d) => !axes.includes(d));
        const perm = [...kept, ...axes];
        const shape = perm.map((d) => x.shape[d]!);
        xp = rt.tmp(x.size * eb);
        copyNd(rt, x.dtype, shape, perm.map((d) => x.strides[d]!), contiguousStrides(shape), rt.ptr(x), xp);
        g = groups(shape, shape.map((_, i) => i).slice(kept.length));
      }
      if (!g.some((r) => r.red)) g.push({ red: true, n: 1 });
      const last = g[g.length - 1]!;
      if (g.length <= 2 && last.red) {
        const n = last.n, rows = g.length === 2 ? g[0]!.n : 1;
        const parts = rt.parts(rows * n * 0.3, rows, true);
        const cuts = split(rows, parts, 1);
        rt.run('reduce_rows_p', parts, (t, q) => {
          const I = rt.heap.i32;
          I[q] = code; I[q + 1] = dt; I[q + 2] = cuts[t]!; I[q + 3] = cuts[t + 1]!; I[q + 4] = n; I[q + 5] = xp; I[q + 6] = o;
        });
        return;
      }
      if (g.length <= 3 && !last.red && g[g.length - 2]!.red) {
        const A = g.length === 3 ? g[0]!.n : 1, R = g[g.length - 2]!.n, C = last.n;
        const parts = rt.parts(A * R * C * 0.3, A, true);
        const cuts = split(A, parts, 1);
        rt.run('reduce_mid_p', parts, (t, q) => {
          const I = rt.heap.i32;
          I[q] = code; I[q + 1] = dt; I[q + 2] = cuts[t]!; I[q + 3] = cuts[t + 1]!; I[q + 4] = R; I[q + 5] = C; I[q + 6] = xp; I[q + 7] = o;
        });
        return;
      }
      // Interleaved kept/reduced axes: permute the reduced ones last, then reduce rows.
      const kept = x.shape.map((_, d) => d).filter((d) => !axes.includes(d));
      const perm = [...kept, ...axes];
      const shape = perm.map((d) => x.shape[d]!);
      const cs = contiguousStrides(x.shape);
      const t = rt.tmp(x.size * eb);
      copyNd(rt, x.dtype, shape, perm.map((d) => cs[d]!), contiguousStrides(shape), xp, t);
      const n = sizeOf(axes.map((d) => x.shape[d]!));
      const rows = x.size / n;
      rt.run('reduce_rows_p', 1, (_t, q) => {
        const I = rt.heap.i32;
        I[q] = code; I[q + 1] = dt; I[q + 2] = 0; I[q + 3] = rows; I[q + 4] = n; I[q + 5] = t; I[q + 6] = o;
      });
    });
  } finally {
    rt.freeTemps(m);
  }
}

/** outer, n, inner of a view around one axis. */
function around(shape: readonly number[], axis: number): [number, number, number] {
  return [sizeOf(shape.slice(0, axis)), shape[axis]!, sizeOf(shape.slice(axis + 1))];
}

export function argReduce(rt: Runtime, op: ArgReduceOp, x: View, axis: number, out: View): void {
  if (out.size === 0) return;
  const [outer, n, inner] = around(x.shape, axis);
  if (n === 0) {
    fill(rt, out, 0);
    return;
  }
  const m = rt.mark();
  try {
    const xp = materialize(rt, x);
    const best = rt.tmp(inner * 8);
    intoContiguous(rt, out, (o) => {
      rt.ex['argreduce']!(op === 'argmax' ? 1 : 0, DT[x.dtype], outer, n, inner, xp, o, best);
    });
  } finally {
    rt.freeTemps(m);
  }
}

export function cumulative(rt: Runtime, op: ReduceOp, x: View, axis: number, exclusive: boolean, reverse: boolean, out: View): void {
  if (out.size === 0) return;
  const code = REDUCE[op];
  if (code === undefined) throw new Error(`wasm backend: unknown cumulative op '${String(op)}'`);
  if (x.dtype === 'bool' || out.dtype === 'bool') throw new Error('wasm backend: cumulative takes float32 or int32 (the core casts bool first)');
  const [outer, n, inner] = around(x.shape, axis);
  const m = rt.mark();
  try {
    const xp = materialize(rt, x);
    const acc = rt.tmp(inner * 8);
    intoContiguous(rt, out, (o) => {
      rt.ex['cumulative']!(code, DT[x.dtype], outer, n, inner, xp, o, exclusive ? 1 : 0, reverse ? 1 : 0, acc);
    });
  } finally {
    rt.freeTemps(m);
  }
}

/** Contiguous int32 copy of an index view (int32 expected; float32 indices are truncated). */
function indexPtr(rt: Runtime, indices: View): number {
  if (indices.dtype === 'int32') return materialize(rt, indices);
  const t = rt.tmp(indices.size * 4);
  const src = materialize(rt, indices);
  rt.ex['cast']!(CAST[`${indices.dtype}>int32`]!, src, t, indices.size);
  return t;
}

export function gather(rt: Runtime, x: View, indices: View, axis: number, out: View): void {
  if (out.size === 0) return;
  const [outer, len, inner] = around(x.shape, axis);
  const ni = indices.size;
  const sh = x.dtype === 'bool' ? 0 : 2;
  const m = rt.mark();
  try {
    const xp = materialize(rt, x);
    const ip = indexPtr(rt, indices);
    intoContiguous(rt, out, (o) => {
      const parts = rt.parts(out.size * 0.3, outer, true);
      const cuts = split(outer, parts, 1);
      rt.run('gather_p', parts, (t, q) => {
        const I = rt.heap.i32;
        I[q] = sh; I[q + 1] = cuts[t]!; I[q + 2] = cuts[t + 1]!; I[q + 3] = len; I[q + 4] = inner;
        I[q + 5] = xp; I[q + 6] = ip; I[q + 7] = ni; I[q + 8] = o;
      });
    });
  } finally {
    rt.freeTemps(m);
  }
}

export function scatterAdd(rt: Runtime, indices: View, updates: View, axis: number, out: View): void {
  if (updates.size === 0 || out.size === 0) return;
  const [outer, len, inner] = around(out.shape, axis);
  const m = rt.mark();
  try {
    const ip = indexPtr(rt, indices);
    const up = materialize(rt, updates);
    const run = (o: number): void => { rt.ex['scatter_add']!(DT[out.dtype], outer, len, inner, ip, indices.size, up, o); };
    if (isContiguous(out)) {
      run(rt.ptr(out));
      return;
    }
    // Strided out: gather it into a contiguous temporary, add, write back.
    const eb = ELEMENT_BYTES[out.dtype];
    const t = rt.tmp(out.size * eb);
    const cs = contiguousStrides(out.shape);
    copyNd(rt, out.dtype, out.shape, out.strides, cs, rt.ptr(out), t);
    run(t);
    copyNd(rt, out.dtype, out.shape, cs, out.strides, t, rt.ptr(out));
  } finally {
    rt.freeTemps(m);
  }
}

const TWO32 = 4294967296;

export function randomBits(rt: Runtime, key: readonly [number, number], counter: number, out: View): void {
  const n = out.size;
  if (n === 0) return;
  if (out.dtype !== 'int32' && out.dtype !== 'float32') throw new Error(`wasm backend: randomBits needs an int32 or float32 out, got ${out.dtype}`);
  const flt = out.dtype === 'float32' ? 1 : 0;
  const m = rt.mark();
  try {
    intoContiguous(rt, out, (o) => {
      const blocks = Math.ceil(n / 2);
      const parts = rt.parts(n * 3, Math.ceil(blocks / 64), true);
      const cuts = split(blocks, parts, 4);
      rt.run('threefry_p', parts, (t, q) => {
        const I = rt.heap.i32;
        const j0 = cuts[t]!, j1 = cuts[t + 1]!;
        const c = counter + j0;
        I[q] = key[0] | 0; I[q + 1] = key[1] | 0;
        I[q + 2] = (c % TWO32) | 0; I[q + 3] = (Math.floor(c / TWO32) % TWO32) | 0;
        I[q + 4] = o + 8 * j0; I[q + 5] = Math.min(n, 2 * j1) - 2 * j0; I[q + 6] = flt;
      });
    });
  } finally {
    rt.freeTemps(m);
  }
}
