/**
 * The optimizers, with Keras's update rules and defaults. SGD (plain, momentum, Nesterov),
 * Adam and AdamW run core's in-place `optimizerStep` (one fused kernel where the backend has
 * it); the others are written with core ops and `assign`.
 * @module
 */
import { abs, add, div, maximum, mul, rsqrt, sqrt, square, sub, type Tensor } from '@tessera/core';
import type { Variable } from '@tessera/autograd';
import { ArgumentError } from '@tessera/core';
import { Optimizer, type OptimizerOptions } from './optimizer.js';

function inUnit(op: string, what: string, v: number, closedTop = false): number {
  if (!(typeof v === 'number' && v >= 0 && (closedTop ? v <= 1 : v < 1))) {
    throw new ArgumentError(op, `${what} must be in [0, 1${closedTop ? ']' : ')'}, got ${String(v)}`);
  }
  return v;
}

function positive(op: string, what: string, v: number): number {
  if (!(typeof v === 'number' && v > 0 && Number.isFinite(v))) throw new ArgumentError(op, `${what} must be > 0, got ${String(v)}`);
  return v;
}

/**
 * Options of {@link SGD}.
 * @example new SGD({ learningRate: 0.05, momentum: 0.9, nesterov: true })
 */
export interface SGDOptions extends OptimizerOptions {
  /** Default 0 (plain SGD). */
  momentum?: number;
  /** Nesterov momentum. Default false. */
  nesterov?: boolean;
}

/**
 * Stochastic gradient descent (Keras defaults: learning rate 0.01, momentum 0).
 * `p -= lr g`; with momentum `v = m v - lr g; p += v`; Nesterov `p += m v - lr g`.
 * @example const opt = new SGD({ learningRate: 0.05, momentum: 0.9 });
 */
export class SGD extends Optimizer {
  readonly name = 'sgd';
  readonly momentum: number;
  readonly nesterov: boolean;
  constructor(options: SGDOptions = {}) {
    super(options, 0.01);
    this.momentum = inUnit('SGD', 'momentum', options.momentum ?? 0);
    this.nesterov = options.nesterov ?? false;
  }
  protected slotNames(): readonly string[] {
    return this.momentum > 0 || this.nesterov ? ['momentum'] : [];
  }
  protected update(vars: readonly Variable[], grads: readonly Tensor[], slots: readonly Tensor[][], lr: number, step: number): void {
    const kind = this.nesterov ? 'nesterov' : this.momentum > 0 ? 'momentum' : 'sgd';
    this.fusedStep(kind, vars, grads, slots, { lr, step, momentum: this.momentum });
  }
  protected hyper(): Record<string, number | boolean> {
    return { momentum: this.momentum, nesterov: this.nesterov };
  }
}

/**
 * Options of {@link Adam}.
 * @example new Adam({ learningRate: 3e-4, beta2: 0.98, amsgrad: true })
 */
export interface AdamOptions extends OptimizerOptions {
  /** Default 0.9. */
  beta1?: number;
  /** Default 0.999. */
  beta2?: number;
  /** Default 1e-7. */
  epsilon?: number;
  /** Keep the maximum of the second moments (Keras `amsgrad`). Default false. */
  amsgrad?: boolean;
}

/**
 * Adam in the Keras form (defaults: learning rate 0.001, beta1 0.9, beta2 0.999, epsilon 1e-7):
 * `m = b1 m + (1-b1) g; v = b2 v + (1-b2) g²; p -= lr √(1-b2^t)/(1-b1^t) · m / (√v + eps)` —
 * epsilon added to the square root of the uncorrected `v`.
 * @example const opt = new Adam({ learningRate: 1e-3 });
 */
export class Adam extends Optimizer {
  readonly name: string = 'adam';
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly amsgrad: boolean;
  constructor(options: AdamOptions = {}, defaultRate = 0.001) {
    super(options, defaultRate);
    this.beta1 = inUnit('Adam', 'beta1', options.beta1 ?? 0.9);
    this.beta2 = inUnit('Adam', 'beta2', options.beta2 ?? 0.999);
    this.epsilon = positive('Adam', 'epsilon', options.epsilon ?? 1e-7);
    this.amsgrad = options.amsgrad ?? false;
  }
  protected slotNames(): readonly string[] {
    return this.amsgrad ? ['m', 'v', 'vhat'] : ['m', 'v'];
  }
  protected override decaysInUpdate(): boolean {
    return !this.amsgrad;
  }
  protected update(vars: readonly Variable[], grads: readonly Tensor[], slots: readonly Tensor[][], lr: number, step: number): void {
    if (!this.amsgrad) {
      this.fusedStep('adam', vars, grads, slots, { lr, step, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon, weightDecay: this.weightDecay });
      return;
    }
    const alpha = (lr * Math.sqrt(1 - this.beta2 ** step)) / (1 - this.beta1 ** step);
    vars.forEach((p, k) => {
      const g = grads[k]!;
      const s = slots[k]!;
      const m = add(mul(s[0]!, this.beta1), mul(g, 1 - this.beta1));
      const v = add(mul(s[1]!, this.beta2), mul(square(g), 1 - this.beta2));
      const vhat = maximum(s[2]!, v);
      p.assign(sub(p.value, div(mul(m, alpha), add(sqrt(vhat), this.epsilon))));
      this.setSlot(s, 0, m);
      this.setSlot(s, 1, v);
      this.setSlot(s, 2, vhat);
    });
  }
  protected hyper(): Record<string, number | boolean> {
    return { beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon, amsgrad: this.amsgrad };
  }
}

/**
 * Adam with decoupled weight decay (Keras defaults: learning rate 0.001, weightDecay 0.004):
 * first `p -= lr · weightDecay · p`, then the Adam step.
 * @example const opt = new AdamW({ learningRate: 1e-3, weightDecay: 0.01 });
 */
export class AdamW extends Adam {
  override readonly name: string = 'adamw';
  constructor(options: AdamOptions = {}) {
    super({ ...options, weightDecay: options.weightDecay ?? 0.004 });
  }
}

/**
 * Options of {@link RMSprop}.
 * @example new RMSprop({ rho: 0.95, momentum: 0.9, centered: true })
 */
export interface RMSpropOptions extends OptimizerOptions {
  /** Decay of the squared-gradient average. Default 0.9. */
  rho?: number;
  /** Default 0. */
  momentum?: number;
  /** Default 1e-7 (inside the square root, as in Keras). */
  epsilon?: number;
  /** Divide by the variance rather than the second moment. Default false. */
  centered?: boolean;
}

/**
 * RMSprop in the Keras form (defaults: learning rate 0.001, rho 0.9, epsilon 1e-7):
 * `v = rho v + (1-rho) g²; p -= lr g / √(v + eps)` (epsilon inside the root); `centered`
 * subtracts the squared mean gradient; `momentum` accumulates the increments.
 * @example const opt = new RMSprop({ learningRate: 1e-3, centered: true });
 */
export class RMSprop extends Optimizer {
  readonly name = 'rmsprop';
  readonly rho: number;
  readonly momentum: number;
  readonly epsilon: number;
  readonly centered: boolean;
  constructor(options: RMSpropOptions = {}) {
    super(options, 0.001);
    this.rho = inUnit('RMSprop', 'rho', options.rho ?? 0.9);
    this.momentum = inUnit('RMSprop', 'momentum', options.momentum ?? 0);
    this.epsilon = positive('RMSprop', 'epsilon', options.epsilon ?? 1e-7);
    this.centered = options.centered ?? false;
  }
  protected slotNames(): readonly string[] {
    const names = ['velocity'];
    if (this.momentum > 0) names.push('momentum');
    if (this.centered) names.push('averageGradient');
    return names;
  }
  protected update(vars: readonly Variable[], grads: readonly Tensor[], slots: readonly Tensor[][], lr: number): void {
    const rho = this.rho;
    vars.forEach((p, k) => {
      const g = grads[k]!;
      const s = slots[k]!;
      const v = add(mul(s[0]!, rho), mul(square(g), 1 - rho));
      let denom = v;
      const avgIndex = this.momentum > 0 ? 2 : 1;
      if (this.centered) {
        const avg = add(mul(s[avgIndex]!, rho), mul(g, 1 - rho));
        denom = sub(v, square(avg));
        this.setSlot(s, avgIndex, avg);
      }
      const increment = mul(mul(g, lr), rsqrt(add(denom, this.epsilon)));
      if (this.momentum > 0) {
        const mom = add(mul(s[1]!, this.momentum), increment);
        p.assign(sub(p.value, mom));
        this.setSlot(s, 1, mom);
      } else p.assign(sub(p.value, increment));
      this.setSlot(s, 0, v);
    });
  }
  protected hyper(): Record<string, number | boolean> {
    return { rho: this.rho, momentum: this.momentum, epsilon: this.epsilon, centered: this.centered };
  }
}

/**
 * Options of {@link Adagrad}.
 * @example new Adagrad({ learningRate: 0.1, initialAccumulatorValue: 0.01 })
 */
export interface AdagradOptions extends OptimizerOptions {
  /** Starting value of the accumulator. Default 0.1. */
  initialAccumulatorValue?: number;
  /** Default 1e-7 (inside the square root). */
  epsilon?: number;
}

/**
 * Adagrad in the Keras form (defaults: learning rate 0.001, initial accumulator 0.1, epsilon
 * 1e-7): `acc += g²; p -= lr g / √(acc + eps)`.
 * @example const opt = new Adagrad({ learningRate: 0.1 });
 */
export class Adagrad extends Optimizer {
  readonly name = 'adagrad';
  readonly initialAccumulatorValue: number;
  readonly epsilon: number;
  constructor(options: AdagradOptions = {}) {
    super(options, 0.001);
    this.initialAccumulatorValue = options.initialAccumulatorValue ?? 0.1;
    if (!(this.initialAccumulatorValue >= 0)) throw new ArgumentError('Adagrad', `initialAccumulatorValue must be >= 0, got ${this.initialAccumulatorValue}`);
    this.epsilon = positive('Adagrad', 'epsilon', options.epsilon ?? 1e-7);
  }
  protected slotNames(): readonly string[] {
    return ['accumulator'];
  }
  protected override slotInit(): number {
    return this.initialAccumulatorValue;
  }
  protected update(vars: readonly Variable[], grads: readonly Tensor[], slots: readonly Tensor[][], lr: number): void {
    vars.forEach((p, k) => {
      const g = grads[k]!;
      const s = slots[k]!;
      const acc = add(s[0]!, square(g));
      p.assign(sub(p.value, mul(mul(g, lr), rsqrt(add(acc, this.epsilon)))));
      this.setSlot(s, 0, acc);
    });
  }
  protected hyper(): Record<string, number | boolean> {
    return { initialAccumulatorValue: this.initialAccumulatorValue, epsilon: this.epsilon };
  }
}

/**
 * Options of {@link Adadelta}.
 * @example new Adadelta({ learningRate: 1, rho: 0.9 })
 */
export interface AdadeltaOptions extends OptimizerOptions {
  /** Default 0.95. */
  rho?: number;
  /** Default 1e-7. */
  epsilon?: number;
}

/**
 * Adadelta in the Keras form (defaults: learning rate 0.001, rho 0.95, epsilon 1e-7):
 * `a = rho a + (1-rho) g²; d = -√(b + eps) / √(a + eps) · g; b = rho b + (1-rho) d²; p += lr d`.
 * @example const opt = new Adadelta({ learningRate: 1 });
 */
export class Adadelta extends Optimizer {
  readonly name = 'adadelta';
  readonly rho: number;
  readonly epsilon: number;
  constructor(options: AdadeltaOptions = {}) {
    super(options, 0.001);
    this.rho = inUnit('Adadelta', 'rho', options.rho ?? 0.95);
    this.epsilon = positive('Adadelta', 'epsilon', options.epsilon ?? 1e-7);
  }
  protected slotNames(): readonly string[] {
    return ['accumulatedGrad', 'accumulatedDelta'];
  }
  protected update(vars: readonly Variable[], grads: readonly Tensor[], slots: readonly Tensor[][], lr: number): void {
    const rho = this.rho;
    const eps = this.epsilon;
    vars.forEach((p, k) => {
      const g = grads[k]!;
      const s = slots[k]!;
      const a = add(mul(s[0]!, rho), mul(square(g), 1 - rho));
      const delta = mul(mul(sqrt(add(s[1]!, eps)), rsqrt(add(a, eps))), mul(g, -1));
      const b = add(mul(s[1]!, rho), mul(square(delta), 1 - rho));
      p.assign(add(p.value, mul(delta, lr)));
      this.setSlot(s, 0, a);
      this.setSlot(s, 1, b);
    });
  }
  protected hyper(): Record<string, number | boolean> {
    return { rho: this.rho, epsilon: this.epsilon };
  }
}

/**
 * Adamax, Adam with the infinity norm (Keras defaults: learning rate 0.001, beta1 0.9, beta2
 * 0.999, epsilon 1e-7): `m = b1 m + (1-b1) g; u = max(b2 u, |g|); p -= lr m / ((1-b1^t)(u + eps))`.
 * @example const opt = new Adamax();
 */
export class Adamax extends Optimizer {
  readonly name = 'adamax';
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  constructor(options: Omit<AdamOptions, 'amsgrad'> = {}) {
    super(options, 0.001);
    this.beta1 = inUnit('Adamax', 'beta1', options.beta1 ?? 0.9);
    this.beta2 = inUnit('Adamax', 'beta2', options.beta2 ?? 0.999);
    this.epsilon = positive('Adamax', 'epsilon', options.epsilon ?? 1e-7);
  }
  protected slotNames(): readonly string[] {
    return ['m', 'u'];
  }
  protected update(vars: readonly Variable[], grads: readonly Tensor[], slots: readonly Tensor[][], lr: number, step: number): void {
    const scale = lr / (1 - this.beta1 ** step);
    vars.forEach((p, k) => {
      const g = grads[k]!;
      const s = slots[k]!;
      const m = add(mul(s[0]!, this.beta1), mul(g, 1 - this.beta1));
      const u = maximum(mul(s[1]!, this.beta2), abs(g));
      p.assign(sub(p.value, div(mul(m, scale), add(u, this.epsilon))));
      this.setSlot(s, 0, m);
      this.setSlot(s, 1, u);
    });
  }
  protected hyper(): Record<string, number | boolean> {
    return { beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }
}

/**
 * Nadam, Adam with Nesterov momentum, in the Keras form (defaults: learning rate 0.001, beta1
 * 0.9, beta2 0.999, epsilon 1e-7, momentum-schedule decay 0.96):
 * `u_t = b1 (1 - 0.5 · 0.96^t)`, `Π_t = Π_{t-1} u_t`,
 * `m̂ = u_{t+1} m / (1 - Π_t u_{t+1}) + (1 - u_t) g / (1 - Π_t)`, `v̂ = v / (1 - b2^t)`,
 * `p -= lr m̂ / (√v̂ + eps)`.
 * @example const opt = new Nadam();
 */
export class Nadam extends Optimizer {
  readonly name = 'nadam';
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  /** The running product of the momentum schedule (Keras `_u_product`). */
  private uProduct = 1;
  constructor(options: Omit<AdamOptions, 'amsgrad'> = {}) {
    super(options, 0.001);
    this.beta1 = inUnit('Nadam', 'beta1', options.beta1 ?? 0.9);
    this.beta2 = inUnit('Nadam', 'beta2', options.beta2 ?? 0.999);
    this.epsilon = positive('Nadam', 'epsilon', options.epsilon ?? 1e-7);
  }
  protected slotNames(): readonly string[] {
    return ['m', 'v'];
  }
  protected update(vars: readonly Variable[], grads: readonly Tensor[], slots: readonly Tensor[][], lr: number, step: number): void {
    const decay = 0.96;
    const b1 = this.beta1;
    const b2 = this.beta2;
    const ut = b1 * (1 - 0.5 * decay ** step);
    const ut1 = b1 * (1 - 0.5 * decay ** (step + 1));
    const uProductT = this.uProduct * ut;
    const uProductT1 = uProductT * ut1;
    const b2Power = b2 ** step;
    vars.forEach((p, k) => {
      const g = grads[k]!;
      const s = slots[k]!;
      const m = add(mul(s[0]!, b1), mul(g, 1 - b1));
      const v = add(mul(s[1]!, b2), mul(square(g), 1 - b2));
      const mHat = add(mul(m, ut1 / (1 - uProductT1)), mul(g, (1 - ut) / (1 - uProductT)));
      const vHat = mul(v, 1 / (1 - b2Power));
      p.assign(sub(p.value, div(mul(mHat, lr), add(sqrt(vHat), this.epsilon))));
      this.setSlot(s, 0, m);
      this.setSlot(s, 1, v);
    });
    this.uProduct = uProductT;
  }
  protected hyper(): Record<string, number | boolean> {
    return { beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }
  protected override extraNumbers(): Record<string, number> {
    return { uProduct: this.uProduct };
  }
  protected override setExtraNumbers(n: Record<string, number>): void {
    if (typeof n.uProduct === 'number') this.uProduct = n.uProduct;
  }
}
