/**
 * Loss functions as plain functions `(yTrue, yPred, options) => Tensor`, with Keras's
 * definitions (epsilon 1e-7 clipping, probability normalisation for categorical
 * cross-entropy, stable from-logits forms) and reductions.
 * @module
 */
import {
  abs,
  add,
  all,
  ArgumentError,
  cast,
  clip,
  div,
  DTypeError,
  equal,
  fmtShape,
  log,
  log1p,
  logicalOr,
  lessEqual,
  max,
  maximum,
  mean,
  mul,
  neg,
  oneHot,
  reshape,
  relu,
  rsqrt,
  ShapeError,
  softmaxCrossEntropy,
  softplus,
  square,
  sub,
  sum,
  exp,
  Tensor,
  tidy,
  where,
  zeros,
} from '@tessera/core';

/**
 * Keras's fuzz factor: probabilities are clipped to `[EPSILON, 1 - EPSILON]`.
 * @example clip(p, EPSILON, 1 - EPSILON)
 */
export const EPSILON = 1e-7;

/**
 * How per-sample losses become the result: `'mean'` (default) is Keras's
 * `sum_over_batch_size` — the sum of the (weighted) per-sample losses divided by their count;
 * `'sum'` their sum; `'none'` the per-sample losses themselves.
 * @example meanSquaredError(t, p, { reduction: 'none' }) // per-sample losses
 */
export type Reduction = 'mean' | 'sum' | 'none';

/**
 * Options every loss accepts.
 * @example meanSquaredError(t, p, { reduction: 'sum', sampleWeight: weights })
 */
export interface LossOptions {
  /** Default `'mean'` (Keras `sum_over_batch_size`). */
  reduction?: Reduction;
  /**
   * Per-sample weights: a number, or a tensor broadcastable to the per-sample losses (shape
   * `[batch]`, or `[batch, 1]`, or the full per-sample shape).
   */
  sampleWeight?: Tensor | number;
}

/**
 * Options of the cross-entropy losses.
 * @example binaryCrossentropy(t, logits, { fromLogits: true, labelSmoothing: 0.1 })
 */
export interface CrossentropyOptions extends LossOptions {
  /** `yPred` holds logits rather than probabilities. Default false. */
  fromLogits?: boolean;
  /** Label smoothing in [0, 1] (binary: towards 0.5; categorical: towards 1/classes). Default 0. */
  labelSmoothing?: number;
}

/**
 * Options of {@link huber}.
 * @example huber(t, p, { delta: 0.5 })
 */
export interface HuberOptions extends LossOptions {
  /** Where the loss turns from quadratic to linear. Default 1. */
  delta?: number;
}

/**
 * Options of {@link cosineSimilarity}.
 * @example cosineSimilarity(t, p, { axis: 1 })
 */
export interface CosineOptions extends LossOptions {
  /** The axis the vectors lie along. Default -1. */
  axis?: number;
}

/**
 * A loss function: `(yTrue, yPred, options?) => loss`.
 * @example const loss: LossFn = (t, p, o) => reduceLoss(mean(abs(sub(p, t)), -1), o)
 */
export type LossFn<O extends LossOptions = LossOptions> = (yTrue: Tensor, yPred: Tensor, options?: O) => Tensor;

function checkPair(op: string, yTrue: Tensor, yPred: Tensor): void {
  if (!(yTrue instanceof Tensor)) throw new ArgumentError(op, `yTrue must be a Tensor, got ${typeof yTrue}`);
  if (!(yPred instanceof Tensor)) throw new ArgumentError(op, `yPred must be a Tensor, got ${typeof yPred}`);
  yTrue.assertLive(op);
  yPred.assertLive(op);
  if (yPred.dtype !== 'float32') throw new DTypeError(op, `yPred has dtype ${yPred.dtype}; expected float32`);
}

/** float32 view of `x` (a no-op for float32, so the value stays connected to any tape). */
function f32(x: Tensor): Tensor {
  return x.dtype === 'float32' ? x : cast(x, 'float32');
}

/** Shapes of yTrue and yPred must be equal (Keras squeezes a trailing 1 off either side). */
function matchShapes(op: string, yTrue: Tensor, yPred: Tensor): Tensor {
  const a = yTrue.shape;
  const b = yPred.shape;
  if (a.length === b.length && a.every((d, i) => d === b[i])) return yTrue;
  if (a.length === b.length + 1 && a[a.length - 1] === 1 && b.every((d, i) => d === a[i])) return reshape(yTrue, b);
  if (b.length === a.length + 1 && b[b.length - 1] === 1 && a.every((d, i) => d === b[i])) return reshape(yTrue, b);
  throw new ShapeError(op, `yTrue ${fmtShape(a)} and yPred ${fmtShape(b)} must have the same shape`);
}

/**
 * Applies sample weights and the reduction to per-sample losses.
 * @example reduceLoss(perSample, { reduction: 'sum', sampleWeight: w })
 */
export function reduceLoss(perSample: Tensor, options: LossOptions = {}, op = 'loss'): Tensor {
  const reduction = options.reduction ?? 'mean';
  if (reduction !== 'mean' && reduction !== 'sum' && reduction !== 'none') {
    throw new ArgumentError(op, `reduction must be 'mean', 'sum' or 'none', got ${JSON.stringify(reduction)}`);
  }
  return tidy(() => {
    let l = perSample;
    const sw = options.sampleWeight;
    if (sw !== undefined && sw !== null) {
      if (typeof sw === 'number') l = mul(l, sw);
      else {
        if (!(sw instanceof Tensor)) throw new ArgumentError(op, `sampleWeight must be a Tensor or a number, got ${typeof sw}`);
        let w = f32(sw);
        if (w.rank === l.rank + 1 && w.shape[w.rank - 1] === 1) w = reshape(w, w.shape.slice(0, -1));
        // A [batch] weight against [batch, ...] losses weighs each sample.
        if (w.rank >= 1 && w.rank < l.rank && w.shape.every((d, i) => d === l.shape[i])) {
          w = reshape(w, [...w.shape, ...new Array<number>(l.rank - w.rank).fill(1)]);
        }
        try {
          l = mul(l, w);
        } catch (e) {
          throw new ShapeError(op, `sampleWeight ${fmtShape(sw.shape)} does not fit the per-sample losses ${fmtShape(perSample.shape)}`);
        }
      }
    }
    if (reduction === 'none') return l;
    if (reduction === 'sum') return sum(l);
    if (l.size === 0) return zeros([]);
    return div(sum(l), l.size);
  });
}

function lossOf<O extends LossOptions>(op: string, perSample: (yTrue: Tensor, yPred: Tensor, o: O) => Tensor): LossFn<O> {
  return (yTrue: Tensor, yPred: Tensor, options?: O): Tensor => {
    checkPair(op, yTrue, yPred);
    const o = (options ?? {}) as O;
    return tidy(() => reduceLoss(perSample(yTrue, yPred, o), o, op));
  };
}

function smoothBinary(y: Tensor, ls: number | undefined): Tensor {
  if (!ls) return y;
  if (!(ls >= 0 && ls <= 1)) throw new ArgumentError('binaryCrossentropy', `labelSmoothing must be in [0, 1], got ${ls}`);
  return add(mul(y, 1 - ls), 0.5 * ls);
}

function smoothCategorical(y: Tensor, ls: number | undefined): Tensor {
  if (!ls) return y;
  if (!(ls >= 0 && ls <= 1)) throw new ArgumentError('categoricalCrossentropy', `labelSmoothing must be in [0, 1], got ${ls}`);
  const classes = y.shape[y.rank - 1]!;
  return add(mul(y, 1 - ls), ls / classes);
}

/**
 * Mean squared error over the last axis: `mean((yPred - yTrue)^2, -1)`.
 * @example meanSquaredError(tensor([[0, 1]]), tensor([[1, 1]])) // 0.5
 */
export const meanSquaredError: LossFn = lossOf('meanSquaredError', (t, p) => mean(square(sub(p, f32(matchShapes('meanSquaredError', t, p)))), -1));

/**
 * Mean absolute error over the last axis: `mean(|yPred - yTrue|, -1)`.
 * @example meanAbsoluteError(tensor([[0, 1]]), tensor([[1, 1]])) // 0.5
 */
export const meanAbsoluteError: LossFn = lossOf('meanAbsoluteError', (t, p) => mean(abs(sub(p, f32(matchShapes('meanAbsoluteError', t, p)))), -1));

/**
 * Mean absolute percentage error: `100 · mean(|yTrue - yPred| / max(|yTrue|, 1e-7), -1)`.
 * @example meanAbsolutePercentageError(tensor([[2, 4]]), tensor([[1, 4]])) // 25
 */
export const meanAbsolutePercentageError: LossFn = lossOf('meanAbsolutePercentageError', (t, p) => {
  const y = f32(matchShapes('meanAbsolutePercentageError', t, p));
  return mul(mean(abs(div(sub(y, p), maximum(abs(y), EPSILON))), -1), 100);
});

/**
 * Mean squared logarithmic error: `mean((log(max(yPred, 1e-7) + 1) - log(max(yTrue, 1e-7) + 1))^2, -1)`.
 * @example meanSquaredLogarithmicError(yTrue, yPred)
 */
export const meanSquaredLogarithmicError: LossFn = lossOf('meanSquaredLogarithmicError', (t, p) => {
  const y = f32(matchShapes('meanSquaredLogarithmicError', t, p));
  return mean(square(sub(log1p(maximum(p, EPSILON)), log1p(maximum(y, EPSILON)))), -1);
});

/**
 * Huber loss over the last axis: `0.5 e^2` where `|e| <= delta`, else `delta (|e| - delta/2)`.
 * @example huber(yTrue, yPred, { delta: 1 })
 */
export const huber: LossFn<HuberOptions> = lossOf<HuberOptions>('huber', (t, p, o) => {
  const delta = o.delta ?? 1;
  if (!(delta > 0)) throw new ArgumentError('huber', `delta must be > 0, got ${delta}`);
  const e = sub(p, f32(matchShapes('huber', t, p)));
  const a = abs(e);
  return mean(where(lessEqual(a, delta), mul(square(e), 0.5), mul(sub(a, delta / 2), delta)), -1);
});

/**
 * Logarithm of the hyperbolic cosine of the error, stable for large errors:
 * `mean(e + softplus(-2e) - log 2, -1)`.
 * @example logCosh(yTrue, yPred)
 */
export const logCosh: LossFn = lossOf('logCosh', (t, p) => {
  const e = sub(p, f32(matchShapes('logCosh', t, p)));
  return mean(sub(add(e, softplus(mul(e, -2))), Math.LN2), -1);
});

/**
 * Binary cross-entropy, averaged over the last axis. Probabilities are clipped to
 * `[1e-7, 1 - 1e-7]`; with `fromLogits` the stable form `max(z, 0) - z·y + log(1 + e^-|z|)`.
 * @example binaryCrossentropy(labels, logits, { fromLogits: true })
 */
export const binaryCrossentropy: LossFn<CrossentropyOptions> = lossOf<CrossentropyOptions>('binaryCrossentropy', (t, p, o) => {
  const y = smoothBinary(f32(matchShapes('binaryCrossentropy', t, p)), o.labelSmoothing);
  if (o.fromLogits) {
    return mean(add(sub(relu(p), mul(p, y)), log1p(exp(neg(abs(p))))), -1);
  }
  const q = clip(p, EPSILON, 1 - EPSILON);
  const ll = add(mul(y, log(q)), mul(sub(1, y), log(sub(1, q))));
  return neg(mean(ll, -1));
});

function categoricalPerSample(op: string, y: Tensor, p: Tensor, o: CrossentropyOptions): Tensor {
  const labels = smoothCategorical(y, o.labelSmoothing);
  if (o.fromLogits) return softmaxCrossEntropy(p, labels);
  // Keras: rows are normalised to sum to 1, then clipped.
  const q = clip(div(p, sum(p, -1, true)), EPSILON, 1 - EPSILON);
  return neg(sum(mul(labels, log(q)), -1));
}

/**
 * Categorical cross-entropy over the last axis, against one-hot or soft targets. From
 * probabilities: rows normalised to sum 1 and clipped to `[1e-7, 1 - 1e-7]`; from logits: the
 * fused, stable `softmaxCrossEntropy`.
 * @example categoricalCrossentropy(oneHotLabels, logits, { fromLogits: true })
 */
export const categoricalCrossentropy: LossFn<CrossentropyOptions> = lossOf<CrossentropyOptions>('categoricalCrossentropy', (t, p, o) => {
  const op = 'categoricalCrossentropy';
  if (p.rank === 0) throw new ShapeError(op, 'yPred must have a class axis');
  const y = f32(t);
  if (y.rank !== p.rank || y.shape.some((d, i) => d !== p.shape[i])) {
    throw new ShapeError(op, `yTrue ${fmtShape(t.shape)} and yPred ${fmtShape(p.shape)} must have the same shape (use sparseCategoricalCrossentropy for integer labels)`);
  }
  return categoricalPerSample(op, y, p, o);
});

/**
 * Categorical cross-entropy against integer class labels (shape `yPred.shape[:-1]`, or with a
 * trailing 1); identical to {@link categoricalCrossentropy} with one-hot targets.
 * @example sparseCategoricalCrossentropy(tensor([2, 0], [2], 'int32'), logits, { fromLogits: true })
 */
export const sparseCategoricalCrossentropy: LossFn<CrossentropyOptions> = lossOf<CrossentropyOptions>('sparseCategoricalCrossentropy', (t, p, o) => {
  const op = 'sparseCategoricalCrossentropy';
  if (p.rank === 0) throw new ShapeError(op, 'yPred must have a class axis');
  let labels = t;
  const want = p.shape.slice(0, -1);
  if (labels.rank === want.length + 1 && labels.shape[labels.rank - 1] === 1) labels = reshape(labels, labels.shape.slice(0, -1));
  if (labels.rank !== want.length || labels.shape.some((d, i) => d !== want[i])) {
    throw new ShapeError(op, `labels ${fmtShape(t.shape)} do not fit yPred ${fmtShape(p.shape)} (expected ${fmtShape(want)})`);
  }
  if (labels.dtype !== 'int32') labels = cast(labels, 'int32');
  const y = oneHot(labels, p.shape[p.rank - 1]!);
  return categoricalPerSample(op, y, p, o);
});

/**
 * Kullback-Leibler divergence over the last axis: `sum(t · log(t / p))` with both clipped to
 * `[1e-7, 1]`.
 * @example kullbackLeiblerDivergence(targetProbs, predictedProbs)
 */
export const kullbackLeiblerDivergence: LossFn = lossOf('kullbackLeiblerDivergence', (t, p) => {
  const y = clip(f32(matchShapes('kullbackLeiblerDivergence', t, p)), EPSILON, 1);
  const q = clip(p, EPSILON, 1);
  return sum(mul(y, log(div(y, q))), -1);
});

/**
 * Negative cosine similarity along `axis` (default -1): `-sum(l2n(yTrue) · l2n(yPred))`, with
 * `l2n(v) = v / sqrt(max(sum(v^2), 1e-12))`; -1 is a perfect match.
 * @example cosineSimilarity(yTrue, yPred) // in [-1, 1]
 */
export const cosineSimilarity: LossFn<CosineOptions> = lossOf<CosineOptions>('cosineSimilarity', (t, p, o) => {
  const axis = o.axis ?? -1;
  const y = f32(matchShapes('cosineSimilarity', t, p));
  const l2n = (v: Tensor): Tensor => mul(v, rsqrt(maximum(sum(square(v), axis, true), 1e-12)));
  return neg(sum(mul(l2n(y), l2n(p)), axis));
});

/** Keras: labels that are all 0 or 1 become -1 or 1; others are taken as given. */
function hingeLabels(y: Tensor): Tensor {
  const binary = all(logicalOr(equal(y, 0), equal(y, 1)));
  return where(binary, sub(mul(y, 2), 1), y);
}

/**
 * Hinge loss: `mean(max(1 - yTrue · yPred, 0), -1)`; labels in {0, 1} are mapped to {-1, 1}.
 * @example hinge(tensor([[1, -1]]), tensor([[0.3, -2]]))
 */
export const hinge: LossFn = lossOf('hinge', (t, p) => {
  const y = hingeLabels(f32(matchShapes('hinge', t, p)));
  return mean(relu(sub(1, mul(y, p))), -1);
});

/**
 * Squared hinge loss: `mean(max(1 - yTrue · yPred, 0)^2, -1)` (labels as in {@link hinge}).
 * @example squaredHinge(labels, scores)
 */
export const squaredHinge: LossFn = lossOf('squaredHinge', (t, p) => {
  const y = hingeLabels(f32(matchShapes('squaredHinge', t, p)));
  return mean(square(relu(sub(1, mul(y, p)))), -1);
});

/**
 * Categorical hinge: `max(max((1 - t) · p) - sum(t · p) + 1, 0)` over the last axis.
 * @example categoricalHinge(oneHotLabels, scores)
 */
export const categoricalHinge: LossFn = lossOf('categoricalHinge', (t, p) => {
  const y = f32(matchShapes('categoricalHinge', t, p));
  const pos = sum(mul(y, p), -1);
  const negMax = max(mul(sub(1, y), p), -1);
  return relu(add(sub(negMax, pos), 1));
});

/**
 * Poisson loss: `mean(yPred - yTrue · log(yPred + 1e-7), -1)`.
 * @example poisson(counts, rates)
 */
export const poisson: LossFn = lossOf('poisson', (t, p) => {
  const y = f32(matchShapes('poisson', t, p));
  return mean(sub(p, mul(y, log(add(p, EPSILON)))), -1);
});
