/**
 * Unary element-wise kernel: one loop per op for contiguous and strided float32 rows, int32
 * loops for the ops that are exact on integers, and `not` on bool.
 * @module
 */
import type { UnaryOp, View } from '@tessera/core';
import { f32, i32, u8, dataOf } from './storage.js';
import { isContiguous, RowIter } from './strided.js';
import { erf, roundHalfEven, toInt32 } from './math.js';
import { castArray } from './elementwise.js';

type F = Float32Array;

const INT_EXACT: ReadonlySet<UnaryOp> = new Set<UnaryOp>(['neg', 'abs', 'sign', 'square', 'floor', 'ceil', 'round', 'relu', 'not']);

/**
 * `out = op(x)` element-wise. float32 for every op; int32 computes neg/abs/sign/square/
 * floor/ceil/round/relu/not exactly (others go through float32); `not` on bool is `x == 0`.
 * `round` is half to even; `relu` keeps NaN.
 *
 * @example
 * unary('sqrt', x, out);   // x = [4, 9]  →  out = [2, 3]
 */
export function unary(op: UnaryOp, x: View, out: View): void {
  const n = out.size;
  if (n === 0) return;
  if (x.dtype === 'float32' && out.dtype === 'float32') {
    const X = f32(x), O = f32(out);
    if (isContiguous(x) && isContiguous(out)) return unF32Contig(op, X, x.offset, O, out.offset, n);
    const it = new RowIter(out.shape, [x.strides, out.strides], [x.offset, out.offset]);
    const [sx, so] = it.step;
    do unF32Strided(op, X, it.off[0], sx, O, it.off[1], so, it.n);
    while (it.next());
    return;
  }
  if (x.dtype === out.dtype && x.dtype !== 'float32' && INT_EXACT.has(op) && (op === 'not' || x.dtype === 'int32')) {
    const X = x.dtype === 'int32' ? i32(x) : u8(x);
    const O = x.dtype === 'int32' ? i32(out) : u8(out);
    const it = new RowIter(out.shape, [x.strides, out.strides], [x.offset, out.offset]);
    const [sx, so] = it.step;
    do unIntStrided(op, X, it.off[0], sx, O, it.off[1], so, it.n);
    while (it.next());
    return;
  }
  if (op === 'not') {
    const X = dataOf(x), O = dataOf(out);
    const it = new RowIter(out.shape, [x.strides, out.strides], [x.offset, out.offset]);
    const [sx, so] = it.step;
    do for (let i = 0, p = it.off[0], q = it.off[1]; i < it.n; i++, p += sx, q += so) O[q] = X[p] === 0 ? 1 : 0;
    while (it.next());
    return;
  }
  // Mixed or non-float dtypes: through a contiguous float32 temporary.
  const tmp = castArray(x, 'float32') as Float32Array;
  const res = new Float32Array(n);
  unF32Contig(op, tmp, 0, res, 0, n);
  const O = dataOf(out);
  const it = new RowIter(out.shape, [out.strides], [out.offset]);
  const so = it.step[0];
  let k = 0;
  const toBool = out.dtype === 'bool', toInt = out.dtype === 'int32';
  do for (let i = 0, q = it.off[0]; i < it.n; i++, q += so, k++) {
    const v = res[k];
    O[q] = toBool ? (v !== 0 ? 1 : 0) : toInt ? toInt32(v) : v;
  }
  while (it.next());
}

function unF32Contig(op: UnaryOp, X: F, xo: number, O: F, oo: number, n: number): void {
  switch (op) {
    case 'neg': for (let i = 0; i < n; i++) O[oo + i] = -X[xo + i]; return;
    case 'abs': for (let i = 0; i < n; i++) O[oo + i] = Math.abs(X[xo + i]); return;
    case 'sign': for (let i = 0; i < n; i++) O[oo + i] = Math.sign(X[xo + i]); return;
    case 'exp': for (let i = 0; i < n; i++) O[oo + i] = Math.exp(X[xo + i]); return;
    case 'expm1': for (let i = 0; i < n; i++) O[oo + i] = Math.expm1(X[xo + i]); return;
    case 'log': for (let i = 0; i < n; i++) O[oo + i] = Math.log(X[xo + i]); return;
    case 'log1p': for (let i = 0; i < n; i++) O[oo + i] = Math.log1p(X[xo + i]); return;
    case 'sqrt': for (let i = 0; i < n; i++) O[oo + i] = Math.sqrt(X[xo + i]); return;
    case 'rsqrt': for (let i = 0; i < n; i++) O[oo + i] = 1 / Math.sqrt(X[xo + i]); return;
    case 'square': for (let i = 0; i < n; i++) { const v = X[xo + i]; O[oo + i] = v * v; } return;
    case 'reciprocal': for (let i = 0; i < n; i++) O[oo + i] = 1 / X[xo + i]; return;
    case 'sin': for (let i = 0; i < n; i++) O[oo + i] = Math.sin(X[xo + i]); return;
    case 'cos': for (let i = 0; i < n; i++) O[oo + i] = Math.cos(X[xo + i]); return;
    case 'tanh': for (let i = 0; i < n; i++) O[oo + i] = Math.tanh(X[xo + i]); return;
    case 'sigmoid': for (let i = 0; i < n; i++) O[oo + i] = 1 / (1 + Math.exp(-X[xo + i])); return;
    case 'erf': for (let i = 0; i < n; i++) O[oo + i] = erf(X[xo + i]); return;
    case 'floor': for (let i = 0; i < n; i++) O[oo + i] = Math.floor(X[xo + i]); return;
    case 'ceil': for (let i = 0; i < n; i++) O[oo + i] = Math.ceil(X[xo + i]); return;
    case 'round': for (let i = 0; i < n; i++) O[oo + i] = roundHalfEven(X[xo + i]); return;
    case 'relu': for (let i = 0; i < n; i++) { const v = X[xo + i]; O[oo + i] = v < 0 ? 0 : v; } return;
    case 'not': for (let i = 0; i < n; i++) O[oo + i] = X[xo + i] === 0 ? 1 : 0; return;
  }
  throw new Error(`js backend: unknown unary op '${op as string}'`);
}

function unF32Strided(op: UnaryOp, X: F, ix: number, sx: number, O: F, io: number, so: number, n: number): void {
  switch (op) {
    case 'neg': for (let i = 0; i < n; i++, ix += sx, io += so) O[io] = -X[ix]; return;
    case 'abs': for (let i = 0; i < n; i++, ix += sx, io += so) O[io] = Math.abs(X[ix]); return;
    case 'sign': for (let i = 0; i < n; i++, ix += sx, io += so) O[io] = Math.sign(X[ix]); return;
    case 'exp': for (let i = 0; i < n; i++, ix += sx, io += so) O[io] = Math.exp(X[ix]); return;
    case 'expm1': for (let i = 0; i < n; i++, ix += sx, io += so) O[io] = Math.expm1(X[ix]); return;
    case 'log': for (let i = 0; i < n; i++, ix += sx, io += so) O[io] = Math.log(X[ix]); return;
    case 'log1p': for (let i = 0; i < n; i++, ix += sx, io += so) O[io] = Math.log1p(X[ix]); return;
    case 'sqrt': for (let i = 0; i < n; i++, ix += sx, io += so) O[io] = Math.sqrt(X[ix]); return;
    case 'rsqrt': for (let i = 0; i < n; i++, ix += sx, io += so) O[io] = 1 / Math.sqrt(X[ix]); return;
    case 'square': for (let i = 0; i < n; i++, ix += sx, io += so) { const v = X[ix]; O[io] = v * v; } return;
    case 'reciprocal': for (let i = 0; i < n; i++, ix += sx, io += so) O[io] = 1 / X[ix]; return;
    case 'sin': for (let i = 0; i < n; i++, ix += sx, io += so) O[io] = Math.sin(X[ix]); return;
    case 'cos': for (let i = 0; i < n; i++, ix += sx, io += so) O[io] = Math.cos(X[ix]); return;
    case 'tanh': for (let i = 0; i < n; i++, ix += sx, io += so) O[io] = Math.tanh(X[ix]); return;
    case 'sigmoid': for (let i = 0; i < n; i++, ix += sx, io += so) O[io] = 1 / (1 + Math.exp(-X[ix])); return;
    case 'erf': for (let i = 0; i < n; i++, ix += sx, io += so) O[io] = erf(X[ix]); return;
    case 'floor': for (let i = 0; i < n; i++, ix += sx, io += so) O[io] = Math.floor(X[ix]); return;
    case 'ceil': for (let i = 0; i < n; i++, ix += sx, io += so) O[io] = Math.ceil(X[ix]); return;
    case 'round': for (let i = 0; i < n; i++, ix += sx, io += so) O[io] = roundHalfEven(X[ix]); return;
    case 'relu': for (let i = 0; i < n; i++, ix += sx, io += so) { const v = X[ix]; O[io] = v < 0 ? 0 : v; } return;
    case 'not': for (let i = 0; i < n; i++, ix += sx, io += so) O[io] = X[ix] === 0 ? 1 : 0; return;
  }
  throw new Error(`js backend: unknown unary op '${op as string}'`);
}

function unIntStrided(
  op: UnaryOp, X: Int32Array | Uint8Array, ix: number, sx: number, O: Int32Array | Uint8Array, io: number, so: number, n: number,
): void {
  switch (op) {
    case 'neg': for (let i = 0; i < n; i++, ix += sx, io += so) O[io] = -X[ix]; return;
    case 'abs': for (let i = 0; i < n; i++, ix += sx, io += so) O[io] = Math.abs(X[ix]); return;
    case 'sign': for (let i = 0; i < n; i++, ix += sx, io += so) O[io] = Math.sign(X[ix]); return;
    case 'square': for (let i = 0; i < n; i++, ix += sx, io += so) O[io] = Math.imul(X[ix], X[ix]); return;
    case 'floor': case 'ceil': case 'round':
      for (let i = 0; i < n; i++, ix += sx, io += so) O[io] = X[ix];
      return;
    case 'relu': for (let i = 0; i < n; i++, ix += sx, io += so) { const v = X[ix]; O[io] = v < 0 ? 0 : v; } return;
    case 'not': for (let i = 0; i < n; i++, ix += sx, io += so) O[io] = X[ix] === 0 ? 1 : 0; return;
  }
  throw new Error(`js backend: unary op '${op}' has no integer form`);
}
