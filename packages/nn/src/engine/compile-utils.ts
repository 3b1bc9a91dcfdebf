/**
 * What `compile` resolves: losses (through `@tessera/losses`' `getLoss`), the optimizer
 * (through `@tessera/optim`' `getOptimizer`) and metrics, per model output; and how a loss
 * is applied with per-sample weights.
 * @module
 */
import type { Variable } from '@tessera/autograd';
import { getLoss, type LossFn as LossFnOf } from '@tessera/losses';
import { getOptimizer } from '@tessera/optim';
import { ArgumentError, div, mul, reshape, sum, type Tensor } from '@tessera/core';
import { getMetric, type Metric, type MetricIdentifier } from '../metrics.js';

/** A loss function: `(yTrue, yPred, opts?) => scalar` (mean over the batch by default), as in `@tessera/losses`. */
export type LossFn = LossFnOf;

/** A loss by Keras name (`'categorical_crossentropy'`, `'mse'`, …) or a function. */
export type LossIdentifier = string | LossFn;

/** The optimizer surface training uses (every `@tessera/optim` optimizer has it). */
export interface OptimizerLike {
  applyGradients(grads: Map<Variable, Tensor>): void;
  learningRate: number;
  readonly iterations?: number;
  getConfig?(): Record<string, unknown>;
  dispose?(): void;
}

/** An optimizer instance or a Keras name (`'adam'`, `'sgd'`, `'rmsprop'`, …). */
export type OptimizerIdentifier = string | OptimizerLike;

/** Options of `model.compile`. */
export interface CompileArgs {
  /** An optimizer instance (`adam({ learningRate: 1e-3 })`) or a name (`'adam'`). */
  optimizer: OptimizerIdentifier;
  /** One loss for every output, a list (one per output) or a map from output name to loss. */
  loss: LossIdentifier | readonly LossIdentifier[] | Record<string, LossIdentifier>;
  /** Metrics for every output, a list of lists (one per output) or a map by output name. */
  metrics?: readonly MetricIdentifier[] | readonly (readonly MetricIdentifier[])[] | Record<string, MetricIdentifier | readonly MetricIdentifier[]>;
  /** Weights of the outputs' losses in the total (default 1 each). */
  lossWeights?: readonly number[] | Record<string, number>;
}

/** `compile`'s arguments resolved per output. @internal */
export interface CompiledState {
  optimizer: OptimizerLike;
  /** Whether compile created the optimizer from a name (then the model disposes it). */
  ownsOptimizer: boolean;
  losses: LossFn[];
  lossNames: (string | null)[];
  lossWeights: number[];
  metrics: Metric[][];
  /** The arguments as given, for saving (null entries where a function cannot be saved). */
  config: Record<string, unknown>;
}

function perOutput<T>(what: string, value: T | readonly T[] | Record<string, T> | undefined, names: readonly string[], fallback: T, isItem: (v: unknown) => boolean): T[] {
  if (value === undefined) return names.map(() => fallback);
  if (isItem(value)) return names.map(() => value as T);
  if (Array.isArray(value)) {
    if (value.length !== names.length) throw new ArgumentError('compile', `${what} has ${value.length} entries but the model has ${names.length} output${names.length === 1 ? '' : 's'} (${names.join(', ')})`);
    return [...value];
  }
  if (value !== null && typeof value === 'object') {
    const rec = value as Record<string, T>;
    for (const k of Object.keys(rec)) if (!names.includes(k)) throw new ArgumentError('compile', `${what} names output '${k}', but the outputs are ${names.join(', ')}`);
    return names.map((n) => rec[n] ?? fallback);
  }
  throw new ArgumentError('compile', `${what} must be given per output as a list or a map by output name`);
}

/**
 * Resolves compile arguments against the model's output names.
 * @internal
 */
export function resolveCompile(args: CompileArgs, outputNames: readonly string[]): CompiledState {
  if (args === null || typeof args !== 'object') throw new ArgumentError('compile', 'expected { optimizer, loss, metrics? }');
  if (args.optimizer === undefined || args.optimizer === null) throw new ArgumentError('compile', 'an optimizer is required (e.g. "adam" or adam({ learningRate: 1e-3 }))');
  if (args.loss === undefined || args.loss === null) throw new ArgumentError('compile', 'a loss is required (e.g. "categorical_crossentropy")');
  const ownsOptimizer = typeof args.optimizer === 'string';
  const optimizer = getOptimizer(args.optimizer as never) as unknown as OptimizerLike;
  const isLoss = (v: unknown): boolean => typeof v === 'string' || typeof v === 'function';
  const lossIds = perOutput<LossIdentifier | null>('loss', args.loss as never, outputNames, null, isLoss);
  const losses = lossIds.map((id, i) => {
    if (id === null) throw new ArgumentError('compile', `no loss for output '${outputNames[i]}'`);
    return getLoss(id as never) as unknown as LossFn;
  });
  const weights = perOutput<number>('lossWeights', args.lossWeights as never, outputNames, 1, (v) => typeof v === 'number');
  const isMetricList = (v: unknown): boolean => Array.isArray(v) && v.every((m) => !Array.isArray(m));
  let metricIds: (readonly MetricIdentifier[])[];
  const m = args.metrics;
  if (m === undefined) metricIds = outputNames.map(() => []);
  else if (isMetricList(m) && !(outputNames.length > 1 && (m as unknown[]).length === outputNames.length && (m as unknown[]).every(Array.isArray))) {
    metricIds = outputNames.map(() => m as readonly MetricIdentifier[]);
  } else if (Array.isArray(m)) metricIds = perOutput('metrics', m as never, outputNames, [], () => false);
  else {
    const rec = m as Record<string, MetricIdentifier | readonly MetricIdentifier[]>;
    metricIds = perOutput('metrics', rec as never, outputNames, [], () => false).map((v) => (Array.isArray(v) ? v : [v as MetricIdentifier]));
  }
  const multi = outputNames.length > 1;
  const metrics = metricIds.map((ids, i) =>
    ids.map((id) => {
      const metric = getMetric(id);
      if (multi) metric.name = `${outputNames[i]}_${metric.name}`;
      return metric;
    }),
  );
  const names = new Set<string>();
  for (const ms of metrics) {
    for (const metric of ms) {
      let name = metric.name;
      for (let k = 1; names.has(name); k++) name = `${metric.name}_${k}`;
      metric.name = name;
      names.add(name);
    }
  }
  const config: Record<string, unknown> = {
    loss: lossIds.map((id) => (typeof id === 'string' ? id : null)),
    lossWeights: weights,
    metrics: metrics.map((ms) => ms.map((x) => x.serialize())),
    optimizer: typeof args.optimizer === 'string' ? { name: args.optimizer } : optimizerConfig(optimizer),
  };
  return { optimizer, ownsOptimizer, losses, lossNames: lossIds.map((id) => (typeof id === 'string' ? id : null)), lossWeights: weights, metrics, config };
}

/** The saved form of an optimizer instance, when it can describe itself. */
function optimizerConfig(opt: OptimizerLike): Record<string, unknown> | null {
  const c = typeof opt.getConfig === 'function' ? opt.getConfig() : null;
  return c === null ? null : { ...c };
}

/**
 * The loss of one output, optionally weighted per sample: Keras's `sum_over_batch_size`,
 * i.e. `sum(loss_i · w_i) / batch`.
 * @internal
 */
export function applyLoss(fn: LossFn, yTrue: Tensor, yPred: Tensor, sampleWeight: Tensor | null): Tensor {
  if (sampleWeight === null) return fn(yTrue, yPred);
  const per = fn(yTrue, yPred, { reduction: 'none' });
  if (per.rank === 0) {
    // A custom loss that ignores options: it already reduced, so weights cannot apply.
    warnOnce('a custom loss returned a scalar for { reduction: "none" }; sample and class weights are ignored for it');
    return per;
  }
  const w = per.rank === sampleWeight.rank ? sampleWeight : reshape(sampleWeight, [sampleWeight.shape[0]!, ...per.shape.slice(1).map(() => 1)]);
  const weighted = mul(per, w);
  const s = sum(weighted);
  const out = div(s, Math.max(1, per.size));
  for (const t of [per, weighted, s, ...(w !== sampleWeight ? [w] : [])]) t.dispose();
  return out;
}

const warned = new Set<string>();
function warnOnce(msg: string): void {
  if (warned.has(msg)) return;
  warned.add(msg);
  console.warn(`tessera nn: ${msg}`);
}
