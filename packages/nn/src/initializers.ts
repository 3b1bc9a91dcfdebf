/**
 * Weight initializers with Keras's definitions and defaults (`glorotUniform` for kernels,
 * `zeros` for biases). Each is an object with `apply(shape)` and a serialisable config.
 * @module
 */
import { ArgumentError, type DType, fill, randomNormal as coreRandomNormal, randomUniform as coreRandomUniform, tensor, type Tensor, truncatedNormal as coreTruncatedNormal } from '@tessera/core';
import { hostRng, randomSeed } from './util.js';

/** Serialised form of an initializer, regularizer, layer and so on. */
export interface SerializedObject {
  className: string;
  config: Record<string, unknown>;
}

/**
 * Base class of initializers: `apply(shape, dtype)` returns a new tensor.
 * @example const w = initializers.heNormal({ seed: 1 }).apply([3, 4]);
 */
export abstract class Initializer {
  /** The Keras class name, used in saved configs. */
  abstract readonly className: string;
  /** Draws a new tensor of `shape`. */
  abstract apply(shape: readonly number[], dtype?: DType): Tensor;
  /** The constructor options, for saving. */
  getConfig(): Record<string, unknown> {
    return {};
  }
}

/** Fan-in and fan-out of a weight shape, as Keras computes them (conv kernels count the receptive field). @example initializers.computeFans([3, 3, 16, 32]) // [144, 288] */
export function computeFans(shape: readonly number[]): [number, number] {
  if (shape.length === 0) return [1, 1];
  if (shape.length === 1) return [shape[0]!, shape[0]!];
  if (shape.length === 2) return [shape[0]!, shape[1]!];
  let receptive = 1;
  for (let i = 0; i < shape.length - 2; i++) receptive *= shape[i]!;
  return [shape[shape.length - 2]! * receptive, shape[shape.length - 1]! * receptive];
}

class Zeros extends Initializer {
  readonly className = 'Zeros';
  apply(shape: readonly number[], dtype: DType = 'float32'): Tensor {
    return fill(shape, 0, dtype);
  }
}

class Ones extends Initializer {
  readonly className = 'Ones';
  apply(shape: readonly number[], dtype: DType = 'float32'): Tensor {
    return fill(shape, 1, dtype);
  }
}

class Constant extends Initializer {
  readonly className = 'Constant';
  constructor(readonly value: number) {
    super();
    if (typeof value !== 'number' || Number.isNaN(value)) throw new ArgumentError('initializers.constant', `value must be a number, got ${String(value)}`);
  }
  apply(shape: readonly number[], dtype: DType = 'float32'): Tensor {
    return fill(shape, this.value, dtype);
  }
  override getConfig(): Record<string, unknown> {
    return { value: this.value };
  }
}

/** Options of the random initializers. */
export interface SeedOptions {
  /** Makes the draw reproducible; without it the global stream (`setSeed`) is used. */
  seed?: number;
}

class RandomNormal extends Initializer {
  readonly className = 'RandomNormal';
  constructor(readonly mean = 0, readonly stddev = 0.05, readonly seed?: number) {
    super();
  }
  apply(shape: readonly number[]): Tensor {
    return coreRandomNormal(shape, { mean: this.mean, stddev: this.stddev, seed: this.seed });
  }
  override getConfig(): Record<string, unknown> {
    return { mean: this.mean, stddev: this.stddev, seed: this.seed ?? null };
  }
}

class TruncatedNormal extends Initializer {
  readonly className = 'TruncatedNormal';
  constructor(readonly mean = 0, readonly stddev = 0.05, readonly seed?: number) {
    super();
  }
  apply(shape: readonly number[]): Tensor {
    return coreTruncatedNormal(shape, { mean: this.mean, stddev: this.stddev, seed: this.seed });
  }
  override getConfig(): Record<string, unknown> {
    return { mean: this.mean, stddev: this.stddev, seed: this.seed ?? null };
  }
}

class RandomUniform extends Initializer {
  readonly className = 'RandomUniform';
  constructor(readonly minval = -0.05, readonly maxval = 0.05, readonly seed?: number) {
    super();
  }
  apply(shape: readonly number[]): Tensor {
    return coreRandomUniform(shape, { min: this.minval, max: this.maxval, seed: this.seed });
  }
  override getConfig(): Record<string, unknown> {
    return { minval: this.minval, maxval: this.maxval, seed: this.seed ?? null };
  }
}

/** Mode and distribution of {@link VarianceScaling}. */
export interface VarianceScalingOptions extends SeedOptions {
  scale?: number;
  mode?: 'fan_in' | 'fan_out' | 'fan_avg';
  distribution?: 'truncated_normal' | 'untruncated_normal' | 'normal' | 'uniform';
}

/** Keras's VarianceScaling: the family behind glorot, he and lecun initializers. */
class VarianceScaling extends Initializer {
  readonly className: string = 'VarianceScaling';
  readonly scale: number;
  readonly mode: 'fan_in' | 'fan_out' | 'fan_avg';
  readonly distribution: 'truncated_normal' | 'untruncated_normal' | 'uniform';
  readonly seed?: number;
  constructor(opts: VarianceScalingOptions = {}) {
    super();
    this.scale = opts.scale ?? 1;
    this.mode = opts.mode ?? 'fan_in';
    const d = opts.distribution ?? 'truncated_normal';
    this.distribution = d === 'normal' ? 'truncated_normal' : d;
    this.seed = opts.seed;
    if (!(this.scale > 0)) throw new ArgumentError('initializers.varianceScaling', `scale must be > 0, got ${this.scale}`);
    if (!['fan_in', 'fan_out', 'fan_avg'].includes(this.mode)) throw new ArgumentError('initializers.varianceScaling', `unknown mode '${this.mode}'`);
    if (!['truncated_normal', 'untruncated_normal', 'uniform'].includes(this.distribution)) {
      throw new ArgumentError('initializers.varianceScaling', `unknown distribution '${this.distribution}'`);
    }
  }
  apply(shape: readonly number[]): Tensor {
    const [fanIn, fanOut] = computeFans(shape);
    const n = this.mode === 'fan_in' ? fanIn : this.mode === 'fan_out' ? fanOut : (fanIn + fanOut) / 2;
    const scale = this.scale / Math.max(1, n);
    if (this.distribution === 'uniform') {
      const limit = Math.sqrt(3 * scale);
      return coreRandomUniform(shape, { min: -limit, max: limit, seed: this.seed });
    }
    if (this.distribution === 'untruncated_normal') return coreRandomNormal(shape, { stddev: Math.sqrt(scale), seed: this.seed });
    // 0.879… is the stddev of a standard normal truncated to [-2, 2].
    return coreTruncatedNormal(shape, { stddev: Math.sqrt(scale) / 0.8796256610342398, seed: this.seed });
  }
  override getConfig(): Record<string, unknown> {
    return { scale: this.scale, mode: this.mode, distribution: this.distribution, seed: this.seed ?? null };
  }
}

class Named extends VarianceScaling {
  override readonly className: string;
  constructor(className: string, opts: VarianceScalingOptions) {
    super(opts);
    this.className = className;
  }
  override getConfig(): Record<string, unknown> {
    return { seed: this.seed ?? null };
  }
}

class Orthogonal extends Initializer {
  readonly className = 'Orthogonal';
  constructor(readonly gain = 1, readonly seed?: number) {
    super();
  }
  apply(shape: readonly number[]): Tensor {
    if (shape.length < 2) throw new ArgumentError('initializers.orthogonal', `needs a shape of rank >= 2, got [${shape.join(',')}]`);
    let rows = 1;
    for (let i = 0; i < shape.length - 1; i++) rows *= shape[i]!;
    const cols = shape[shape.length - 1]!;
    const big = Math.max(rows, cols);
    const small = Math.min(rows, cols);
    // Host-side: normal draws, then Householder-free modified Gram–Schmidt on the columns
    // of a [big, small] matrix; the columns are orthonormal (Q of QR with sign(diag R) = +).
    const rand = hostRng(this.seed ?? randomSeed());
    const a = new Float64Array(big * small);
    for (let i = 0; i < a.length; i += 2) {
      const u1 = 1 - rand();
      const u2 = rand();
      const r = Math.sqrt(-2 * Math.log(u1));
      a[i] = r * Math.cos(2 * Math.PI * u2);
      if (i + 1 < a.length) a[i + 1] = r * Math.sin(2 * Math.PI * u2);
    }
    for (let j = 0; j < small; j++) {
      for (let k = 0; k < j; k++) {
        let dot = 0;
        for (let i = 0; i < big; i++) dot += a[i * small + j]! * a[i * small + k]!;
        for (let i = 0; i < big; i++) a[i * small + j]! -= dot * a[i * small + k]!;
      }
      let norm = 0;
      for (let i = 0; i < big; i++) norm += a[i * small + j]! ** 2;
      norm = Math.sqrt(norm) || 1;
      for (let i = 0; i < big; i++) a[i * small + j]! /= norm;
    }
    const out = new Float32Array(rows * cols);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        // q is [big, small]; when rows < cols the result is its transpose.
        out[r * cols + c] = this.gain * (rows >= cols ? a[r * small + c]! : a[c * small + r]!);
      }
    }
    return tensor(out, shape);
  }
  override getConfig(): Record<string, unknown> {
    return { gain: this.gain, seed: this.seed ?? null };
  }
}

class Identity extends Initializer {
  readonly className = 'Identity';
  constructor(readonly gain = 1) {
    super();
  }
  apply(shape: readonly number[]): Tensor {
    if (shape.length !== 2) throw new ArgumentError('initializers.identity', `needs a 2-D shape, got [${shape.join(',')}]`);
    const [r, c] = shape as [number, number];
    const out = new Float32Array(r * c);
    for (let i = 0; i < Math.min(r, c); i++) out[i * c + i] = this.gain;
    return tensor(out, shape);
  }
  override getConfig(): Record<string, unknown> {
    return { gain: this.gain };
  }
}

/** @example initializers.zeros().apply([3]) */
export const zeros = (): Initializer => new Zeros();
/** @example initializers.ones().apply([3]) */
export const ones = (): Initializer => new Ones();
/** Every element `value`. @example initializers.constant(0.1) */
export const constant = (value: number): Initializer => new Constant(value);
/** Normal draws (Keras defaults mean 0, stddev 0.05). @example initializers.randomNormal({ stddev: 0.01, seed: 1 }) */
export const randomNormal = (opts: { mean?: number; stddev?: number } & SeedOptions = {}): Initializer => new RandomNormal(opts.mean, opts.stddev, opts.seed);
/** Normal draws redrawn beyond two stddevs. @example initializers.truncatedNormal({ stddev: 0.02 }) */
export const truncatedNormal = (opts: { mean?: number; stddev?: number } & SeedOptions = {}): Initializer => new TruncatedNormal(opts.mean, opts.stddev, opts.seed);
/** Uniform in [minval, maxval) (Keras defaults ±0.05). @example initializers.randomUniform({ minval: -1, maxval: 1 }) */
export const randomUniform = (opts: { minval?: number; maxval?: number } & SeedOptions = {}): Initializer => new RandomUniform(opts.minval, opts.maxval, opts.seed);
/** The general variance-scaling initializer. @example initializers.varianceScaling({ scale: 2, mode: 'fan_in' }) */
export const varianceScaling = (opts: VarianceScalingOptions = {}): Initializer => new VarianceScaling(opts);
/** Uniform in ±sqrt(6 / (fanIn + fanOut)): the Keras default for kernels. @example initializers.glorotUniform({ seed: 0 }) */
export const glorotUniform = (opts: SeedOptions = {}): Initializer => new Named('GlorotUniform', { scale: 1, mode: 'fan_avg', distribution: 'uniform', seed: opts.seed });
/** Truncated normal, stddev sqrt(2 / (fanIn + fanOut)). @example initializers.glorotNormal() */
export const glorotNormal = (opts: SeedOptions = {}): Initializer => new Named('GlorotNormal', { scale: 1, mode: 'fan_avg', distribution: 'truncated_normal', seed: opts.seed });
/** Truncated normal, stddev sqrt(2 / fanIn) (for relu). @example initializers.heNormal() */
export const heNormal = (opts: SeedOptions = {}): Initializer => new Named('HeNormal', { scale: 2, mode: 'fan_in', distribution: 'truncated_normal', seed: opts.seed });
/** Uniform in ±sqrt(6 / fanIn). @example initializers.heUniform() */
export const heUniform = (opts: SeedOptions = {}): Initializer => new Named('HeUniform', { scale: 2, mode: 'fan_in', distribution: 'uniform', seed: opts.seed });
/** Truncated normal, stddev sqrt(1 / fanIn) (for selu). @example initializers.lecunNormal() */
export const lecunNormal = (opts: SeedOptions = {}): Initializer => new Named('LecunNormal', { scale: 1, mode: 'fan_in', distribution: 'truncated_normal', seed: opts.seed });
/** Uniform in ±sqrt(3 / fanIn). @example initializers.lecunUniform() */
export const lecunUniform = (opts: SeedOptions = {}): Initializer => new Named('LecunUniform', { scale: 1, mode: 'fan_in', distribution: 'uniform', seed: opts.seed });
/** A (semi-)orthogonal matrix times `gain` (for recurrent kernels). @example initializers.orthogonal({ gain: 1, seed: 3 }) */
export const orthogonal = (opts: { gain?: number } & SeedOptions = {}): Initializer => new Orthogonal(opts.gain, opts.seed);
/** The identity matrix times `gain`. @example initializers.identity().apply([3, 3]) */
export const identity = (opts: { gain?: number } = {}): Initializer => new Identity(opts.gain);

/** An initializer, its Keras name (`'glorot_uniform'`, `'he_normal'`, `'zeros'`, …) or a saved config. */
export type InitializerIdentifier = Initializer | string | SerializedObject;

const BY_NAME: Record<string, (config: Record<string, unknown>) => Initializer> = {
  zeros: () => zeros(),
  ones: () => ones(),
  constant: (c) => constant((c.value as number) ?? 0),
  random_normal: (c) => randomNormal(c as never),
  truncated_normal: (c) => truncatedNormal(c as never),
  random_uniform: (c) => randomUniform(c as never),
  uniform: (c) => randomUniform(c as never),
  variance_scaling: (c) => varianceScaling(c as never),
  glorot_uniform: (c) => glorotUniform(c as never),
  glorot_normal: (c) => glorotNormal(c as never),
  he_normal: (c) => heNormal(c as never),
  he_uniform: (c) => heUniform(c as never),
  lecun_normal: (c) => lecunNormal(c as never),
  lecun_uniform: (c) => lecunUniform(c as never),
  orthogonal: (c) => orthogonal(c as never),
  identity: (c) => identity(c as never),
};

function normaliseKey(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase();
}

function cleanConfig(config: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) if (v !== null) out[k] = v;
  return out;
}

/**
 * Resolves an initializer from an instance, a Keras name (snake_case or the class name) or a
 * saved `{ className, config }`.
 * @example getInitializer('he_normal'); getInitializer({ className: 'Constant', config: { value: 2 } })
 */
export function getInitializer(id: InitializerIdentifier): Initializer {
  if (id instanceof Initializer) return id;
  const name = typeof id === 'string' ? id : id?.className;
  const config = typeof id === 'string' ? {} : cleanConfig(id?.config ?? {});
  const make = typeof name === 'string' ? BY_NAME[normaliseKey(name)] : undefined;
  if (make === undefined) {
    throw new ArgumentError('getInitializer', `unknown initializer ${JSON.stringify(name ?? id)} (expected one of ${Object.keys(BY_NAME).join(', ')})`);
  }
  return make(config);
}

/** The saved form of an initializer. @example serializeInitializer(glorotUniform()) // { className: 'GlorotUniform', config: { seed: null } } */
export function serializeInitializer(init: Initializer): SerializedObject {
  return { className: init.className, config: init.getConfig() };
}
