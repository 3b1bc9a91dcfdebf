/**
 * Entry points of the remaining fused kernels — softmax cross-entropy, layer norm and the
 * in-place optimizer step — each with its reference decomposition for backends without one.
 * @module
 */
import type { OptimizerHyper, OptimizerKind } from '../backend/types.js';
import { engine } from '../engine.js';
import { ArgumentError, ShapeError } from '../errors.js';
import { fmtShape, shapesEqual } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { logSoftmax } from './activation.js';
import { add, div, mul, neg, rsqrt, sqrt, square, sub } from './elementwise.js';
import { mean, sum } from './reduce.js';
import { backendOf, expectDType, expectNumber, fusedKernel, input, live, recorded, releaseTemps, tryFused } from './util.js';

/**
 * Per-row cross-entropy of softmax(logits) against label probabilities, over the last axis:
 * `-Σ labels · logSoftmax(logits)`. Stable for any logits.
 * @example softmaxCrossEntropy(logits, oneHotLabels) // shape: logits' minus the last axis
 */
export function softmaxCrossEntropy(logits: Tensor, labels: Tensor): Tensor {
  live(logits, 'softmaxCrossEntropy', 'logits');
  live(labels, 'softmaxCrossEntropy', 'labels');
  backendOf('softmaxCrossEntropy', logits, labels);
  expectDType('softmaxCrossEntropy', logits, ['float32'], 'logits');
  expectDType('softmaxCrossEntropy', labels, ['float32'], 'labels');
  if (!shapesEqual(logits.shape, labels.shape) || logits.rank === 0) {
    throw new ShapeError('softmaxCrossEntropy', `logits ${fmtShape(logits.shape)} and labels ${fmtShape(labels.shape)} must have one shape of rank >= 1`);
  }
  return recorded('softmaxCrossEntropy', [logits, labels], {}, () => {
    const be = logits.backend;
    const fused = tryFused(be, 'softmaxCrossEntropy', logits.shape.slice(0, -1), (out) => be.fused.softmaxCrossEntropy!(input(logits, be), input(labels, be), out));
    if (fused) return fused;
    const ls = logSoftmax(logits);
    const p = mul(labels, ls);
    const s = sum(p, -1);
    const out = neg(s);
    for (const t of [ls, p, s]) t.dispose();
    return out;
  });
}

/**
 * Layer normalisation over the last axis: `(x − mean) / √(var + eps) · gamma + beta` with the
 * biased variance.
 * @example layerNorm(x, gamma, beta, 1e-5)
 */
export function layerNorm(x: Tensor, gamma: Tensor, beta: Tensor, epsilon = 1e-3): Tensor {
  live(x, 'layerNorm');
  live(gamma, 'layerNorm', 'gamma');
  live(beta, 'layerNorm', 'beta');
  backendOf('layerNorm', x, gamma, beta);
  expectDType('layerNorm', x, ['float32']);
  expectDType('layerNorm', gamma, ['float32'], 'gamma');
  expectDType('layerNorm', beta, ['float32'], 'beta');
  expectNumber('layerNorm', 'epsilon', epsilon);
  const d = x.shape[x.rank - 1];
  if (x.rank === 0 || gamma.rank !== 1 || beta.rank !== 1 || gamma.shape[0] !== d || beta.shape[0] !== d) {
    throw new ShapeError('layerNorm', `gamma ${fmtShape(gamma.shape)} and beta ${fmtShape(beta.shape)} must be [${d}] for x ${fmtShape(x.shape)}`);
  }
  if (!(epsilon >= 0)) throw new ArgumentError('layerNorm', `epsilon must be >= 0, got ${epsilon}`);
  return recorded('layerNorm', [x, gamma, beta], { epsilon }, () => {
    const be = x.backend;
    const fused = tryFused(be, 'layerNorm', x.shape, (out) => be.fused.layerNorm!(input(x, be), input(gamma, be), input(beta, be), epsilon, out));
    if (fused) return fused;
    const m = mean(x, -1, true);
    const c = sub(x, m);
    const sq = square(c);
    const v = mean(sq, -1, true);
    const ve = add(v, epsilon);
    const r = rsqrt(ve);
    const nrm = mul(c, r);
    const scaled = mul(nrm, gamma);
    const out = add(scaled, beta);
    for (const t of [m, c, sq, v, ve, r, nrm, scaled]) t.dispose();
    return out;
  });
}

/**
 * The one in-place op: updates each parameter tensor (and its optimizer state) from its
 * gradient, in one fused kernel where the backend has it. State per parameter: momentum and
 * nesterov `[v]`, adam `[m, v]`, sgd `[]`. Parameters and state must be contiguous float32.
 * @example optimizerStep('adam', [w], [dw], [[m, v]], { lr: 1e-3, step: 1 })
 */
export function optimizerStep(kind: OptimizerKind, params: readonly Tensor[], grads: readonly Tensor[], state: readonly (readonly Tensor[])[], hyper: OptimizerHyper): void {
  const op = 'optimizerStep';
  const want = { sgd: 0, momentum: 1, nesterov: 1, adam: 2 }[kind];
  if (want === undefined) throw new ArgumentError(op, `unknown kind '${String(kind)}' (expected sgd, momentum, nesterov or adam)`);
  if (params.length !== grads.length || params.length !== state.length) {
    throw new ArgumentError(op, `params (${params.length}), grads (${grads.length}) and state (${state.length}) must have one entry each`);
  }
  if (params.length === 0) return;
  live(params[0], op, 'params[0]');
  if (!(hyper.lr >= 0) || !(hyper.step >= 1)) throw new ArgumentError(op, `lr must be >= 0 and step >= 1, got lr ${hyper.lr}, step ${hyper.step}`);
  const be = params[0]!.backend;
  params.forEach((p, i) => {
    live(p, op, `params[${i}]`);
    live(grads[i], op, `grads[${i}]`);
    backendOf(op, params[0]!, p, grads[i]);
    expectDType(op, p, ['float32'], `params[${i}]`);
    expectDType(op, grads[i]!, ['float32'], `grads[${i}]`);
    if (!p.isContiguous) throw new ArgumentError(op, `params[${i}] must be contiguous`);
    if (!shapesEqual(p.shape, grads[i]!.shape)) throw new ShapeError(op, `grads[${i}] ${fmtShape(grads[i]!.shape)} does not match params[${i}] ${fmtShape(p.shape)}`);
    if (state[i]!.length !== want) throw new ArgumentError(op, `state[${i}] must hold ${want} tensors for ${kind}`);
    for (const s of state[i]!) {
      live(s, op, `state[${i}]`);
      expectDType(op, s, ['float32'], `state[${i}]`);
      if (!shapesEqual(s.shape, p.shape) || !s.isContiguous) throw new ShapeError(op, `state[${i}] tensors must be contiguous ${fmtShape(p.shape)}`);
    }
  });
  const fused = fusedKernel(be, 'optimizerStep');
  if (fused !== undefined) {
    fused.call(be.fused, kind, params.map((p) => p as Tensor), grads.map((g) => input(g, be)), state, hyper);
    releaseTemps();
    return;
  }
  const recorder = engine.recorder;
  engine.recorder = null;
  try {
    params.forEach((p, i) => stepOne(kind, p, grads[i]!, state[i]!, hyper));
  } finally {
    engine.recorder = recorder;
  }
}

/** Writes `value` into the storage of `target` (same shape, contiguous). */
function writeInto(target: Tensor, value: Tensor): void {
  target.backend.kernels.copy(value, target);
  value.dispose();
}

function stepOne(kind: OptimizerKind, p: Tensor, g: Tensor, st: readonly Tensor[], h: OptimizerHyper): void {
  const lr = h.lr;
  const temps: Tensor[] = [];
  const t = <T extends Tensor>(x: T): T => (temps.push(x), x);
  if (kind === 'sgd') {
    writeInto(p, sub(p, t(mul(g, lr))));
  } else if (kind === 'momentum' || kind === 'nesterov') {
    const m = h.momentum ?? 0;
    const v = sub(t(mul(st[0]!, m)), t(mul(g, lr)));
    const upd = kind === 'momentum' ? v : t(sub(t(mul(v, m)), t(mul(g, lr))));
    writeInto(p, add(p, upd));
    writeInto(st[0]!, v);
  } else {
    const b1 = h.beta1 ?? 0.9;
    const b2 = h.beta2 ?? 0.999;
    const eps = h.epsilon ?? 1e-7;
    const wd = h.weightDecay ?? 0;
    const base = wd > 0 ? t(sub(p, t(mul(p, lr * wd)))) : p;
    const m = add(t(mul(st[0]!, b1)), t(mul(g, 1 - b1)));
    const v = add(t(mul(st[1]!, b2)), t(mul(t(square(g)), 1 - b2)));
    const alpha = (lr * Math.sqrt(1 - b2 ** h.step)) / (1 - b1 ** h.step);
    const upd = t(div(t(mul(m, alpha)), t(add(t(sqrt(v)), eps))));
    writeInto(p, sub(base, upd));
    writeInto(st[0]!, m);
    writeInto(st[1]!, v);
  }
  for (const x of temps) x.dispose();
}
