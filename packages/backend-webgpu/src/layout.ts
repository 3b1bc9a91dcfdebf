/**
 * Host-side layout helpers for strided views: contiguity, axis collapsing and the element
 * span a view touches (what a shader binding must cover).
 * @module
 */
import type { View } from '@tessera/core';

/** Most axes a strided shader walks; views with more are collapsed or split first. */
export const MAX_RANK = 8;

/**
 * True when the view's elements are row-major and gap-free from `offset` (size-1 axes may
 * have any stride).
 * @example isContiguous({ shape: [2, 3], strides: [3, 1], ... }); // true
 */
export function isContiguous(v: Pick<View, 'shape' | 'strides'>): boolean {
  let expect = 1;
  for (let d = v.shape.length - 1; d >= 0; d--) {
    const n = v.shape[d];
    if (n !== 1) {
      if (v.strides[d] !== expect) return false;
      expect *= n;
    }
  }
  return true;
}

/** Row-major strides of a shape. @example contiguousStrides([2, 3]); // [3, 1] */
export function contiguousStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    s[d] = acc;
    acc *= shape[d];
  }
  return s;
}

/** Product of a shape. @example sizeOf([2, 3]); // 6 */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** A shape with, per operand, its strides over that shape. */
export interface Collapsed {
  shape: number[];
  strides: number[][];
}

/**
 * Merges adjacent axes that every operand walks as one (outer stride = inner stride × inner
 * length) and drops size-1 axes. An empty result means a single element.
 * @example collapse([2, 3, 4], [[12, 4, 1], [0, 0, 1]]); // { shape: [6, 4], strides: [[4, 1], [0, 1]] }
 */
export function collapse(shape: readonly number[], strides: readonly (readonly number[])[]): Collapsed {
  const k = strides.length;
  const outShape: number[] = [];
  const outStrides: number[][] = [];
  for (let j = 0; j < k; j++) outStrides.push([]);
  for (let d = 0; d < shape.length; d++) {
    const n = shape[d];
    if (n === 1) continue;
    const last = outShape.length - 1;
    let merge = last >= 0;
    for (let j = 0; merge && j < k; j++) if (outStrides[j][last] !== strides[j][d] * n) merge = false;
    if (merge) {
      outShape[last] *= n;
      for (let j = 0; j < k; j++) outStrides[j][last] = strides[j][d];
    } else {
      outShape.push(n);
      for (let j = 0; j < k; j++) outStrides[j].push(strides[j][d]);
    }
  }
  return { shape: outShape, strides: outStrides };
}

/**
 * The lowest and highest element index a view touches (`[offset, offset]` for a scalar;
 * `null` for an empty view).
 * @example span({ shape: [2, 3], strides: [-3, 1], offset: 3, size: 6 }); // [0, 5]
 */
export function span(v: Pick<View, 'shape' | 'strides' | 'offset' | 'size'>): [number, number] | null {
  if (v.size === 0) return null;
  let lo = v.offset, hi = v.offset;
  for (let d = 0; d < v.shape.length; d++) {
    const e = (v.shape[d] - 1) * v.strides[d];
    if (e < 0) lo += e;
    else hi += e;
  }
  return [lo, hi];
}

/** A view with another shape/strides/offset over the same buffer. */
export function reshapeView(v: View, shape: readonly number[], strides: readonly number[], offset: number): View {
  return { buf: v.buf, dtype: v.dtype, shape, strides, offset, size: sizeOf(shape) };
}

/** The view restricted to `[start, start + len)` along `axis`. */
export function sliceView(v: View, axis: number, start: number, len: number): View {
  const shape = v.shape.slice();
  shape[axis] = len;
  return reshapeView(v, shape, v.strides, v.offset + start * v.strides[axis]);
}
