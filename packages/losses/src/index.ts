/**
 * `@tessera/losses`: Keras's losses as plain functions `(yTrue, yPred, options) => Tensor`,
 * differentiable through `@tessera/autograd`, resolvable by Keras string names.
 *
 * @example
 * import { getLoss, categoricalCrossentropy } from '@tessera/losses';
 * const loss = categoricalCrossentropy(oneHot, logits, { fromLogits: true });
 * const same = getLoss('categorical_crossentropy')(oneHot, logits, { fromLogits: true });
 * @packageDocumentation
 */
export {
  EPSILON,
  reduceLoss,
  meanSquaredError,
  meanAbsoluteError,
  meanAbsolutePercentageError,
  meanSquaredLogarithmicError,
  huber,
  logCosh,
  binaryCrossentropy,
  categoricalCrossentropy,
  sparseCategoricalCrossentropy,
  kullbackLeiblerDivergence,
  cosineSimilarity,
  hinge,
  squaredHinge,
  categoricalHinge,
  poisson,
  type Reduction,
  type LossOptions,
  type CrossentropyOptions,
  type HuberOptions,
  type CosineOptions,
  type LossFn,
} from './losses.js';
export { getLoss, listLosses, withOptions } from './registry.js';
