/**
 * Convolution and pooling layers over NHWC images: Conv2D, DepthwiseConv2D, MaxPooling2D,
 * AveragePooling2D, GlobalAveragePooling2D and GlobalMaxPooling2D. `same` padding follows
 * TensorFlow (the extra pixel at the bottom/right).
 * @module
 */
import type { Variable } from '@tessera/autograd';
import { add, ArgumentError, avgPool, conv2d, depthwiseConv2d, type DType, max, maxPool, mean, ShapeError, type Tensor } from '@tessera/core';
import { type ActivationIdentifier, getActivation, serializeActivation } from '../activations.js';
import { baseArgs, Layer, type LayerArgs } from '../engine/layer.js';
import { getInitializer, type Initializer, type InitializerIdentifier, serializeInitializer } from '../initializers.js';
import { getRegularizer, type Regularizer, type RegularizerIdentifier, serializeRegularizer } from '../regularizers.js';
import { checkPositiveInt, fmtShapeN, type Shape, toPair } from '../util.js';
import { single } from './core.js';

/** `same` (output size ceil(in / stride)) or `valid` (no padding). */
export type PaddingMode = 'same' | 'valid';

function checkPadding(layer: string, p: unknown): PaddingMode {
  if (p !== 'same' && p !== 'valid') throw new ArgumentError(layer, `padding must be 'same' or 'valid', got ${JSON.stringify(p)}`);
  return p;
}

/** Output size of one spatial axis of a window op (null stays null). */
export function windowOutputDim(layer: string, size: number | null, k: number, stride: number, padding: PaddingMode, dilation = 1): number | null {
  if (size === null) return null;
  if (padding === 'same') return Math.ceil(size / stride);
  const eff = (k - 1) * dilation + 1;
  const out = Math.floor((size - eff) / stride) + 1;
  if (out <= 0) throw new ShapeError(layer, `window ${k} (dilated ${eff}) does not fit an input of size ${size} with 'valid' padding`);
  return out;
}

function expectNhwc(layer: string, shape: readonly (number | null)[]): void {
  if (shape.length !== 4) throw new ShapeError(layer, `expects NHWC input of rank 4 [batch, height, width, channels], got shape ${fmtShapeN(shape)}`);
}

/** Options shared by the convolution layers. */
interface ConvBaseArgs extends LayerArgs {
  /** Window size: one number or [kh, kw]. */
  kernelSize: number | readonly [number, number];
  /** Default 1. */
  strides?: number | readonly [number, number];
  /** Default 'valid'. */
  padding?: PaddingMode;
  /** Default 1. */
  dilationRate?: number | readonly [number, number];
  /** Default 'linear'. */
  activation?: ActivationIdentifier;
  /** Default true. */
  useBias?: boolean;
  /** Default 'zeros'. */
  biasInitializer?: InitializerIdentifier;
  biasRegularizer?: RegularizerIdentifier | null;
}

/** Options of {@link Conv2D}. */
export interface Conv2DArgs extends ConvBaseArgs {
  /** Number of output channels. */
  filters: number;
  /** Default 'glorot_uniform'. */
  kernelInitializer?: InitializerIdentifier;
  kernelRegularizer?: RegularizerIdentifier | null;
}

abstract class ConvBase extends Layer {
  readonly kernelSize: [number, number];
  readonly strides: [number, number];
  readonly padding: PaddingMode;
  readonly dilationRate: [number, number];
  readonly activation: ActivationIdentifier;
  readonly useBias: boolean;
  readonly biasInitializer: Initializer;
  readonly biasRegularizer: Regularizer | null;
  bias: Variable | null = null;

  constructor(args: ConvBaseArgs) {
    super(args);
    if (args === null || typeof args !== 'object') throw new ArgumentError(this.name, 'expected an options object');
    this.kernelSize = toPair(this.name, 'kernelSize', args.kernelSize);
    this.strides = toPair(this.name, 'strides', args.strides ?? 1);
    this.padding = checkPadding(this.name, args.padding ?? 'valid');
    this.dilationRate = toPair(this.name, 'dilationRate', args.dilationRate ?? 1);
    this.activation = args.activation ?? 'linear';
    getActivation(this.activation);
    this.useBias = args.useBias ?? true;
    this.biasInitializer = getInitializer(args.biasInitializer ?? 'zeros');
    this.biasRegularizer = getRegularizer(args.biasRegularizer);
  }

  protected outChannels(inChannels: number): number {
    void inChannels;
    return 0;
  }

  protected finish(y: Tensor): Tensor {
    let out = y;
    if (this.bias) {
      out = add(y, this.bias.value);
      y.dispose();
    }
    const act = getActivation(this.activation);
    const z = act(out);
    if (z !== out) out.dispose();
    return z;
  }

  protected windowOptions(): { strides: [number, number]; padding: PaddingMode; dilations: [number, number] } {
    return { strides: this.strides, padding: this.padding, dilations: this.dilationRate };
  }

  override computeOutputShape(inputShape: Shape): Shape {
    expectNhwc(this.name, inputShape);
    const [n, h, w, c] = inputShape;
    return [
      n ?? null,
      windowOutputDim(this.name, h ?? null, this.kernelSize[0], this.strides[0], this.padding, this.dilationRate[0]),
      windowOutputDim(this.name, w ?? null, this.kernelSize[1], this.strides[1], this.padding, this.dilationRate[1]),
      c === null || c === undefined ? null : this.outChannels(c),
    ];
  }

  override computeOutputDType(): DType {
    return 'float32';
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      kernelSize: this.kernelSize,
      strides: this.strides,
      padding: this.padding,
      dilationRate: this.dilationRate,
      activation: serializeActivation(this.activation),
      useBias: this.useBias,
      biasInitializer: serializeInitializer(this.biasInitializer),
      biasRegularizer: serializeRegularizer(this.biasRegularizer),
    };
  }
}

/**
 * 2-D convolution over NHWC images with kernel `[kh, kw, in, filters]`, plus bias and
 * activation.
 * @example layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu', inputShape: [28, 28, 1] })
 */
export class Conv2D extends ConvBase {
  static override readonly className = 'Conv2D';
  readonly filters: number;
  readonly kernelInitializer: Initializer;
  readonly kernelRegularizer: Regularizer | null;
  kernel: Variable | null = null;

  constructor(args: Conv2DArgs) {
    super(args);
    this.filters = checkPositiveInt(this.name, 'filters', args.filters);
    this.kernelInitializer = getInitializer(args.kernelInitializer ?? 'glorot_uniform');
    this.kernelRegularizer = getRegularizer(args.kernelRegularizer);
  }

  protected override outChannels(): number {
    return this.filters;
  }

  override build(inputShape: Shape): void {
    expectNhwc(this.name, inputShape);
    const cin = inputShape[3];
    if (cin === null || cin === undefined) throw new ShapeError(this.name, `the channel axis of the input shape ${fmtShapeN(inputShape)} must be known`);
    this.kernel = this.addWeight('kernel', [this.kernelSize[0], this.kernelSize[1], cin, this.filters], { initializer: this.kernelInitializer, regularizer: this.kernelRegularizer });
    if (this.useBias) this.bias = this.addWeight('bias', [this.filters], { initializer: this.biasInitializer, regularizer: this.biasRegularizer });
    this.inputSpec = [{ ndim: 4, axes: { [-1]: cin } }];
  }

  call(inputs: Tensor | Tensor[]): Tensor {
    const x = single(this, inputs);
    return this.finish(conv2d(x, this.kernel!.value, this.windowOptions()));
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      filters: this.filters,
      kernelInitializer: serializeInitializer(this.kernelInitializer),
      kernelRegularizer: serializeRegularizer(this.kernelRegularizer),
    };
  }

  static fromConfig(c: Record<string, unknown>): Conv2D {
    return new Conv2D({ ...baseArgs(c), ...(c as object) } as Conv2DArgs);
  }
}

/** Options of {@link DepthwiseConv2D}. */
export interface DepthwiseConv2DArgs extends ConvBaseArgs {
  /** Output channels per input channel (default 1). */
  depthMultiplier?: number;
  /** Default 'glorot_uniform'. */
  depthwiseInitializer?: InitializerIdentifier;
  depthwiseRegularizer?: RegularizerIdentifier | null;
}

/**
 * Depthwise 2-D convolution: each input channel has its own `depthMultiplier` filters;
 * kernel `[kh, kw, in, depthMultiplier]`, output channel `c · depthMultiplier + m`.
 * @example layers.depthwiseConv2d({ kernelSize: 3, padding: 'same' })
 */
export class DepthwiseConv2D extends ConvBase {
  static override readonly className = 'DepthwiseConv2D';
  readonly depthMultiplier: number;
  readonly depthwiseInitializer: Initializer;
  readonly depthwiseRegularizer: Regularizer | null;
  depthwiseKernel: Variable | null = null;

  constructor(args: DepthwiseConv2DArgs) {
    super(args);
    this.depthMultiplier = checkPositiveInt(this.name, 'depthMultiplier', args.depthMultiplier ?? 1);
    this.depthwiseInitializer = getInitializer(args.depthwiseInitializer ?? 'glorot_uniform');
    this.depthwiseRegularizer = getRegularizer(args.depthwiseRegularizer);
  }

  protected override outChannels(inChannels: number): number {
    return inChannels * this.depthMultiplier;
  }

  override build(inputShape: Shape): void {
    expectNhwc(this.name, inputShape);
    const cin = inputShape[3];
    if (cin === null || cin === undefined) throw new ShapeError(this.name, `the channel axis of the input shape ${fmtShapeN(inputShape)} must be known`);
    this.depthwiseKernel = this.addWeight('depthwise_kernel', [this.kernelSize[0], this.kernelSize[1], cin, this.depthMultiplier], {
      initializer: this.depthwiseInitializer,
      regularizer: this.depthwiseRegularizer,
    });
    if (this.useBias) this.bias = this.addWeight('bias', [cin * this.depthMultiplier], { initializer: this.biasInitializer, regularizer: this.biasRegularizer });
    this.inputSpec = [{ ndim: 4, axes: { [-1]: cin } }];
  }

  call(inputs: Tensor | Tensor[]): Tensor {
    const x = single(this, inputs);
    return this.finish(depthwiseConv2d(x, this.depthwiseKernel!.value, this.windowOptions()));
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      depthMultiplier: this.depthMultiplier,
      depthwiseInitializer: serializeInitializer(this.depthwiseInitializer),
      depthwiseRegularizer: serializeRegularizer(this.depthwiseRegularizer),
    };
  }

  static fromConfig(c: Record<string, unknown>): DepthwiseConv2D {
    return new DepthwiseConv2D({ ...baseArgs(c), ...(c as object) } as DepthwiseConv2DArgs);
  }
}

/** Options of the pooling layers. */
export interface Pooling2DArgs extends LayerArgs {
  /** Window: one number or [ph, pw] (default 2). */
  poolSize?: number | readonly [number, number];
  /** Default: the pool size. */
  strides?: number | readonly [number, number];
  /** Default 'valid'. */
  padding?: PaddingMode;
}

abstract class Pooling2D extends Layer {
  readonly poolSize: [number, number];
  readonly strides: [number, number];
  readonly padding: PaddingMode;
  protected abstract readonly kind: 'max' | 'avg';
  constructor(args: Pooling2DArgs = {}) {
    super(args);
    this.poolSize = toPair(this.name, 'poolSize', args.poolSize ?? 2);
    this.strides = toPair(this.name, 'strides', args.strides ?? this.poolSize);
    this.padding = checkPadding(this.name, args.padding ?? 'valid');
  }
  override build(inputShape: Shape): void {
    expectNhwc(this.name, inputShape);
    this.inputSpec = [{ ndim: 4 }];
  }
  call(inputs: Tensor | Tensor[]): Tensor {
    const x = single(this, inputs);
    const f = this.kind === 'max' ? maxPool : avgPool;
    return f(x, this.poolSize, { strides: this.strides, padding: this.padding });
  }
  override computeOutputShape(inputShape: Shape): Shape {
    expectNhwc(this.name, inputShape);
    const [n, h, w, c] = inputShape;
    return [
      n ?? null,
      windowOutputDim(this.name, h ?? null, this.poolSize[0], this.strides[0], this.padding),
      windowOutputDim(this.name, w ?? null, this.poolSize[1], this.strides[1], this.padding),
      c ?? null,
    ];
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), poolSize: this.poolSize, strides: this.strides, padding: this.padding };
  }
}

/**
 * Max over each window (padded cells ignored).
 * @example layers.maxPooling2d({ poolSize: 2 })
 */
export class MaxPooling2D extends Pooling2D {
  static override readonly className = 'MaxPooling2D';
  protected readonly kind = 'max';
  static fromConfig(c: Record<string, unknown>): MaxPooling2D {
    return new MaxPooling2D({ ...baseArgs(c), ...(c as object) } as Pooling2DArgs);
  }
}

/**
 * Mean over each window's real (unpadded) cells.
 * @example layers.averagePooling2d({ poolSize: 3, strides: 2, padding: 'same' })
 */
export class AveragePooling2D extends Pooling2D {
  static override readonly className = 'AveragePooling2D';
  protected readonly kind = 'avg';
  static fromConfig(c: Record<string, unknown>): AveragePooling2D {
    return new AveragePooling2D({ ...baseArgs(c), ...(c as object) } as Pooling2DArgs);
  }
}

/** Options of the global pooling layers. */
export interface GlobalPooling2DArgs extends LayerArgs {
  /** Keep the spatial axes as size 1 (default false). */
  keepdims?: boolean;
}

abstract class GlobalPooling2D extends Layer {
  readonly keepdims: boolean;
  protected abstract readonly kind: 'max' | 'avg';
  constructor(args: GlobalPooling2DArgs = {}) {
    super(args);
    this.keepdims = args.keepdims ?? false;
  }
  override build(inputShape: Shape): void {
    expectNhwc(this.name, inputShape);
    this.inputSpec = [{ ndim: 4 }];
  }
  call(inputs: Tensor | Tensor[]): Tensor {
    const x = single(this, inputs);
    return (this.kind === 'max' ? max : mean)(x, [1, 2], this.keepdims);
  }
  override computeOutputShape(inputShape: Shape): Shape {
    expectNhwc(this.name, inputShape);
    return this.keepdims ? [inputShape[0]!, 1, 1, inputShape[3]!] : [inputShape[0]!, inputShape[3]!];
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), keepdims: this.keepdims };
  }
}

/**
 * Mean over the spatial axes: `[n, h, w, c]` → `[n, c]`.
 * @example layers.globalAveragePooling2d()
 */
export class GlobalAveragePooling2D extends GlobalPooling2D {
  static override readonly className = 'GlobalAveragePooling2D';
  protected readonly kind = 'avg';
  static fromConfig(c: Record<string, unknown>): GlobalAveragePooling2D {
    return new GlobalAveragePooling2D({ ...baseArgs(c), keepdims: c.keepdims as boolean });
  }
}

/**
 * Max over the spatial axes: `[n, h, w, c]` → `[n, c]`.
 * @example layers.globalMaxPooling2d()
 */
export class GlobalMaxPooling2D extends GlobalPooling2D {
  static override readonly className = 'GlobalMaxPooling2D';
  protected readonly kind = 'max';
  static fromConfig(c: Record<string, unknown>): GlobalMaxPooling2D {
    return new GlobalMaxPooling2D({ ...baseArgs(c), keepdims: c.keepdims as boolean });
  }
}
