/**
 * Host tensors in float64 for the references: a dtype, a shape and row-major values in a
 * `Float64Array` (int32 as exact integers, bool as 0/1). Plain loops, written for clarity,
 * not speed; nothing here is shared with any backend.
 * @module
 */
import type { DType } from '@tessera/core';

/** A float64 host tensor. */
export interface HostTensor {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: Float64Array;
}

/**
 * Number of elements of a shape.
 * @example
 * sizeOf([2, 3]); // 6
 */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * Row-major strides in elements.
 * @example
 * stridesOf([2, 3, 4]); // [12, 4, 1]
 */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/**
 * Makes a host tensor; `values` are taken as given (round them yourself).
 * @example
 * const t = host('float32', [2], [1, 2]);
 */
export function host(dtype: DType, shape: readonly number[], values: ArrayLike<number>): HostTensor {
  const data = Float64Array.from(values);
  if (data.length !== sizeOf(shape)) {
    throw new Error(`host: ${data.length} values for shape [${shape.join(',')}]`);
  }
  return { dtype, shape: [...shape], data };
}

/**
 * Rounds a value to what a dtype stores: float32 via `Math.fround`, int32 wraps like
 * two's complement after truncation (NaN to 0), bool is 0/1.
 * @example
 * toDType(1.1, 'int32'); // 1
 */
export function toDType(v: number, dtype: DType): number {
  if (dtype === 'float32') return Math.fround(v);
  if (dtype === 'int32') return Number.isFinite(v) ? Math.trunc(v) | 0 : 0;
  return v !== 0 && !Number.isNaN(v) ? 1 : 0;
}

/**
 * Multi-index of a flat row-major index.
 * @example
 * unravel(5, [2, 3]); // [1, 2]
 */
export function unravel(flat: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let i = shape.length - 1; i >= 0; i--) {
    const d = shape[i];
    idx[i] = d === 0 ? 0 : flat % d;
    flat = d === 0 ? 0 : Math.floor(flat / d);
  }
  return idx;
}

/**
 * Normalises a possibly negative axis for a rank.
 * @example
 * normAxis(-1, 3); // 2
 */
export function normAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

/**
 * NumPy broadcast of two shapes, or null when they do not broadcast.
 * @example
 * broadcastShapes([3, 1], [4]); // [3, 4]
 */
export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] | null {
  const r = Math.max(a.length, b.length);
  const out = new Array<number>(r);
  for (let i = 0; i < r; i++) {
    const x = a[a.length - r + i] ?? 1;
    const y = b[b.length - r + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return null;
    out[i] = x === 1 ? y : x;
  }
  return out;
}

/**
 * Broadcasts a host tensor to a shape (which must be compatible).
 * @example
 * broadcastTo(host('float32', [1], [7]), [3]).data; // [7, 7, 7]
 */
export function broadcastTo(t: HostTensor, shape: readonly number[]): HostTensor {
  const r = shape.length;
  const off = r - t.shape.length;
  const inStrides = stridesOf(t.shape);
  const n = sizeOf(shape);
  const data = new Float64Array(n);
  for (let f = 0; f < n; f++) {
    const idx = unravel(f, shape);
    let src = 0;
    for (let i = 0; i < t.shape.length; i++) {
      if (t.shape[i] !== 1) src += idx[i + off] * inStrides[i];
    }
    data[f] = t.data[src];
  }
  return { dtype: t.dtype, shape: [...shape], data };
}

/**
 * Applies `f` element-wise.
 * @example
 * map1(host('float32', [2], [1, 4]), Math.sqrt).data; // [1, 2]
 */
export function map1(t: HostTensor, f: (x: number) => number, dtype: DType = t.dtype): HostTensor {
  return { dtype, shape: [...t.shape], data: t.data.map(f) };
}

/**
 * Applies `f` to broadcast pairs.
 * @example
 * map2(host('float32', [2, 1], [1, 2]), host('float32', [3], [0, 1, 2]), (a, b) => a + b).shape; // [2, 3]
 */
export function map2(
  a: HostTensor, b: HostTensor, f: (x: number, y: number) => number, dtype: DType = a.dtype,
): HostTensor {
  const shape = broadcastShapes(a.shape, b.shape);
  if (!shape) throw new Error(`map2: [${a.shape}] and [${b.shape}] do not broadcast`);
  const x = broadcastTo(a, shape).data;
  const y = broadcastTo(b, shape).data;
  const data = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) data[i] = f(x[i], y[i]);
  return { dtype, shape, data };
}

/**
 * Element at a multi-index.
 * @example
 * at(host('float32', [2, 2], [1, 2, 3, 4]), [1, 0]); // 3
 */
export function at(t: HostTensor, idx: readonly number[]): number {
  const s = stridesOf(t.shape);
  let f = 0;
  for (let i = 0; i < idx.length; i++) f += idx[i] * s[i];
  return t.data[f];
}

/**
 * Permutes axes: `out.shape[i] = t.shape[perm[i]]`.
 * @example
 * transpose(host('float32', [2, 3], [0, 1, 2, 3, 4, 5]), [1, 0]).data; // [0, 3, 1, 4, 2, 5]
 */
export function transpose(t: HostTensor, perm: readonly number[]): HostTensor {
  const shape = perm.map((p) => t.shape[p]);
  const inStrides = stridesOf(t.shape);
  const n = sizeOf(shape);
  const data = new Float64Array(n);
  for (let f = 0; f < n; f++) {
    const idx = unravel(f, shape);
    let src = 0;
    for (let i = 0; i < perm.length; i++) src += idx[i] * inStrides[perm[i]];
    data[f] = t.data[src];
  }
  return { dtype: t.dtype, shape, data };
}

/**
 * Inverse of a permutation.
 * @example
 * invertPerm([2, 0, 1]); // [1, 2, 0]
 */
export function invertPerm(perm: readonly number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return inv;
}

/**
 * Reverses the listed axes.
 * @example
 * flip(host('float32', [3], [1, 2, 3]), [0]).data; // [3, 2, 1]
 */
export function flip(t: HostTensor, axes: readonly number[]): HostTensor {
  const n = t.data.length;
  const data = new Float64Array(n);
  const strides = stridesOf(t.shape);
  const ax = axes.map((a) => normAxis(a, t.shape.length));
  for (let f = 0; f < n; f++) {
    const idx = unravel(f, t.shape);
    let src = 0;
    for (let i = 0; i < idx.length; i++) {
      src += (ax.includes(i) ? t.shape[i] - 1 - idx[i] : idx[i]) * strides[i];
    }
    data[f] = t.data[src];
  }
  return { dtype: t.dtype, shape: [...t.shape], data };
}

/**
 * Applies `f` to every 1-D fibre along `axis`; `f` returns the new fibre (any length).
 * @example
 * alongAxis(host('float32', [2, 2], [1, 2, 3, 4]), 1, (v) => [v[0] + v[1]]).data; // [3, 7]
 */
export function alongAxis(
  t: HostTensor, axis: number, f: (v: number[]) => number[], dtype: DType = t.dtype,
): HostTensor {
  const ax = normAxis(axis, t.shape.length);
  const outer = sizeOf(t.shape.slice(0, ax));
  const len = t.shape[ax];
  const inner = sizeOf(t.shape.slice(ax + 1));
  let outLen = -1;
  let data = new Float64Array(0);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const v = new Array<number>(len);
      for (let k = 0; k < len; k++) v[k] = t.data[(o * len + k) * inner + i];
      const r = f(v);
      if (outLen < 0) {
        outLen = r.length;
        data = new Float64Array(outer * outLen * inner);
      }
      for (let k = 0; k < outLen; k++) data[(o * outLen + k) * inner + i] = r[k];
    }
  }
  if (outLen < 0) outLen = outer * inner === 0 ? f(new Array<number>(len).fill(0)).length : 0;
  const shape = [...t.shape];
  shape[ax] = outLen;
  return { dtype, shape, data: data.length === sizeOf(shape) ? data : new Float64Array(sizeOf(shape)) };
}

/**
 * Reduces over `axes` (any order, negatives allowed; `undefined` = all) with `f` over the
 * collected values of each output element.
 * @example
 * reduceAxes(host('float32', [2, 2], [1, 2, 3, 4]), [0], false, (v) => v[0] + v[1]).data; // [4, 6]
 */
export function reduceAxes(
  t: HostTensor,
  axes: readonly number[] | undefined,
  keepDims: boolean,
  f: (v: number[]) => number,
  dtype: DType = t.dtype,
): HostTensor {
  const r = t.shape.length;
  const ax = axes === undefined ? t.shape.map((_, i) => i) : axes.map((a) => normAxis(a, r));
  const keptAxes = t.shape.map((_, i) => i).filter((i) => !ax.includes(i));
  const outShapeKept = keptAxes.map((i) => t.shape[i]);
  const redShape = ax.map((i) => t.shape[i]);
  const nOut = sizeOf(outShapeKept);
  const nRed = sizeOf(redShape);
  const strides = stridesOf(t.shape);
  const data = new Float64Array(nOut);
  const v = new Array<number>(nRed);
  for (let o = 0; o < nOut; o++) {
    const oi = unravel(o, outShapeKept);
    let base = 0;
    keptAxes.forEach((a, i) => (base += oi[i] * strides[a]));
    for (let k = 0; k < nRed; k++) {
      const ri = unravel(k, redShape);
      let src = base;
      ax.forEach((a, i) => (src += ri[i] * strides[a]));
      v[k] = t.data[src];
    }
    data[o] = f(v);
  }
  const shape = keepDims ? t.shape.map((d, i) => (ax.includes(i) ? 1 : d)) : outShapeKept;
  return { dtype, shape, data };
}

/**
 * Copies `src` into a sub-box of `dst` starting at `begin` with per-axis `steps`.
 * @example
 * const big = host('float32', [4], [0, 0, 0, 0]);
 * place(big, host('float32', [2], [7, 8]), [1], [2]); // big.data = [0, 7, 0, 8]
 */
export function place(
  dst: HostTensor, src: HostTensor, begin: readonly number[], steps?: readonly number[],
): void {
  const ds = stridesOf(dst.shape);
  for (let f = 0; f < src.data.length; f++) {
    const idx = unravel(f, src.shape);
    let d = 0;
    for (let i = 0; i < idx.length; i++) d += (begin[i] + idx[i] * (steps?.[i] ?? 1)) * ds[i];
    dst.data[d] = src.data[f];
  }
}

/**
 * Extracts a strided box: `out[i] = t[begin + i*step]` with the given output shape.
 * @example
 * extract(host('float32', [4], [0, 1, 2, 3]), [1], [2], [2]).data; // [1, 3]
 */
export function extract(
  t: HostTensor, begin: readonly number[], shape: readonly number[], steps?: readonly number[],
): HostTensor {
  const ts = stridesOf(t.shape);
  const n = sizeOf(shape);
  const data = new Float64Array(n);
  for (let f = 0; f < n; f++) {
    const idx = unravel(f, shape);
    let s = 0;
    for (let i = 0; i < idx.length; i++) s += (begin[i] + idx[i] * (steps?.[i] ?? 1)) * ts[i];
    data[f] = t.data[s];
  }
  return { dtype: t.dtype, shape: [...shape], data };
}
