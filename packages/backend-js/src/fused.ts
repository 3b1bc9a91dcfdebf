/**
 * Row-wise fused kernels over the last axis (softmax, softmax cross-entropy, layer norm) and
 * the in-place multi-tensor optimizer step. All accumulate in float64.
 * @module
 */
import type { OptimizerHyper, OptimizerKind, View } from '@tessera/core';
import { f32 } from './storage.js';
import { isContiguous, offsetsOf } from './strided.js';
import { materialize } from './elementwise.js';

let rowScratch = new Float64Array(256);

function rowBuffer(n: number): Float64Array {
  if (rowScratch.length < n) rowScratch = new Float64Array(Math.max(n, rowScratch.length * 2));
  return rowScratch;
}

/** Start offsets of every last-axis row of a view, the row length and the stride along it. */
function rowsOf(shape: readonly number[], strides: readonly number[], offset: number) {
  const r = shape.length;
  if (r === 0) return { rows: Int32Array.of(offset), n: 1, s: 0 };
  return { rows: offsetsOf(shape.slice(0, r - 1), strides.slice(0, r - 1), offset), n: shape[r - 1], s: strides[r - 1] };
}

/**
 * Softmax (or log-softmax when `log`) over the last axis, max-shifted.
 *
 * @example
 * softmax(x, false, out);   // x = [0, ln 3]  →  out = [0.25, 0.75]
 */
export function softmax(x: View, log: boolean, out: View): void {
  if (out.size === 0) return;
  const X = f32(x), O = f32(out);
  const xr = rowsOf(x.shape, x.strides, x.offset), or = rowsOf(out.shape, out.strides, out.offset);
  const n = xr.n, sx = xr.s, so = or.s;
  const e = rowBuffer(n);
  for (let r = 0; r < xr.rows.length; r++) {
    const p0 = xr.rows[r], q0 = or.rows[r];
    let max = -Infinity;
    for (let i = 0, p = p0; i < n; i++, p += sx) max = Math.max(max, X[p]);
    let sum = 0;
    for (let i = 0, p = p0; i < n; i++, p += sx) sum += e[i] = Math.exp(X[p] - max);
    if (log) {
      const ls = Math.log(sum);
      for (let i = 0, p = p0, q = q0; i < n; i++, p += sx, q += so) O[q] = X[p] - max - ls;
    } else {
      const inv = 1 / sum;
      for (let i = 0, q = q0; i < n; i++, q += so) O[q] = e[i] * inv;
    }
  }
}

/**
 * Per-row cross-entropy `out[r] = -Σ labels · logSoftmax(logits)` over the last axis; `out`
 * is logits' shape without the last axis.
 *
 * @example
 * softmaxCrossEntropy(logits, labels, out);   // logits = [[0, 0]], labels = [[1, 0]]  →  out = [ln 2]
 */
export function softmaxCrossEntropy(logits: View, labels: View, out: View): void {
  if (out.size === 0) return;
  const X = f32(logits), L = f32(labels), O = f32(out);
  const xr = rowsOf(logits.shape, logits.strides, logits.offset);
  const lr = rowsOf(labels.shape, labels.strides, labels.offset);
  const oRows = offsetsOf(out.shape, out.strides, out.offset);
  const n = xr.n, sx = xr.s, sl = lr.s;
  for (let r = 0; r < xr.rows.length; r++) {
    const p0 = xr.rows[r], l0 = lr.rows[r];
    let max = -Infinity;
    for (let i = 0, p = p0; i < n; i++, p += sx) max = Math.max(max, X[p]);
    let sum = 0;
    for (let i = 0, p = p0; i < n; i++, p += sx) sum += Math.exp(X[p] - max);
    const ls = Math.log(sum);
    let loss = 0;
    for (let i = 0, p = p0, l = l0; i < n; i++, p += sx, l += sl) loss -= L[l] * (X[p] - max - ls);
    O[oRows[r]] = loss;
  }
}

/** Strides that broadcast `v` (right-aligned) to a shape of rank `rank`. */
function broadcastStrides(v: View, rank: number): number[] {
  const s = new Array<number>(rank).fill(0);
  const lead = rank - v.shape.length;
  for (let d = 0; d < v.shape.length; d++) if (d + lead >= 0 && v.shape[d] !== 1) s[d + lead] = v.strides[d];
  return s;
}

/**
 * Layer norm over the last axis, biased variance:
 * `(x - mean) / √(var + epsilon) · gamma + beta`. gamma and beta are `[d]` (or anything that
 * broadcasts to x).
 *
 * @example
 * layerNorm(x, gamma, beta, 1e-5, out);   // x = [1, 3], gamma = [1, 1], beta = [0, 0]  →  ≈ [-1, 1]
 */
export function layerNorm(x: View, gamma: View, beta: View, epsilon: number, out: View): void {
  if (out.size === 0) return;
  const X = f32(x), G = f32(gamma), B = f32(beta), O = f32(out);
  const rank = x.shape.length;
  const xr = rowsOf(x.shape, x.strides, x.offset), or = rowsOf(out.shape, out.strides, out.offset);
  const gr = rowsOf(x.shape, broadcastStrides(gamma, rank), gamma.offset);
  const br = rowsOf(x.shape, broadcastStrides(beta, rank), beta.offset);
  const n = xr.n, sx = xr.s, so = or.s, sg = gr.s, sb = br.s;
  for (let r = 0; r < xr.rows.length; r++) {
    const p0 = xr.rows[r];
    let mean = 0;
    for (let i = 0, p = p0; i < n; i++, p += sx) mean += X[p];
    mean /= n;
    let v = 0;
    for (let i = 0, p = p0; i < n; i++, p += sx) {
      const d = X[p] - mean;
      v += d * d;
    }
    const inv = 1 / Math.sqrt(v / n + epsilon);
    for (let i = 0, p = p0, q = or.rows[r], g = gr.rows[r], b = br.rows[r]; i < n; i++, p += sx, q += so, g += sg, b += sb) {
      O[q] = (X[p] - mean) * inv * G[g] + B[b];
    }
  }
}

/**
 * In-place optimizer update of each contiguous `params[i]` and its `state[i]` from
 * `grads[i]`: `sgd` `p -= lr g`; `momentum` `v = m v - lr g; p += v`; `nesterov`
 * `v = m v - lr g; p += m v - lr g`; `adam` (Keras form, defaults β1 0.9, β2 0.999, ε 1e-7)
 * `m = β1 m + (1-β1) g; v = β2 v + (1-β2) g²; p -= lr √(1-β2ᵗ)/(1-β1ᵗ) · m / (√v + ε)`,
 * preceded by `p -= lr · weightDecay · p` when `weightDecay > 0`.
 *
 * @example
 * optimizerStep('adam', [w], [dw], [[m, v]], { lr: 1e-3, step: 1 });
 */
export function optimizerStep(
  kind: OptimizerKind,
  params: readonly View[],
  grads: readonly View[],
  state: readonly (readonly View[])[],
  hyper: OptimizerHyper,
): void {
  const lr = hyper.lr;
  for (let t = 0; t < params.length; t++) {
    const pv = params[t];
    const n = pv.size;
    if (n === 0) continue;
    if (!isContiguous(pv)) throw new Error('js backend: optimizerStep needs contiguous params');
    const P = f32(pv), po = pv.offset;
    const G = materialize(grads[t]) as Float32Array;
    switch (kind) {
      case 'sgd':
        for (let i = 0; i < n; i++) P[po + i] -= lr * G[i];
        break;
      case 'momentum':
      case 'nesterov': {
        const m = hyper.momentum ?? 0;
        const vv = state[t][0];
        const V = f32(vv), vo = vv.offset;
        if (kind === 'momentum') {
          for (let i = 0; i < n; i++) {
            const v = Math.fround(m * V[vo + i] - lr * G[i]);
            V[vo + i] = v;
            P[po + i] += v;
          }
        } else {
          for (let i = 0; i < n; i++) {
            const g = G[i];
            const v = Math.fround(m * V[vo + i] - lr * g);
            V[vo + i] = v;
            P[po + i] += m * v - lr * g;
          }
        }
        break;
      }
      case 'adam': {
        const b1 = hyper.beta1 ?? 0.9, b2 = hyper.beta2 ?? 0.999, eps = hyper.epsilon ?? 1e-7;
        const wd = hyper.weightDecay ?? 0;
        const step = hyper.step;
        const alpha = (lr * Math.sqrt(1 - Math.pow(b2, step))) / (1 - Math.pow(b1, step));
        const [mv, vv] = state[t];
        const M = f32(mv), V = f32(vv), mo = mv.offset, vo = vv.offset;
        const decay = wd > 0 ? lr * wd : 0;
        for (let i = 0; i < n; i++) {
          const g = G[i];
          let p = P[po + i];
          if (decay !== 0) p = Math.fround(p - decay * p);
          const m = Math.fround(b1 * M[mo + i] + (1 - b1) * g);
          const v = Math.fround(b2 * V[vo + i] + (1 - b2) * g * g);
          M[mo + i] = m;
          V[vo + i] = v;
          P[po + i] = p - (alpha * m) / (Math.sqrt(v) + eps);
        }
        break;
      }
      default:
        throw new Error(`js backend: unknown optimizer '${kind as string}'`);
    }
  }
}
