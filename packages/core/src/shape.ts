/**
 * Shape arithmetic: sizes, contiguous strides, broadcasting and axis normalisation.
 * @module
 */
import { ArgumentError, ShapeError } from './errors.js';

/** Formats a shape as `[2,3]` for error messages. @example fmtShape([2, 3]) // '[2,3]' */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

/**
 * Number of elements of a shape (1 for a scalar).
 * @example sizeOf([2, 3]) // 6
 */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (let i = 0; i < shape.length; i++) n *= shape[i]!;
  return n;
}

/**
 * Row-major strides in elements.
 * @example stridesOf([2, 3, 4]) // [12, 4, 1]
 */
export function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
}

/** True if two shapes are equal. @example shapesEqual([2, 3], [2, 3]) // true */
export function shapesEqual(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The NumPy broadcast of two shapes.
 * @example broadcastShapes([2, 1, 3], [4, 1], 'add') // [2, 4, 3]
 */
export function broadcastShapes(a: readonly number[], b: readonly number[], op: string): number[] {
  if (shapesEqual(a, b)) return a as number[];
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = i < rank - a.length ? 1 : a[i - (rank - a.length)]!;
    const db = i < rank - b.length ? 1 : b[i - (rank - b.length)]!;
    if (da === db || db === 1) out[i] = da;
    else if (da === 1) out[i] = db;
    else {
      throw new ShapeError(
        op,
        `shapes ${fmtShape(a)} and ${fmtShape(b)} cannot broadcast (axis ${i - rank}: ${da} vs ${db})`,
      );
    }
  }
  return out;
}

/**
 * Turns a possibly negative axis into `0..rank-1`, or throws an ArgumentError naming `op`.
 * @example normAxis(-1, 3, 'sum') // 2
 */
export function normAxis(axis: number, rank: number, op: string): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    throw new ArgumentError(
      op,
      `axis ${axis} is out of range for rank ${rank} (expected an integer in ${-rank}..${rank - 1})`,
    );
  }
  return axis < 0 ? axis + rank : axis;
}

/**
 * Normalises an axis list (undefined = all axes) to sorted unique non-negative axes.
 * @example normAxes([-1, 0], 3, 'sum') // [0, 2]
 */
export function normAxes(axes: number | readonly number[] | undefined, rank: number, op: string): number[] {
  if (axes === undefined) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof axes === 'number' ? [axes] : axes;
  const out = list.map((a) => normAxis(a, rank, op));
  const sorted = [...new Set(out)].sort((x, y) => x - y);
  if (sorted.length !== out.length) {
    throw new ArgumentError(op, `axes ${JSON.stringify(list)} repeat an axis`);
  }
  return sorted;
}

/**
 * Checks a user-given shape: non-negative integers, at most one -1 when `allowInfer`.
 * Throws an ArgumentError naming `op`.
 */
export function checkShape(shape: readonly number[], op: string): void {
  if (!Array.isArray(shape)) throw new ArgumentError(op, `shape must be an array of integers, got ${String(shape)}`);
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new ArgumentError(op, `shape ${fmtShape(shape)} must hold non-negative integers`);
    }
    n *= d;
  }
  // Kernels index elements with 32-bit integers (see MAX_TENSOR_ELEMENTS in ops/util.ts).
  if (n > 2 ** 31 - 1) throw new ArgumentError(op, `shape ${fmtShape(shape)} has ${n} elements; a tensor may hold at most ${2 ** 31 - 1}`);
}

/**
 * True if `strides` lay `shape` out row-major without gaps (size-1 axes may have any stride).
 * @example isRowMajor([2, 3], [3, 1]) // true; isRowMajor([2, 3], [1, 2]) // false
 */
export function isRowMajor(shape: readonly number[], strides: readonly number[]): boolean {
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const d = shape[i]!;
    if (d !== 1 && strides[i] !== s) return false;
    s *= d;
  }
  return true;
}

/** A shape with, per operand, its strides over that shape (see {@link collapseAxes}). */
export interface CollapsedAxes {
  shape: number[];
  strides: number[][];
}

/**
 * For backends: merges adjacent axes that every operand walks as one (outer stride = inner
 * stride × inner length) and drops size-1 axes, so kernels loop over as few axes as possible.
 * At least `minRank` axes remain (a size-1 axis with stride 0 is added when nothing is left).
 * @example collapseAxes([2, 3, 4], [[12, 4, 1], [0, 0, 1]]) // { shape: [6, 4], strides: [[4, 1], [0, 1]] }
 */
export function collapseAxes(shape: readonly number[], strides: readonly (readonly number[])[], minRank: 0 | 1 = 1): CollapsedAxes {
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
  if (outShape.length === 0 && minRank === 1) {
    outShape.push(1);
    for (let j = 0; j < k; j++) outStrides[j]!.push(0);
  }
  return { shape: outShape, strides: outStrides };
}
