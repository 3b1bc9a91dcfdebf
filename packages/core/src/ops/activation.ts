/**
 * Activation functions. Most are compositions of element-wise ops (so autograd
 * differentiates them for free); softmax and log-softmax use a backend's fused kernel when it
 * has one.
 * @module
 */
import { ArgumentError } from '../errors.js';
import { normAxis } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { abs, add, div, erf, exp, expm1, greater, isFinite, log as ln, log1p, minimum, mul, relu, sigmoid, sub, tanh, where } from './elementwise.js';
import { transpose } from './movement.js';
import { max, sum } from './reduce.js';
import { expectDType, expectNumber, input, live, recorded, tryFused } from './util.js';

/** Disposes the intermediates of a composition, returning its result. */
function chain(result: Tensor, ...temps: Tensor[]): Tensor {
  for (const t of temps) if (t !== result) t.dispose();
  return result;
}

/** min(max(x, 0), 6). @example relu6(tensor([-1, 3, 9])) // [0, 3, 6] */
export function relu6(x: Tensor): Tensor {
  const a = relu(x);
  return chain(minimum(a, 6), a);
}

/** x for x > 0, alpha·x otherwise (Keras 3 default alpha 0.2). @example leakyRelu(x, 0.1) */
export function leakyRelu(x: Tensor, alpha = 0.2): Tensor {
  live(x, 'leakyRelu');
  expectNumber('leakyRelu', 'alpha', alpha);
  const pos = greater(x, 0);
  const neg = mul(x, alpha);
  return chain(where(pos, x, neg), pos, neg);
}

/** x for x > 0, alpha·(eˣ − 1) otherwise. @example elu(x) */
export function elu(x: Tensor, alpha = 1): Tensor {
  live(x, 'elu');
  expectNumber('elu', 'alpha', alpha);
  const pos = greater(x, 0);
  const clipped = minimum(x, 0); // keeps expm1 finite on the branch where() discards
  const e = expm1(clipped);
  const neg = mul(e, alpha);
  return chain(where(pos, x, neg), pos, clipped, e, neg);
}

const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;

/** Scaled ELU with the self-normalising constants. @example selu(x) */
export function selu(x: Tensor): Tensor {
  const e = elu(x, SELU_ALPHA);
  return chain(mul(e, SELU_SCALE), e);
}

/**
 * Gaussian error linear unit: exact `x·Φ(x)` (erf), or the tanh approximation.
 * @example gelu(x); gelu(x, true)
 */
export function gelu(x: Tensor, approximate = false): Tensor {
  live(x, 'gelu');
  if (approximate) {
    const xx = mul(x, x);
    const x3 = mul(xx, x);
    const c = mul(x3, 0.044715);
    const inner = add(x, c);
    const scaled = mul(inner, Math.sqrt(2 / Math.PI));
    const t = tanh(scaled);
    const t1 = add(t, 1);
    const half = mul(t1, 0.5);
    return chain(mul(x, half), xx, x3, c, inner, scaled, t, t1, half);
  }
  const scaled = mul(x, Math.SQRT1_2);
  const e = erf(scaled);
  const e1 = add(e, 1);
  const half = mul(e1, 0.5);
  return chain(mul(x, half), scaled, e, e1, half);
}

/** x·sigmoid(x) (swish). @example silu(x) */
export function silu(x: Tensor): Tensor {
  const s = sigmoid(x);
  return chain(mul(x, s), s);
}

/** log(1 + eˣ), stable for large |x|. @example softplus(tensor([1000])) // [1000] */
export function softplus(x: Tensor): Tensor {
  live(x, 'softplus');
  const a = abs(x);
  const na = mul(a, -1);
  const e = exp(na);
  const l = log1p(e);
  const r = relu(x);
  return chain(add(r, l), a, na, e, l, r);
}

/** x / (1 + |x|). @example softsign(x) */
export function softsign(x: Tensor): Tensor {
  const a = abs(x);
  const d = add(a, 1);
  return chain(div(x, d), a, d);
}

/** Keras 3 hard sigmoid: relu6(x + 3) / 6. @example hardSigmoid(x) */
export function hardSigmoid(x: Tensor): Tensor {
  live(x, 'hardSigmoid');
  const a = add(x, 3);
  const r = relu6(a);
  return chain(div(r, 6), a, r);
}

function softmaxLike(x: Tensor, axis: number, log: boolean): Tensor {
  const name = log ? 'logSoftmax' : 'softmax';
  live(x, name);
  expectDType(name, x, ['float32']);
  if (x.rank === 0) throw new ArgumentError(name, 'x must have rank >= 1');
  const a = normAxis(axis, x.rank, name);
  if (a !== x.rank - 1) {
    const perm = x.shape.map((_, i) => i);
    perm[a] = x.rank - 1;
    perm[x.rank - 1] = a;
    const t = transpose(x, perm);
    const y = softmaxLike(t, -1, log);
    const back = transpose(y, perm);
    t.dispose();
    y.dispose();
    return back;
  }
  return recorded(name, [x], { axis: -1 }, () => {
    const be = x.backend;
    const fused = tryFused(be, 'softmax', x.shape, (out) => be.fused.softmax!(input(x, be), log, out));
    if (fused) return fused;
    // Shifted by the row max (0 where the max is ±Inf or NaN, so such rows propagate);
    // log-softmax is (x − shift) − log Σ, which keeps full precision at large |x|.
    const m = max(x, -1, true);
    const fin = isFinite(m);
    const shift = where(fin, m, 0);
    const d = sub(x, shift);
    const e = exp(d);
    const s = sum(e, -1, true);
    if (log) {
      const l = ln(s);
      return chain(sub(d, l), m, fin, shift, d, e, s, l);
    }
    return chain(div(e, s), m, fin, shift, d, e, s);
  });
}

/** Softmax along `axis` (default last). @example softmax(logits) */
export const softmax = (x: Tensor, axis = -1): Tensor => softmaxLike(x, axis, false);
/** Log-softmax along `axis` (default last), computed stably. @example logSoftmax(logits) */
export const logSoftmax = (x: Tensor, axis = -1): Tensor => softmaxLike(x, axis, true);

