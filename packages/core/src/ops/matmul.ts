/**
 * Matrix products: batched matmul with NumPy semantics, and `linear` (the Dense layer's
 * matmul + bias + activation) that uses a backend's fused kernel when it has one.
 * @module
 */
import type { Activation } from '../backend/types.js';
import { ArgumentError, ShapeError } from '../errors.js';
import { fmtShape } from '../shape.js';
import { broadcastDims } from '../shape-unchecked.js';
import type { Tensor } from '../tensor.js';
import { gelu } from './activation.js';
import { add, relu, sigmoid, tanh } from './elementwise.js';
import { reshape, transpose } from './movement.js';
import { backendOf, broadcastView, expectDType, fusedKernel, input, live, output, record, recorded, releaseTemps } from './util.js';

/** Options of {@link matmul}. */
export interface MatmulOptions {
  /** Use the transpose of the last two axes of `a`. */
  transposeA?: boolean;
  /** Use the transpose of the last two axes of `b`. */
  transposeB?: boolean;
}

function swapLast(x: Tensor): Tensor {
  const p = x.shape.map((_, i) => i);
  p[p.length - 1] = p.length - 2;
  p[p.length - 2] = p.length - 1;
  return transpose(x, p);
}

/**
 * Matrix product with NumPy semantics: batch axes broadcast, a 1-D `a` is a row vector and a
 * 1-D `b` a column vector (that axis is dropped from the result).
 * @example matmul(zeros([2, 1, 3, 4]), zeros([5, 4, 2])).shape // [2, 5, 3, 2]
 */
export function matmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  live(a, 'matmul', 'a');
  live(b, 'matmul', 'b');
  backendOf('matmul', a, b);
  expectDType('matmul', a, ['float32'], 'a');
  expectDType('matmul', b, ['float32'], 'b');
  if (a.rank === 0 || b.rank === 0) throw new ShapeError('matmul', `operands must have rank >= 1, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
  const temps: Tensor[] = [];
  let A = a;
  let B = b;
  if (A.rank === 1) temps.push((A = reshape(A, [1, A.shape[0]!])));
  else if (opts.transposeA) temps.push((A = swapLast(A)));
  if (B.rank === 1) temps.push((B = reshape(B, [B.shape[0]!, 1])));
  else if (opts.transposeB) temps.push((B = swapLast(B)));
  try {
    let out = matmulCore(A, B, a, b);
    if (a.rank === 1 || b.rank === 1) {
      const shape = out.shape.slice();
      if (b.rank === 1) shape.splice(shape.length - 1, 1);
      if (a.rank === 1) shape.splice(shape.length - (b.rank === 1 ? 1 : 2), 1);
      const r = reshape(out, shape);
      out.dispose();
      out = r;
    }
    return out;
  } finally {
    for (const t of temps) t.dispose();
  }
}

/** a `[..., m, k]` @ b `[..., k, n]`, both rank ≥ 2, batch axes broadcast. Recorded as 'matmul'. */
function matmulCore(A: Tensor, B: Tensor, origA: Tensor, origB: Tensor): Tensor {
  const m = A.shape[A.rank - 2]!;
  const k = A.shape[A.rank - 1]!;
  const k2 = B.shape[B.rank - 2]!;
  const n = B.shape[B.rank - 1]!;
  if (k !== k2) {
    throw new ShapeError('matmul', `inner dimensions differ: ${fmtShape(origA.shape)} @ ${fmtShape(origB.shape)} (${k} vs ${k2} after transposes)`);
  }
  const batch = broadcastDims(A.shape.slice(0, -2), B.shape.slice(0, -2), 'matmul');
  const be = A.backend;
  const out = output(be, 'float32', [...batch, m, n]);
  if (out.size > 0) {
    if (k === 0) be.kernels.fill(out, 0);
    else be.kernels.matmul(input(broadcastView(A, [...batch, m, k]), be), input(broadcastView(B, [...batch, k, n]), be), out);
    releaseTemps();
  }
  record('matmul', [A, B], out);
  return out;
}

/**
 * Dot product of vectors, or matmul for higher ranks.
 * @example dot(tensor([1, 2]), tensor([3, 4])) // 11
 */
export function dot(a: Tensor, b: Tensor): Tensor {
  return matmul(a, b);
}

/**
 * `activation(x @ w + bias)` over the last axis of `x` (any leading axes are batch axes):
 * the Dense layer's computation, one fused kernel where the backend has `matmulFused`.
 * @example linear(x, kernel, bias, 'relu')
 */
export function linear(x: Tensor, w: Tensor, bias?: Tensor | null, activation: Activation = 'linear'): Tensor {
  live(x, 'linear', 'x');
  live(w, 'linear', 'w');
  if (bias) live(bias, 'linear', 'bias');
  if (!['linear', 'relu', 'sigmoid', 'tanh', 'gelu'].includes(activation)) {
    throw new ArgumentError('linear', `unknown activation '${String(activation)}' (expected linear, relu, sigmoid, tanh or gelu)`);
  }
  expectDType('linear', x, ['float32'], 'x');
  expectDType('linear', w, ['float32'], 'w');
  if (bias) expectDType('linear', bias, ['float32'], 'bias');
  if (w.rank !== 2 || x.rank < 1 || x.shape[x.rank - 1] !== w.shape[0]) {
    throw new ShapeError('linear', `x ${fmtShape(x.shape)} and w ${fmtShape(w.shape)} do not fit (expected w [${x.shape[x.rank - 1]}, units])`);
  }
  if (bias && (bias.rank !== 1 || bias.shape[0] !== w.shape[1])) {
    throw new ShapeError('linear', `bias ${fmtShape(bias.shape)} does not fit w ${fmtShape(w.shape)} (expected [${w.shape[1]}])`);
  }
  const inputs = bias ? [x, w, bias] : [x, w];
  return recorded('linear', inputs, { activation }, () => {
    const be = backendOf('linear', x, w, bias ?? undefined);
    const fused = fusedKernel(be, 'matmulFused');
    const flat = x.rank === 2 ? x : reshape(x, [-1, x.shape[x.rank - 1]!]);
    let y: Tensor;
    if (fused !== undefined && flat.shape[1]! > 0) {
      y = output(be, 'float32', [flat.shape[0]!, w.shape[1]!]);
      if (y.size > 0) fused.call(be.fused, input(flat, be), input(w, be), bias ? input(bias, be) : null, activation, y);
      releaseTemps();
    } else {
      const mm = matmul(flat, w);
      const biased = bias ? add(mm, bias) : mm;
      if (biased !== mm) mm.dispose();
      y = applyActivation(biased, activation);
      if (y !== biased) biased.dispose();
    }
    if (flat !== x) flat.dispose();
    if (x.rank === 2) return y;
    const r = reshape(y, [...x.shape.slice(0, -1), w.shape[1]!]);
    y.dispose();
    return r;
  });
}

/** The fused-epilogue activation by name, for linear's decomposition (`'linear'`: `x` itself). */
function applyActivation(x: Tensor, activation: Activation): Tensor {
  switch (activation) {
    case 'linear':
      return x;
    case 'relu':
      return relu(x);
    case 'sigmoid':
      return sigmoid(x);
    case 'tanh':
      return tanh(x);
    case 'gelu':
      return gelu(x);
    default:
      // linear() checked the name first; this is only reached if the Activation type grows.
      throw new ArgumentError('linear', `unknown activation '${String(activation)}'`);
  }
}
