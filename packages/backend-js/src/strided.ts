/**
 * Layout helpers for strided views: contiguity tests, dimension collapsing and a row
 * iterator that walks several same-shaped views together, one innermost row at a time.
 * @module
 */
import type { View } from '@tessera/core';
import { collapseAxes as collapse, isRowMajor, sizeOf as shapeSize } from '@tessera/core';
export { collapseAxes as collapse, sizeOf as shapeSize, stridesOf as contiguousStrides, type CollapsedAxes as Collapsed } from '@tessera/core';
// Shape helpers every backend needs live in @tessera/core; re-exported under the names the kernels use.

/** True if the view is row-major without gaps. @example isContiguous(view) */
export function isContiguous(v: View): boolean {
  return isRowMajor(v.shape, v.strides);
}

/**
 * True when every element of the view is the same memory cell (size 1, or stride 0 on every
 * axis longer than 1), i.e. a broadcast scalar.
 *
 * @example
 * isScalarLike({ shape: [4, 3], strides: [0, 0], ... });   // true
 */
export function isScalarLike(v: View): boolean {
  const shape = v.shape;
  const strides = v.strides;
  for (let d = 0; d < shape.length; d++) if (shape[d] !== 1 && strides[d] !== 0) return false;
  return true;
}

/**
 * Walks up to four same-shaped operands row by row. After construction `off[j]` is operand
 * j's offset of the first element of the current row, `n` the row length and `step[j]` the
 * stride along the row; `next()` moves to the following row and returns false after the last.
 *
 * @example
 * const it = new RowIter(out.shape, [a.strides, out.strides], [a.offset, out.offset]);
 * do {
 *   for (let i = 0, p = it.off[0], q = it.off[1]; i < it.n; i++, p += it.step[0], q += it.step[1]) o[q] = x[p];
 * } while (it.next());
 */
export class RowIter {
  readonly n: number;
  readonly step: number[];
  readonly off: number[];
  private readonly outer: number[];
  private readonly strides: number[][];
  private readonly idx: Int32Array;

  constructor(shape: readonly number[], strides: readonly (readonly number[])[], offsets: readonly number[]) {
    const c = collapse(shape, strides);
    const nd = c.shape.length;
    this.n = c.shape[nd - 1];
    this.step = c.strides.map((s) => s[nd - 1]);
    this.off = offsets.slice();
    this.outer = c.shape.slice(0, nd - 1);
    this.strides = c.strides;
    this.idx = new Int32Array(nd - 1);
  }

  /** Advances to the next row; false when every row was visited. */
  next(): boolean {
    const outer = this.outer;
    const idx = this.idx;
    const off = this.off;
    const strides = this.strides;
    const k = off.length;
    for (let d = outer.length - 1; d >= 0; d--) {
      if (++idx[d] < outer[d]) {
        for (let j = 0; j < k; j++) off[j] += strides[j][d];
        return true;
      }
      idx[d] = 0;
      const back = outer[d] - 1;
      for (let j = 0; j < k; j++) off[j] -= strides[j][d] * back;
    }
    return false;
  }
}

/**
 * Every element offset of a (small) index space, in row-major order.
 *
 * @example
 * offsetsOf([2, 2], [10, 1], 5);   // Int32Array [5, 6, 15, 16]
 */
export function offsetsOf(shape: readonly number[], strides: readonly number[], base: number): Int32Array {
  const n = shapeSize(shape);
  const out = new Int32Array(n);
  if (n === 0) return out;
  const nd = shape.length;
  const idx = new Int32Array(nd);
  let off = base;
  for (let i = 0; i < n; i++) {
    out[i] = off;
    for (let d = nd - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) {
        off += strides[d];
        break;
      }
      idx[d] = 0;
      off -= strides[d] * (shape[d] - 1);
    }
  }
  return out;
}
