/**
 * Transformer blocks (keras-hub `TransformerEncoder` / `TransformerDecoder`): multi-head
 * attention and a two-layer MLP, each wrapped in a residual connection with dropout and
 * layer normalisation, after the sublayer (post-norm, the original Transformer) or before it
 * (pre-norm, GPT-2 and most modern models).
 * @module
 */
import { add, ArgumentError, type DType, ShapeError, type Tensor } from '@tessera/core';
import { type ActivationIdentifier, getActivation, serializeActivation } from '../activations.js';
import { baseArgs, type Layer, type LayerArgs, type SymbolicTensor } from '../engine/layer.js';
import { getInitializer, type Initializer, type InitializerIdentifier, serializeInitializer } from '../initializers.js';
import { checkPositiveInt, fmtShapeN, type Shape } from '../util.js';
import { type AttentionCallOptions, MultiHeadAttention } from './attention.js';
import { CompositeLayer } from './composite.js';
import { Dense, Dropout, single } from './core.js';
import { LayerNormalization } from './normalization.js';

/** Options of {@link TransformerEncoder} and {@link TransformerDecoder}. */
export interface TransformerArgs extends LayerArgs {
  /** Attention heads. */
  numHeads: number;
  /** Hidden size of the MLP. */
  intermediateDim: number;
  /** Size of each attention head; default `dModel / numHeads` (rounded down). */
  keyDim?: number;
  /** Dropout rate after attention and after the MLP, and on the attention weights (default 0). */
  dropout?: number;
  /** The MLP's hidden activation (default `gelu`). */
  activation?: ActivationIdentifier;
  /** Pre-norm (normalise before each sublayer) when true; post-norm (default) when false. */
  normFirst?: boolean;
  /** Layer normalisation epsilon (default 1e-5). */
  epsilon?: number;
  /** Kernel initializer of every projection (default `glorot_uniform`). */
  kernelInitializer?: InitializerIdentifier;
  /** Makes dropout reproducible. */
  seed?: number;
  /** Rotary position embedding in the self-attention (keyDim must be even; default false). */
  rotary?: boolean;
}

/** Call options of the transformer blocks. */
export interface TransformerCallOptions extends AttentionCallOptions {
  /** TransformerDecoder: which memory positions are real, bool (or 0/1) `[batch, Tm]`. */
  memoryMask?: Tensor;
}

/** The options both blocks share, checked once. */
interface Resolved {
  numHeads: number;
  intermediateDim: number;
  keyDim: number | null;
  dropout: number;
  activation: ActivationIdentifier;
  normFirst: boolean;
  epsilon: number;
  kernelInitializer: Initializer;
  seed: number | null;
  rotary: boolean;
}

function resolve(name: string, args: TransformerArgs): Resolved {
  if (args === null || typeof args !== 'object') throw new ArgumentError(name, 'expected an options object { numHeads, intermediateDim, ... }');
  const dropout = args.dropout ?? 0;
  if (typeof dropout !== 'number' || !(dropout >= 0 && dropout < 1)) throw new ArgumentError(name, `dropout must be in [0, 1), got ${JSON.stringify(args.dropout)}`);
  const epsilon = args.epsilon ?? 1e-5;
  if (typeof epsilon !== 'number' || !(epsilon >= 0)) throw new ArgumentError(name, `epsilon must be >= 0, got ${JSON.stringify(args.epsilon)}`);
  const activation = args.activation ?? 'gelu';
  getActivation(activation);
  return {
    numHeads: checkPositiveInt(name, 'numHeads', args.numHeads),
    intermediateDim: checkPositiveInt(name, 'intermediateDim', args.intermediateDim),
    keyDim: args.keyDim === undefined || args.keyDim === null ? null : checkPositiveInt(name, 'keyDim', args.keyDim),
    dropout,
    activation,
    normFirst: args.normFirst ?? false,
    epsilon,
    kernelInitializer: getInitializer(args.kernelInitializer ?? 'glorot_uniform'),
    seed: args.seed ?? null,
    rotary: args.rotary ?? false,
  };
}

/** The sublayer bundle of one residual branch: attention or MLP, its norm and dropout. */
abstract class TransformerBase extends CompositeLayer {
  override readonly supportsMasking = true;
  readonly numHeads: number;
  readonly intermediateDim: number;
  readonly keyDim: number | null;
  readonly dropout: number;
  readonly activation: ActivationIdentifier;
  readonly normFirst: boolean;
  readonly epsilon: number;
  readonly kernelInitializer: Initializer;
  readonly seed: number | null;
  readonly rotary: boolean;
  /** MLP hidden projection `[dModel, intermediateDim]` (built with the block). */
  ffnIntermediate: Dense | null = null;
  /** MLP output projection `[intermediateDim, dModel]`. */
  ffnOutput: Dense | null = null;
  /** Normalisation of the MLP branch. */
  ffnNorm: LayerNormalization | null = null;
  private drops = 0;

  constructor(args: TransformerArgs) {
    super(args);
    const r = resolve(this.name, args);
    this.numHeads = r.numHeads;
    this.intermediateDim = r.intermediateDim;
    this.keyDim = r.keyDim;
    this.dropout = r.dropout;
    this.activation = r.activation;
    this.normFirst = r.normFirst;
    this.epsilon = r.epsilon;
    this.kernelInitializer = r.kernelInitializer;
    this.seed = r.seed;
    this.rotary = r.rotary;
  }

  override apply(inputs: SymbolicTensor | readonly SymbolicTensor[], opts?: TransformerCallOptions): SymbolicTensor;
  override apply(inputs: Tensor | readonly Tensor[], opts?: TransformerCallOptions): Tensor;
  override apply(inputs: Tensor | SymbolicTensor | readonly (Tensor | SymbolicTensor)[], opts: TransformerCallOptions = {}): Tensor | SymbolicTensor {
    return this.applyAll(inputs as never, opts) as never;
  }

  /** dModel from the input shape, with the key size it implies. */
  protected dims(shape: Shape): { dModel: number; keyDim: number } {
    const dModel = shape[shape.length - 1];
    if (shape.length !== 3 || dModel === null || dModel === undefined) throw new ShapeError(this.name, `input must be [batch, positions, features] with known features, got ${fmtShapeN(shape)}`);
    const keyDim = this.keyDim ?? Math.floor(dModel / this.numHeads);
    if (keyDim < 1) throw new ArgumentError(this.name, `keyDim (dModel ${dModel} / numHeads ${this.numHeads}) is 0; give keyDim or fewer heads`);
    return { dModel, keyDim };
  }

  protected attention(name: string, keyDim: number, dModel: number, rotary = false): MultiHeadAttention {
    return new MultiHeadAttention({ name, numHeads: this.numHeads, keyDim, outputDim: dModel, dropout: this.dropout, kernelInitializer: this.kernelInitializer, seed: this.nextSeed(), trainable: this.trainable, rotary });
  }

  protected norm(name: string, shape: Shape): LayerNormalization {
    const n = new LayerNormalization({ name, epsilon: this.epsilon, trainable: this.trainable });
    n.ensureBuilt(shape);
    return n;
  }

  protected buildFfn(shape: Shape, dModel: number): void {
    this.ffnIntermediate = new Dense({ name: 'ffn_intermediate', units: this.intermediateDim, activation: this.activation, kernelInitializer: this.kernelInitializer, trainable: this.trainable });
    this.ffnIntermediate.ensureBuilt(shape);
    this.ffnOutput = new Dense({ name: 'ffn_output', units: dModel, kernelInitializer: this.kernelInitializer, trainable: this.trainable });
    this.ffnOutput.ensureBuilt([shape[0]!, shape[1]!, this.intermediateDim]);
    this.ffnNorm = this.norm('ffn_norm', shape);
  }

  private nextSeed(): number | undefined {
    return this.seed === null ? undefined : this.seed + 1000 * this.drops++;
  }

  /** Dropout at the block's rate while training (a new Dropout per branch, reproducible with `seed`). */
  protected dropoutLayer(name: string): Dropout | null {
    return this.dropout > 0 ? new Dropout({ name, rate: this.dropout, seed: this.nextSeed() }) : null;
  }

  /**
   * One residual branch: `norm(x + drop(f(x)))` post-norm, `x + drop(f(norm(x)))` pre-norm.
   * Disposes what it makes; the caller keeps `x`.
   */
  protected residual(x: Tensor, norm: LayerNormalization, drop: Dropout | null, training: boolean | undefined, f: (h: Tensor) => Tensor): Tensor {
    const temps: Tensor[] = [];
    try {
      let h = x;
      if (this.normFirst) temps.push((h = norm.apply(x)));
      let y = f(h);
      temps.push(y);
      if (drop !== null && training === true) temps.push((y = drop.apply(y, { training })));
      const sum = add(x, y);
      if (this.normFirst) return sum;
      temps.push(sum);
      return norm.apply(sum);
    } finally {
      for (const t of temps) t.dispose();
    }
  }

  protected mlp(h: Tensor): Tensor {
    const a = this.ffnIntermediate!.apply(h);
    const y = this.ffnOutput!.apply(a);
    a.dispose();
    return y;
  }

  override computeOutputDType(): DType {
    return 'float32';
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      numHeads: this.numHeads,
      intermediateDim: this.intermediateDim,
      keyDim: this.keyDim,
      dropout: this.dropout,
      activation: serializeActivation(this.activation),
      normFirst: this.normFirst,
      epsilon: this.epsilon,
      kernelInitializer: serializeInitializer(this.kernelInitializer),
      seed: this.seed,
      rotary: this.rotary,
    };
  }
}

/** The constructor options from a saved config. */
function argsFrom(c: Record<string, unknown>): TransformerArgs {
  return {
    ...baseArgs(c),
    numHeads: c.numHeads as number,
    intermediateDim: c.intermediateDim as number,
    keyDim: (c.keyDim as number | null) ?? undefined,
    dropout: c.dropout as number,
    activation: c.activation as ActivationIdentifier,
    normFirst: c.normFirst as boolean,
    epsilon: c.epsilon as number,
    kernelInitializer: c.kernelInitializer as InitializerIdentifier,
    seed: (c.seed as number | null) ?? undefined,
    rotary: c.rotary === true,
  };
}

/**
 * A transformer encoder block: self-attention then a GELU MLP, each with a residual
 * connection, dropout and layer normalisation. `[batch, T, dModel]` in and out. A GPT block is
 * this with `useCausalMask: true` (and a `cache` entry for fast decoding).
 * @example
 * const block = layers.transformerEncoder({ numHeads: 4, intermediateDim: 256, normFirst: true });
 * const h = block.apply(x, { useCausalMask: true });
 */
export class TransformerEncoder extends TransformerBase {
  static override readonly className = 'TransformerEncoder';
  /** The self-attention sublayer (built with the block). */
  selfAttention: MultiHeadAttention | null = null;
  /** Normalisation of the attention branch. */
  selfAttentionNorm: LayerNormalization | null = null;
  private attentionDropout: Dropout | null = null;
  private ffnDropout: Dropout | null = null;

  constructor(args: TransformerArgs) {
    super(args);
  }

  protected sublayers(): Layer[] {
    return [this.selfAttention, this.selfAttentionNorm, this.ffnIntermediate, this.ffnOutput, this.ffnNorm].filter((l) => l !== null) as Layer[];
  }

  override build(inputShape: Shape): void {
    const { dModel, keyDim } = this.dims(inputShape);
    this.selfAttention = this.attention('self_attention', keyDim, dModel, this.rotary);
    this.selfAttention.ensureBuilt(inputShape);
    this.selfAttentionNorm = this.norm('self_attention_norm', inputShape);
    this.attentionDropout = this.dropoutLayer('self_attention_dropout');
    this.buildFfn(inputShape, dModel);
    this.ffnDropout = this.dropoutLayer('ffn_dropout');
    this.inputSpec = [{ ndim: 3, axes: { [-1]: dModel } }];
  }

  call(inputs: Tensor | Tensor[], opts: TransformerCallOptions = {}): Tensor {
    const x = single(this, inputs);
    const { training } = opts;
    const attended = this.residual(x, this.selfAttentionNorm!, this.attentionDropout, training, (h) =>
      this.selfAttention!.apply(h, { training, mask: opts.mask, attentionMask: opts.attentionMask, useCausalMask: opts.useCausalMask, cache: opts.cache }),
    );
    try {
      return this.residual(attended, this.ffnNorm!, this.ffnDropout, training, (h) => this.mlp(h));
    } finally {
      attended.dispose();
    }
  }

  override computeOutputShape(inputShape: Shape): Shape {
    return inputShape;
  }

  static fromConfig(c: Record<string, unknown>): TransformerEncoder {
    return new TransformerEncoder(argsFrom(c));
  }
}

/**
 * A transformer decoder block: causal self-attention, cross-attention to an encoder's output
 * (`memory`), then a GELU MLP, each with a residual connection, dropout and layer
 * normalisation. `apply([x, memory])`; `apply(x)` alone skips cross-attention (decoder-only).
 * Self-attention is causal unless `useCausalMask: false` is passed.
 * @example const y = layers.transformerDecoder({ numHeads: 4, intermediateDim: 256 }).apply([x, encoded]);
 */
export class TransformerDecoder extends TransformerBase {
  static override readonly className = 'TransformerDecoder';
  /** The causal self-attention sublayer. */
  selfAttention: MultiHeadAttention | null = null;
  selfAttentionNorm: LayerNormalization | null = null;
  /** Attention from the decoder positions to the memory (absent when built without memory). */
  crossAttention: MultiHeadAttention | null = null;
  crossAttentionNorm: LayerNormalization | null = null;
  private attentionDropout: Dropout | null = null;
  private crossDropout: Dropout | null = null;
  private ffnDropout: Dropout | null = null;

  constructor(args: TransformerArgs) {
    super(args);
  }

  protected sublayers(): Layer[] {
    return [this.selfAttention, this.selfAttentionNorm, this.crossAttention, this.crossAttentionNorm, this.ffnIntermediate, this.ffnOutput, this.ffnNorm].filter((l) => l !== null) as Layer[];
  }

  override build(inputShape: Shape | Shape[]): void {
    const shapes = Array.isArray(inputShape[0]) ? (inputShape as Shape[]) : [inputShape as Shape];
    if (shapes.length > 2) throw new ArgumentError(this.name, `expects x or [x, memory], got ${shapes.length} inputs`);
    const xs = shapes[0]!;
    const { dModel, keyDim } = this.dims(xs);
    this.selfAttention = this.attention('self_attention', keyDim, dModel, this.rotary);
    this.selfAttention.ensureBuilt(xs);
    this.selfAttentionNorm = this.norm('self_attention_norm', xs);
    this.attentionDropout = this.dropoutLayer('self_attention_dropout');
    const ms = shapes[1];
    const specs = [{ ndim: 3, axes: { [-1]: dModel } }];
    if (ms !== undefined) {
      if (ms.length !== 3 || ms[2] === null) throw new ShapeError(this.name, `memory must be [batch, positions, features] with known features, got ${fmtShapeN(ms)}`);
      this.crossAttention = this.attention('cross_attention', keyDim, dModel);
      this.crossAttention.ensureBuilt([xs, ms]);
      this.crossAttentionNorm = this.norm('cross_attention_norm', xs);
      this.crossDropout = this.dropoutLayer('cross_attention_dropout');
      specs.push({ ndim: 3, axes: { [-1]: ms[2]! } });
    }
    this.buildFfn(xs, dModel);
    this.ffnDropout = this.dropoutLayer('ffn_dropout');
    this.inputSpec = specs;
  }

  call(inputs: Tensor | Tensor[], opts: TransformerCallOptions = {}): Tensor {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    const [x, memory] = list as [Tensor, Tensor?];
    if (memory !== undefined && this.crossAttention === null) throw new ArgumentError(this.name, 'was built without memory (decoder-only); call it with x alone');
    if (memory === undefined && this.crossAttention !== null) throw new ArgumentError(this.name, 'was built with memory; call it with [x, memory]');
    const masks = Array.isArray(opts.mask) ? (opts.mask as readonly (Tensor | null)[]) : [(opts.mask as Tensor | null | undefined) ?? null];
    const xMask = masks[0] ?? null;
    const memMask = opts.memoryMask ?? masks[1] ?? null;
    const { training } = opts;
    const causal = opts.useCausalMask ?? true;
    const temps: Tensor[] = [];
    try {
      let h = this.residual(x, this.selfAttentionNorm!, this.attentionDropout, training, (q) =>
        this.selfAttention!.apply(q, { training, mask: xMask, attentionMask: opts.attentionMask, useCausalMask: causal, cache: opts.cache }),
      );
      if (memory !== undefined) {
        temps.push(h);
        h = this.residual(h, this.crossAttentionNorm!, this.crossDropout, training, (q) =>
          this.crossAttention!.apply([q, memory], { training, mask: [xMask, memMask] }),
        );
      }
      temps.push(h);
      return this.residual(h, this.ffnNorm!, this.ffnDropout, training, (q) => this.mlp(q));
    } finally {
      for (const t of temps) t.dispose();
    }
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return Array.isArray(inputShape[0]) ? (inputShape as Shape[])[0]! : (inputShape as Shape);
  }

  static fromConfig(c: Record<string, unknown>): TransformerDecoder {
    return new TransformerDecoder(argsFrom(c));
  }
}
