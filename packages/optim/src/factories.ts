/**
 * Lower-case factories, the Keras-style spelling of the optimizer classes:
 * `adam({ learningRate: 1e-3 })` is `new Adam({ learningRate: 1e-3 })`.
 * @module
 */
import {
  Adadelta, type AdadeltaOptions, Adagrad, type AdagradOptions, Adam, type AdamOptions, AdamW, Adamax, Nadam, RMSprop,
  type RMSpropOptions, SGD, type SGDOptions,
} from './optimizers.js';

/** Stochastic gradient descent (momentum, Nesterov). @example sgd({ learningRate: 0.1, momentum: 0.9 }) */
export const sgd = (options: SGDOptions = {}): SGD => new SGD(options);
/** Adam with Keras defaults (lr 0.001, eps 1e-7). @example adam() */
export const adam = (options: AdamOptions = {}): Adam => new Adam(options);
/** Adam with decoupled weight decay. @example adamw({ weightDecay: 0.004 }) */
export const adamw = (options: AdamOptions = {}): AdamW => new AdamW(options);
/** RMSprop (Keras form: epsilon inside the square root). @example rmsprop({ learningRate: 1e-3 }) */
export const rmsprop = (options: RMSpropOptions = {}): RMSprop => new RMSprop(options);
/** Adagrad (initial accumulator 0.1). @example adagrad() */
export const adagrad = (options: AdagradOptions = {}): Adagrad => new Adagrad(options);
/** Adadelta. @example adadelta() */
export const adadelta = (options: AdadeltaOptions = {}): Adadelta => new Adadelta(options);
/** Adamax. @example adamax() */
export const adamax = (options: Omit<AdamOptions, 'amsgrad'> = {}): Adamax => new Adamax(options);
/** Nadam. @example nadam() */
export const nadam = (options: Omit<AdamOptions, 'amsgrad'> = {}): Nadam => new Nadam(options);
