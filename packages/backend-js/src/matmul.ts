/**
 * Batched matmul on strided views, and the fused `act(a @ b + bias)`.
 * @module
 */
import type { Activation, View } from '@tessera/core';
import { f32, hostView } from './storage.js';
import { collapse, isContiguous, offsetsOf } from './strided.js';
import { copy } from './elementwise.js';
import { gemm } from './gemm.js';
import { erf } from './math.js';

/**
 * Batched float32 matmul: `a` `[...batch, m, k]`, `b` `[...batch, k, n]` → `out`
 * `[...batch, m, n]`. Any strides (transposes, stride-0 batch broadcast). When `b` is shared
 * across the batch and `a`'s batch folds into its rows, the whole batch is one GEMM.
 *
 * @example
 * matmul(a, b, out);   // a = [[1, 2]], b = [[3], [4]]  →  out = [[11]]
 */
export function matmul(a: View, b: View, out: View): void {
  if (out.size === 0) return;
  if (!isContiguous(out)) {
    const tmp = hostView(new Float32Array(out.size), 'float32', out.shape);
    matmul(a, b, tmp);
    copy(tmp, out);
    return;
  }
  const r = out.shape.length;
  const m = out.shape[r - 2], n = out.shape[r - 1], k = a.shape[r - 1];
  const A = f32(a), B = f32(b), O = f32(out);
  const ars = a.strides[r - 2], acs = a.strides[r - 1];
  const brs = b.strides[r - 2], bcs = b.strides[r - 1];
  const batchShape = out.shape.slice(0, r - 2);
  let batch = 1;
  for (const d of batchShape) batch *= d;
  if (batch === 1) {
    gemm(m, n, k, A, a.offset, ars, acs, B, b.offset, brs, bcs, O, out.offset, n, false);
    return;
  }
  let bShared = true;
  for (let d = 0; d < r - 2; d++) if (batchShape[d] !== 1 && b.strides[d] !== 0) bShared = false;
  if (bShared) {
    const folded = collapse(out.shape.slice(0, r - 1), [a.strides.slice(0, r - 1)]);
    if (folded.shape.length === 1) {
      gemm(batch * m, n, k, A, a.offset, folded.strides[0][0], acs, B, b.offset, brs, bcs, O, out.offset, n, false);
      return;
    }
  }
  const aOff = offsetsOf(batchShape, a.strides.slice(0, r - 2), a.offset);
  const bOff = offsetsOf(batchShape, b.strides.slice(0, r - 2), b.offset);
  for (let i = 0; i < batch; i++) {
    gemm(m, n, k, A, aOff[i], ars, acs, B, bOff[i], brs, bcs, O, out.offset + i * m * n, n, false);
  }
}

/**
 * `out = act(a @ b + bias)`; `bias` (or null) is `[n]`; shapes as in {@link matmul}. `gelu`
 * is the exact erf form.
 *
 * @example
 * matmulFused(x, w, bias, 'relu', out);
 */
export function matmulFused(a: View, b: View, bias: View | null, activation: Activation, out: View): void {
  if (out.size === 0) return;
  if (!isContiguous(out)) {
    const tmp = hostView(new Float32Array(out.size), 'float32', out.shape);
    matmulFused(a, b, bias, activation, tmp);
    copy(tmp, out);
    return;
  }
  matmul(a, b, out);
  const O = f32(out);
  const n = out.shape[out.shape.length - 1];
  const o0 = out.offset, total = out.size;
  if (bias !== null) {
    const Bi = f32(bias);
    const sb = bias.strides[bias.strides.length - 1] ?? 0;
    for (let row = o0; row < o0 + total; row += n) {
      for (let j = 0, p = bias.offset; j < n; j++, p += sb) O[row + j] += Bi[p];
    }
  }
  applyActivation(activation, O, o0, total);
}

/**
 * Applies an activation in place to `n` contiguous elements from `o`.
 *
 * @example
 * applyActivation('relu', data, 0, data.length);
 */
export function applyActivation(act: Activation, O: Float32Array, o: number, n: number): void {
  const end = o + n;
  switch (act) {
    case 'linear': return;
    case 'relu': for (let i = o; i < end; i++) { const v = O[i]; if (v < 0) O[i] = 0; } return;
    case 'sigmoid': for (let i = o; i < end; i++) O[i] = 1 / (1 + Math.exp(-O[i])); return;
    case 'tanh': for (let i = o; i < end; i++) O[i] = Math.tanh(O[i]); return;
    case 'gelu': for (let i = o; i < end; i++) { const v = O[i]; O[i] = 0.5 * v * (1 + erf(v * Math.SQRT1_2)); } return;
  }
  throw new Error(`js backend: unknown activation '${act as string}'`);
}
