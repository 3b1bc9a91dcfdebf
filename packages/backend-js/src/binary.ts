/**
 * Binary element-wise kernels (`binary`, `compare`). Each op has its own loop for the hot
 * layouts: all contiguous, one operand a broadcast scalar, and a strided row form that the
 * N-d row iterator drives for everything else.
 * @module
 */
import type { BinaryOp, CompareOp, View } from '@tessera/core';
import { dataOf, f32, i32, u8 } from './storage.js';
import { isContiguous, isScalarLike, RowIter } from './strided.js';
import { floatMod, intDiv, intMod } from './math.js';

type F = Float32Array;
type I = Int32Array;
type U = Uint8Array;
type A = Float32Array | Int32Array | Uint8Array;

/**
 * `out = a op b` element-wise. `a` and `b` have `out`'s shape (stride 0 on broadcast axes) and
 * dtype. Float `max`/`min` propagate NaN; int32 `div`/`mod` are floored with x/0 = x mod 0 = 0;
 * float `mod` is floored with x mod 0 = NaN; bool supports `and`/`or` (and `max`/`add` as or,
 * `min`/`mul` as and).
 *
 * @example
 * binary('add', a, b, out);   // a = [1, 2], b = [10, 20]  →  out = [11, 22]
 */
export function binary(op: BinaryOp, a: View, b: View, out: View): void {
  const n = out.size;
  if (n === 0) return;
  const dt = out.dtype;
  if (dt === 'float32') {
    const A = f32(a), B = f32(b), O = f32(out);
    if (isContiguous(out)) {
      const ac = isContiguous(a);
      if (ac && isContiguous(b)) return binF32Contig(op, A, a.offset, B, b.offset, O, out.offset, n);
      if (ac && isScalarLike(b)) return binF32ScalarB(op, A, a.offset, B[b.offset], O, out.offset, n);
      if (isScalarLike(a) && isContiguous(b)) return binF32ScalarA(op, A[a.offset], B, b.offset, O, out.offset, n);
    }
    const it = new RowIter(out.shape, [a.strides, b.strides, out.strides], [a.offset, b.offset, out.offset]);
    const [sa, sb, so] = it.step;
    do binF32Strided(op, A, it.off[0], sa, B, it.off[1], sb, O, it.off[2], so, it.n);
    while (it.next());
    return;
  }
  if (dt === 'int32') {
    const A = i32(a), B = i32(b), O = i32(out);
    if (isContiguous(out) && isContiguous(a) && isContiguous(b)) {
      return binI32Strided(op, A, a.offset, 1, B, b.offset, 1, O, out.offset, 1, n);
    }
    const it = new RowIter(out.shape, [a.strides, b.strides, out.strides], [a.offset, b.offset, out.offset]);
    const [sa, sb, so] = it.step;
    do binI32Strided(op, A, it.off[0], sa, B, it.off[1], sb, O, it.off[2], so, it.n);
    while (it.next());
    return;
  }
  const A = u8(a), B = u8(b), O = u8(out);
  const it = new RowIter(out.shape, [a.strides, b.strides, out.strides], [a.offset, b.offset, out.offset]);
  const [sa, sb, so] = it.step;
  do binBoolStrided(op, A, it.off[0], sa, B, it.off[1], sb, O, it.off[2], so, it.n);
  while (it.next());
}

function binF32Contig(op: BinaryOp, A: F, ao: number, B: F, bo: number, O: F, oo: number, n: number): void {
  switch (op) {
    case 'add': for (let i = 0; i < n; i++) O[oo + i] = A[ao + i] + B[bo + i]; return;
    case 'sub': for (let i = 0; i < n; i++) O[oo + i] = A[ao + i] - B[bo + i]; return;
    case 'mul': for (let i = 0; i < n; i++) O[oo + i] = A[ao + i] * B[bo + i]; return;
    case 'div': for (let i = 0; i < n; i++) O[oo + i] = A[ao + i] / B[bo + i]; return;
    case 'pow': for (let i = 0; i < n; i++) O[oo + i] = Math.pow(A[ao + i], B[bo + i]); return;
    case 'max': for (let i = 0; i < n; i++) O[oo + i] = Math.max(A[ao + i], B[bo + i]); return;
    case 'min': for (let i = 0; i < n; i++) O[oo + i] = Math.min(A[ao + i], B[bo + i]); return;
    case 'mod': for (let i = 0; i < n; i++) O[oo + i] = floatMod(A[ao + i], B[bo + i]); return;
    case 'atan2': for (let i = 0; i < n; i++) O[oo + i] = Math.atan2(A[ao + i], B[bo + i]); return;
    case 'and': for (let i = 0; i < n; i++) O[oo + i] = A[ao + i] !== 0 && B[bo + i] !== 0 ? 1 : 0; return;
    case 'or': for (let i = 0; i < n; i++) O[oo + i] = A[ao + i] !== 0 || B[bo + i] !== 0 ? 1 : 0; return;
  }
  unknown(op);
}

function binF32ScalarB(op: BinaryOp, A: F, ao: number, s: number, O: F, oo: number, n: number): void {
  switch (op) {
    case 'add': for (let i = 0; i < n; i++) O[oo + i] = A[ao + i] + s; return;
    case 'sub': for (let i = 0; i < n; i++) O[oo + i] = A[ao + i] - s; return;
    case 'mul': for (let i = 0; i < n; i++) O[oo + i] = A[ao + i] * s; return;
    case 'div': for (let i = 0; i < n; i++) O[oo + i] = A[ao + i] / s; return;
    case 'pow':
      if (s === 2) for (let i = 0; i < n; i++) { const v = A[ao + i]; O[oo + i] = v * v; }
      else for (let i = 0; i < n; i++) O[oo + i] = Math.pow(A[ao + i], s);
      return;
    case 'max': for (let i = 0; i < n; i++) O[oo + i] = Math.max(A[ao + i], s); return;
    case 'min': for (let i = 0; i < n; i++) O[oo + i] = Math.min(A[ao + i], s); return;
    case 'mod': for (let i = 0; i < n; i++) O[oo + i] = floatMod(A[ao + i], s); return;
    case 'atan2': for (let i = 0; i < n; i++) O[oo + i] = Math.atan2(A[ao + i], s); return;
    case 'and': for (let i = 0; i < n; i++) O[oo + i] = A[ao + i] !== 0 && s !== 0 ? 1 : 0; return;
    case 'or': for (let i = 0; i < n; i++) O[oo + i] = A[ao + i] !== 0 || s !== 0 ? 1 : 0; return;
  }
  unknown(op);
}

function binF32ScalarA(op: BinaryOp, s: number, B: F, bo: number, O: F, oo: number, n: number): void {
  switch (op) {
    case 'add': for (let i = 0; i < n; i++) O[oo + i] = s + B[bo + i]; return;
    case 'sub': for (let i = 0; i < n; i++) O[oo + i] = s - B[bo + i]; return;
    case 'mul': for (let i = 0; i < n; i++) O[oo + i] = s * B[bo + i]; return;
    case 'div': for (let i = 0; i < n; i++) O[oo + i] = s / B[bo + i]; return;
    case 'pow': for (let i = 0; i < n; i++) O[oo + i] = Math.pow(s, B[bo + i]); return;
    case 'max': for (let i = 0; i < n; i++) O[oo + i] = Math.max(s, B[bo + i]); return;
    case 'min': for (let i = 0; i < n; i++) O[oo + i] = Math.min(s, B[bo + i]); return;
    case 'mod': for (let i = 0; i < n; i++) O[oo + i] = floatMod(s, B[bo + i]); return;
    case 'atan2': for (let i = 0; i < n; i++) O[oo + i] = Math.atan2(s, B[bo + i]); return;
    case 'and': for (let i = 0; i < n; i++) O[oo + i] = s !== 0 && B[bo + i] !== 0 ? 1 : 0; return;
    case 'or': for (let i = 0; i < n; i++) O[oo + i] = s !== 0 || B[bo + i] !== 0 ? 1 : 0; return;
  }
  unknown(op);
}

function binF32Strided(
  op: BinaryOp, A: F, ia: number, sa: number, B: F, ib: number, sb: number, O: F, io: number, so: number, n: number,
): void {
  switch (op) {
    case 'add': for (let i = 0; i < n; i++, ia += sa, ib += sb, io += so) O[io] = A[ia] + B[ib]; return;
    case 'sub': for (let i = 0; i < n; i++, ia += sa, ib += sb, io += so) O[io] = A[ia] - B[ib]; return;
    case 'mul': for (let i = 0; i < n; i++, ia += sa, ib += sb, io += so) O[io] = A[ia] * B[ib]; return;
    case 'div': for (let i = 0; i < n; i++, ia += sa, ib += sb, io += so) O[io] = A[ia] / B[ib]; return;
    case 'pow': for (let i = 0; i < n; i++, ia += sa, ib += sb, io += so) O[io] = Math.pow(A[ia], B[ib]); return;
    case 'max': for (let i = 0; i < n; i++, ia += sa, ib += sb, io += so) O[io] = Math.max(A[ia], B[ib]); return;
    case 'min': for (let i = 0; i < n; i++, ia += sa, ib += sb, io += so) O[io] = Math.min(A[ia], B[ib]); return;
    case 'mod': for (let i = 0; i < n; i++, ia += sa, ib += sb, io += so) O[io] = floatMod(A[ia], B[ib]); return;
    case 'atan2': for (let i = 0; i < n; i++, ia += sa, ib += sb, io += so) O[io] = Math.atan2(A[ia], B[ib]); return;
    case 'and': for (let i = 0; i < n; i++, ia += sa, ib += sb, io += so) O[io] = A[ia] !== 0 && B[ib] !== 0 ? 1 : 0; return;
    case 'or': for (let i = 0; i < n; i++, ia += sa, ib += sb, io += so) O[io] = A[ia] !== 0 || B[ib] !== 0 ? 1 : 0; return;
  }
  unknown(op);
}

function binI32Strided(
  op: BinaryOp, A: I, ia: number, sa: number, B: I, ib: number, sb: number, O: I, io: number, so: number, n: number,
): void {
  switch (op) {
    case 'add': for (let i = 0; i < n; i++, ia += sa, ib += sb, io += so) O[io] = A[ia] + B[ib]; return;
    case 'sub': for (let i = 0; i < n; i++, ia += sa, ib += sb, io += so) O[io] = A[ia] - B[ib]; return;
    case 'mul': for (let i = 0; i < n; i++, ia += sa, ib += sb, io += so) O[io] = Math.imul(A[ia], B[ib]); return;
    case 'div': for (let i = 0; i < n; i++, ia += sa, ib += sb, io += so) O[io] = intDiv(A[ia], B[ib]); return;
    case 'pow': for (let i = 0; i < n; i++, ia += sa, ib += sb, io += so) O[io] = Math.pow(A[ia], B[ib]); return;
    case 'max': for (let i = 0; i < n; i++, ia += sa, ib += sb, io += so) O[io] = Math.max(A[ia], B[ib]); return;
    case 'min': for (let i = 0; i < n; i++, ia += sa, ib += sb, io += so) O[io] = Math.min(A[ia], B[ib]); return;
    case 'mod': for (let i = 0; i < n; i++, ia += sa, ib += sb, io += so) O[io] = intMod(A[ia], B[ib]); return;
    case 'atan2': for (let i = 0; i < n; i++, ia += sa, ib += sb, io += so) O[io] = Math.atan2(A[ia], B[ib]); return;
    case 'and': for (let i = 0; i < n; i++, ia += sa, ib += sb, io += so) O[io] = A[ia] !== 0 && B[ib] !== 0 ? 1 : 0; return;
    case 'or': for (let i = 0; i < n; i++, ia += sa, ib += sb, io += so) O[io] = A[ia] !== 0 || B[ib] !== 0 ? 1 : 0; return;
  }
  unknown(op);
}

function binBoolStrided(
  op: BinaryOp, A: U, ia: number, sa: number, B: U, ib: number, sb: number, O: U, io: number, so: number, n: number,
): void {
  switch (op) {
    case 'and': case 'min': case 'mul':
      for (let i = 0; i < n; i++, ia += sa, ib += sb, io += so) O[io] = A[ia] !== 0 && B[ib] !== 0 ? 1 : 0;
      return;
    case 'or': case 'max': case 'add':
      for (let i = 0; i < n; i++, ia += sa, ib += sb, io += so) O[io] = A[ia] !== 0 || B[ib] !== 0 ? 1 : 0;
      return;
    case 'sub':
      for (let i = 0; i < n; i++, ia += sa, ib += sb, io += so) O[io] = (A[ia] !== 0) !== (B[ib] !== 0) ? 1 : 0;
      return;
  }
  throw new Error(`js backend: binary op '${op}' is not defined on bool`);
}

function unknown(op: string): never {
  throw new Error(`js backend: unknown op '${op}'`);
}

/** The comparison that gives the same answer with its operands swapped. */
const FLIPPED: Readonly<Record<CompareOp, CompareOp>> = {
  equal: 'equal', notEqual: 'notEqual', less: 'greater', lessEqual: 'greaterEqual',
  greater: 'less', greaterEqual: 'lessEqual',
};

/**
 * `out = a op b` element-wise into a bool `out`; any comparison with NaN is false except
 * `notEqual`.
 *
 * @example
 * compare('less', a, b, out);   // a = [1, 5], b = [3, 3]  →  out = [1, 0]
 */
export function compare(op: CompareOp, a: View, b: View, out: View): void {
  const n = out.size;
  if (n === 0) return;
  const A = dataOf(a), B = dataOf(b), O = u8(out);
  if (isContiguous(out)) {
    const ac = isContiguous(a);
    if (ac && isContiguous(b)) return cmpContig(op, A, a.offset, B, b.offset, O, out.offset, n);
    if (ac && isScalarLike(b)) return cmpScalar(op, A, a.offset, B[b.offset], O, out.offset, n);
    if (isScalarLike(a) && isContiguous(b)) return cmpScalar(FLIPPED[op], B, b.offset, A[a.offset], O, out.offset, n);
  }
  const it = new RowIter(out.shape, [a.strides, b.strides, out.strides], [a.offset, b.offset, out.offset]);
  const [sa, sb, so] = it.step;
  do cmpStrided(op, A, it.off[0], sa, B, it.off[1], sb, O, it.off[2], so, it.n);
  while (it.next());
}

function cmpContig(op: CompareOp, A: A, ao: number, B: A, bo: number, O: U, oo: number, n: number): void {
  switch (op) {
    case 'equal': for (let i = 0; i < n; i++) O[oo + i] = A[ao + i] === B[bo + i] ? 1 : 0; return;
    case 'notEqual': for (let i = 0; i < n; i++) O[oo + i] = A[ao + i] !== B[bo + i] ? 1 : 0; return;
    case 'less': for (let i = 0; i < n; i++) O[oo + i] = A[ao + i] < B[bo + i] ? 1 : 0; return;
    case 'lessEqual': for (let i = 0; i < n; i++) O[oo + i] = A[ao + i] <= B[bo + i] ? 1 : 0; return;
    case 'greater': for (let i = 0; i < n; i++) O[oo + i] = A[ao + i] > B[bo + i] ? 1 : 0; return;
    case 'greaterEqual': for (let i = 0; i < n; i++) O[oo + i] = A[ao + i] >= B[bo + i] ? 1 : 0; return;
  }
  unknown(op);
}

function cmpScalar(op: CompareOp, A: A, ao: number, s: number, O: U, oo: number, n: number): void {
  switch (op) {
    case 'equal': for (let i = 0; i < n; i++) O[oo + i] = A[ao + i] === s ? 1 : 0; return;
    case 'notEqual': for (let i = 0; i < n; i++) O[oo + i] = A[ao + i] !== s ? 1 : 0; return;
    case 'less': for (let i = 0; i < n; i++) O[oo + i] = A[ao + i] < s ? 1 : 0; return;
    case 'lessEqual': for (let i = 0; i < n; i++) O[oo + i] = A[ao + i] <= s ? 1 : 0; return;
    case 'greater': for (let i = 0; i < n; i++) O[oo + i] = A[ao + i] > s ? 1 : 0; return;
    case 'greaterEqual': for (let i = 0; i < n; i++) O[oo + i] = A[ao + i] >= s ? 1 : 0; return;
  }
  unknown(op);
}

function cmpStrided(
  op: CompareOp, A: A, ia: number, sa: number, B: A, ib: number, sb: number, O: U, io: number, so: number, n: number,
): void {
  switch (op) {
    case 'equal': for (let i = 0; i < n; i++, ia += sa, ib += sb, io += so) O[io] = A[ia] === B[ib] ? 1 : 0; return;
    case 'notEqual': for (let i = 0; i < n; i++, ia += sa, ib += sb, io += so) O[io] = A[ia] !== B[ib] ? 1 : 0; return;
    case 'less': for (let i = 0; i < n; i++, ia += sa, ib += sb, io += so) O[io] = A[ia] < B[ib] ? 1 : 0; return;
    case 'lessEqual': for (let i = 0; i < n; i++, ia += sa, ib += sb, io += so) O[io] = A[ia] <= B[ib] ? 1 : 0; return;
    case 'greater': for (let i = 0; i < n; i++, ia += sa, ib += sb, io += so) O[io] = A[ia] > B[ib] ? 1 : 0; return;
    case 'greaterEqual': for (let i = 0; i < n; i++, ia += sa, ib += sb, io += so) O[io] = A[ia] >= B[ib] ? 1 : 0; return;
  }
  unknown(op);
}
