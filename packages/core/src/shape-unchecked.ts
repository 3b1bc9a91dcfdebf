/**
 * The unchecked forms of the shape helpers, for core's ops on shapes they made or checked
 * already (a tensor's shape, a shape `checkShape` passed): they run on every op call, so they
 * skip the argument checks of the public helpers in `shape.ts`; and `sizeOrInvalid`, the
 * non-throwing check `output()` reports in its own words. None is exported from the package.
 * @module
 */
import { ShapeError } from './errors.js';

/**
 * The element count of `shape`, or -1 when it is not an array of non-negative integers with an
 * exact product. Never throws: for callers that report a bad shape in their own words.
 * @internal
 */
export function sizeOrInvalid(shape: unknown): number {
  if (!Array.isArray(shape)) return -1;
  let n = 1;
  for (let i = 0; i < shape.length; i++) {
    const d: unknown = shape[i];
    if (!(Number.isSafeInteger(d) && (d as number) >= 0)) return -1;
    n *= d as number;
  }
  return n > Number.MAX_SAFE_INTEGER ? -1 : n;
}

/**
 * Equality of two shapes the caller knows are valid (a tensor's shape, a checked one): the
 * unchecked form ops use on every call.
 * @internal
 */
export function sameDims(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Element count of a shape the caller knows is valid, unchecked (the Tensor constructor).
 * @internal
 */
export function product(shape: readonly number[]): number {
  let n = 1;
  for (let i = 0; i < shape.length; i++) n *= shape[i]!;
  return n;
}

/**
 * Row-major strides of a shape the caller knows is valid, unchecked (the Tensor constructor).
 * @internal
 */
export function rowMajorStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
}

/**
 * `broadcastShapes` of two shapes the caller knows are valid (tensors' shapes): what
 * the element-wise ops call on every call. Still throws the ShapeError naming `op`.
 * @internal
 */
export function broadcastDims(a: readonly number[], b: readonly number[], op: string): number[] {
  if (sameDims(a, b)) return a as number[];
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
        `shapes [${a.join(',')}] and [${b.join(',')}] cannot broadcast (axis ${i - rank}: ${da} vs ${db})`,
      );
    }
  }
  return out;
}

/**
 * `isRowMajor` of a layout the caller knows is valid (a tensor's), unchecked: what
 * `Tensor.isContiguous` and the ops use.
 * @internal
 */
export function rowMajorLayout(shape: readonly number[], strides: readonly number[]): boolean {
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const d = shape[i]!;
    if (d !== 1 && strides[i] !== s) return false;
    s *= d;
  }
  return true;
}
