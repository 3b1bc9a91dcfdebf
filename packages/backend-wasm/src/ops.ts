/**
 * Building blocks the kernels share: strided copies, materialising views, contiguous-output
 * handling, the row plan of element-wise ops, and GEMM dispatch (with the thread split).
 * @module
 */
import type { DType, View } from '@tessera/core';
import { collapse, contiguousStrides, isContiguous, isScalarLike, offsetsOf, sizeOf } from './layout.js';
import { Runtime, split } from './runtime.js';
import { ELEMENT_BYTES } from './storage.js';

/** Copies a strided N-d block: `shape`, element strides on each side, byte addresses. */
export function copyNd(rt: Runtime, dtype: DType, shape: readonly number[], ss: readonly number[], ds: readonly number[], src: number, dst: number): void {
  const c = collapse(shape, [ss, ds]);
  const nd = c.shape.length;
  const total = sizeOf(c.shape);
  if (total === 0) return;
  const sh = Runtime.shift(dtype);
  const eb = ELEMENT_BYTES[dtype];
  const s = c.strides[0]!, d = c.strides[1]!;
  if (nd === 1 && s[0] === 1 && d[0] === 1) {
    rt.heap.u8.copyWithin(dst, src, src + total * eb);
    return;
  }
  const parts = rt.parts(total * 0.5, c.shape[0]!, true);
  const cuts = split(c.shape[0]!, parts, 1);
  rt.run('copy_nd', parts, (t, q) => {
    const I = rt.heap.i32;
    const a = cuts[t]!, b = cuts[t + 1]!;
    I[q] = sh;
    I[q + 1] = nd;
    I[q + 2] = src + a * s[0]! * eb;
    I[q + 3] = dst + a * d[0]! * eb;
    I[q + 4] = b - a;
    for (let k = 1; k < nd; k++) I[q + 4 + k] = c.shape[k]!;
    for (let k = 0; k < nd; k++) {
      I[q + 4 + nd + k] = s[k]!;
      I[q + 4 + 2 * nd + k] = d[k]!;
    }
  });
}

/** Address of a contiguous copy of `v` (a temporary), or of `v` itself when contiguous. */
export function materialize(rt: Runtime, v: View): number {
  const p = rt.ptr(v);
  if (isContiguous(v)) return p;
  const t = rt.tmp(v.size * ELEMENT_BYTES[v.dtype]);
  copyNd(rt, v.dtype, v.shape, v.strides, contiguousStrides(v.shape), p, t);
  return t;
}

/**
 * Runs `body` with the address of a contiguous `out` (a temporary, copied into `out`
 * afterwards, when `out` is strided).
 */
export function intoContiguous(rt: Runtime, out: View, body: (ptr: number) => void): void {
  if (isContiguous(out)) {
    body(rt.ptr(out));
    return;
  }
  const t = rt.tmp(out.size * ELEMENT_BYTES[out.dtype]);
  body(t);
  copyNd(rt, out.dtype, out.shape, contiguousStrides(out.shape), out.strides, t, rt.ptr(out));
}

/** R rows of C elements; per input: address, row stride, inner stride (0 or 1). */
export interface RowPlan {
  R: number;
  C: number;
  ptr: number[];
  rs: number[];
  cs: number[];
}

/**
 * Expresses inputs of `out`'s shape as R×C rows over a contiguous output: inner strides 0
 * or 1, any row stride. Inputs that do not fit are materialised (contiguous temporaries).
 */
export function rowPlan(rt: Runtime, shape: readonly number[], ins: readonly View[]): RowPlan {
  const ptr = ins.map((v) => rt.ptr(v));
  // Fast path: every input contiguous or a broadcast scalar.
  let simple = true;
  for (let j = 0; simple && j < ins.length; j++) simple = isContiguous(ins[j]!) || isScalarLike(ins[j]!);
  if (simple) {
    return { R: 1, C: sizeOf(shape), ptr, rs: ins.map(() => 0), cs: ins.map((v) => (isContiguous(v) && v.size > 1 ? 1 : 0)) };
  }
  const os = contiguousStrides(shape);
  const strides: (readonly number[])[] = ins.map((v) => v.strides);
  for (let attempt = 0; ; attempt++) {
    const c = collapse(shape, [os, ...strides]);
    const nd = c.shape.length;
    let ok = nd <= 2;
    for (let j = 0; ok && j < ins.length; j++) {
      const inner = c.strides[j + 1]![nd - 1]!;
      if (inner !== 0 && inner !== 1) ok = false;
    }
    if (ok || attempt > 0) {
      return {
        R: nd === 2 ? c.shape[0]! : 1,
        C: c.shape[nd - 1]!,
        ptr,
        rs: ins.map((_, j) => (nd === 2 ? c.strides[j + 1]![0]! : 0)),
        cs: ins.map((_, j) => c.strides[j + 1]![nd - 1]!),
      };
    }
    for (let j = 0; j < ins.length; j++) {
      const v = ins[j]!;
      if (isContiguous(v) || isScalarLike(v)) continue;
      ptr[j] = materialize(rt, v);
      strides[j] = os;
    }
  }
}

/**
 * Runs a row kernel over a plan, split across threads by rows, or by columns (16-aligned)
 * when there is a single row. `nsPerElem` estimates the cost for the split decision.
 * `write(q, r0, r1, ptrs)` fills one slice's parameter block.
 */
export function runRows(
  rt: Runtime, fn: 'unary_p' | 'binary_p' | 'compare_p' | 'where_p', plan: RowPlan, eb: number[], outPtr: number, outEb: number,
  nsPerElem: number, write: (q: number, r0: number, r1: number, C: number, ptrs: number[], out: number) => void,
): void {
  const { R, C } = plan;
  const parts = rt.parts(R * C * nsPerElem, R > 1 ? R : Math.ceil(C / 256), true);
  if (parts <= 1 || R > 1) {
    const cuts = split(R, parts, 1);
    rt.run(fn, parts, (t, q) => write(q, cuts[t]!, cuts[t + 1]!, C, plan.ptr, outPtr));
    return;
  }
  const cuts = split(C, parts, 16);
  rt.run(fn, parts, (t, q) => {
    const c0 = cuts[t]!;
    const ptrs = plan.ptr.map((p, j) => p + (plan.cs[j] === 0 ? 0 : c0 * eb[j]!));
    write(q, 0, 1, cuts[t + 1]! - c0, ptrs, outPtr + c0 * outEb);
  });
}

/** GEMM arguments (strides in elements, addresses in bytes). */
export interface Gemm {
  M: number; N: number; K: number;
  a: number; ars: number; acs: number;
  b: number; brs: number; bcs: number;
  c: number; ldc: number;
  accumulate: boolean;
  bias: number;
  act: number;
  batch: number; sa: number; sb: number; sc: number;
}

/**
 * GEMM arguments with the defaults (no accumulation, bias or activation, batch 1). Always
 * built by this function so every Gemm object has one hidden class.
 */
export function gemmArgs(M: number, N: number, K: number, a: number, ars: number, acs: number, b: number, brs: number, bcs: number, c: number, ldc: number): Gemm {
  return { M, N, K, a, ars, acs, b, brs, bcs, c, ldc, accumulate: false, bias: 0, act: 0, batch: 1, sa: 0, sb: 0, sc: 0 };
}

/** Runs one (batched) GEMM, split across threads by batch, rows (×4) or columns (×8). */
export function gemm(rt: Runtime, g: Gemm): void {
  const { M, N, K, batch } = g;
  if (M === 0 || N === 0 || batch === 0) return;
  const flops = 2 * M * N * Math.max(K, 1) * batch;
  // Splitting a GEMM costs a pool hand-off plus packing B twice; measured on 2 cores, it only
  // pays from about 256³ on (the MLP's 32×784×128 steps ran faster on one thread), so GEMMs
  // are weighed at a tenth of their estimated time against the pool's threshold.
  const ns = flops / 500;
  let mode = 0; // 0: batch, 1: rows, 2: cols
  let parts: number;
  if (batch >= rt.threads) parts = rt.parts(ns, batch);
  else if (M >= N) { mode = 1; parts = rt.parts(ns, Math.floor(M / 4)); }
  else { mode = 2; parts = rt.parts(ns, Math.floor(N / 8)); }
  const cuts = split(mode === 0 ? batch : mode === 1 ? M : N, parts, mode === 0 ? 1 : mode === 1 ? 4 : 8);
  rt.run('sgemm_p', parts, (t, q) => {
    const I = rt.heap.i32;
    const lo = cuts[t]!, hi = cuts[t + 1]!;
    let m = M, n = N, nb = batch, a = g.a, b = g.b, c = g.c, bias = g.bias;
    if (mode === 0) {
      nb = hi - lo;
      a += 4 * lo * g.sa; b += 4 * lo * g.sb; c += 4 * lo * g.sc;
    } else if (mode === 1) {
      m = hi - lo;
      a += 4 * lo * g.ars; c += 4 * lo * g.ldc;
    } else {
      n = hi - lo;
      b += 4 * lo * g.bcs; c += 4 * lo;
      if (bias !== 0) bias += 4 * lo;
    }
    I[q] = m; I[q + 1] = n; I[q + 2] = K;
    I[q + 3] = a; I[q + 4] = g.ars; I[q + 5] = g.acs;
    I[q + 6] = b; I[q + 7] = g.brs; I[q + 8] = g.bcs;
    I[q + 9] = c; I[q + 10] = g.ldc; I[q + 11] = g.accumulate ? 1 : 0;
    I[q + 12] = bias; I[q + 13] = g.act; I[q + 14] = rt.scratch[t]!;
    I[q + 15] = nb; I[q + 16] = g.sa; I[q + 17] = g.sb; I[q + 18] = g.sc;
  });
}

/**
 * Batched matmul of views (any strides) into a contiguous `c` address, with an optional
 * bias address and activation code.
 */
export function matmulInto(rt: Runtime, a: View, b: View, outShape: readonly number[], c: number, bias: number, act: number): void {
  const r = outShape.length;
  const m = outShape[r - 2]!, n = outShape[r - 1]!, k = a.shape[r - 1]!;
  const ap = rt.ptr(a), bp = rt.ptr(b);
  const ars = a.strides[r - 2]!, acs = a.strides[r - 1]!, brs = b.strides[r - 2]!, bcs = b.strides[r - 1]!;
  const batchShape = outShape.slice(0, r - 2);
  const batch = sizeOf(batchShape);
  const g = gemmArgs(m, n, k, ap, ars, acs, bp, brs, bcs, c, n);
  g.bias = bias;
  g.act = act;
  if (batch === 1) {
    gemm(rt, g);
    return;
  }
  let bShared = true;
  for (let d = 0; d < r - 2; d++) if (batchShape[d] !== 1 && b.strides[d] !== 0) bShared = false;
  if (bShared) {
    const folded = collapse(outShape.slice(0, r - 1), [a.strides.slice(0, r - 1)]);
    if (folded.shape.length === 1) {
      g.M = batch * m;
      g.ars = folded.strides[0]![0]!;
      gemm(rt, g);
      return;
    }
  }
  const cs = contiguousStrides(outShape).slice(0, r - 2);
  const bc = collapse(batchShape, [a.strides.slice(0, r - 2), b.strides.slice(0, r - 2), cs]);
  const nd = bc.shape.length;
  g.batch = bc.shape[nd - 1]!;
  g.sa = bc.strides[0]![nd - 1]!;
  g.sb = bc.strides[1]![nd - 1]!;
  g.sc = bc.strides[2]![nd - 1]!;
  const outer = bc.shape.slice(0, nd - 1);
  const oa = offsetsOf(outer, bc.strides[0]!.slice(0, nd - 1), 0);
  const ob = offsetsOf(outer, bc.strides[1]!.slice(0, nd - 1), 0);
  const oc = offsetsOf(outer, bc.strides[2]!.slice(0, nd - 1), 0);
  for (let i = 0; i < oa.length; i++) {
    g.a = ap + 4 * oa[i]!;
    g.b = bp + 4 * ob[i]!;
    g.c = c + 4 * oc[i]!;
    gemm(rt, g);
  }
}
