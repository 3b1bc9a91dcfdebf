/**
 * Weight regularizers (Keras `l1`, `l2`, `l1_l2`): each maps a weight to a scalar penalty
 * that `fit` adds to the training loss.
 * @module
 */
import { abs, ArgumentError, mul, square, sum, type Tensor } from '@tessera/core';
import type { SerializedObject } from './initializers.js';
import { accumulate } from './util.js';

/**
 * A penalty on a weight: `apply(w)` returns a scalar tensor added to the loss.
 * @example const penalty = regularizers.l2(0.01).apply(kernel);
 */
export abstract class Regularizer {
  /** The Keras class name, used in saved configs. */
  abstract readonly className: string;
  /** The scalar penalty of `x`. */
  abstract apply(x: Tensor): Tensor;
  /** The constructor options, for saving. */
  abstract getConfig(): Record<string, unknown>;
}

class L1L2 extends Regularizer {
  readonly className: string;
  constructor(
    readonly l1: number,
    readonly l2: number,
    className = 'L1L2',
  ) {
    super();
    this.className = className;
    for (const [k, v] of [['l1', l1], ['l2', l2]] as const) {
      if (typeof v !== 'number' || !(v >= 0) || !Number.isFinite(v)) throw new ArgumentError('regularizers', `${k} must be a finite number >= 0, got ${String(v)}`);
    }
  }
  apply(x: Tensor): Tensor {
    let total: Tensor | null = null;
    if (this.l1 > 0) {
      const a = abs(x);
      const s = sum(a);
      total = mul(s, this.l1);
      a.dispose();
      s.dispose();
    }
    if (this.l2 > 0) {
      const q = square(x);
      const s = sum(q);
      const p = mul(s, this.l2);
      q.dispose();
      s.dispose();
      total = accumulate(total, p);
    }
    if (total === null) {
      const s = sum(x);
      total = mul(s, 0);
      s.dispose();
    }
    return total;
  }
  getConfig(): Record<string, unknown> {
    if (this.className === 'L1') return { l1: this.l1 };
    if (this.className === 'L2') return { l2: this.l2 };
    return { l1: this.l1, l2: this.l2 };
  }
}

/** `l1 · Σ|w|` (Keras default 0.01). @example layers.dense({ units: 4, kernelRegularizer: regularizers.l1(1e-4) }) */
export const l1 = (l1 = 0.01): Regularizer => new L1L2(l1, 0, 'L1');
/** `l2 · Σw²` (Keras default 0.01). @example layers.dense({ units: 4, kernelRegularizer: regularizers.l2(1e-4) }) */
export const l2 = (l2 = 0.01): Regularizer => new L1L2(0, l2, 'L2');
/** `l1 · Σ|w| + l2 · Σw²` (Keras defaults 0.01 each). @example regularizers.l1l2({ l1: 1e-5, l2: 1e-4 }) */
export const l1l2 = (opts: { l1?: number; l2?: number } = {}): Regularizer => new L1L2(opts.l1 ?? 0.01, opts.l2 ?? 0.01);

/** A regularizer, a Keras name (`'l1'`, `'l2'`, `'l1_l2'`) or a saved config. */
export type RegularizerIdentifier = Regularizer | 'l1' | 'l2' | 'l1_l2' | 'l1l2' | SerializedObject;

/**
 * Resolves a regularizer from an instance, a name (Keras defaults) or a saved config.
 * @example getRegularizer('l2'); getRegularizer({ className: 'L2', config: { l2: 1e-4 } })
 */
export function getRegularizer(id: RegularizerIdentifier | null | undefined): Regularizer | null {
  if (id === null || id === undefined) return null;
  if (id instanceof Regularizer) return id;
  const name = typeof id === 'string' ? id : id.className;
  const c = (typeof id === 'string' ? {} : id.config) as { l1?: number; l2?: number };
  switch (String(name).toLowerCase().replace('_', '')) {
    case 'l1':
      return l1(c.l1);
    case 'l2':
      return l2(c.l2);
    case 'l1l2':
      return l1l2(c);
    default:
      throw new ArgumentError('getRegularizer', `unknown regularizer ${JSON.stringify(name)} (expected l1, l2 or l1_l2)`);
  }
}

/** The saved form of a regularizer. @example serializeRegularizer(l2(0.1)) // { className: 'L2', config: { l2: 0.1 } } */
export function serializeRegularizer(r: Regularizer | null): SerializedObject | null {
  return r === null ? null : { className: r.className, config: r.getConfig() };
}
