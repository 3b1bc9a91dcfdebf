/**
 * Learning-rate schedules (functions of the step count, Keras definitions) and a
 * reduce-on-plateau controller that a training callback drives.
 * @module
 */
import { ArgumentError } from '@tessera/core';

/**
 * A learning rate as a function of the optimizer's step count (0 for the first update), with a
 * JSON `config` describing it.
 * @example const s: LearningRateSchedule = exponentialDecay({ initialLearningRate: 0.1, decaySteps: 100, decayRate: 0.5 }); s(100) // 0.05
 */
export interface LearningRateSchedule {
  (step: number): number;
  readonly config: Readonly<Record<string, unknown>>;
}

function schedule(fn: (step: number) => number, config: Record<string, unknown>): LearningRateSchedule {
  return Object.assign((step: number) => fn(step), { config: Object.freeze({ ...config }) });
}

function positive(op: string, what: string, v: unknown): number {
  if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) throw new ArgumentError(op, `${what} must be a positive number, got ${String(v)}`);
  return v;
}

/**
 * Options of {@link exponentialDecay}.
 * @example exponentialDecay({ initialLearningRate: 0.1, decaySteps: 1000, decayRate: 0.9, staircase: true })
 */
export interface ExponentialDecayOptions {
  initialLearningRate: number;
  decaySteps: number;
  decayRate: number;
  /** Decay in whole intervals of `decaySteps`. Default false. */
  staircase?: boolean;
}

/**
 * `initialLearningRate · decayRate^(step / decaySteps)` (the exponent floored when `staircase`).
 * @example new Adam({ learningRate: exponentialDecay({ initialLearningRate: 0.1, decaySteps: 1000, decayRate: 0.96 }) })
 */
export function exponentialDecay(o: ExponentialDecayOptions): LearningRateSchedule {
  const op = 'exponentialDecay';
  positive(op, 'initialLearningRate', o.initialLearningRate);
  positive(op, 'decaySteps', o.decaySteps);
  positive(op, 'decayRate', o.decayRate);
  const staircase = o.staircase ?? false;
  return schedule(
    (step) => {
      const p = step / o.decaySteps;
      return o.initialLearningRate * o.decayRate ** (staircase ? Math.floor(p) : p);
    },
    { name: 'exponentialDecay', ...o, staircase },
  );
}

/**
 * Options of {@link piecewiseConstant}.
 * @example piecewiseConstant({ boundaries: [100], values: [0.1, 0.01] })
 */
export interface PiecewiseConstantOptions {
  /** Increasing step boundaries. */
  boundaries: number[];
  /** One more value than boundaries. */
  values: number[];
}

/**
 * `values[0]` while `step <= boundaries[0]`, `values[i]` while `boundaries[i-1] < step <=
 * boundaries[i]`, and the last value after the last boundary (Keras PiecewiseConstantDecay).
 * @example piecewiseConstant({ boundaries: [1000, 2000], values: [0.1, 0.01, 0.001] })
 */
export function piecewiseConstant(o: PiecewiseConstantOptions): LearningRateSchedule {
  const { boundaries, values } = o;
  if (!Array.isArray(boundaries) || !Array.isArray(values) || values.length !== boundaries.length + 1) {
    throw new ArgumentError('piecewiseConstant', `values must have one more entry than boundaries (got ${values?.length} and ${boundaries?.length})`);
  }
  for (let i = 1; i < boundaries.length; i++) {
    if (!(boundaries[i]! > boundaries[i - 1]!)) throw new ArgumentError('piecewiseConstant', `boundaries must increase, got ${JSON.stringify(boundaries)}`);
  }
  return schedule(
    (step) => {
      for (let i = 0; i < boundaries.length; i++) if (step <= boundaries[i]!) return values[i]!;
      return values[values.length - 1]!;
    },
    { name: 'piecewiseConstant', boundaries: boundaries.slice(), values: values.slice() },
  );
}

/**
 * Options of {@link cosineDecay}.
 * @example cosineDecay({ initialLearningRate: 0.1, decaySteps: 1000, alpha: 0.01 })
 */
export interface CosineDecayOptions {
  initialLearningRate: number;
  /** Steps of the cosine part (after the warmup). */
  decaySteps: number;
  /** The floor, as a fraction of the peak rate. Default 0. */
  alpha?: number;
  /** Linear warmup from `initialLearningRate` to this rate over `warmupSteps`. Default: none. */
  warmupTarget?: number;
  /** Default 0. */
  warmupSteps?: number;
}

/**
 * Cosine decay with optional linear warmup (Keras CosineDecay): during the warmup the rate
 * rises linearly from `initialLearningRate` to `warmupTarget`; then it follows
 * `peak · ((1 - alpha) · 0.5 (1 + cos(π · min(s, decaySteps) / decaySteps)) + alpha)` with `s`
 * the steps since the warmup and `peak` the warmup target (or the initial rate).
 * @example cosineDecay({ initialLearningRate: 0, warmupTarget: 1e-3, warmupSteps: 100, decaySteps: 10_000 })
 */
export function cosineDecay(o: CosineDecayOptions): LearningRateSchedule {
  const op = 'cosineDecay';
  if (typeof o.initialLearningRate !== 'number' || !(o.initialLearningRate >= 0)) {
    throw new ArgumentError(op, `initialLearningRate must be >= 0, got ${String(o.initialLearningRate)}`);
  }
  positive(op, 'decaySteps', o.decaySteps);
  const alpha = o.alpha ?? 0;
  const warmupSteps = o.warmupSteps ?? 0;
  if (!(warmupSteps >= 0)) throw new ArgumentError(op, `warmupSteps must be >= 0, got ${warmupSteps}`);
  const peak = o.warmupTarget ?? o.initialLearningRate;
  return schedule(
    (step) => {
      if (o.warmupTarget !== undefined && step < warmupSteps) {
        return o.initialLearningRate + ((o.warmupTarget - o.initialLearningRate) * step) / warmupSteps;
      }
      const s = Math.min(Math.max(step - (o.warmupTarget !== undefined ? warmupSteps : 0), 0), o.decaySteps);
      const cosine = 0.5 * (1 + Math.cos((Math.PI * s) / o.decaySteps));
      return peak * ((1 - alpha) * cosine + alpha);
    },
    { name: 'cosineDecay', ...o, alpha, warmupSteps },
  );
}

/**
 * Anything with a settable learning rate (every optimizer).
 * @example plateau.update({ learningRate: 0.1 }, loss)
 */
export interface HasLearningRate {
  learningRate: number;
}

/**
 * Options of {@link ReduceLROnPlateau}.
 * @example new ReduceLROnPlateau({ factor: 0.2, patience: 5, mode: 'min' })
 */
export interface ReduceLROnPlateauOptions {
  /** Multiplies the rate on a plateau. Default 0.1. */
  factor?: number;
  /** Updates without improvement before reducing. Default 10. */
  patience?: number;
  /** `'min'` (a loss, default) or `'max'` (an accuracy). */
  mode?: 'min' | 'max';
  /** The least change that counts as an improvement. Default 1e-4. */
  minDelta?: number;
  /** Updates to wait after a reduction before counting again. Default 0. */
  cooldown?: number;
  /** The rate never goes below this. Default 0. */
  minLearningRate?: number;
}

/**
 * Lowers an optimizer's learning rate when a monitored value stops improving (Keras
 * ReduceLROnPlateau's logic, without the callback plumbing: call `update` once per epoch).
 * @example
 * const plateau = new ReduceLROnPlateau({ factor: 0.5, patience: 2 });
 * for (const epoch of epochs) plateau.update(optimizer, validationLoss);
 */
export class ReduceLROnPlateau {
  readonly factor: number;
  readonly patience: number;
  readonly mode: 'min' | 'max';
  readonly minDelta: number;
  readonly cooldown: number;
  readonly minLearningRate: number;
  private best: number;
  private wait = 0;
  private cooldownLeft = 0;

  constructor(o: ReduceLROnPlateauOptions = {}) {
    this.factor = o.factor ?? 0.1;
    if (!(this.factor > 0 && this.factor < 1)) throw new ArgumentError('ReduceLROnPlateau', `factor must be in (0, 1), got ${this.factor}`);
    this.patience = o.patience ?? 10;
    this.mode = o.mode ?? 'min';
    this.minDelta = Math.abs(o.minDelta ?? 1e-4);
    this.cooldown = o.cooldown ?? 0;
    this.minLearningRate = o.minLearningRate ?? 0;
    this.best = this.mode === 'min' ? Infinity : -Infinity;
  }

  /**
   * Records the monitored value; returns the new rate when it was reduced, else undefined.
   * @example const lr = plateau.update(optimizer, 0.42); if (lr) console.log(`lr -> ${lr}`);
   */
  update(optimizer: HasLearningRate, value: number): number | undefined {
    if (!Number.isFinite(value)) return undefined;
    if (this.cooldownLeft > 0) {
      this.cooldownLeft--;
      this.wait = 0;
    }
    const better = this.mode === 'min' ? value < this.best - this.minDelta : value > this.best + this.minDelta;
    if (better) {
      this.best = value;
      this.wait = 0;
      return undefined;
    }
    if (this.cooldownLeft > 0) return undefined;
    this.wait++;
    if (this.wait < this.patience) return undefined;
    const old = optimizer.learningRate;
    if (!(old > this.minLearningRate)) return undefined;
    const next = Math.max(old * this.factor, this.minLearningRate);
    optimizer.learningRate = next;
    this.cooldownLeft = this.cooldown;
    this.wait = 0;
    return next;
  }

  /** Forgets the best value and the counters. @example plateau.reset() */
  reset(): void {
    this.best = this.mode === 'min' ? Infinity : -Infinity;
    this.wait = 0;
    this.cooldownLeft = 0;
  }
}
