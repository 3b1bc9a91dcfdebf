/**
 * Reductions over any axes (with keepDims), index reductions and running (cumulative) ops.
 * @module
 */
import type { ReduceOp } from '../backend/types.js';
import { ArgumentError } from '../errors.js';
import { normAxes, normAxis } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { add, cast, div, exp, isFinite, log, sqrt, square, sub, where } from './elementwise.js';
import { reshape } from './movement.js';
import { input, live, output, record, releaseTemps } from './util.js';

/** Axis argument of reductions: one axis, a list, or undefined for all axes. */
export type Axes = number | readonly number[] | undefined;

function reduce(op: ReduceOp, name: string, x: Tensor, axis: Axes, keepDims: boolean): Tensor {
  live(x, name);
  if (typeof keepDims !== 'boolean') throw new ArgumentError(name, `keepDims must be a boolean, got ${String(keepDims)}`);
  let src = x;
  if ((op === 'sum' || op === 'prod') && x.dtype === 'bool') src = cast(x, 'int32');
  const axes = normAxes(axis, x.rank, name);
  const kept = x.shape.filter((_, i) => !axes.includes(i));
  const be = x.backend;
  const out = output(be, src.dtype, kept);
  if (out.size > 0) {
    be.kernels.reduce(op, input(src, be), axes, out);
    releaseTemps();
  }
  record(op, [src], out, { axes, inShape: x.shape });
  if (src !== x) src.dispose();
  if (!keepDims) return out;
  const y = reshape(out, x.shape.map((d, i) => (axes.includes(i) ? 1 : d)));
  out.dispose();
  return y;
}

/** Sum (bool counts as int32). @example sum(x); sum(x, -1, true) */
export const sum = (x: Tensor, axis?: Axes, keepDims = false): Tensor => reduce('sum', 'sum', x, axis, keepDims);
/** Product. @example prod(x, 0) */
export const prod = (x: Tensor, axis?: Axes, keepDims = false): Tensor => reduce('prod', 'prod', x, axis, keepDims);
/** Maximum (NaN-propagating; -Inf over an empty axis). @example max(x, 1) */
export const max = (x: Tensor, axis?: Axes, keepDims = false): Tensor => reduce('max', 'max', x, axis, keepDims);
/** Minimum (NaN-propagating; +Inf over an empty axis). @example min(x, 1) */
export const min = (x: Tensor, axis?: Axes, keepDims = false): Tensor => reduce('min', 'min', x, axis, keepDims);

/** True if any element is true (non-zero). @example any(greater(x, 0)) */
export function any(x: Tensor, axis?: Axes, keepDims = false): Tensor {
  live(x, 'any');
  normAxes(axis, x.rank, 'any'); // checked before the cast, so a bad axis leaves no copy behind
  const b = x.dtype === 'bool' ? x : cast(x, 'bool');
  const y = reduce('max', 'any', b, axis, keepDims);
  if (b !== x) b.dispose();
  return y;
}

/** True if every element is true (non-zero). @example all(isFinite(x)) */
export function all(x: Tensor, axis?: Axes, keepDims = false): Tensor {
  live(x, 'all');
  normAxes(axis, x.rank, 'all');
  const b = x.dtype === 'bool' ? x : cast(x, 'bool');
  const y = reduce('min', 'all', b, axis, keepDims);
  if (b !== x) b.dispose();
  return y;
}

function countOf(x: Tensor, axis: Axes, name: string): number {
  return normAxes(axis, x.rank, name).reduce((n, a) => n * x.shape[a]!, 1);
}

/** Arithmetic mean (float32; NaN over an empty axis). @example mean(x, 0) */
export function mean(x: Tensor, axis?: Axes, keepDims = false): Tensor {
  live(x, 'mean');
  const n = countOf(x, axis, 'mean');
  const f = x.dtype === 'float32' ? x : cast(x, 'float32');
  const s = sum(f, axis, keepDims);
  if (f !== x) f.dispose();
  const y = div(s, n);
  s.dispose();
  return y;
}

/** Population variance (divides by the count). @example variance(x, -1) */
export function variance(x: Tensor, axis?: Axes, keepDims = false): Tensor {
  live(x, 'variance');
  const m = mean(x, axis, true);
  const d = sub(x, m);
  const s = square(d);
  const y = mean(s, axis, keepDims);
  m.dispose();
  d.dispose();
  s.dispose();
  return y;
}

/** Population standard deviation. @example std(x) */
export function std(x: Tensor, axis?: Axes, keepDims = false): Tensor {
  const v = variance(x, axis, keepDims);
  const y = sqrt(v);
  v.dispose();
  return y;
}

/**
 * log(Σ exp(x)) computed stably (shifted by the max).
 * @example logSumExp(tensor([1000, 1000])) // 1000.693
 */
export function logSumExp(x: Tensor, axis?: Axes, keepDims = false): Tensor {
  live(x, 'logSumExp');
  const m = max(x, axis, true);
  const fin = isFinite(m);
  const shift = where(fin, m, 0);
  const d = sub(x, shift);
  const e = exp(d);
  const s = sum(e, axis, true);
  const l = log(s);
  const r = add(l, shift);
  const y = keepDims ? r : reshape(r, x.shape.filter((_, i) => !normAxes(axis, x.rank, 'logSumExp').includes(i)));
  for (const t of [m, fin, shift, d, e, s, l]) t.dispose();
  if (y !== r) r.dispose();
  return y;
}

function argReduce(op: 'argmax' | 'argmin', x: Tensor, axis: number | undefined): Tensor {
  live(x, op);
  if (axis === undefined) {
    const flat = reshape(x, [-1]);
    const y = argReduce(op, flat, 0);
    flat.dispose();
    return y;
  }
  const a = normAxis(axis, x.rank, op);
  if (x.shape[a] === 0) throw new ArgumentError(op, `axis ${a} of x is empty; ${op} needs at least one element`);
  const be = x.backend;
  const out = output(be, 'int32', x.shape.filter((_, i) => i !== a));
  if (out.size > 0) {
    be.kernels.argReduce(op, input(x, be), a, out);
    releaseTemps();
  }
  return out;
}

/** Index of the maximum along `axis` (over all elements, flattened, when omitted). @example argmax(logits, -1) */
export const argmax = (x: Tensor, axis?: number): Tensor => argReduce('argmax', x, axis);
/** Index of the minimum along `axis`. @example argmin(x, 0) */
export const argmin = (x: Tensor, axis?: number): Tensor => argReduce('argmin', x, axis);

/** Options of the cumulative ops. */
export interface CumulativeOptions {
  /** Exclude the current element (the first output is the identity). */
  exclusive?: boolean;
  /** Run from the end of the axis. */
  reverse?: boolean;
}

function cumulative(op: ReduceOp, name: string, x: Tensor, axis: number, opts: CumulativeOptions): Tensor {
  live(x, name);
  const a = normAxis(axis, Math.max(x.rank, 1), name);
  const src = x.dtype === 'bool' ? cast(x, 'int32') : x;
  const be = x.backend;
  const out = output(be, src.dtype, x.shape);
  const exclusive = opts.exclusive ?? false;
  const reverse = opts.reverse ?? false;
  if (out.size > 0) {
    if (x.rank === 0) be.kernels.copy(src, out);
    else be.kernels.cumulative(op, input(src, be), a, exclusive, reverse, out);
    releaseTemps();
  }
  record(name, [src], out, { axis: a, exclusive, reverse });
  if (src !== x) src.dispose();
  return out;
}

/** Running sum along `axis`. @example cumsum(tensor([1, 2, 3])) // [1, 3, 6] */
export const cumsum = (x: Tensor, axis = 0, opts: CumulativeOptions = {}): Tensor => cumulative('sum', 'cumsum', x, axis, opts);
/** Running product along `axis`. @example cumprod(tensor([1, 2, 3])) // [1, 2, 6] */
export const cumprod = (x: Tensor, axis = 0, opts: CumulativeOptions = {}): Tensor => cumulative('prod', 'cumprod', x, axis, opts);
/** Running maximum along `axis`. @example cummax(tensor([1, 3, 2])) // [1, 3, 3] */
export const cummax = (x: Tensor, axis = 0, opts: CumulativeOptions = {}): Tensor => cumulative('max', 'cummax', x, axis, opts);

