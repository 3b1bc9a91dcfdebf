/**
 * Layout helpers for strided views: contiguity tests and axis collapsing.
 * Unlike backend-js and backend-webgpu, this package keeps its own copies of the
 * core's shape helpers: its dist imports nothing from @tessera/core at run time, so the built
 * module loads in a browser page without a bundler (see scripts/browser-smoke.mjs).
 * @module
 */
import type { View } from '@tessera/core';

/**
 * True when the view is row-major and gap-free from its offset (size-1 axes may have any stride).
 * @example isContiguous({ shape: [2, 3], strides: [3, 1], ... }) // true
 */
export function isContiguous(v: View): boolean {
  const shape = v.shape;
  const strides = v.strides;
  let expect = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    const n = shape[d]!;
    if (n !== 1) {
      if (strides[d] !== expect) return false;
      expect *= n;
    }
  }
  return true;
}

/**
 * True when every element is one memory cell (a broadcast scalar).
 * @example isScalarLike({ shape: [4, 3], strides: [0, 0], ... }) // true
 */
export function isScalarLike(v: View): boolean {
  for (let d = 0; d < v.shape.length; d++) if (v.shape[d] !== 1 && v.strides[d] !== 0) return false;
  return true;
}

/** Row-major strides. @example contiguousStrides([2, 3, 4]) // [12, 4, 1] */
export function contiguousStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    s[d] = acc;
    acc *= shape[d]!;
  }
  return s;
}

/** Product of a shape. @example sizeOf([2, 3]) // 6 */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (let d = 0; d < shape.length; d++) n *= shape[d]!;
  return n;
}

/** A shape and, per operand, its strides over that shape. */
export interface Collapsed {
  shape: number[];
  strides: number[][];
}

/**
 * Merges adjacent axes every operand walks as one, and drops size-1 axes. At least one axis
 * remains.
 * @example collapse([2, 3, 4], [[12, 4, 1], [0, 0, 1]]) // { shape: [6, 4], strides: [[4, 1], [0, 1]] }
 */
export function collapse(shape: readonly number[], strides: readonly (readonly number[])[]): Collapsed {
  const k = strides.length;
  const outShape: number[] = [];
  const outStrides: number[][] = [];
  for (let j = 0; j < k; j++) outStrides.push([]);
  for (let d = 0; d < shape.length; d++) {
    const n = shape[d]!;
    if (n === 1) continue;
    const last = outShape.length - 1;
    let merge = last >= 0;
    for (let j = 0; merge && j < k; j++) if (outStrides[j]![last] !== strides[j]![d]! * n) merge = false;
    if (merge) {
      outShape[last]! *= n;
      for (let j = 0; j < k; j++) outStrides[j]![last] = strides[j]![d]!;
    } else {
      outShape.push(n);
      for (let j = 0; j < k; j++) outStrides[j]!.push(strides[j]![d]!);
    }
  }
  if (outShape.length === 0) {
    outShape.push(1);
    for (let j = 0; j < k; j++) outStrides[j]!.push(0);
  }
  return { shape: outShape, strides: outStrides };
}

/**
 * Element offsets (relative to `base`) of every index of a small index space, row-major.
 * @example offsetsOf([2, 2], [10, 1], 5) // [5, 6, 15, 16]
 */
export function offsetsOf(shape: readonly number[], strides: readonly number[], base: number): number[] {
  const n = sizeOf(shape);
  const out = new Array<number>(n);
  if (n === 0) return out;
  const nd = shape.length;
  const idx = new Array<number>(nd).fill(0);
  let off = base;
  for (let i = 0; i < n; i++) {
    out[i] = off;
    for (let d = nd - 1; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) {
        off += strides[d]!;
        break;
      }
      idx[d] = 0;
      off -= strides[d]! * (shape[d]! - 1);
    }
  }
  return out;
}
