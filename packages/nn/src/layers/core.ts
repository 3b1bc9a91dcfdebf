/**
 * The core layers: Input, Dense, Flatten, Reshape, Dropout, Activation, Embedding and the
 * merge layers Add and Concatenate.
 * @module
 */
import type { Variable } from '@tessera/autograd';
import { add, ArgumentError, cast, concat, type DType, DTypeError, gather, greaterEqual, linear, mul, notEqual, randomUniform, reshape, ShapeError, type Tensor, where } from '@tessera/core';
import { type ActivationIdentifier, fusableActivation, getActivation, serializeActivation } from '../activations.js';
import { baseArgs, type CallOptions, Layer, type LayerArgs, Node, SymbolicTensor } from '../engine/layer.js';
import { getInitializer, type Initializer, type InitializerIdentifier, serializeInitializer } from '../initializers.js';
import { getRegularizer, type Regularizer, type RegularizerIdentifier, serializeRegularizer } from '../regularizers.js';
import { checkPositiveInt, fmtShapeN, knownSize, type Shape } from '../util.js';
import { nextDropoutSeed } from './random-context.js';

// -----------------------------------------------------------------------------------------
// Input

/** Options of {@link input}. */
export interface InputOptions {
  /** Shape without the batch axis; `null` for unknown dimensions. */
  shape: readonly (number | null)[];
  /** Fixed batch size (default unknown). */
  batchSize?: number;
  name?: string;
  /** Default float32; int32 for Embedding indices. */
  dtype?: DType;
}

/**
 * The layer behind {@link input}: it has no weights and passes its input through.
 * @example const layer = new InputLayer({ batchInputShape: [null, 784] });
 */
export class InputLayer extends Layer {
  static override readonly className = 'InputLayer';
  constructor(args: LayerArgs & { batchInputShape: readonly (number | null)[] }) {
    super({ ...args, name: args.name });
    const shape = this.batchInputShape!;
    this.built = true;
    this.buildInputShape = [...shape];
    this.inputSpec = [{ shape: [...shape] }];
    const out = new SymbolicTensor([...shape], this.inputDType, this, 0, 0);
    this.inboundNodes.push(new Node(this, [], [out], {}));
  }
  call(inputs: Tensor | Tensor[]): Tensor | Tensor[] {
    return inputs;
  }
  override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    return inputShape;
  }
  static fromConfig(config: Record<string, unknown>): InputLayer {
    return new InputLayer({ ...baseArgs(config), batchInputShape: config.batchInputShape as Shape });
  }
}

/**
 * A symbolic input for a functional model: layers applied to it build a graph, and
 * `model({ inputs, outputs })` turns the graph into a model.
 * @example
 * const x = input({ shape: [784] });
 * const y = layers.dense({ units: 10, activation: 'softmax' }).apply(layers.dense({ units: 64, activation: 'relu' }).apply(x));
 * const m = model({ inputs: x, outputs: y });
 */
export function input(opts: InputOptions): SymbolicTensor {
  if (opts === null || typeof opts !== 'object' || !Array.isArray(opts.shape)) {
    throw new ArgumentError('input', `expected { shape: [...] } (the shape without the batch axis), got ${JSON.stringify(opts)}`);
  }
  const layer = new InputLayer({ batchInputShape: [opts.batchSize ?? null, ...opts.shape], name: opts.name, dtype: opts.dtype });
  return layer.inboundNodes[0]!.outputs[0]!;
}

// -----------------------------------------------------------------------------------------
// Dense

/** Options of {@link Dense}. */
export interface DenseArgs extends LayerArgs {
  /** Output size. */
  units: number;
  /** Default `linear`. relu, sigmoid, tanh and gelu run in the backend's fused matmul kernel. */
  activation?: ActivationIdentifier;
  /** Default true. */
  useBias?: boolean;
  /** Default `glorot_uniform`. */
  kernelInitializer?: InitializerIdentifier;
  /** Default `zeros`. */
  biasInitializer?: InitializerIdentifier;
  kernelRegularizer?: RegularizerIdentifier | null;
  biasRegularizer?: RegularizerIdentifier | null;
}

/**
 * A fully connected layer: `activation(x @ kernel + bias)` on the last axis, with kernel
 * `[in, units]`. Runs through core `linear`, so backends with a fused matmul + bias +
 * activation kernel use it.
 * @example layers.dense({ units: 128, activation: 'relu' })
 */
export class Dense extends Layer {
  static override readonly className = 'Dense';
  /** Passes a padding mask through. */
  override readonly supportsMasking = true;
  readonly units: number;
  readonly activation: ActivationIdentifier;
  readonly useBias: boolean;
  readonly kernelInitializer: Initializer;
  readonly biasInitializer: Initializer;
  readonly kernelRegularizer: Regularizer | null;
  readonly biasRegularizer: Regularizer | null;
  kernel: Variable | null = null;
  bias: Variable | null = null;
  /**
   * A term added to `x·kernel + bias` before the activation: a LoRA adapter's low-rank
   * update while one is attached (see `loraAdapter`), else null.
   * @internal
   */
  kernelDelta: ((x: Tensor) => Tensor) | null = null;

  constructor(args: DenseArgs) {
    super(args);
    this.units = checkPositiveInt(this.name, 'units', args?.units);
    this.activation = args.activation ?? 'linear';
    getActivation(this.activation);
    this.useBias = args.useBias ?? true;
    this.kernelInitializer = getInitializer(args.kernelInitializer ?? 'glorot_uniform');
    this.biasInitializer = getInitializer(args.biasInitializer ?? 'zeros');
    this.kernelRegularizer = getRegularizer(args.kernelRegularizer);
    this.biasRegularizer = getRegularizer(args.biasRegularizer);
  }

  override build(inputShape: Shape): void {
    const inDim = inputShape[inputShape.length - 1];
    if (inputShape.length < 1 || inDim === null || inDim === undefined) {
      throw new ShapeError(this.name, `Dense needs a known last axis, got input shape ${fmtShapeN(inputShape)}`);
    }
    this.kernel = this.addWeight('kernel', [inDim, this.units], { initializer: this.kernelInitializer, regularizer: this.kernelRegularizer });
    if (this.useBias) this.bias = this.addWeight('bias', [this.units], { initializer: this.biasInitializer, regularizer: this.biasRegularizer });
    this.inputSpec = [{ minNdim: 2, axes: { [-1]: inDim } }];
  }

  call(inputs: Tensor | Tensor[]): Tensor {
    const x = single(this, inputs);
    const fused = fusableActivation(this.activation);
    const b = this.bias?.value ?? null;
    if (this.kernelDelta !== null) {
      const base = linear(x, this.kernel!.value, b);
      const delta = this.kernelDelta(x);
      const y = add(base, delta);
      base.dispose();
      delta.dispose();
      const z = getActivation(this.activation)(y);
      if (z !== y) y.dispose();
      return z;
    }
    if (fused !== null) return linear(x, this.kernel!.value, b, fused);
    const y = linear(x, this.kernel!.value, b);
    const z = getActivation(this.activation)(y);
    if (z !== y) y.dispose();
    return z;
  }

  override computeOutputShape(inputShape: Shape): Shape {
    return [...inputShape.slice(0, -1), this.units];
  }

  override computeOutputDType(): DType {
    return 'float32';
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      units: this.units,
      activation: serializeActivation(this.activation),
      useBias: this.useBias,
      kernelInitializer: serializeInitializer(this.kernelInitializer),
      biasInitializer: serializeInitializer(this.biasInitializer),
      kernelRegularizer: serializeRegularizer(this.kernelRegularizer),
      biasRegularizer: serializeRegularizer(this.biasRegularizer),
    };
  }

  static fromConfig(c: Record<string, unknown>): Dense {
    return new Dense({ ...(c as object), ...baseArgs(c) } as unknown as DenseArgs);
  }
}

/** The one input of a single-input layer, or an ArgumentError naming the layer. */
export function single(layer: Layer, inputs: Tensor | Tensor[]): Tensor {
  if (!Array.isArray(inputs)) return inputs;
  if (inputs.length !== 1) throw new ArgumentError(layer.name, `layer "${layer.name}" takes one input, got ${inputs.length}`);
  return inputs[0]!;
}

// -----------------------------------------------------------------------------------------
// Flatten, Reshape

/**
 * Flattens every axis but the batch axis, row-major: `[n, h, w, c]` → `[n, h·w·c]`.
 * @example layers.flatten({ inputShape: [28, 28] })
 */
export class Flatten extends Layer {
  static override readonly className = 'Flatten';
  constructor(args: LayerArgs = {}) {
    super(args);
  }
  override build(inputShape: Shape): void {
    this.inputSpec = [{ minNdim: 1, ...(inputShape.length > 1 ? { shape: [null, ...inputShape.slice(1)] } : {}) }];
  }
  call(inputs: Tensor | Tensor[]): Tensor {
    const x = single(this, inputs);
    return reshape(x, [x.shape[0] ?? 1, x.rank <= 1 ? 1 : x.shape.slice(1).reduce((a, b) => a * b, 1)]);
  }
  override computeOutputShape(inputShape: Shape): Shape {
    return [inputShape[0] ?? null, inputShape.length <= 1 ? 1 : knownSize(inputShape.slice(1))];
  }
  static fromConfig(c: Record<string, unknown>): Flatten {
    return new Flatten(baseArgs(c));
  }
}

/** Options of {@link Reshape}. */
export interface ReshapeArgs extends LayerArgs {
  /** The new shape without the batch axis; one entry may be -1. */
  targetShape: readonly number[];
}

/**
 * Reshapes every sample to `targetShape` (batch axis kept).
 * @example layers.reshape({ targetShape: [28, 28, 1] })
 */
export class Reshape extends Layer {
  static override readonly className = 'Reshape';
  readonly targetShape: number[];
  constructor(args: ReshapeArgs) {
    super(args);
    if (!Array.isArray(args?.targetShape) || args.targetShape.some((d) => !Number.isInteger(d) || d < -1) || args.targetShape.filter((d) => d === -1).length > 1) {
      throw new ArgumentError(this.name, `targetShape must be an array of non-negative integers with at most one -1, got ${JSON.stringify(args?.targetShape)}`);
    }
    this.targetShape = [...args.targetShape];
  }
  call(inputs: Tensor | Tensor[]): Tensor {
    const x = single(this, inputs);
    const out = this.resolve(x.shape.slice(1));
    if (out === null) throw new ShapeError(this.name, `cannot reshape samples of shape ${fmtShapeN(x.shape.slice(1))} to ${fmtShapeN(this.targetShape)}`);
    return reshape(x, [x.shape[0]!, ...(out as number[])]);
  }
  private resolve(sample: readonly (number | null)[]): (number | null)[] | null {
    const size = knownSize(sample);
    const known = this.targetShape.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
    const out: (number | null)[] = [...this.targetShape];
    const i = out.indexOf(-1);
    if (i >= 0) {
      if (size === null) out[i] = null;
      else if (known === 0 || size % known !== 0) return null;
      else out[i] = size / known;
    } else if (size !== null && size !== known) return null;
    return out;
  }
  override computeOutputShape(inputShape: Shape): Shape {
    const out = this.resolve(inputShape.slice(1));
    if (out === null) throw new ShapeError(this.name, `cannot reshape samples of shape ${fmtShapeN(inputShape.slice(1))} to ${fmtShapeN(this.targetShape)}`);
    return [inputShape[0] ?? null, ...out];
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), targetShape: this.targetShape };
  }
  static fromConfig(c: Record<string, unknown>): Reshape {
    return new Reshape({ ...baseArgs(c), targetShape: c.targetShape as number[] });
  }
}

// -----------------------------------------------------------------------------------------
// Dropout, Activation

/** Options of {@link Dropout}. */
export interface DropoutArgs extends LayerArgs {
  /** Fraction of the inputs to drop, in [0, 1). */
  rate: number;
  /** Shape of the mask (broadcast over the input); default the input's shape. */
  noiseShape?: readonly (number | null)[];
  /** Makes the masks reproducible: call k draws with a key derived from (seed, k). */
  seed?: number;
}

/**
 * Inverted dropout: while training, zeroes a `rate` fraction of the inputs and scales the
 * rest by `1 / (1 - rate)`; passes the input through otherwise.
 * @example layers.dropout({ rate: 0.5, seed: 42 })
 */
export class Dropout extends Layer {
  static override readonly className = 'Dropout';
  /** Passes a padding mask through. */
  override readonly supportsMasking = true;
  readonly rate: number;
  readonly noiseShape: (number | null)[] | null;
  readonly seed: number | null;
  /** Masks drawn so far: a seeded layer's position in its stream (checkpoints save it). @internal */
  calls = 0;
  constructor(args: DropoutArgs) {
    super(args);
    if (typeof args?.rate !== 'number' || !(args.rate >= 0 && args.rate < 1)) throw new ArgumentError(this.name, `rate must be in [0, 1), got ${JSON.stringify(args?.rate)}`);
    if (args.seed !== undefined && (!Number.isSafeInteger(args.seed) || args.seed < 0)) throw new ArgumentError(this.name, `seed must be a non-negative integer, got ${args.seed}`);
    this.rate = args.rate;
    this.noiseShape = args.noiseShape ? [...args.noiseShape] : null;
    this.seed = args.seed ?? null;
  }
  call(inputs: Tensor | Tensor[], opts: CallOptions): Tensor {
    const x = single(this, inputs);
    if (!opts.training || this.rate === 0) return x;
    const shape = this.noiseShape ? this.noiseShape.map((d, i) => d ?? x.shape[i]!) : x.shape;
    const seed = this.seed !== null ? (this.seed + this.calls * 7919) % 2 ** 52 : nextDropoutSeed();
    this.calls++;
    const u = randomUniform(shape, { seed });
    const keepMask = greaterEqual(u, this.rate);
    const scaled = where(keepMask, 1 / (1 - this.rate), 0);
    try {
      return mul(x, scaled);
    } finally {
      u.dispose();
      keepMask.dispose();
      scaled.dispose();
    }
  }
  override computeOutputShape(inputShape: Shape): Shape {
    return inputShape;
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), rate: this.rate, noiseShape: this.noiseShape, seed: this.seed };
  }
  static fromConfig(c: Record<string, unknown>): Dropout {
    return new Dropout({ ...baseArgs(c), rate: c.rate as number, noiseShape: (c.noiseShape as Shape | null) ?? undefined, seed: (c.seed as number | null) ?? undefined });
  }
}

/** Options of {@link Activation}. */
export interface ActivationArgs extends LayerArgs {
  activation: ActivationIdentifier;
}

/**
 * Applies an activation function by name (`relu`, `softmax`, `gelu`, …).
 * @example layers.activation({ activation: 'softmax' })
 */
export class Activation extends Layer {
  static override readonly className = 'Activation';
  /** Passes a padding mask through. */
  override readonly supportsMasking = true;
  readonly activation: ActivationIdentifier;
  constructor(args: ActivationArgs) {
    super(args);
    this.activation = args?.activation;
    getActivation(this.activation);
  }
  call(inputs: Tensor | Tensor[]): Tensor {
    return getActivation(this.activation)(single(this, inputs));
  }
  override computeOutputShape(inputShape: Shape): Shape {
    return inputShape;
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), activation: serializeActivation(this.activation) };
  }
  static fromConfig(c: Record<string, unknown>): Activation {
    return new Activation({ ...baseArgs(c), activation: c.activation as ActivationIdentifier });
  }
}

// -----------------------------------------------------------------------------------------
// Embedding

/** Options of {@link Embedding}. */
export interface EmbeddingArgs extends LayerArgs {
  /** Vocabulary size: indices lie in [0, inputDim). */
  inputDim: number;
  /** Size of each vector. */
  outputDim: number;
  /** Default `uniform` (±0.05), as in Keras. */
  embeddingsInitializer?: InitializerIdentifier;
  embeddingsRegularizer?: RegularizerIdentifier | null;
  /**
   * Treat index 0 as padding: the layer's output carries a mask (`indices != 0`) that models
   * pass to later layers that support masking, such as MultiHeadAttention (default false).
   */
  maskZero?: boolean;
}

/**
 * Looks up a vector for each integer index: `y[..., :] = table[indices[...], :]`.
 * @example layers.embedding({ inputDim: 10000, outputDim: 64 })
 */
export class Embedding extends Layer {
  static override readonly className = 'Embedding';
  readonly inputDim: number;
  readonly outputDim: number;
  readonly embeddingsInitializer: Initializer;
  readonly embeddingsRegularizer: Regularizer | null;
  readonly maskZero: boolean;
  override readonly supportsMasking: boolean;
  embeddings: Variable | null = null;
  constructor(args: EmbeddingArgs) {
    super({ ...args, dtype: args?.dtype ?? 'int32' });
    this.inputDim = checkPositiveInt(this.name, 'inputDim', args?.inputDim);
    this.outputDim = checkPositiveInt(this.name, 'outputDim', args?.outputDim);
    this.embeddingsInitializer = getInitializer(args.embeddingsInitializer ?? 'uniform');
    this.embeddingsRegularizer = getRegularizer(args.embeddingsRegularizer);
    this.maskZero = args.maskZero ?? false;
    this.supportsMasking = this.maskZero;
  }
  /** With `maskZero`, `indices != 0` (bool); otherwise null. */
  override computeMask(inputs: Tensor | Tensor[]): Tensor | null {
    return this.maskZero ? notEqual(single(this, inputs), 0) : null;
  }
  override build(): void {
    this.embeddings = this.addWeight('embeddings', [this.inputDim, this.outputDim], { initializer: this.embeddingsInitializer, regularizer: this.embeddingsRegularizer });
  }
  call(inputs: Tensor | Tensor[]): Tensor {
    const x = single(this, inputs);
    if (x.dtype === 'bool') throw new DTypeError(this.name, 'indices must be int32 (or float32 holding integers), got bool');
    const idx = x.dtype === 'int32' ? x : cast(x, 'int32');
    const y = gather(this.embeddings!.value, idx, 0);
    if (idx !== x) idx.dispose();
    return y;
  }
  override computeOutputShape(inputShape: Shape): Shape {
    return [...inputShape, this.outputDim];
  }
  override computeOutputDType(): DType {
    return 'float32';
  }
  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      inputDim: this.inputDim,
      outputDim: this.outputDim,
      embeddingsInitializer: serializeInitializer(this.embeddingsInitializer),
      embeddingsRegularizer: serializeRegularizer(this.embeddingsRegularizer),
      maskZero: this.maskZero,
    };
  }
  static fromConfig(c: Record<string, unknown>): Embedding {
    return new Embedding({ ...baseArgs(c), ...(c as object) } as EmbeddingArgs);
  }
}

// -----------------------------------------------------------------------------------------
// Merging

/**
 * Adds its inputs element-wise (broadcasting), for residual connections in functional models.
 * @example const y = layers.add().apply([a, b]);
 */
export class Add extends Layer {
  static override readonly className = 'Add';
  constructor(args: LayerArgs = {}) {
    super(args);
  }
  call(inputs: Tensor | Tensor[]): Tensor {
    if (!Array.isArray(inputs) || inputs.length < 2) throw new ArgumentError(this.name, `layer "${this.name}" needs a list of at least 2 inputs`);
    let acc = add(inputs[0]!, inputs[1]!);
    for (let i = 2; i < inputs.length; i++) {
      const next = add(acc, inputs[i]!);
      acc.dispose();
      acc = next;
    }
    return acc;
  }
  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shapes = inputShape as Shape[];
    const rank = Math.max(...shapes.map((s) => s.length));
    const out: Shape = [];
    for (let i = 0; i < rank; i++) {
      let d: number | null = 1;
      for (const s of shapes) {
        const v = i < rank - s.length ? 1 : s[i - (rank - s.length)]!;
        if (v === null) d = d === 1 ? null : d;
        else if (v !== 1) {
          if (d !== 1 && d !== null && d !== v) throw new ShapeError(this.name, `inputs ${shapes.map(fmtShapeN).join(' and ')} cannot be added`);
          d = v;
        }
      }
      out.push(d);
    }
    return out;
  }
  static fromConfig(c: Record<string, unknown>): Add {
    return new Add(baseArgs(c));
  }
}

/**
 * Concatenates its inputs along `axis` (default -1).
 * @example const y = layers.concatenate({ axis: -1 }).apply([a, b]);
 */
export class Concatenate extends Layer {
  static override readonly className = 'Concatenate';
  readonly axis: number;
  constructor(args: LayerArgs & { axis?: number } = {}) {
    super(args);
    this.axis = args.axis ?? -1;
  }
  call(inputs: Tensor | Tensor[]): Tensor {
    if (!Array.isArray(inputs) || inputs.length < 1) throw new ArgumentError(this.name, `layer "${this.name}" needs a list of inputs`);
    return concat(inputs, this.axis);
  }
  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shapes = inputShape as Shape[];
    const rank = shapes[0]!.length;
    const a = this.axis < 0 ? rank + this.axis : this.axis;
    const out = [...shapes[0]!];
    out[a] = shapes.reduce<number | null>((s, sh) => (s === null || sh[a] === null ? null : s + sh[a]!), 0);
    return out;
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), axis: this.axis };
  }
  static fromConfig(c: Record<string, unknown>): Concatenate {
    return new Concatenate({ ...baseArgs(c), axis: c.axis as number });
  }
}
