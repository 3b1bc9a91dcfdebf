/**
 * Position information for sequence models: learned position embeddings, fixed sinusoidal
 * encodings, and token + position embedding in one layer. Each takes a `startIndex` call
 * option so that decoding with a KV cache gets the positions of the new tokens.
 * @module
 */
import type { Variable } from '@tessera/autograd';
import { add, ArgumentError, broadcastTo, concat, type DType, DTypeError, mul, ShapeError, slice, type Tensor, tensor } from '@tessera/core';
import { baseArgs, type CommonCallOptions, Layer, type LayerArgs } from '../engine/layer.js';
import { getInitializer, type Initializer, type InitializerIdentifier, serializeInitializer } from '../initializers.js';
import { checkPositiveInt, fmtShapeN, type Shape } from '../util.js';
import { CompositeLayer } from './composite.js';
import { Embedding, single } from './core.js';

/** Call options of the position layers. */
export interface PositionCallOptions extends CommonCallOptions {
  /** Position of the first input step (default 0); with a KV cache, `cache.length`. */
  startIndex?: number;
}

/** Checks `startIndex` and that `startIndex + length` fits `maxLength` (when there is one). */
function positions(layer: Layer, opts: PositionCallOptions, length: number, maxLength: number | null): number {
  const start = opts.startIndex ?? 0;
  if (!Number.isInteger(start) || start < 0) throw new ArgumentError(layer.name, `startIndex must be a non-negative integer, got ${String(opts.startIndex)}`);
  if (maxLength !== null && start + length > maxLength) {
    throw new ShapeError(layer.name, `positions ${start}..${start + length - 1} exceed maxLength ${maxLength}`);
  }
  return start;
}

/** The shape checks shared by the position layers: `[batch, T, dim]` float32 input. */
function sequenceInput(layer: Layer, inputs: Tensor | Tensor[]): Tensor {
  const x = single(layer, inputs);
  if (x.rank < 2) throw new ShapeError(layer.name, `input must be [batch, positions, features] (or [positions, features]), got ${fmtShapeN(x.shape)}`);
  return x;
}

// -----------------------------------------------------------------------------------------

/** Options of {@link PositionEmbedding}. */
export interface PositionEmbeddingArgs extends LayerArgs {
  /** Largest sequence length (number of learned positions). */
  maxLength: number;
  /** Default `glorot_uniform` (as keras-hub). */
  initializer?: InitializerIdentifier;
}

/** Position rows `[t, dim]` shaped like `x`: themselves for an unbatched input, else broadcast over the batch (the rows are freed). */
function alongBatch(rows: Tensor, x: Tensor): Tensor {
  if (x.rank === 2) return rows;
  const out = broadcastTo(rows, x.shape);
  rows.dispose();
  return out;
}

/**
 * Learned position embeddings (keras-hub `PositionEmbedding`): given a sequence `[batch, T,
 * dim]` it returns the embeddings of positions `startIndex .. startIndex+T-1`, broadcast to the
 * input's shape. It adds nothing; add it to the token embeddings yourself.
 * @example const pos = layers.positionEmbedding({ maxLength: 128 }); const h = add(tok, pos.apply(tok));
 */
export class PositionEmbedding extends Layer {
  static override readonly className = 'PositionEmbedding';
  override readonly supportsMasking = true;
  readonly maxLength: number;
  readonly initializer: Initializer;
  /** `[maxLength, dim]`, created by `build`. */
  embeddings: Variable | null = null;

  constructor(args: PositionEmbeddingArgs) {
    super(args);
    this.maxLength = checkPositiveInt(this.name, 'maxLength', args?.maxLength);
    this.initializer = getInitializer(args.initializer ?? 'glorot_uniform');
  }

  override build(inputShape: Shape): void {
    const dim = inputShape[inputShape.length - 1];
    if (inputShape.length < 2 || dim === null || dim === undefined) throw new ShapeError(this.name, `input must be [batch, positions, features] with known features, got ${fmtShapeN(inputShape)}`);
    this.embeddings = this.addWeight('embeddings', [this.maxLength, dim], { initializer: this.initializer });
    this.inputSpec = [{ minNdim: 2, axes: { [-1]: dim } }];
  }

  call(inputs: Tensor | Tensor[], opts: PositionCallOptions = {}): Tensor {
    const x = sequenceInput(this, inputs);
    const t = x.shape[x.rank - 2]!;
    const start = positions(this, opts, t, this.maxLength);
    const e = this.embeddings!.value;
    return alongBatch(slice(e, [start, 0], [t, e.shape[1]!]), x);
  }

  override computeOutputShape(inputShape: Shape): Shape {
    return inputShape;
  }

  override computeOutputDType(): DType {
    return 'float32';
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), maxLength: this.maxLength, initializer: serializeInitializer(this.initializer) };
  }

  static fromConfig(c: Record<string, unknown>): PositionEmbedding {
    return new PositionEmbedding({ ...baseArgs(c), maxLength: c.maxLength as number, initializer: c.initializer as InitializerIdentifier });
  }
}

// -----------------------------------------------------------------------------------------

/** Options of {@link SinusoidalPositionEncoding}. */
export interface SinusoidalPositionEncodingArgs extends LayerArgs {
  /** Largest position allowed (default: no limit). */
  maxLength?: number;
  /** Longest wavelength of the sinusoids (default 10000, as in "Attention is all you need"). */
  maxWavelength?: number;
}

/**
 * Fixed sinusoidal position encodings (keras-hub `SinusoidalPositionEncoding`): for position
 * p and feature i, `sin(p / w^(2⌊i/2⌋/dim))` on even i and `cos(...)` on odd i, w =
 * `maxWavelength`. Same call contract as {@link PositionEmbedding}; no weights.
 * @example const h = add(tok, layers.sinusoidalPositionEncoding().apply(tok));
 */
export class SinusoidalPositionEncoding extends Layer {
  static override readonly className = 'SinusoidalPositionEncoding';
  override readonly supportsMasking = true;
  readonly maxLength: number | null;
  readonly maxWavelength: number;

  constructor(args: SinusoidalPositionEncodingArgs = {}) {
    super(args);
    this.maxLength = args.maxLength === undefined || args.maxLength === null ? null : checkPositiveInt(this.name, 'maxLength', args.maxLength);
    this.maxWavelength = args.maxWavelength ?? 10000;
    if (typeof this.maxWavelength !== 'number' || !(this.maxWavelength > 0) || !Number.isFinite(this.maxWavelength)) {
      throw new ArgumentError(this.name, `maxWavelength must be a positive number, got ${String(args.maxWavelength)}`);
    }
  }

  call(inputs: Tensor | Tensor[], opts: PositionCallOptions = {}): Tensor {
    const x = sequenceInput(this, inputs);
    const t = x.shape[x.rank - 2]!;
    const dim = x.shape[x.rank - 1]!;
    const start = positions(this, opts, t, this.maxLength);
    const data = new Float32Array(t * dim);
    for (let p = 0; p < t; p++) {
      for (let i = 0; i < dim; i++) {
        const angle = (start + p) / this.maxWavelength ** ((2 * Math.floor(i / 2)) / dim);
        data[p * dim + i] = i % 2 === 0 ? Math.sin(angle) : Math.cos(angle);
      }
    }
    return alongBatch(tensor(data, [t, dim]), x);
  }

  override computeOutputShape(inputShape: Shape): Shape {
    return inputShape;
  }

  override computeOutputDType(): DType {
    return 'float32';
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), maxLength: this.maxLength, maxWavelength: this.maxWavelength };
  }

  static fromConfig(c: Record<string, unknown>): SinusoidalPositionEncoding {
    return new SinusoidalPositionEncoding({ ...baseArgs(c), maxLength: (c.maxLength as number | null) ?? undefined, maxWavelength: c.maxWavelength as number });
  }
}

// -----------------------------------------------------------------------------------------

/** Options of {@link TokenAndPositionEmbedding}. */
export interface TokenAndPositionEmbeddingArgs extends LayerArgs {
  /** Vocabulary size: token ids lie in [0, vocabSize). */
  vocabSize: number;
  /** Largest sequence length. */
  maxLength: number;
  /** Size of each vector. */
  embeddingDim: number;
  /** Token id 0 is padding: the output carries a mask `ids != 0` (default false). */
  maskZero?: boolean;
  /** Token table initializer; default `uniform` (as Embedding). */
  embeddingsInitializer?: InitializerIdentifier;
  /** Position table initializer; default `glorot_uniform`. */
  positionInitializer?: InitializerIdentifier;
}

/**
 * Token embedding plus learned position embedding (keras-hub `TokenAndPositionEmbedding`):
 * ids `[batch, T]` → `[batch, T, embeddingDim]`. `startIndex` (call option) offsets the
 * positions for decoding with a KV cache. Weights: `token_embedding/embeddings`,
 * `position_embedding/embeddings`.
 * @example const emb = layers.tokenAndPositionEmbedding({ vocabSize: 30, maxLength: 64, embeddingDim: 32 });
 */
export class TokenAndPositionEmbedding extends CompositeLayer {
  static override readonly className = 'TokenAndPositionEmbedding';
  override readonly supportsMasking: boolean;
  readonly vocabSize: number;
  readonly maxLength: number;
  readonly embeddingDim: number;
  readonly maskZero: boolean;
  readonly tokenEmbedding: Embedding;
  readonly positionEmbedding: PositionEmbedding;

  constructor(args: TokenAndPositionEmbeddingArgs) {
    super({ ...args, dtype: args?.dtype ?? 'int32' });
    this.vocabSize = checkPositiveInt(this.name, 'vocabSize', args?.vocabSize);
    this.maxLength = checkPositiveInt(this.name, 'maxLength', args.maxLength);
    this.embeddingDim = checkPositiveInt(this.name, 'embeddingDim', args.embeddingDim);
    this.maskZero = args.maskZero ?? false;
    this.supportsMasking = this.maskZero;
    this.tokenEmbedding = new Embedding({
      name: 'token_embedding',
      inputDim: this.vocabSize,
      outputDim: this.embeddingDim,
      maskZero: this.maskZero,
      embeddingsInitializer: args.embeddingsInitializer,
      trainable: this.trainable,
    });
    this.positionEmbedding = new PositionEmbedding({ name: 'position_embedding', maxLength: this.maxLength, initializer: args.positionInitializer, trainable: this.trainable });
  }

  protected sublayers(): Layer[] {
    return [this.tokenEmbedding, this.positionEmbedding];
  }

  override build(inputShape: Shape): void {
    this.tokenEmbedding.ensureBuilt(inputShape);
    this.positionEmbedding.ensureBuilt([...inputShape, this.embeddingDim]);
  }

  call(inputs: Tensor | Tensor[], opts: PositionCallOptions = {}): Tensor {
    const ids = single(this, inputs);
    if (ids.dtype === 'bool') throw new DTypeError(this.name, `token ids must be int32, got bool ${fmtShapeN(ids.shape)}`);
    if (ids.rank !== 2) throw new ShapeError(this.name, `token ids must be [batch, positions], got ${fmtShapeN(ids.shape)}`);
    const tok = this.tokenEmbedding.apply(ids);
    const pos = this.positionEmbedding.apply(tok, { startIndex: opts.startIndex } as PositionCallOptions);
    const out = add(tok, pos);
    tok.dispose();
    pos.dispose();
    return out;
  }

  /** With `maskZero`, `ids != 0`; otherwise null. */
  override computeMask(inputs: Tensor | Tensor[]): Tensor | null {
    return this.tokenEmbedding.computeMask(inputs);
  }

  override computeOutputShape(inputShape: Shape): Shape {
    return [...inputShape, this.embeddingDim];
  }

  override computeOutputDType(): DType {
    return 'float32';
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      vocabSize: this.vocabSize,
      maxLength: this.maxLength,
      embeddingDim: this.embeddingDim,
      maskZero: this.maskZero,
      embeddingsInitializer: serializeInitializer(this.tokenEmbedding.embeddingsInitializer),
      positionInitializer: serializeInitializer(this.positionEmbedding.initializer),
    };
  }

  static fromConfig(c: Record<string, unknown>): TokenAndPositionEmbedding {
    return new TokenAndPositionEmbedding({
      ...baseArgs(c),
      vocabSize: c.vocabSize as number,
      maxLength: c.maxLength as number,
      embeddingDim: c.embeddingDim as number,
      maskZero: c.maskZero as boolean,
      embeddingsInitializer: c.embeddingsInitializer as InitializerIdentifier,
      positionInitializer: c.positionInitializer as InitializerIdentifier,
    });
  }
}

// -----------------------------------------------------------------------------------------

/**
 * Rotates the last axis of `x` (sequence on axis `seqAxis`) by position, RoFormer's rotary
 * position embedding in the half-split form keras-hub uses: with `x = [x1, x2]` (halves of the
 * last axis) and θ_i = p / w^(2i/d), `[x1 cos θ − x2 sin θ, x2 cos θ + x1 sin θ]` for positions
 * `p = startIndex …`. Differentiable (composed of core ops). The last axis must be even.
 * @example const qr = applyRotary(q, 2, 0); // q [batch, heads, T, d]
 */
export function applyRotary(x: Tensor, seqAxis: number, startIndex: number, maxWavelength = 10000, scalingFactor = 1, op = 'rotary'): Tensor {
  const d = x.shape[x.rank - 1]!;
  const t = x.shape[seqAxis]!;
  if (d % 2 !== 0) throw new ShapeError(op, `the feature axis must be even for rotary embeddings, got ${fmtShapeN(x.shape)}`);
  const half = d / 2;
  const cos = new Float32Array(t * d);
  const sin = new Float32Array(t * d);
  for (let p = 0; p < t; p++) {
    const pos = (startIndex + p) / scalingFactor;
    for (let i = 0; i < half; i++) {
      const a = pos / maxWavelength ** ((2 * i) / d);
      cos[p * d + i] = cos[p * d + half + i] = Math.cos(a);
      sin[p * d + i] = -Math.sin(a); // the sign of rotate_half's first half, folded in
      sin[p * d + half + i] = Math.sin(a);
    }
  }
  // [T, d] tables shaped to broadcast over every axis but the sequence and feature axes.
  const shape = x.shape.map((n, i) => (i === seqAxis ? t : i === x.rank - 1 ? d : 1)).slice(seqAxis);
  const temps: Tensor[] = [];
  try {
    const c = tensor(cos, shape);
    const s = tensor(sin, shape);
    temps.push(c, s);
    const [x1, x2] = [slice(x, x.shape.map(() => 0), [...x.shape.slice(0, -1), half]), slice(x, [...x.shape.slice(0, -1).map(() => 0), half], [...x.shape.slice(0, -1), half])];
    temps.push(x1, x2);
    const swapped = concat([x2, x1], -1); // rotate_half without the sign (it is in `sin`)
    temps.push(swapped);
    const a = mul(x, c);
    const b = mul(swapped, s);
    temps.push(a, b);
    return add(a, b);
  } finally {
    for (const tt of temps) tt.dispose();
  }
}

/** Options of {@link RotaryEmbedding}. */
export interface RotaryEmbeddingArgs extends LayerArgs {
  /** Longest wavelength (default 10000). */
  maxWavelength?: number;
  /** Positions are divided by this (default 1; > 1 stretches to longer contexts). */
  scalingFactor?: number;
  /** The sequence axis of the input (default 1: `[batch, T, ...features]`). */
  sequenceAxis?: number;
}

/**
 * Rotary position embedding (keras-hub `RotaryEmbedding`): rotates pairs of features (first
 * and second half of the last axis) by angles that grow with the position, so dot products
 * between rotated queries and keys depend only on their relative position. Returns the
 * rotated input (same shape); `startIndex` call option for decoding with a cache. For attention,
 * `multiHeadAttention({ rotary: true })` applies it to each head's queries and keys.
 * @example const q = layers.rotaryEmbedding().apply(x); // x [batch, T, d], d even
 */
export class RotaryEmbedding extends Layer {
  static override readonly className = 'RotaryEmbedding';
  override readonly supportsMasking = true;
  readonly maxWavelength: number;
  readonly scalingFactor: number;
  readonly sequenceAxis: number;

  constructor(args: RotaryEmbeddingArgs = {}) {
    super(args);
    this.maxWavelength = args.maxWavelength ?? 10000;
    this.scalingFactor = args.scalingFactor ?? 1;
    this.sequenceAxis = args.sequenceAxis ?? 1;
    for (const [k, v] of [['maxWavelength', this.maxWavelength], ['scalingFactor', this.scalingFactor]] as const) {
      if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) throw new ArgumentError(this.name, `${k} must be a positive number, got ${String(v)}`);
    }
    if (!Number.isInteger(this.sequenceAxis) || this.sequenceAxis < 1) throw new ArgumentError(this.name, `sequenceAxis must be an integer >= 1, got ${String(args.sequenceAxis)}`);
  }

  call(inputs: Tensor | Tensor[], opts: PositionCallOptions = {}): Tensor {
    const x = single(this, inputs);
    if (x.dtype !== 'float32') throw new DTypeError(this.name, `input must be float32, got ${x.dtype} ${fmtShapeN(x.shape)}`);
    if (x.rank < 2 || this.sequenceAxis >= x.rank - 1) throw new ShapeError(this.name, `input ${fmtShapeN(x.shape)} needs a sequence axis ${this.sequenceAxis} before the feature axis`);
    const start = positions(this, opts, x.shape[this.sequenceAxis]!, null);
    return applyRotary(x, this.sequenceAxis, start, this.maxWavelength, this.scalingFactor, this.name);
  }

  override computeOutputShape(inputShape: Shape): Shape {
    return inputShape;
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), maxWavelength: this.maxWavelength, scalingFactor: this.scalingFactor, sequenceAxis: this.sequenceAxis };
  }

  static fromConfig(c: Record<string, unknown>): RotaryEmbedding {
    return new RotaryEmbedding({ ...baseArgs(c), maxWavelength: c.maxWavelength as number, scalingFactor: c.scalingFactor as number, sequenceAxis: c.sequenceAxis as number });
  }
}
