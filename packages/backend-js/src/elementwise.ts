/**
 * Layout-only and selection kernels: `fill`, `copy`, `cast`, `where`, plus helpers that turn
 * any view into a contiguous host array.
 * @module
 */
import type { DataArray, DType, View } from '@tessera/core';
import { dataOf, newArray, u8 } from './storage.js';
import { isContiguous, RowIter } from './strided.js';
import { toInt32 } from './math.js';

/**
 * The value `value` becomes when stored as `dtype` (float32 rounding happens on store).
 *
 * @example
 * castScalar(2.9, 'int32');   // 2
 * castScalar(NaN, 'bool');    // 1
 */
export function castScalar(value: number, dtype: DType): number {
  return dtype === 'float32' ? value : dtype === 'int32' ? toInt32(value) : value !== 0 ? 1 : 0;
}

/**
 * Sets every element of `out` (any strides) to `value` cast to `out.dtype`.
 *
 * @example
 * fill(out, 7);   // out = [7, 7, 7]
 */
export function fill(out: View, value: number): void {
  if (out.size === 0) return;
  const O = dataOf(out);
  const v = castScalar(value, out.dtype);
  if (isContiguous(out)) {
    O.fill(v, out.offset, out.offset + out.size);
    return;
  }
  const it = new RowIter(out.shape, [out.strides], [out.offset]);
  const s = it.step[0];
  do for (let i = 0, q = it.off[0]; i < it.n; i++, q += s) O[q] = v;
  while (it.next());
}

/**
 * Copies `x` into `out` (same shape; either may be strided). Overlapping views of one buffer
 * are handled by copying through a temporary.
 *
 * @example
 * copy(transposedView, out);   // out holds the transpose, contiguous
 */
export function copy(x: View, out: View): void {
  if (out.size === 0) return;
  if (x.dtype !== out.dtype) {
    cast(x, out);
    return;
  }
  const O = dataOf(out);
  let X = dataOf(x);
  let xv: View = x;
  if (isContiguous(out) && isContiguous(x)) {
    O.set(X.subarray(x.offset, x.offset + x.size), out.offset);
    return;
  }
  if (x.buf === out.buf) {
    X = materialize(x);
    xv = { ...x, strides: contiguousOf(x.shape), offset: 0 };
  }
  const it = new RowIter(out.shape, [xv.strides, out.strides], [xv.offset, out.offset]);
  const [sx, so] = it.step;
  do for (let i = 0, p = it.off[0], q = it.off[1]; i < it.n; i++, p += sx, q += so) O[q] = X[p];
  while (it.next());
}

function contiguousOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    s[d] = acc;
    acc *= shape[d];
  }
  return s;
}

/**
 * Converts `x` into `out`'s dtype: float→int32 truncates toward zero (NaN → 0, saturating
 * at the int32 range), anything→bool is `x != 0`, the rest keep the value (rounded to float32).
 *
 * @example
 * cast(x, out);   // x float32 [1.7, -1.7, NaN], out int32 → [1, -1, 0]
 */
export function cast(x: View, out: View): void {
  const n = out.size;
  if (n === 0) return;
  const X = dataOf(x), O = dataOf(out);
  const from = x.dtype, to = out.dtype;
  if (from === to) {
    copy(x, out);
    return;
  }
  const mode = to === 'bool' ? 2 : to === 'int32' && from === 'float32' ? 1 : 0;
  if (mode === 0 && isContiguous(x) && isContiguous(out)) {
    O.set(X.subarray(x.offset, x.offset + n), out.offset);
    return;
  }
  const it = new RowIter(out.shape, [x.strides, out.strides], [x.offset, out.offset]);
  const [sx, so] = it.step;
  do {
    let p = it.off[0], q = it.off[1];
    const m = it.n;
    if (mode === 2) for (let i = 0; i < m; i++, p += sx, q += so) O[q] = X[p] !== 0 ? 1 : 0;
    else if (mode === 1) for (let i = 0; i < m; i++, p += sx, q += so) O[q] = toInt32(X[p]);
    else for (let i = 0; i < m; i++, p += sx, q += so) O[q] = X[p];
  } while (it.next());
}

/**
 * `out = cond ? a : b` element-wise; `cond` is bool, `a`, `b`, `out` share a dtype.
 *
 * @example
 * where(cond, a, b, out);   // cond = [1, 0], a = [1, 2], b = [9, 9]  →  out = [1, 9]
 */
export function where(cond: View, a: View, b: View, out: View): void {
  const n = out.size;
  if (n === 0) return;
  const C = u8(cond), A = dataOf(a), B = dataOf(b), O = dataOf(out);
  if (isContiguous(cond) && isContiguous(a) && isContiguous(b) && isContiguous(out)) {
    const co = cond.offset, ao = a.offset, bo = b.offset, oo = out.offset;
    for (let i = 0; i < n; i++) O[oo + i] = C[co + i] !== 0 ? A[ao + i] : B[bo + i];
    return;
  }
  const it = new RowIter(out.shape, [cond.strides, a.strides, b.strides, out.strides], [cond.offset, a.offset, b.offset, out.offset]);
  const [sc, sa, sb, so] = it.step;
  do {
    let c = it.off[0], p = it.off[1], r = it.off[2], q = it.off[3];
    for (let i = 0; i < it.n; i++, c += sc, p += sa, r += sb, q += so) O[q] = C[c] !== 0 ? A[p] : B[r];
  } while (it.next());
}

/**
 * The elements of `v` as a contiguous array of its dtype: a subarray when `v` is already
 * contiguous (do not write to it), otherwise a fresh copy.
 *
 * @example
 * const xs = materialize(transposedView);   // row-major copy
 */
export function materialize(v: View): DataArray {
  const X = dataOf(v);
  if (isContiguous(v)) return X.subarray(v.offset, v.offset + v.size);
  return gatherInto(v, X, newArray(v.dtype, v.size));
}

/**
 * A fresh contiguous array holding `v`'s elements converted to `dtype` (see {@link cast}).
 *
 * @example
 * castArray(intView, 'float32');   // Float32Array
 */
export function castArray(v: View, dtype: DType): DataArray {
  const X = dataOf(v);
  const out = newArray(dtype, v.size);
  if (v.size === 0) return out;
  if (dtype === v.dtype) return gatherInto(v, X, out);
  const toBool = dtype === 'bool', toInt = dtype === 'int32' && v.dtype === 'float32';
  const it = new RowIter(v.shape, [v.strides], [v.offset]);
  const s = it.step[0];
  let k = 0;
  do for (let i = 0, p = it.off[0]; i < it.n; i++, p += s, k++) {
    const x = X[p];
    out[k] = toBool ? (x !== 0 ? 1 : 0) : toInt ? toInt32(x) : x;
  }
  while (it.next());
  return out;
}

function gatherInto(v: View, X: DataArray, out: DataArray): DataArray {
  if (v.size === 0) return out;
  const it = new RowIter(v.shape, [v.strides], [v.offset]);
  const s = it.step[0];
  let k = 0;
  do for (let i = 0, p = it.off[0]; i < it.n; i++, p += s) out[k++] = X[p];
  while (it.next());
  return out;
}
