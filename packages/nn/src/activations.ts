/**
 * Activation functions by their Keras names. `Dense` hands the ones a backend can fuse into
 * its matmul epilogue (`linear`, `relu`, `sigmoid`, `tanh`, `gelu`) to core `linear`.
 * @module
 */
import {
  ArgumentError,
  type Activation as FusedActivation,
  elu,
  exp,
  gelu,
  hardSigmoid,
  leakyRelu,
  logSoftmax,
  mul,
  relu,
  relu6,
  selu,
  sigmoid,
  silu,
  softmax,
  softplus,
  softsign,
  tanh,
  type Tensor,
} from '@tessera/core';

/** The activation names Tessera knows (Keras spellings; `swish` = `silu`). */
export type ActivationName =
  | 'linear'
  | 'relu'
  | 'relu6'
  | 'sigmoid'
  | 'tanh'
  | 'softmax'
  | 'log_softmax'
  | 'gelu'
  | 'gelu_tanh'
  | 'elu'
  | 'selu'
  | 'leaky_relu'
  | 'silu'
  | 'swish'
  | 'softplus'
  | 'softsign'
  | 'hard_sigmoid'
  | 'hard_silu'
  | 'hard_swish'
  | 'mish'
  | 'exponential';

/** An activation: a function of one tensor that returns a new tensor. */
export type ActivationFn = (x: Tensor) => Tensor;

/** A name from {@link ActivationName} or a function (functions cannot be saved). */
export type ActivationIdentifier = ActivationName | ActivationFn;

function composed(...steps: ActivationFn[]): ActivationFn {
  return (x) => {
    let y = x;
    for (const f of steps) {
      const next = f(y);
      if (y !== x) y.dispose();
      y = next;
    }
    return y;
  };
}

const TABLE: Record<ActivationName, ActivationFn> = {
  linear: (x) => x,
  relu,
  relu6,
  sigmoid,
  tanh,
  softmax: (x) => softmax(x, -1),
  log_softmax: (x) => logSoftmax(x, -1),
  gelu: (x) => gelu(x, false),
  gelu_tanh: (x) => gelu(x, true),
  elu: (x) => elu(x, 1),
  selu,
  leaky_relu: (x) => leakyRelu(x, 0.2),
  silu,
  swish: silu,
  softplus,
  softsign,
  hard_sigmoid: hardSigmoid,
  hard_silu: (x) => {
    const h = hardSigmoid(x);
    const y = mul(x, h);
    h.dispose();
    return y;
  },
  hard_swish: (x) => TABLE.hard_silu(x),
  mish: (x) => {
    const t = composed(softplus, tanh)(x);
    const y = mul(x, t);
    t.dispose();
    return y;
  },
  exponential: exp,
};

/** The activations core `linear` (and a backend's fused matmul) can apply itself. */
const FUSABLE: ReadonlySet<string> = new Set<FusedActivation>(['linear', 'relu', 'sigmoid', 'tanh', 'gelu']);

/**
 * The names of every built-in activation.
 * @example activationNames().includes('gelu') // true
 */
export function activationNames(): ActivationName[] {
  return Object.keys(TABLE) as ActivationName[];
}

/**
 * Resolves an activation name (or passes a function through). `null`/`undefined` mean
 * `linear`. Unknown names raise an ArgumentError listing the known ones.
 * @example const f = getActivation('relu'); const y = f(x);
 */
export function getActivation(id: ActivationIdentifier | null | undefined): ActivationFn {
  if (id === null || id === undefined) return TABLE.linear;
  if (typeof id === 'function') return id;
  const f = (TABLE as Record<string, ActivationFn>)[id];
  if (f === undefined) {
    throw new ArgumentError('getActivation', `unknown activation '${String(id)}' (expected one of ${activationNames().join(', ')})`);
  }
  return f;
}

/**
 * The fused-epilogue name of an activation, when core `linear` can apply it in the matmul
 * kernel; otherwise null.
 * @example fusableActivation('relu') // 'relu'; fusableActivation('softmax') // null
 */
export function fusableActivation(id: ActivationIdentifier | null | undefined): FusedActivation | null {
  if (id === null || id === undefined) return 'linear';
  return typeof id === 'string' && FUSABLE.has(id) ? (id as FusedActivation) : null;
}

/** The serialisable form of an activation identifier (functions become their name or 'custom'). */
export function serializeActivation(id: ActivationIdentifier | null | undefined): string {
  if (id === null || id === undefined) return 'linear';
  if (typeof id === 'string') return id;
  throw new ArgumentError('serializeActivation', `a custom activation function (${id.name || 'anonymous'}) cannot be saved; use a named activation or a custom layer`);
}
