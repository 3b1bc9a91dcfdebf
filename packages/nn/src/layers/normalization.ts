/**
 * BatchNormalization (Keras semantics: axis -1, epsilon 1e-3, momentum 0.99, biased
 * variance in the moving average) and LayerNormalization (core `layerNorm`).
 * @module
 */
import { noGrad, type Variable } from '@tessera/autograd';
import { add, ArgumentError, fill, keep, layerNorm, mean, mul, reshape, rsqrt, ShapeError, square, sub, type Tensor } from '@tessera/core';
import { baseArgs, type CallOptions, Layer, type LayerArgs } from '../engine/layer.js';
import { getInitializer, type Initializer, type InitializerIdentifier, serializeInitializer } from '../initializers.js';
import { getRegularizer, type Regularizer, type RegularizerIdentifier, serializeRegularizer } from '../regularizers.js';
import { fmtShapeN, type Shape } from '../util.js';
import { assignValue } from '../variables.js';
import { single } from './core.js';

/** Options of {@link BatchNormalization}. */
export interface BatchNormalizationArgs extends LayerArgs {
  /** The feature axis (default -1, channels-last). */
  axis?: number;
  /** Default 0.99: `moving = moving · momentum + batch · (1 − momentum)`. */
  momentum?: number;
  /** Default 1e-3. */
  epsilon?: number;
  /** Learn an offset `beta` (default true). */
  center?: boolean;
  /** Learn a scale `gamma` (default true). */
  scale?: boolean;
  betaInitializer?: InitializerIdentifier;
  gammaInitializer?: InitializerIdentifier;
  movingMeanInitializer?: InitializerIdentifier;
  movingVarianceInitializer?: InitializerIdentifier;
  betaRegularizer?: RegularizerIdentifier | null;
  gammaRegularizer?: RegularizerIdentifier | null;
}

/**
 * Batch normalisation. While training (and trainable) it normalises with the batch mean and
 * biased variance over every axis but `axis`, and moves the moving statistics towards them;
 * otherwise (inference, or frozen with `trainable = false`) it uses the moving statistics.
 * @example layers.batchNormalization()
 */
export class BatchNormalization extends Layer {
  static override readonly className = 'BatchNormalization';
  readonly axis: number;
  readonly momentum: number;
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  readonly betaInitializer: Initializer;
  readonly gammaInitializer: Initializer;
  readonly movingMeanInitializer: Initializer;
  readonly movingVarianceInitializer: Initializer;
  readonly betaRegularizer: Regularizer | null;
  readonly gammaRegularizer: Regularizer | null;
  gamma: Variable | null = null;
  beta: Variable | null = null;
  movingMean: Variable | null = null;
  movingVariance: Variable | null = null;

  constructor(args: BatchNormalizationArgs = {}) {
    super(args);
    this.axis = args.axis ?? -1;
    this.momentum = args.momentum ?? 0.99;
    this.epsilon = args.epsilon ?? 1e-3;
    if (!Number.isInteger(this.axis)) throw new ArgumentError(this.name, `axis must be an integer, got ${this.axis}`);
    if (typeof this.momentum !== 'number' || !(this.momentum >= 0 && this.momentum <= 1)) throw new ArgumentError(this.name, `momentum must be in [0, 1], got ${this.momentum}`);
    if (typeof this.epsilon !== 'number' || !(this.epsilon > 0)) throw new ArgumentError(this.name, `epsilon must be a number > 0, got ${JSON.stringify(this.epsilon)}`);
    this.center = args.center ?? true;
    this.scale = args.scale ?? true;
    this.betaInitializer = getInitializer(args.betaInitializer ?? 'zeros');
    this.gammaInitializer = getInitializer(args.gammaInitializer ?? 'ones');
    this.movingMeanInitializer = getInitializer(args.movingMeanInitializer ?? 'zeros');
    this.movingVarianceInitializer = getInitializer(args.movingVarianceInitializer ?? 'ones');
    this.betaRegularizer = getRegularizer(args.betaRegularizer);
    this.gammaRegularizer = getRegularizer(args.gammaRegularizer);
  }

  private axisOf(rank: number): number {
    const a = this.axis < 0 ? rank + this.axis : this.axis;
    if (a < 0 || a >= rank) throw new ShapeError(this.name, `axis ${this.axis} is out of range for input rank ${rank}`);
    return a;
  }

  override build(inputShape: Shape): void {
    const a = this.axisOf(inputShape.length);
    const dim = inputShape[a];
    if (dim === null || dim === undefined) throw new ShapeError(this.name, `axis ${this.axis} of the input shape ${fmtShapeN(inputShape)} must be known`);
    if (this.scale) this.gamma = this.addWeight('gamma', [dim], { initializer: this.gammaInitializer, regularizer: this.gammaRegularizer });
    if (this.center) this.beta = this.addWeight('beta', [dim], { initializer: this.betaInitializer, regularizer: this.betaRegularizer });
    this.movingMean = this.addWeight('moving_mean', [dim], { initializer: this.movingMeanInitializer, trainable: false });
    this.movingVariance = this.addWeight('moving_variance', [dim], { initializer: this.movingVarianceInitializer, trainable: false });
    this.inputSpec = [{ ndim: inputShape.length, axes: { [this.axis]: dim } }];
  }

  call(inputs: Tensor | Tensor[], opts: CallOptions): Tensor {
    const x = single(this, inputs);
    const a = this.axisOf(x.rank);
    const last = a === x.rank - 1;
    const bshape = x.shape.map((d, i) => (i === a ? d : 1));
    const temps: Tensor[] = [];
    const t = (v: Tensor): Tensor => (temps.push(v), v);
    const bc = (v: Tensor): Tensor => (last ? v : t(reshape(v, bshape)));
    const training = opts.training === true && this.trainable;
    let centered: Tensor;
    let inv: Tensor;
    if (training) {
      const axes = x.shape.map((_, i) => i).filter((i) => i !== a);
      const m = t(mean(x, axes, true));
      centered = t(sub(x, m));
      const v = t(mean(t(square(centered)), axes, true));
      inv = t(rsqrt(t(add(v, this.epsilon))));
      this.updateMoving(m, v);
    } else {
      centered = t(sub(x, bc(this.movingMean!.value)));
      inv = bc(t(rsqrt(t(add(this.movingVariance!.value, this.epsilon)))));
    }
    let y = t(mul(centered, inv));
    if (this.gamma) y = t(mul(y, bc(this.gamma.value)));
    if (this.beta) y = add(y, bc(this.beta.value));
    else temps.pop();
    for (const tmp of temps) tmp.dispose();
    return y;
  }

  /** moving = moving · momentum + batch · (1 − momentum), outside the gradient tape. */
  private updateMoving(m: Tensor, v: Tensor): void {
    noGrad(() => {
      const dim = this.movingMean!.shape[0]!;
      const upd = (variable: Variable, stat: Tensor): void => {
        const s = reshape(stat, [dim]);
        const a = mul(variable.value, this.momentum);
        const b = mul(s, 1 - this.momentum);
        const next = add(a, b);
        assignValue(variable, next);
        for (const tmp of [s, a, b, next]) tmp.dispose();
      };
      upd(this.movingMean!, m);
      upd(this.movingVariance!, v);
    });
  }

  override computeOutputShape(inputShape: Shape): Shape {
    return inputShape;
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      axis: this.axis,
      momentum: this.momentum,
      epsilon: this.epsilon,
      center: this.center,
      scale: this.scale,
      betaInitializer: serializeInitializer(this.betaInitializer),
      gammaInitializer: serializeInitializer(this.gammaInitializer),
      movingMeanInitializer: serializeInitializer(this.movingMeanInitializer),
      movingVarianceInitializer: serializeInitializer(this.movingVarianceInitializer),
      betaRegularizer: serializeRegularizer(this.betaRegularizer),
      gammaRegularizer: serializeRegularizer(this.gammaRegularizer),
    };
  }

  static fromConfig(c: Record<string, unknown>): BatchNormalization {
    return new BatchNormalization({ ...baseArgs(c), ...(c as object) } as BatchNormalizationArgs);
  }
}

/** Options of {@link LayerNormalization}. */
export interface LayerNormalizationArgs extends LayerArgs {
  /** Only the last axis (-1) is supported. */
  axis?: number;
  /** Default 1e-3 (Keras). */
  epsilon?: number;
  center?: boolean;
  scale?: boolean;
  betaInitializer?: InitializerIdentifier;
  gammaInitializer?: InitializerIdentifier;
  betaRegularizer?: RegularizerIdentifier | null;
  gammaRegularizer?: RegularizerIdentifier | null;
}

/**
 * Layer normalisation over the last axis with the biased variance:
 * `(x − mean) / √(var + ε) · gamma + beta`, through core `layerNorm` (fused where the backend
 * has the kernel).
 * @example layers.layerNormalization({ epsilon: 1e-5 })
 */
export class LayerNormalization extends Layer {
  static override readonly className = 'LayerNormalization';
  /** Passes a padding mask through. */
  override readonly supportsMasking = true;
  readonly axis: number;
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  readonly betaInitializer: Initializer;
  readonly gammaInitializer: Initializer;
  readonly betaRegularizer: Regularizer | null;
  readonly gammaRegularizer: Regularizer | null;
  gamma: Variable | null = null;
  beta: Variable | null = null;
  private fixedGamma: Tensor | null = null;
  private fixedBeta: Tensor | null = null;

  constructor(args: LayerNormalizationArgs = {}) {
    super(args);
    this.axis = args.axis ?? -1;
    if (this.axis !== -1) throw new ArgumentError(this.name, `only axis -1 is supported, got ${this.axis}`);
    this.epsilon = args.epsilon ?? 1e-3;
    if (!(this.epsilon >= 0)) throw new ArgumentError(this.name, `epsilon must be >= 0, got ${this.epsilon}`);
    this.center = args.center ?? true;
    this.scale = args.scale ?? true;
    this.betaInitializer = getInitializer(args.betaInitializer ?? 'zeros');
    this.gammaInitializer = getInitializer(args.gammaInitializer ?? 'ones');
    this.betaRegularizer = getRegularizer(args.betaRegularizer);
    this.gammaRegularizer = getRegularizer(args.gammaRegularizer);
  }

  override build(inputShape: Shape): void {
    const dim = inputShape[inputShape.length - 1];
    if (dim === null || dim === undefined) throw new ShapeError(this.name, `the last axis of the input shape ${fmtShapeN(inputShape)} must be known`);
    if (this.scale) this.gamma = this.addWeight('gamma', [dim], { initializer: this.gammaInitializer, regularizer: this.gammaRegularizer });
    else this.fixedGamma = keep(fill([dim], 1));
    if (this.center) this.beta = this.addWeight('beta', [dim], { initializer: this.betaInitializer, regularizer: this.betaRegularizer });
    else this.fixedBeta = keep(fill([dim], 0));
    this.inputSpec = [{ minNdim: 1, axes: { [-1]: dim } }];
  }

  call(inputs: Tensor | Tensor[]): Tensor {
    const x = single(this, inputs);
    return layerNorm(x, this.gamma?.value ?? this.fixedGamma!, this.beta?.value ?? this.fixedBeta!, this.epsilon);
  }

  override computeOutputShape(inputShape: Shape): Shape {
    return inputShape;
  }

  override dispose(): void {
    this.fixedGamma?.dispose();
    this.fixedBeta?.dispose();
    super.dispose();
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      axis: this.axis,
      epsilon: this.epsilon,
      center: this.center,
      scale: this.scale,
      betaInitializer: serializeInitializer(this.betaInitializer),
      gammaInitializer: serializeInitializer(this.gammaInitializer),
      betaRegularizer: serializeRegularizer(this.betaRegularizer),
      gammaRegularizer: serializeRegularizer(this.gammaRegularizer),
    };
  }

  static fromConfig(c: Record<string, unknown>): LayerNormalization {
    return new LayerNormalization({ ...baseArgs(c), ...(c as object) } as LayerNormalizationArgs);
  }
}
