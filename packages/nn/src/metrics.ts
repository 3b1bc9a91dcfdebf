/**
 * Metrics with Keras names and semantics. A metric accumulates over batches in tensors
 * (`update` never reads from the device); `result()` returns a scalar tensor and is read
 * only when a log needs a number. `'accuracy'` picks binary, categorical or sparse
 * categorical accuracy from the shapes, like Keras.
 * @module
 */
import {
  abs,
  add,
  argmax,
  ArgumentError,
  cast,
  div,
  equal,
  greater,
  keep,
  matmul,
  mean,
  mul,
  reshape,
  ShapeError,
  slice,
  square,
  sub,
  sum,
  type Tensor,
  tensor,
  where,
} from '@tessera/core';
import { noGrad } from '@tessera/autograd';
import { fmtShapeN } from './util.js';

/** A scalar tensor accumulator that lives across tidy scopes (kept) and replaces itself. */
class Accumulator {
  private value: Tensor | null = null;
  add(v: Tensor): void {
    const next = this.value === null ? keep(add(v, 0)) : keep(add(this.value, v));
    this.value?.dispose();
    this.value = next;
  }
  get(): Tensor | null {
    return this.value;
  }
  reset(): void {
    this.value?.dispose();
    this.value = null;
  }
}

/**
 * Base class of metrics: `update(yTrue, yPred)` accumulates a batch, `result()` returns
 * the value so far as a scalar tensor (the caller disposes it), `reset()` starts over.
 * @example
 * const m = new metrics.Precision();
 * m.update(yTrue, yPred);
 * console.log(await m.result().data());
 */
export abstract class Metric {
  /** The key in training logs (`accuracy`, `val_accuracy`, …). */
  name: string;
  constructor(name: string) {
    this.name = name;
  }
  /** Accumulates one batch (no device reads). */
  abstract update(yTrue: Tensor, yPred: Tensor): void;
  /** The value over every batch since the last reset, as a scalar tensor. */
  abstract result(): Tensor;
  /** Forgets every batch. */
  abstract reset(): void;
  /** Frees the accumulators. */
  dispose(): void {
    this.reset();
  }
  /** The saved form: a Keras name where there is one. */
  serialize(): string | { className: string; config: Record<string, unknown> } {
    return this.name;
  }
}

/**
 * A per-sample function averaged over every sample seen (Keras MeanMetricWrapper).
 * @example const hits = new metrics.MeanMetric('hits', (t, p) => cast(equal(t, round(p)), 'float32'));
 */
export class MeanMetric extends Metric {
  private total = new Accumulator();
  private count = 0;
  constructor(
    name: string,
    /** Per-sample values `[batch]` (or any shape; every element counts as one sample). */
    readonly fn: (yTrue: Tensor, yPred: Tensor) => Tensor,
    private readonly savedAs: string = name,
  ) {
    super(name);
  }
  update(yTrue: Tensor, yPred: Tensor): void {
    noGrad(() => {
      const v = this.fn(yTrue, yPred);
      const s = sum(v);
      this.total.add(s);
      this.count += v.size;
      v.dispose();
      s.dispose();
    });
  }
  result(): Tensor {
    const t = this.total.get();
    return t === null ? tensor(0) : div(t, Math.max(this.count, 1));
  }
  reset(): void {
    this.total.reset();
    this.count = 0;
  }
  override serialize(): string {
    return this.savedAs;
  }
}

function checkSameRank(op: string, yTrue: Tensor, yPred: Tensor): void {
  if (yTrue.rank !== yPred.rank) throw new ShapeError(op, `y_true ${fmtShapeN(yTrue.shape)} and y_pred ${fmtShapeN(yPred.shape)} must have the same rank`);
}

/** 1 where (yPred > threshold) equals yTrue, per element, averaged over the last axis. @example metrics.binaryAccuracyValues(yTrue, yPred) // [batch] */
export function binaryAccuracyValues(yTrue: Tensor, yPred: Tensor, threshold = 0.5): Tensor {
  const p = greater(yPred, threshold);
  const pf = cast(p, 'float32');
  const tf = yTrue.dtype === 'float32' ? yTrue : cast(yTrue, 'float32');
  const eq = equal(pf, tf);
  const f = cast(eq, 'float32');
  const m = yPred.rank > 1 ? mean(f, -1) : f;
  for (const t of [p, pf, eq, ...(f !== m ? [f] : []), ...(tf !== yTrue ? [tf] : [])]) t.dispose();
  return m;
}

/** 1 where argmax(yTrue) equals argmax(yPred) (one-hot targets), per sample. @example metrics.categoricalAccuracyValues(oneHot, probs) // [batch] */
export function categoricalAccuracyValues(yTrue: Tensor, yPred: Tensor): Tensor {
  checkSameRank('categoricalAccuracy', yTrue, yPred);
  const a = argmax(yTrue, -1);
  const b = argmax(yPred, -1);
  const eq = equal(a, b);
  const f = cast(eq, 'float32');
  for (const t of [a, b, eq]) t.dispose();
  return f;
}

/** 1 where the integer label equals argmax(yPred), per sample (labels `[batch]` or `[batch, 1]`). @example metrics.sparseCategoricalAccuracyValues(labels, probs) // [batch] */
export function sparseCategoricalAccuracyValues(yTrue: Tensor, yPred: Tensor): Tensor {
  const labels = yTrue.rank === yPred.rank && yTrue.shape[yTrue.rank - 1] === 1 ? reshape(yTrue, yTrue.shape.slice(0, -1)) : yTrue;
  const li = labels.dtype === 'int32' ? labels : cast(labels, 'int32');
  const b = argmax(yPred, -1);
  const eq = equal(li, b);
  const f = cast(eq, 'float32');
  for (const t of [b, eq, ...(li !== labels ? [li] : []), ...(labels !== yTrue ? [labels] : [])]) t.dispose();
  return f;
}

function meanAbsoluteErrorValues(yTrue: Tensor, yPred: Tensor): Tensor {
  const tf = yTrue.dtype === 'float32' ? yTrue : cast(yTrue, 'float32');
  const d = sub(yPred, tf);
  const a = abs(d);
  const m = yPred.rank > 1 ? mean(a, -1) : a;
  for (const t of [d, ...(a !== m ? [a] : []), ...(tf !== yTrue ? [tf] : [])]) t.dispose();
  return m;
}

function meanSquaredErrorValues(yTrue: Tensor, yPred: Tensor): Tensor {
  const tf = yTrue.dtype === 'float32' ? yTrue : cast(yTrue, 'float32');
  const d = sub(yPred, tf);
  const q = square(d);
  const m = yPred.rank > 1 ? mean(q, -1) : q;
  for (const t of [d, ...(q !== m ? [q] : []), ...(tf !== yTrue ? [tf] : [])]) t.dispose();
  return m;
}

/**
 * Keras `accuracy`: binary accuracy when predictions have one column, sparse categorical
 * when the targets are integer labels (one rank less, or a last axis of 1 against several
 * classes), categorical otherwise. Decided on the first batch.
 * @example model.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] })
 */
export class Accuracy extends Metric {
  private inner: MeanMetric | null = null;
  private readonly savedAs: string;
  constructor(name = 'accuracy') {
    super(name);
    this.savedAs = name === 'acc' ? 'acc' : 'accuracy';
  }
  /** Which accuracy `'accuracy'` resolved to (null before the first batch). */
  get kind(): 'binary' | 'categorical' | 'sparse_categorical' | null {
    return this.inner === null ? null : (this.inner.serialize() as 'binary');
  }
  update(yTrue: Tensor, yPred: Tensor): void {
    if (this.inner === null) {
      const pLast = yPred.shape[yPred.rank - 1];
      const tLast = yTrue.shape[yTrue.rank - 1];
      if (yPred.rank === 0) throw new ShapeError('accuracy', 'predictions must have rank >= 1');
      if (pLast === 1 || yPred.rank === 1) this.inner = new MeanMetric(this.name, (a, b) => binaryAccuracyValues(a, b), 'binary');
      else if (yTrue.rank < yPred.rank || (tLast === 1 && (pLast ?? 0) > 1)) this.inner = new MeanMetric(this.name, sparseCategoricalAccuracyValues, 'sparse_categorical');
      else this.inner = new MeanMetric(this.name, categoricalAccuracyValues, 'categorical');
    }
    this.inner.update(yTrue, yPred);
  }
  result(): Tensor {
    return this.inner === null ? tensor(0) : this.inner.result();
  }
  reset(): void {
    this.inner?.reset();
  }
  override serialize(): string {
    return this.savedAs;
  }
}

/** Options of {@link Precision} and {@link Recall}. */
export interface ThresholdOptions {
  /** Prediction threshold (default 0.5). */
  threshold?: number;
  name?: string;
}

abstract class ConfusionMetric extends Metric {
  protected tp = new Accumulator();
  protected other = new Accumulator();
  readonly threshold: number;
  constructor(name: string, opts: ThresholdOptions) {
    super(opts.name ?? name);
    this.threshold = opts.threshold ?? 0.5;
  }
  /** Whether `other` counts false positives (precision) or false negatives (recall). */
  protected abstract readonly counts: 'fp' | 'fn';
  update(yTrue: Tensor, yPred: Tensor): void {
    noGrad(() => {
      const pos = greater(yPred, this.threshold);
      const pf = cast(pos, 'float32');
      const tf = yTrue.dtype === 'float32' ? yTrue : cast(yTrue, 'float32');
      const tp = mul(tf, pf);
      const tpSum = sum(tp);
      const o = this.counts === 'fp' ? sub(pf, tp) : sub(tf, tp);
      const oSum = sum(o);
      this.tp.add(tpSum);
      this.other.add(oSum);
      for (const t of [pos, pf, tp, tpSum, o, oSum, ...(tf !== yTrue ? [tf] : [])]) t.dispose();
    });
  }
  result(): Tensor {
    const tp = this.tp.get();
    const o = this.other.get();
    if (tp === null || o === null) return tensor(0);
    const d = add(tp, o);
    const pos = greater(d, 0);
    const safe = where(pos, d, 1);
    const q = div(tp, safe);
    const r = where(pos, q, 0);
    for (const t of [d, pos, safe, q]) t.dispose();
    return r;
  }
  reset(): void {
    this.tp.reset();
    this.other.reset();
  }
  override serialize(): { className: string; config: Record<string, unknown> } {
    return { className: this.counts === 'fp' ? 'Precision' : 'Recall', config: { threshold: this.threshold, name: this.name } };
  }
}

/**
 * Precision `tp / (tp + fp)` with predictions thresholded at 0.5 (every element counts).
 * @example model.compile({ ..., metrics: ['precision'] })
 */
export class Precision extends ConfusionMetric {
  protected readonly counts = 'fp' as const;
  constructor(opts: ThresholdOptions = {}) {
    super('precision', opts);
  }
}

/**
 * Recall `tp / (tp + fn)` with predictions thresholded at 0.5 (every element counts).
 * @example model.compile({ ..., metrics: [new metrics.Recall({ threshold: 0.3 })] })
 */
export class Recall extends ConfusionMetric {
  protected readonly counts = 'fn' as const;
  constructor(opts: ThresholdOptions = {}) {
    super('recall', opts);
  }
}

/** Options of {@link AUC}. */
export interface AUCOptions {
  /** Number of thresholds (default 200, as in Keras). */
  numThresholds?: number;
  name?: string;
}

/**
 * Area under the ROC curve, Keras-style: confusion counts at `numThresholds` evenly spaced
 * thresholds (plus ones just below 0 and above 1), trapezoidal sum.
 * @example model.compile({ optimizer: 'adam', loss: 'binary_crossentropy', metrics: ['auc'] })
 */
export class AUC extends Metric {
  readonly numThresholds: number;
  private tp = new Accumulator();
  private fp = new Accumulator();
  private pos = new Accumulator();
  private neg = new Accumulator();
  private thresholds: Tensor | null = null;
  constructor(opts: AUCOptions = {}) {
    super(opts.name ?? 'auc');
    this.numThresholds = opts.numThresholds ?? 200;
    if (!Number.isInteger(this.numThresholds) || this.numThresholds < 3) throw new ArgumentError('AUC', `numThresholds must be an integer >= 3, got ${this.numThresholds}`);
  }
  private thresholdTensor(): Tensor {
    if (this.thresholds === null) {
      const n = this.numThresholds;
      const eps = 1e-7;
      const values = new Float32Array(n);
      for (let i = 1; i < n - 1; i++) values[i] = i / (n - 1);
      values[0] = -eps;
      values[n - 1] = 1 + eps;
      this.thresholds = keep(tensor(values, [n, 1]));
    }
    return this.thresholds;
  }
  update(yTrue: Tensor, yPred: Tensor): void {
    noGrad(() => {
      const n = yPred.size;
      const p = reshape(yPred, [1, n]);
      const tf0 = yTrue.dtype === 'float32' ? yTrue : cast(yTrue, 'float32');
      const t = reshape(tf0, [n, 1]);
      const above = greater(p, this.thresholdTensor());
      const af = cast(above, 'float32');
      const tp = matmul(af, t);
      const negT = sub(1, t);
      const fp = matmul(af, negT);
      const ps = sum(t);
      const ns = sum(negT);
      this.tp.add(tp);
      this.fp.add(fp);
      this.pos.add(ps);
      this.neg.add(ns);
      for (const x of [p, t, above, af, tp, negT, fp, ps, ns, ...(tf0 !== yTrue ? [tf0] : [])]) x.dispose();
    });
  }
  result(): Tensor {
    const tp = this.tp.get();
    if (tp === null) return tensor(0);
    const n = this.numThresholds;
    const temps: Tensor[] = [];
    const k = (x: Tensor): Tensor => (temps.push(x), x);
    const safe = (num: Tensor, den: Tensor): Tensor => {
      const ok = k(greater(den, 0));
      return k(where(ok, k(div(num, k(where(ok, den, 1)))), 0));
    };
    const tpr = k(reshape(safe(tp, this.pos.get()!), [n]));
    const fpr = k(reshape(safe(this.fp.get()!, this.neg.get()!), [n]));
    const dx = k(sub(k(slice(fpr, [0], [n - 1])), k(slice(fpr, [1], [n - 1]))));
    const hy = k(mul(k(add(k(slice(tpr, [0], [n - 1])), k(slice(tpr, [1], [n - 1])))), 0.5));
    const out = sum(k(mul(dx, hy)));
    for (const x of temps) x.dispose();
    return out;
  }
  reset(): void {
    for (const a of [this.tp, this.fp, this.pos, this.neg]) a.reset();
  }
  override dispose(): void {
    this.reset();
    this.thresholds?.dispose();
    this.thresholds = null;
  }
  override serialize(): { className: string; config: Record<string, unknown> } {
    return { className: 'AUC', config: { numThresholds: this.numThresholds, name: this.name } };
  }
}

/** Keras `binary_accuracy` (threshold 0.5). @example metrics.binaryAccuracy() */
export const binaryAccuracy = (opts: ThresholdOptions = {}): Metric =>
  new MeanMetric(opts.name ?? 'binary_accuracy', (a, b) => binaryAccuracyValues(a, b, opts.threshold ?? 0.5), 'binary_accuracy');
/** Keras `categorical_accuracy` (one-hot targets). @example metrics.categoricalAccuracy() */
export const categoricalAccuracy = (opts: { name?: string } = {}): Metric => new MeanMetric(opts.name ?? 'categorical_accuracy', categoricalAccuracyValues, 'categorical_accuracy');
/** Keras `sparse_categorical_accuracy` (integer labels). @example metrics.sparseCategoricalAccuracy() */
export const sparseCategoricalAccuracy = (opts: { name?: string } = {}): Metric =>
  new MeanMetric(opts.name ?? 'sparse_categorical_accuracy', sparseCategoricalAccuracyValues, 'sparse_categorical_accuracy');
/** Mean absolute error over the last axis, averaged over samples. @example metrics.meanAbsoluteError() */
export const meanAbsoluteError = (opts: { name?: string } = {}): Metric => new MeanMetric(opts.name ?? 'mean_absolute_error', meanAbsoluteErrorValues, 'mae');
/** Mean squared error over the last axis, averaged over samples. @example metrics.meanSquaredError() */
export const meanSquaredError = (opts: { name?: string } = {}): Metric => new MeanMetric(opts.name ?? 'mean_squared_error', meanSquaredErrorValues, 'mse');
/** @example metrics.precision() */
export const precision = (opts: ThresholdOptions = {}): Metric => new Precision(opts);
/** @example metrics.recall() */
export const recall = (opts: ThresholdOptions = {}): Metric => new Recall(opts);
/** @example metrics.auc() */
export const auc = (opts: AUCOptions = {}): Metric => new AUC(opts);
/** @example metrics.accuracy() */
export const accuracy = (opts: { name?: string } = {}): Metric => new Accuracy(opts.name);

/** A metric instance, a Keras name (`'accuracy'`, `'mae'`, `'auc'`, …), a saved config, or a per-sample function. */
export type MetricIdentifier = Metric | string | ((yTrue: Tensor, yPred: Tensor) => Tensor) | { className: string; config: Record<string, unknown> };

/**
 * A fresh metric from an identifier. Strings keep their spelling as the log name
 * (`'acc'` logs as `acc`, `'mae'` as `mae`), as in Keras.
 * @example getMetric('accuracy'); getMetric('mse'); getMetric(new metrics.AUC())
 */
export function getMetric(id: MetricIdentifier): Metric {
  if (id instanceof Metric) return id;
  if (typeof id === 'function') return new MeanMetric(id.name || 'custom_metric', id, id.name || 'custom_metric');
  if (id !== null && typeof id === 'object' && typeof id.className === 'string') {
    const c = id.config ?? {};
    switch (id.className) {
      case 'Precision':
        return new Precision(c as ThresholdOptions);
      case 'Recall':
        return new Recall(c as ThresholdOptions);
      case 'AUC':
        return new AUC(c as AUCOptions);
      default:
        return getMetric(id.className);
    }
  }
  if (typeof id !== 'string') throw new ArgumentError('getMetric', `expected a metric name, instance or function, got ${JSON.stringify(id)}`);
  switch (id) {
    case 'accuracy':
    case 'acc':
      return new Accuracy(id);
    case 'binary_accuracy':
      return new MeanMetric(id, (a, b) => binaryAccuracyValues(a, b), id);
    case 'categorical_accuracy':
      return new MeanMetric(id, categoricalAccuracyValues, id);
    case 'sparse_categorical_accuracy':
      return new MeanMetric(id, sparseCategoricalAccuracyValues, id);
    case 'mae':
    case 'mean_absolute_error':
      return new MeanMetric(id, meanAbsoluteErrorValues, id);
    case 'mse':
    case 'mean_squared_error':
      return new MeanMetric(id, meanSquaredErrorValues, id);
    case 'precision':
      return new Precision();
    case 'recall':
      return new Recall();
    case 'auc':
      return new AUC();
    default:
      throw new ArgumentError(
        'getMetric',
        `unknown metric '${id}' (expected accuracy, acc, binary_accuracy, categorical_accuracy, sparse_categorical_accuracy, mae, mse, precision, recall, auc, a Metric or a function)`,
      );
  }
}
