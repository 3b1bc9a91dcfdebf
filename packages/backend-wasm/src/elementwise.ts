/**
 * Element-wise kernels: fill, copy, cast, unary, binary, compare, where.
 * @module
 */
import type { BinaryOp, CompareOp, DType, UnaryOp, View } from '@tessera/core';
import { BINARY, CAST, COMPARE, UNARY } from './codes.js';
import { contiguousStrides, isContiguous } from './layout.js';
import { copyNd, intoContiguous, materialize, rowPlan, runRows } from './ops.js';
import { split, type Runtime } from './runtime.js';
import { ELEMENT_BYTES } from './storage.js';

/** Unary ops that cost a polynomial (for the thread-split estimate). */
const HEAVY = new Set<UnaryOp>(['exp', 'expm1', 'log', 'log1p', 'sin', 'cos', 'tanh', 'sigmoid', 'erf']);
const DT: Record<DType, number> = { float32: 0, int32: 1, bool: 2 };

const f32tmp = new Float32Array(1);
const i32tmp = new Int32Array(f32tmp.buffer);

/** float → int32: truncates toward zero, NaN → 0, saturates. */
export function toInt32(x: number): number {
  if (x !== x) return 0;
  if (x >= 2147483647) return 2147483647;
  if (x <= -2147483648) return -2147483648;
  return Math.trunc(x);
}

/** The 32-bit pattern (or byte) that `value` becomes as `dtype`. */
export function scalarBits(value: number, dtype: DType): number {
  if (dtype === 'float32') {
    f32tmp[0] = value;
    return i32tmp[0]!;
  }
  if (dtype === 'int32') return toInt32(value);
  return value !== 0 ? 1 : 0;
}

export function fill(rt: Runtime, out: View, value: number): void {
  const n = out.size;
  if (n === 0) return;
  const bits = scalarBits(value, out.dtype);
  if (isContiguous(out)) {
    const p = rt.ptr(out);
    if (out.dtype === 'bool') rt.heap.u8.fill(bits, p, p + n);
    else rt.heap.i32.fill(bits, p >> 2, (p >> 2) + n);
    return;
  }
  const m = rt.mark();
  try {
    const s = rt.tmp(4);
    rt.heap.i32[s >> 2] = bits;
    copyNd(rt, out.dtype, out.shape, out.shape.map(() => 0), out.strides, s, rt.ptr(out));
  } finally {
    rt.freeTemps(m);
  }
}

export function copy(rt: Runtime, x: View, out: View): void {
  if (out.size === 0) return;
  if (x.dtype !== out.dtype) {
    cast(rt, x, out);
    return;
  }
  const m = rt.mark();
  try {
    const eb = ELEMENT_BYTES[x.dtype];
    let src = rt.ptr(x);
    let ss: readonly number[] = x.strides;
    const dst = rt.ptr(out);
    if (x.buf === out.buf) {
      // Overlapping views of one buffer: go through a contiguous temporary.
      const t = rt.tmp(x.size * eb);
      copyNd(rt, x.dtype, x.shape, x.strides, contiguousStrides(x.shape), src, t);
      src = t;
      ss = contiguousStrides(x.shape);
    }
    copyNd(rt, x.dtype, out.shape, ss, out.strides, src, dst);
  } finally {
    rt.freeTemps(m);
  }
}

export function cast(rt: Runtime, x: View, out: View): void {
  const n = out.size;
  if (n === 0) return;
  if (x.dtype === out.dtype) {
    copy(rt, x, out);
    return;
  }
  const kind = CAST[`${x.dtype}>${out.dtype}`]!;
  const m = rt.mark();
  try {
    const xp = materialize(rt, x);
    const eo = ELEMENT_BYTES[out.dtype], ei = ELEMENT_BYTES[x.dtype];
    intoContiguous(rt, out, (op) => {
      const parts = rt.parts(n * 0.3, Math.ceil(n / 1024), true);
      const cuts = split(n, parts, 16);
      rt.run('cast_p', parts, (t, q) => {
        const I = rt.heap.i32;
        const a = cuts[t]!;
        I[q] = kind; I[q + 1] = xp + a * ei; I[q + 2] = op + a * eo; I[q + 3] = cuts[t + 1]! - a;
      });
    });
  } finally {
    rt.freeTemps(m);
  }
}

export function unary(rt: Runtime, op: UnaryOp, x: View, out: View): void {
  if (out.size === 0) return;
  const code = UNARY[op];
  if (code === undefined) throw new Error(`wasm backend: unknown unary op '${String(op)}'`);
  const dt = DT[out.dtype];
  const eb = ELEMENT_BYTES[out.dtype];
  const m = rt.mark();
  try {
    intoContiguous(rt, out, (o) => {
      const plan = rowPlan(rt, out.shape, [x]);
      runRows(rt, 'unary_p', plan, [eb], o, eb, HEAVY.has(op) ? 1.5 : 0.3, (q, r0, r1, C, p, po) => {
        const I = rt.heap.i32;
        I[q] = code; I[q + 1] = dt; I[q + 2] = r0; I[q + 3] = r1; I[q + 4] = C;
        I[q + 5] = p[0]!; I[q + 6] = plan.rs[0]!; I[q + 7] = plan.cs[0]!; I[q + 8] = po;
      });
    });
  } finally {
    rt.freeTemps(m);
  }
}

function binaryLike(rt: Runtime, fn: 'binary_p' | 'compare_p', code: number, dt: number, a: View, b: View, out: View, ns: number): void {
  const ei = ELEMENT_BYTES[a.dtype], eo = ELEMENT_BYTES[out.dtype];
  const m = rt.mark();
  try {
    intoContiguous(rt, out, (o) => {
      const plan = rowPlan(rt, out.shape, [a, b]);
      runRows(rt, fn, plan, [ei, ei], o, eo, ns, (q, r0, r1, C, p, po) => {
        const I = rt.heap.i32;
        I[q] = code; I[q + 1] = dt; I[q + 2] = r0; I[q + 3] = r1; I[q + 4] = C;
        I[q + 5] = p[0]!; I[q + 6] = plan.rs[0]!; I[q + 7] = plan.cs[0]!;
        I[q + 8] = p[1]!; I[q + 9] = plan.rs[1]!; I[q + 10] = plan.cs[1]!; I[q + 11] = po;
      });
    });
  } finally {
    rt.freeTemps(m);
  }
}

export function binary(rt: Runtime, op: BinaryOp, a: View, b: View, out: View): void {
  if (out.size === 0) return;
  const code = BINARY[op];
  if (code === undefined) throw new Error(`wasm backend: unknown binary op '${String(op)}'`);
  if (out.dtype === 'bool' && !['and', 'or', 'max', 'min', 'add', 'mul', 'sub'].includes(op)) {
    throw new Error(`wasm backend: binary op '${op}' is not defined on bool`);
  }
  const heavy = op === 'pow' || op === 'mod' || op === 'atan2' || (out.dtype === 'int32' && op === 'div');
  binaryLike(rt, 'binary_p', code, DT[out.dtype], a, b, out, heavy ? 10 : 0.4);
}

export function compare(rt: Runtime, op: CompareOp, a: View, b: View, out: View): void {
  if (out.size === 0) return;
  const code = COMPARE[op];
  if (code === undefined) throw new Error(`wasm backend: unknown compare op '${String(op)}'`);
  binaryLike(rt, 'compare_p', code, DT[a.dtype], a, b, out, 0.4);
}

export function where(rt: Runtime, cond: View, a: View, b: View, out: View): void {
  if (out.size === 0) return;
  const eo = ELEMENT_BYTES[out.dtype];
  const sh = out.dtype === 'bool' ? 0 : 2;
  const m = rt.mark();
  try {
    intoContiguous(rt, out, (o) => {
      const plan = rowPlan(rt, out.shape, [cond, a, b]);
      runRows(rt, 'where_p', plan, [1, eo, eo], o, eo, 0.5, (q, r0, r1, C, p, po) => {
        const I = rt.heap.i32;
        I[q] = sh; I[q + 1] = r0; I[q + 2] = r1; I[q + 3] = C;
        I[q + 4] = p[0]!; I[q + 5] = plan.rs[0]!; I[q + 6] = plan.cs[0]!;
        I[q + 7] = p[1]!; I[q + 8] = plan.rs[1]!; I[q + 9] = plan.cs[1]!;
        I[q + 10] = p[2]!; I[q + 11] = plan.rs[2]!; I[q + 12] = plan.cs[2]!; I[q + 13] = po;
      });
    });
  } finally {
    rt.freeTemps(m);
  }
}
