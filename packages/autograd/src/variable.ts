/**
 * Variables: named, mutable holders of a tensor that optimizers update and `variableGrads`
 * differentiates with respect to.
 * @module
 */
import { ArgumentError, cast, contiguous, DTypeError, fmtShape, keep, ShapeError, Tensor, type DType } from '@tessera/core';
import { pausedTapes } from './tape.js';

/**
 * Options of {@link variable}.
 * @example variable(zeros([3]), { name: 'bias', trainable: false })
 */
export interface VariableOptions {
  /** Whether `variableGrads` (without an explicit list) and optimizers see it. Default true. */
  trainable?: boolean;
  /** A name; made unique among live variables by appending `_1`, `_2`, … Default `variable`. */
  name?: string;
  /** Converts the initial value to this dtype. Default: the initial value's dtype. */
  dtype?: DType;
}

const live = new Set<Variable>();
const names = new Map<string, number>();
let counter = 0;

function uniqueName(base: string): string {
  const taken = new Set([...live].map((v) => v.name));
  if (!taken.has(base)) return base;
  let n = names.get(base) ?? 0;
  let name: string;
  do name = `${base}_${++n}`;
  while (taken.has(name));
  names.set(base, n);
  return name;
}

/**
 * A mutable, named holder of a tensor. `value` is a tensor the variable owns (contiguous, safe
 * from `tidy`); optimizers update it in place or through {@link Variable.assign}.
 * @example
 * const w = variable(randomNormal([3, 2]), { name: 'kernel' });
 * w.assign(zeros([3, 2]));
 * w.dispose();
 */
export class Variable {
  /** Unique among live variables. */
  readonly name: string;
  /** Whether default `variableGrads` calls and optimizers update it (settable, e.g. to freeze a layer). */
  trainable: boolean;
  /** A process-unique number (creation order). */
  readonly id: number;
  private current: Tensor;

  /** @internal Use {@link variable}. */
  constructor(init: Tensor, options: VariableOptions = {}) {
    if (!(init instanceof Tensor)) throw new ArgumentError('variable', `init must be a Tensor, got ${typeof init}`);
    init.assertLive('variable');
    this.id = ++counter;
    this.name = uniqueName(options.name ?? 'variable');
    this.trainable = options.trainable ?? true;
    const dtype = options.dtype ?? init.dtype;
    this.current = pausedTapes(() => keep(init.dtype === dtype ? contiguous(init) : cast(init, dtype)));
    live.add(this);
  }

  /** The current value (owned by the variable: do not dispose it). */
  get value(): Tensor {
    return this.current;
  }

  get shape(): readonly number[] {
    return this.current.shape;
  }

  get dtype(): DType {
    return this.current.dtype;
  }

  get isDisposed(): boolean {
    return this.current.isDisposed;
  }

  /**
   * Replaces the value with a copy of `t` (same shape and dtype). `t` stays the caller's.
   * @example v.assign(sub(v.value, mul(g, 0.1)));
   */
  assign(t: Tensor): void {
    this.current.assertLive(`assign (${this.name})`);
    if (!(t instanceof Tensor)) throw new ArgumentError('assign', `expected a Tensor, got ${typeof t}`);
    t.assertLive('assign');
    if (t.dtype !== this.current.dtype) {
      throw new DTypeError('assign', `variable '${this.name}' is ${this.current.dtype}, got a ${t.dtype} value`);
    }
    if (t.shape.length !== this.current.shape.length || t.shape.some((d, i) => d !== this.current.shape[i])) {
      throw new ShapeError('assign', `variable '${this.name}' has shape ${fmtShape(this.current.shape)}, got ${fmtShape(t.shape)}`);
    }
    const next = pausedTapes(() => keep(contiguous(t)));
    this.current.dispose();
    this.current = next;
  }

  /** Frees the value and forgets the variable. Safe to call twice. */
  dispose(): void {
    this.current.dispose();
    live.delete(this);
  }

  toString(): string {
    return `Variable '${this.name}' ${this.current.dtype} ${fmtShape(this.current.shape)}${this.trainable ? '' : ' (frozen)'}`;
  }
}

/**
 * Creates a {@link Variable} holding a copy of `init`.
 * @example
 * const b = variable(zeros([10]), { name: 'bias' });
 * const frozen = variable(ones([2]), { trainable: false });
 */
export function variable(init: Tensor, options: VariableOptions = {}): Variable {
  return new Variable(init, options);
}

/**
 * Every live (not disposed) variable, in creation order; only trainable ones when asked.
 * @example liveVariables({ trainableOnly: true }).length
 */
export function liveVariables(opts: { trainableOnly?: boolean } = {}): Variable[] {
  const all = [...live].filter((v) => !v.isDisposed);
  return opts.trainableOnly ? all.filter((v) => v.trainable) : all;
}
