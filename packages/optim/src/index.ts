/**
 * `@tessera/optim`: Keras's optimizers (update rules and defaults), gradient clipping,
 * learning-rate schedules and resumable state, over `@tessera/autograd` variables.
 *
 * @example
 * import { Adam } from '@tessera/optim';
 * const opt = new Adam({ learningRate: 1e-3, globalClipNorm: 1 });
 * const loss = opt.minimize(() => meanSquaredError(y, predict(x)));
 * @packageDocumentation
 */
export { Optimizer, type OptimizerOptions, type ParamGroup, type OptimizerState, type GradientsInput } from './optimizer.js';
export {
  SGD,
  Adam,
  AdamW,
  RMSprop,
  Adagrad,
  Adadelta,
  Adamax,
  Nadam,
  type SGDOptions,
  type AdamOptions,
  type RMSpropOptions,
  type AdagradOptions,
  type AdadeltaOptions,
} from './optimizers.js';
export {
  exponentialDecay,
  piecewiseConstant,
  cosineDecay,
  ReduceLROnPlateau,
  type LearningRateSchedule,
  type ExponentialDecayOptions,
  type PiecewiseConstantOptions,
  type CosineDecayOptions,
  type ReduceLROnPlateauOptions,
  type HasLearningRate,
} from './schedules.js';
export { getOptimizer, listOptimizers } from './registry.js';
export { sgd, adam, adamw, rmsprop, adagrad, adadelta, adamax, nadam } from './factories.js';
