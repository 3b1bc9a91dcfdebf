/**
 * Shape arithmetic: sizes, contiguous strides, broadcasting and axis normalisation.
 *
 * Every public helper checks its arguments and throws a typed error naming itself (or the
 * op given as `op`), the value it got and what it expected. The checks ride in the loops the
 * helpers run anyway (valid input pays an `Array.isArray` and a `Number.isSafeInteger` per
 * dimension) and messages are built only when something is wrong. Core's ops, which hold
 * shapes they made or checked already, call the unchecked forms in `shape-unchecked.ts`.
 * @module
 */
import { ArgumentError, ShapeError } from './errors.js';
import { broadcastDims, sameDims } from './shape-unchecked.js';

/** At most this many entries of a bad array are shown in a message. */
const SHOWN = 8;

/**
 * Renders any value for an error message without throwing (symbols, bigints, huge arrays).
 * @internal
 */
export function show(v: unknown): string {
  if (Array.isArray(v)) {
    const head = v.slice(0, SHOWN).map((d) => (typeof d === 'number' ? String(d) : show(d)));
    return `[${head.join(',')}${v.length > SHOWN ? `,… (${v.length} entries)` : ''}]`;
  }
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint' || typeof v === 'symbol' || v === undefined) return String(v);
  if (v === null) return 'null';
  if (typeof v === 'function') return 'a function';
  const name = (v as object).constructor?.name;
  return name && name !== 'Object' ? `${/^[aeiou]/i.test(name) ? 'an' : 'a'} ${name}` : 'an object';
}

/** True when `shape` is an array of non-negative safe integers (the fast check). */
function dimsOk(shape: unknown): shape is readonly number[] {
  if (!Array.isArray(shape)) return false;
  for (let i = 0; i < shape.length; i++) {
    const d: unknown = shape[i];
    if (!(Number.isSafeInteger(d) && (d as number) >= 0)) return false;
  }
  return true;
}

/** True when `v` is an array of safe integers (strides may be negative or 0). */
function intsOk(v: unknown): v is readonly number[] {
  if (!Array.isArray(v)) return false;
  for (let i = 0; i < v.length; i++) if (!Number.isSafeInteger(v[i])) return false;
  return true;
}

/**
 * The ArgumentError for a value that should have been a shape, naming `op` (the op the caller
 * named, or the helper itself) and the first bad dimension. Built only on failure.
 */
function badShape(op: string, what: string, shape: unknown): ArgumentError {
  if (!Array.isArray(shape)) return new ArgumentError(op, `${what} must be an array of non-negative integers, got ${show(shape)}`);
  const i = shape.findIndex((d) => !(Number.isSafeInteger(d) && (d as number) >= 0));
  const detail = i >= 0 ? `dimension ${i} is ${show(shape[i])}` : `its ${show(shape.reduce((n: number, d: number) => n * d, 1))} elements are more than ${Number.MAX_SAFE_INTEGER}`;
  return new ArgumentError(op, `${what} ${show(shape)} must hold non-negative integers (${detail})`);
}

/** `op` when the caller gave a name, else the helper's own. */
function opName(op: unknown, fn: string): string {
  return typeof op === 'string' && op.length > 0 ? op : fn;
}

/**
 * Formats a shape as `[2,3]` for error messages. Entries are shown as given (so a message can
 * show a bad shape); anything but an array is an ArgumentError.
 * @example fmtShape([2, 3]) // '[2,3]'
 */
export function fmtShape(shape: readonly number[]): string {
  if (!Array.isArray(shape)) throw new ArgumentError('fmtShape', `shape must be an array, got ${show(shape)}`);
  let s = '';
  for (let i = 0; i < shape.length; i++) s += (i > 0 ? ',' : '') + (typeof shape[i] === 'number' ? String(shape[i]) : show(shape[i]));
  return `[${s}]`;
}

/**
 * Number of elements of a shape (1 for a scalar). Throws an ArgumentError unless `shape` is
 * an array of non-negative integers whose product is exact (at most 2^53 − 1).
 * @example sizeOf([2, 3]) // 6
 */
export function sizeOf(shape: readonly number[]): number {
  if (!Array.isArray(shape)) throw badShape('sizeOf', 'shape', shape);
  let n = 1;
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i];
    if (!(Number.isSafeInteger(d) && d! >= 0)) throw badShape('sizeOf', 'shape', shape);
    n *= d!;
  }
  if (n > Number.MAX_SAFE_INTEGER) throw badShape('sizeOf', 'shape', shape);
  return n;
}

/**
 * Row-major strides in elements. Throws an ArgumentError on the shapes {@link sizeOf} rejects.
 * @example stridesOf([2, 3, 4]) // [12, 4, 1]
 */
export function stridesOf(shape: readonly number[]): number[] {
  if (!Array.isArray(shape)) throw badShape('stridesOf', 'shape', shape);
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const d = shape[i];
    if (!(Number.isSafeInteger(d) && d! >= 0)) throw badShape('stridesOf', 'shape', shape);
    strides[i] = s;
    s *= d!;
  }
  if (s > Number.MAX_SAFE_INTEGER) throw badShape('stridesOf', 'shape', shape);
  return strides;
}

/**
 * True if two shapes are equal. Throws an ArgumentError unless both are arrays of
 * non-negative integers.
 * @example shapesEqual([2, 3], [2, 3]) // true
 */
export function shapesEqual(a: readonly number[], b: readonly number[]): boolean {
  if (!dimsOk(a)) throw badShape('shapesEqual', 'a', a);
  if (!dimsOk(b)) throw badShape('shapesEqual', 'b', b);
  return sameDims(a, b);
}

/**
 * The NumPy broadcast of two shapes. Errors name `op` (default `'broadcastShapes'`): a
 * ShapeError when the shapes cannot broadcast, an ArgumentError when one is not a shape.
 * @example broadcastShapes([2, 1, 3], [4, 1], 'add') // [2, 4, 3]
 */
export function broadcastShapes(a: readonly number[], b: readonly number[], op = 'broadcastShapes'): number[] {
  if (!dimsOk(a)) throw badShape(opName(op, 'broadcastShapes'), 'shape a', a);
  if (!dimsOk(b)) throw badShape(opName(op, 'broadcastShapes'), 'shape b', b);
  return broadcastDims(a, b, opName(op, 'broadcastShapes'));
}

/** Throws an ArgumentError naming `op` unless `rank` is a non-negative integer. */
function checkRank(rank: unknown, op: string): void {
  if (!(Number.isSafeInteger(rank) && (rank as number) >= 0)) {
    throw new ArgumentError(op, `rank must be a non-negative integer, got ${show(rank)}`);
  }
}

/**
 * Turns a possibly negative axis into `0..rank-1`, or throws an ArgumentError naming `op`
 * (default `'normAxis'`): an axis that is not an integer in `-rank..rank-1`, or a rank that is
 * not a non-negative integer.
 * @example normAxis(-1, 3, 'sum') // 2
 */
export function normAxis(axis: number, rank: number, op = 'normAxis'): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    const name = opName(op, 'normAxis');
    checkRank(rank, name);
    throw new ArgumentError(
      name,
      `axis ${show(axis)} is out of range for rank ${rank} (expected an integer in ${-rank}..${rank - 1})`,
    );
  }
  // A valid-looking axis with a bad rank (NaN, 2.5, '3') is caught here, off the hot path's branch.
  if (!Number.isSafeInteger(rank)) checkRank(rank, opName(op, 'normAxis'));
  return axis < 0 ? axis + rank : axis;
}

/**
 * Normalises an axis, a list of axes or `undefined` (all axes) to sorted unique non-negative
 * axes. Throws an ArgumentError naming `op` (default `'normAxes'`) for anything else, an axis
 * out of range or a repeated axis.
 * @example normAxes([-1, 0], 3, 'sum') // [0, 2]
 */
export function normAxes(axes: number | readonly number[] | undefined, rank: number, op = 'normAxes'): number[] {
  const name = opName(op, 'normAxes');
  if (axes === undefined) {
    checkRank(rank, name);
    return Array.from({ length: rank }, (_, i) => i);
  }
  if (typeof axes === 'number') return [normAxis(axes, rank, name)];
  if (!Array.isArray(axes)) {
    throw new ArgumentError(name, `axes must be an integer, an array of integers or undefined (all axes), got ${show(axes)}`);
  }
  checkRank(rank, name);
  const out = axes.map((a) => normAxis(a, rank, name));
  const sorted = [...new Set(out)].sort((x, y) => x - y);
  if (sorted.length !== out.length) {
    throw new ArgumentError(name, `axes ${show(axes)} repeat an axis`);
  }
  return sorted;
}

/**
 * Checks a user-given shape: non-negative integers, at most 2³¹ − 1 elements.
 * Throws an ArgumentError naming `op`.
 */
export function checkShape(shape: readonly number[], op: string): void {
  if (!Array.isArray(shape)) throw new ArgumentError(op, `shape must be an array of integers, got ${show(shape)}`);
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

/** The ArgumentError/ShapeError for strides that do not describe `shape`'s layout. */
function badStrides(fn: string, what: string, shape: readonly number[], strides: unknown): Error {
  if (!Array.isArray(strides)) return new ArgumentError(fn, `${what} must be an array of integers, got ${show(strides)}`);
  if (strides.length !== shape.length) return new ShapeError(fn, `${what} ${show(strides)} has ${strides.length} entries for shape ${fmtShape(shape)} of rank ${shape.length}`);
  const i = strides.findIndex((s) => !Number.isSafeInteger(s));
  return new ArgumentError(fn, `${what} ${show(strides)} must hold integers (entry ${i} is ${show(strides[i])})`);
}

/**
 * True if `strides` lay `shape` out row-major without gaps (size-1 axes may have any stride).
 * Throws an ArgumentError unless `shape` is a shape and `strides` integers, a ShapeError when
 * their lengths differ.
 * @example isRowMajor([2, 3], [3, 1]) // true; isRowMajor([2, 3], [1, 2]) // false
 */
export function isRowMajor(shape: readonly number[], strides: readonly number[]): boolean {
  // Backends call this on every kernel call: the checks ride in the one loop over the axes.
  if (!Array.isArray(shape) || !Array.isArray(strides) || strides.length !== shape.length) return badLayout(shape, strides);
  let s = 1;
  let rowMajor = true;
  for (let i = shape.length - 1; i >= 0; i--) {
    const d = shape[i]!;
    const st = strides[i]!;
    if (!(Number.isSafeInteger(d) && d >= 0 && Number.isSafeInteger(st))) return badLayout(shape, strides);
    if (d !== 1 && st !== s) rowMajor = false;
    s *= d;
  }
  return rowMajor;
}

/** Throws isRowMajor's error for arguments its fast path turned down. */
function badLayout(shape: unknown, strides: unknown): never {
  if (!dimsOk(shape)) throw badShape('isRowMajor', 'shape', shape);
  throw badStrides('isRowMajor', 'strides', shape, strides);
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
 * Throws an ArgumentError unless `shape` is a shape, `strides` an array of integer stride
 * lists and `minRank` 0 or 1; a ShapeError when a stride list's length is not the rank.
 * @example collapseAxes([2, 3, 4], [[12, 4, 1], [0, 0, 1]]) // { shape: [6, 4], strides: [[4, 1], [0, 1]] }
 */
export function collapseAxes(shape: readonly number[], strides: readonly (readonly number[])[], minRank: 0 | 1 = 1): CollapsedAxes {
  if (!dimsOk(shape)) throw badShape('collapseAxes', 'shape', shape);
  if (!Array.isArray(strides)) throw new ArgumentError('collapseAxes', `strides must be an array of stride lists (one per operand), got ${show(strides)}`);
  for (let j = 0; j < strides.length; j++) {
    if (!intsOk(strides[j]) || strides[j]!.length !== shape.length) throw badStrides('collapseAxes', `strides[${j}]`, shape, strides[j]);
  }
  if (minRank !== 0 && minRank !== 1) throw new ArgumentError('collapseAxes', `minRank must be 0 or 1, got ${show(minRank)}`);
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
