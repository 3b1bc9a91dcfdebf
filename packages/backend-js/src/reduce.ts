/**
 * Reductions: `reduce`, `argReduce`, `cumulative`. Each picks between a row mode (the reduced
 * axis is the inner one: one tight loop per output) and a column mode (the kept axes are
 * inner: accumulate whole rows into a float64 accumulator), so both `sum(x, -1)` and
 * `sum(x, 0)` stream memory in order.
 * @module
 */
import type { ArgReduceOp, DType, ReduceOp, View } from '@tessera/core';
import { dataOf, i32 } from './storage.js';
import { collapse, offsetsOf, RowIter } from './strided.js';
import { fill } from './elementwise.js';

type A = Float32Array | Int32Array | Uint8Array;

/** Internal reduction codes: float sum/prod, wrapping int32 sum/prod, NaN-propagating max/min. */
const SUM = 0, PROD = 1, MAX = 2, MIN = 3, ISUM = 4, IPROD = 5;

function codeOf(op: ReduceOp, x: DType, out: DType): number {
  if (out === 'bool') return op === 'sum' || op === 'max' ? MAX : MIN;
  if (op === 'max') return MAX;
  if (op === 'min') return MIN;
  const int = x !== 'float32' && out === 'int32';
  if (op === 'sum') return int ? ISUM : SUM;
  return int ? IPROD : PROD;
}

function identityOf(code: number, out: DType): number {
  switch (code) {
    case SUM: case ISUM: return 0;
    case PROD: case IPROD: return 1;
    case MAX: return out === 'float32' ? -Infinity : out === 'int32' ? -2147483648 : 0;
    default: return out === 'float32' ? Infinity : out === 'int32' ? 2147483647 : 1;
  }
}

/** Kept and reduced axes of a view, each with its own shape and strides. */
function split(x: View, axes: readonly number[]) {
  const keptShape: number[] = [], keptStrides: number[] = [];
  const redShape: number[] = [], redStrides: number[] = [];
  for (let d = 0, j = 0; d < x.shape.length; d++) {
    if (j < axes.length && axes[j] === d) {
      redShape.push(x.shape[d]);
      redStrides.push(x.strides[d]);
      j++;
    } else {
      keptShape.push(x.shape[d]);
      keptStrides.push(x.strides[d]);
    }
  }
  return { keptShape, keptStrides, redShape, redStrides };
}

/**
 * Reduces `x` over `axes` (sorted, unique) into `out`, whose shape is x's with those axes
 * removed. `max`/`min` propagate NaN (on bool they are any/all); int32 sum/prod wrap like
 * int32 arithmetic; float sums accumulate in float64. An empty reduction gives the identity
 * (0, 1, -Inf, +Inf; for int32 out the int32 extremes, for bool out false/true).
 *
 * @example
 * reduce('sum', x, [1], out);   // x = [[1, 2], [3, 4]]  →  out = [3, 7]
 */
export function reduce(op: ReduceOp, x: View, axes: readonly number[], out: View): void {
  const outN = out.size;
  if (outN === 0) return;
  const code = codeOf(op, x.dtype, out.dtype);
  const init = identityOf(code, out.dtype);
  if (x.size === 0) {
    fill(out, init);
    return;
  }
  const X = dataOf(x), O = dataOf(out);
  const toBool = out.dtype === 'bool';
  const { keptShape, keptStrides, redShape, redStrides } = split(x, axes);
  const red = collapse(redShape, [redStrides]);
  const rnd = red.shape.length;
  const rn = red.shape[rnd - 1], rs = red.strides[0][rnd - 1];
  const redRows = offsetsOf(red.shape.slice(0, rnd - 1), red.strides[0].slice(0, rnd - 1), 0);
  const kept = collapse(keptShape, [keptStrides, out.strides]);
  const knd = kept.shape.length;
  const ks = kept.strides[0][knd - 1];
  const column = keptShape.length > 0 && Math.abs(ks) < Math.abs(rs) && kept.shape[knd - 1] > 1;
  if (!column) {
    const it = new RowIter(keptShape, [keptStrides, out.strides], [x.offset, out.offset]);
    const [sx, so] = it.step;
    do {
      let p = it.off[0], q = it.off[1];
      for (let i = 0; i < it.n; i++, p += sx, q += so) {
        let acc = init;
        for (let r = 0; r < redRows.length; r++) acc = lineReduce(code, X, p + redRows[r], rs, rn, acc);
        O[q] = toBool ? (acc !== 0 ? 1 : 0) : acc;
      }
    } while (it.next());
    return;
  }
  // Column mode: walk every reduced position, accumulating whole kept rows.
  const kn = kept.shape[knd - 1];
  const keptRows = offsetsOf(kept.shape.slice(0, knd - 1), kept.strides[0].slice(0, knd - 1), x.offset);
  const allRed = offsetsOf(red.shape, red.strides[0], 0);
  const acc = new Float64Array(outN).fill(init);
  for (let r = 0; r < allRed.length; r++) {
    const base = allRed[r];
    for (let j = 0; j < keptRows.length; j++) rowAccumulate(code, acc, j * kn, X, keptRows[j] + base, ks, kn);
  }
  const it = new RowIter(out.shape, [out.strides], [out.offset]);
  const so = it.step[0];
  let k = 0;
  do for (let i = 0, q = it.off[0]; i < it.n; i++, q += so, k++) O[q] = toBool ? (acc[k] !== 0 ? 1 : 0) : acc[k];
  while (it.next());
}

function lineReduce(code: number, X: A, p: number, s: number, n: number, acc: number): number {
  switch (code) {
    case SUM: for (let i = 0; i < n; i++, p += s) acc += X[p]; return acc;
    case PROD: for (let i = 0; i < n; i++, p += s) acc *= X[p]; return acc;
    case MAX: for (let i = 0; i < n; i++, p += s) acc = Math.max(acc, X[p]); return acc;
    case MIN: for (let i = 0; i < n; i++, p += s) acc = Math.min(acc, X[p]); return acc;
    case ISUM: for (let i = 0; i < n; i++, p += s) acc = (acc + X[p]) | 0; return acc;
    default: for (let i = 0; i < n; i++, p += s) acc = Math.imul(acc, X[p]); return acc;
  }
}

function rowAccumulate(code: number, acc: Float64Array, a: number, X: A, p: number, s: number, n: number): void {
  switch (code) {
    case SUM: for (let i = 0; i < n; i++, p += s) acc[a + i] += X[p]; return;
    case PROD: for (let i = 0; i < n; i++, p += s) acc[a + i] *= X[p]; return;
    case MAX: for (let i = 0; i < n; i++, p += s) acc[a + i] = Math.max(acc[a + i], X[p]); return;
    case MIN: for (let i = 0; i < n; i++, p += s) acc[a + i] = Math.min(acc[a + i], X[p]); return;
    case ISUM: for (let i = 0; i < n; i++, p += s) acc[a + i] = (acc[a + i] + X[p]) | 0; return;
    default: for (let i = 0; i < n; i++, p += s) acc[a + i] = Math.imul(acc[a + i], X[p]); return;
  }
}

/** Shape/strides of x without one axis. */
function without(v: View, axis: number) {
  const shape = v.shape.slice(), strides = v.strides.slice();
  shape.splice(axis, 1);
  strides.splice(axis, 1);
  return { shape, strides };
}

/**
 * Index of the max (or min) along `axis` into an int32 `out` (x's shape without the axis).
 * Ties go to the first index; a NaN wins (the first NaN's index). An empty axis gives 0.
 *
 * @example
 * argReduce('argmax', x, 1, out);   // x = [[1, 3, 3], [NaN, 0, 9]]  →  out = [1, 0]
 */
export function argReduce(op: ArgReduceOp, x: View, axis: number, out: View): void {
  const outN = out.size;
  if (outN === 0) return;
  const n = x.shape[axis];
  if (n === 0) {
    fill(out, 0);
    return;
  }
  const X = dataOf(x), O = i32(out);
  const s = x.strides[axis];
  const isMax = op === 'argmax';
  const k = without(x, axis);
  const kept = collapse(k.shape, [k.strides]);
  const knd = kept.shape.length;
  const ks = kept.strides[0][knd - 1];
  if (!(Math.abs(ks) < Math.abs(s) && kept.shape[knd - 1] > 1)) {
    const it = new RowIter(k.shape, [k.strides, out.strides], [x.offset, out.offset]);
    const [sx, so] = it.step;
    do {
      let p = it.off[0], q = it.off[1];
      for (let i = 0; i < it.n; i++, p += sx, q += so) O[q] = isMax ? argMaxLine(X, p, s, n) : argMinLine(X, p, s, n);
    } while (it.next());
    return;
  }
  const kn = kept.shape[knd - 1];
  const rows = offsetsOf(kept.shape.slice(0, knd - 1), kept.strides[0].slice(0, knd - 1), x.offset);
  const best = new Float64Array(outN), idx = new Int32Array(outN);
  for (let j = 0; j < rows.length; j++) for (let i = 0, p = rows[j]; i < kn; i++, p += ks) best[j * kn + i] = X[p];
  for (let a = 1; a < n; a++) {
    for (let j = 0; j < rows.length; j++) {
      let p = rows[j] + a * s;
      const b0 = j * kn;
      if (isMax) {
        for (let i = 0; i < kn; i++, p += ks) {
          const b = best[b0 + i], v = X[p];
          if (b === b && (v > b || v !== v)) { best[b0 + i] = v; idx[b0 + i] = a; }
        }
      } else {
        for (let i = 0; i < kn; i++, p += ks) {
          const b = best[b0 + i], v = X[p];
          if (b === b && (v < b || v !== v)) { best[b0 + i] = v; idx[b0 + i] = a; }
        }
      }
    }
  }
  const it = new RowIter(out.shape, [out.strides], [out.offset]);
  const so = it.step[0];
  let c = 0;
  do for (let i = 0, q = it.off[0]; i < it.n; i++, q += so) O[q] = idx[c++];
  while (it.next());
}

function argMaxLine(X: A, p: number, s: number, n: number): number {
  let best = X[p], bi = 0;
  if (best !== best) return 0;
  for (let i = 1; i < n; i++) {
    p += s;
    const v = X[p];
    if (v > best) { best = v; bi = i; }
    else if (v !== v) return i;
  }
  return bi;
}

function argMinLine(X: A, p: number, s: number, n: number): number {
  let best = X[p], bi = 0;
  if (best !== best) return 0;
  for (let i = 1; i < n; i++) {
    p += s;
    const v = X[p];
    if (v < best) { best = v; bi = i; }
    else if (v !== v) return i;
  }
  return bi;
}

/**
 * Running sum/prod/max/min along `axis` into `out` (x's shape). `exclusive` shifts by one
 * (the first element is the identity); `reverse` runs from the end.
 *
 * @example
 * cumulative('sum', x, 0, false, false, out);   // x = [1, 2, 3]  →  out = [1, 3, 6]
 * cumulative('sum', x, 0, true, true, out);     // →  out = [5, 3, 0]
 */
export function cumulative(op: ReduceOp, x: View, axis: number, exclusive: boolean, reverse: boolean, out: View): void {
  if (out.size === 0) return;
  const X = dataOf(x), O = dataOf(out);
  const code = codeOf(op, x.dtype, out.dtype);
  const init = identityOf(code, out.dtype);
  const n = x.shape[axis];
  let sx = x.strides[axis], so = out.strides[axis];
  let xo = x.offset, oo = out.offset;
  if (reverse) {
    xo += (n - 1) * sx;
    oo += (n - 1) * so;
    sx = -sx;
    so = -so;
  }
  const kx = without(x, axis), ko = without(out, axis);
  const kept = collapse(kx.shape, [kx.strides, ko.strides]);
  const knd = kept.shape.length;
  const ks = kept.strides[0][knd - 1], kos = kept.strides[1][knd - 1];
  if (!(Math.abs(ks) < Math.abs(sx) && kept.shape[knd - 1] > 1)) {
    const it = new RowIter(kx.shape, [kx.strides, ko.strides], [xo, oo]);
    const [a, b] = it.step;
    do {
      let p = it.off[0], q = it.off[1];
      for (let i = 0; i < it.n; i++, p += a, q += b) cumLine(code, X, p, sx, O, q, so, n, exclusive, init);
    } while (it.next());
    return;
  }
  const kn = kept.shape[knd - 1];
  const outer = kept.shape.slice(0, knd - 1);
  const xRows = offsetsOf(outer, kept.strides[0].slice(0, knd - 1), xo);
  const oRows = offsetsOf(outer, kept.strides[1].slice(0, knd - 1), oo);
  const acc = new Float64Array(kn);
  for (let j = 0; j < xRows.length; j++) {
    acc.fill(init);
    for (let a = 0; a < n; a++) cumRow(code, acc, X, xRows[j] + a * sx, ks, O, oRows[j] + a * so, kos, kn, exclusive);
  }
}

function cumLine(code: number, X: A, p: number, s: number, O: A, q: number, t: number, n: number, ex: boolean, acc: number): void {
  switch (code) {
    case SUM: for (let i = 0; i < n; i++, p += s, q += t) { const v = X[p]; if (ex) { O[q] = acc; acc += v; } else O[q] = acc += v; } return;
    case PROD: for (let i = 0; i < n; i++, p += s, q += t) { const v = X[p]; if (ex) { O[q] = acc; acc *= v; } else O[q] = acc *= v; } return;
    case MAX: for (let i = 0; i < n; i++, p += s, q += t) { const v = X[p]; if (ex) { O[q] = acc; acc = Math.max(acc, v); } else O[q] = acc = Math.max(acc, v); } return;
    case MIN: for (let i = 0; i < n; i++, p += s, q += t) { const v = X[p]; if (ex) { O[q] = acc; acc = Math.min(acc, v); } else O[q] = acc = Math.min(acc, v); } return;
    case ISUM: for (let i = 0; i < n; i++, p += s, q += t) { const v = X[p]; if (ex) { O[q] = acc; acc = (acc + v) | 0; } else O[q] = acc = (acc + v) | 0; } return;
    default: for (let i = 0; i < n; i++, p += s, q += t) { const v = X[p]; if (ex) { O[q] = acc; acc = Math.imul(acc, v); } else O[q] = acc = Math.imul(acc, v); } return;
  }
}

function cumRow(code: number, acc: Float64Array, X: A, p: number, s: number, O: A, q: number, t: number, n: number, ex: boolean): void {
  switch (code) {
    case SUM: for (let i = 0; i < n; i++, p += s, q += t) { const v = X[p]; if (ex) { O[q] = acc[i]; acc[i] += v; } else O[q] = acc[i] += v; } return;
    case PROD: for (let i = 0; i < n; i++, p += s, q += t) { const v = X[p]; if (ex) { O[q] = acc[i]; acc[i] *= v; } else O[q] = acc[i] *= v; } return;
    case MAX: for (let i = 0; i < n; i++, p += s, q += t) { const v = X[p]; if (ex) { O[q] = acc[i]; acc[i] = Math.max(acc[i], v); } else O[q] = acc[i] = Math.max(acc[i], v); } return;
    case MIN: for (let i = 0; i < n; i++, p += s, q += t) { const v = X[p]; if (ex) { O[q] = acc[i]; acc[i] = Math.min(acc[i], v); } else O[q] = acc[i] = Math.min(acc[i], v); } return;
    case ISUM: for (let i = 0; i < n; i++, p += s, q += t) { const v = X[p]; if (ex) { O[q] = acc[i]; acc[i] = (acc[i] + v) | 0; } else O[q] = acc[i] = (acc[i] + v) | 0; } return;
    default: for (let i = 0; i < n; i++, p += s, q += t) { const v = X[p]; if (ex) { O[q] = acc[i]; acc[i] = Math.imul(acc[i], v); } else O[q] = acc[i] = Math.imul(acc[i], v); } return;
  }
}
