/**
 * Host-side layout helpers for strided views: contiguity, axis collapsing and the element
 * span a view touches (what a shader binding must cover).
 * @module
 */
import type { View } from '@tessera/core';
import { collapseAxes, isRowMajor, sizeOf, type CollapsedAxes as Collapsed } from '@tessera/core';
export { sizeOf, stridesOf as contiguousStrides, type CollapsedAxes as Collapsed } from '@tessera/core';
// Shape helpers every backend needs live in @tessera/core; re-exported under the names the kernels use.

/** True if the view is row-major without gaps. @example isContiguous(view) */
export function isContiguous(v: Pick<View, 'shape' | 'strides'>): boolean {
  return isRowMajor(v.shape, v.strides);
}

/** Merged axes (see core's collapseAxes); an empty result means a single element. @example collapse([2, 3], [[3, 1]]) // { shape: [6], strides: [[1]] } */
export function collapse(shape: readonly number[], strides: readonly (readonly number[])[]): Collapsed {
  return collapseAxes(shape, strides, 0);
}

/** Most axes a strided shader walks; views with more are collapsed or split first. */
export const MAX_RANK = 8;

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
