/**
 * Keras string names for the optimizers.
 * @module
 */
import { ArgumentError } from '@tessera/core';
import type { Optimizer } from './optimizer.js';
import { Adadelta, Adagrad, Adam, Adamax, AdamW, Nadam, RMSprop, SGD } from './optimizers.js';

const COMMON = ['learningRate', 'clipNorm', 'clipValue', 'globalClipNorm', 'weightDecay'];

/** Each optimizer's constructor and option names (Keras snake_case keys map onto them). */
// Options are validated by each constructor.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const TABLE: Record<string, { make: (o: any) => Optimizer; options: string[] }> = {
  sgd: { make: (o) => new SGD(o), options: [...COMMON, 'momentum', 'nesterov'] },
  adam: { make: (o) => new Adam(o), options: [...COMMON, 'beta1', 'beta2', 'epsilon', 'amsgrad'] },
  adamw: { make: (o) => new AdamW(o), options: [...COMMON, 'beta1', 'beta2', 'epsilon', 'amsgrad'] },
  rmsprop: { make: (o) => new RMSprop(o), options: [...COMMON, 'rho', 'momentum', 'epsilon', 'centered'] },
  adagrad: { make: (o) => new Adagrad(o), options: [...COMMON, 'initialAccumulatorValue', 'epsilon'] },
  adadelta: { make: (o) => new Adadelta(o), options: [...COMMON, 'rho', 'epsilon'] },
  adamax: { make: (o) => new Adamax(o), options: [...COMMON, 'beta1', 'beta2', 'epsilon'] },
  nadam: { make: (o) => new Nadam(o), options: [...COMMON, 'beta1', 'beta2', 'epsilon'] },
};

/** Keys compare without case and underscores: `beta_1` = `beta1`, `global_clipnorm` = `globalClipNorm`. */
const norm = (k: string): string => k.replace(/_/g, '').toLowerCase();

/**
 * An optimizer by Keras name (`'sgd'`, `'adam'`, `'adamw'`, `'rmsprop'`, `'adagrad'`,
 * `'adadelta'`, `'adamax'`, `'nadam'`; case ignored) with Keras defaults, optionally configured
 * with camelCase or Keras snake_case keys. An Optimizer instance is returned unchanged.
 * @example
 * getOptimizer('adam');                                   // learning rate 0.001
 * getOptimizer('sgd', { learning_rate: 0.1, momentum: 0.9, nesterov: true });
 */
export function getOptimizer(nameOrOptimizer: string | Optimizer, config: Record<string, unknown> = {}): Optimizer {
  if (typeof nameOrOptimizer === 'object' && nameOrOptimizer !== null) return nameOrOptimizer;
  if (typeof nameOrOptimizer !== 'string') throw new ArgumentError('getOptimizer', `expected an optimizer name or instance, got ${typeof nameOrOptimizer}`);
  const entry = TABLE[norm(nameOrOptimizer)];
  if (entry === undefined) {
    throw new ArgumentError('getOptimizer', `unknown optimizer '${nameOrOptimizer}' (known: ${Object.keys(TABLE).join(', ')})`);
  }
  const byNorm = new Map(entry.options.map((o) => [norm(o), o]));
  const options: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) {
    if (k === 'name') continue;
    const key = byNorm.get(norm(k));
    if (key === undefined) {
      throw new ArgumentError('getOptimizer', `unknown option '${k}' for ${nameOrOptimizer} (options: ${entry.options.join(', ')})`);
    }
    options[key] = v;
  }
  return entry.make(options);
}

/** The names {@link getOptimizer} accepts. @example listOptimizers() // ['sgd', 'adam', ...] */
export function listOptimizers(): string[] {
  return Object.keys(TABLE);
}
