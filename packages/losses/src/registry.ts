/**
 * Keras string names for the losses, and binding options to a loss.
 * @module
 */
import { ArgumentError, type Tensor } from '@tessera/core';
import {
  binaryCrossentropy,
  categoricalCrossentropy,
  categoricalHinge,
  cosineSimilarity,
  hinge,
  huber,
  kullbackLeiblerDivergence,
  logCosh,
  meanAbsoluteError,
  meanAbsolutePercentageError,
  meanSquaredError,
  meanSquaredLogarithmicError,
  poisson,
  sparseCategoricalCrossentropy,
  squaredHinge,
  type LossFn,
  type LossOptions,
} from './losses.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyLoss = LossFn<any>;

/** Canonical names (camelCase) and their Keras aliases. */
const TABLE: [AnyLoss, string[]][] = [
  [meanSquaredError, ['meanSquaredError', 'mse', 'MSE']],
  [meanAbsoluteError, ['meanAbsoluteError', 'mae', 'MAE']],
  [meanAbsolutePercentageError, ['meanAbsolutePercentageError', 'mape', 'MAPE']],
  [meanSquaredLogarithmicError, ['meanSquaredLogarithmicError', 'msle', 'MSLE']],
  [huber, ['huber', 'huberLoss']],
  [logCosh, ['logCosh', 'logcosh']],
  [binaryCrossentropy, ['binaryCrossentropy']],
  [categoricalCrossentropy, ['categoricalCrossentropy']],
  [sparseCategoricalCrossentropy, ['sparseCategoricalCrossentropy']],
  [kullbackLeiblerDivergence, ['kullbackLeiblerDivergence', 'klDivergence', 'kld', 'KLD', 'kl_divergence']],
  [cosineSimilarity, ['cosineSimilarity', 'cosine', 'cosineProximity']],
  [hinge, ['hinge']],
  [squaredHinge, ['squaredHinge']],
  [categoricalHinge, ['categoricalHinge']],
  [poisson, ['poisson']],
];

/** Names compare without case and underscores: `categorical_crossentropy` = `categoricalCrossentropy`. */
const norm = (name: string): string => name.replace(/_/g, '').toLowerCase();

const BY_NAME = new Map<string, AnyLoss>();
for (const [fn, names] of TABLE) for (const n of names) BY_NAME.set(norm(n), fn);

/**
 * Resolves a loss by Keras name (`'mse'`, `'categorical_crossentropy'`,
 * `'sparseCategoricalCrossentropy'`, …; case and underscores ignored), or returns a function
 * unchanged.
 * @example
 * const loss = getLoss('sparse_categorical_crossentropy');
 * loss(labels, probs);
 */
export function getLoss(nameOrFn: string | AnyLoss): AnyLoss {
  if (typeof nameOrFn === 'function') return nameOrFn;
  if (typeof nameOrFn !== 'string') throw new ArgumentError('getLoss', `expected a loss name or function, got ${typeof nameOrFn}`);
  const fn = BY_NAME.get(norm(nameOrFn));
  if (fn === undefined) {
    throw new ArgumentError('getLoss', `unknown loss '${nameOrFn}' (known: ${TABLE.map(([, n]) => n[0]).join(', ')}, and their snake_case names)`);
  }
  return fn;
}

/**
 * The names {@link getLoss} accepts (canonical camelCase first of each group).
 * @example listLosses().includes('huber') // true
 */
export function listLosses(): string[] {
  return TABLE.flatMap(([, names]) => names);
}

/**
 * A loss with some options fixed (per-call options still override them).
 * @example
 * const bceLogits = withOptions(binaryCrossentropy, { fromLogits: true });
 * bceLogits(labels, logits);
 */
export function withOptions<O extends LossOptions>(loss: LossFn<O>, defaults: O): LossFn<O> {
  return (yTrue: Tensor, yPred: Tensor, options?: O): Tensor => loss(yTrue, yPred, { ...defaults, ...(options ?? {}) } as O);
}
