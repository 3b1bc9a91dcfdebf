/**
 * MultiHeadAttention with Keras semantics: query/key/value/output projections as four Dense
 * sublayers, scaled dot-product attention per head (core `scaledDotProductAttention`, fused
 * where the backend has the kernel), dropout on the attention weights, attention, padding and
 * causal masks, optional attention scores, and a KV cache for decoding.
 * @module
 */
import {
  ArgumentError,
  attentionWeights,
  type DType,
  DTypeError,
  expandDims,
  logicalAnd,
  matmul,
  notEqual,
  reshape,
  scaledDotProductAttention,
  ShapeError,
  type Tensor,
  transpose,
} from '@tessera/core';
import { baseArgs, type CommonCallOptions, type Layer, type LayerArgs, type SymbolicTensor } from '../engine/layer.js';
import { getInitializer, type Initializer, type InitializerIdentifier, serializeInitializer } from '../initializers.js';
import { checkPositiveInt, fmtShapeN, type Shape } from '../util.js';
import { CompositeLayer } from './composite.js';
import { Dense, Dropout } from './core.js';
import { KVCache, type KVCacheEntry } from './kv-cache.js';
import { applyRotary } from './position.js';

/** Options of {@link MultiHeadAttention}. */
export interface MultiHeadAttentionArgs extends LayerArgs {
  /** Number of attention heads. */
  numHeads: number;
  /** Size of each head for query and key. */
  keyDim: number;
  /** Size of each head for value; default `keyDim`. */
  valueDim?: number;
  /** Dropout rate on the attention weights while training (default 0). */
  dropout?: number;
  /** Whether the four projections have biases (default true). */
  useBias?: boolean;
  /** Size of the output; default the query's last axis. */
  outputDim?: number;
  /** Default `glorot_uniform`. */
  kernelInitializer?: InitializerIdentifier;
  /** Default `zeros`. */
  biasInitializer?: InitializerIdentifier;
  /** Makes the attention dropout reproducible. */
  seed?: number;
  /**
   * Rotary position embedding on each head's queries and keys (positions continue after the
   * cached ones when decoding with a cache); keyDim must be even (default false).
   */
  rotary?: boolean;
}

/** Call options of {@link MultiHeadAttention} (and of the transformer blocks). */
export interface AttentionCallOptions extends CommonCallOptions {
  /**
   * Which keys each query may attend, `[batch, Tq, Tk]` (or `[Tq, Tk]`), bool or 0/1;
   * true/1 = attend. Combined (logical and) with padding masks and the causal mask.
   */
  attentionMask?: Tensor;
  /** Query i attends only keys up to its own position (with a cache: up to cache length + i). */
  useCausalMask?: boolean;
  /** Return `[output, scores]`, scores `[batch, heads, Tq, Tk]` (the weights before dropout). */
  returnAttentionScores?: boolean;
  /**
   * Decoding cache: the new keys/values are appended to it and attention spans all cached
   * positions. An entry, or a whole {@link KVCache} (this layer then uses `cache.entryFor(this)`,
   * which is how a model hands one cache to all its attention layers); null or absent = no cache.
   */
  cache?: KVCacheEntry | KVCache | null;
}

/** The inputs of one call: query, value and key, and their padding masks. */
interface Parts {
  query: Tensor;
  value: Tensor;
  key: Tensor;
  queryMask: Tensor | null;
  valueMask: Tensor | null;
  keyMask: Tensor | null;
}

/**
 * Multi-head attention (Keras `MultiHeadAttention`). `apply(query)` is self-attention;
 * `apply([query, value])` and `apply([query, value, key])` attend from query to value/key.
 * Inputs are `[batch, T, features]`; the output is `[batch, Tq, outputDim]`.
 * @example
 * const mha = layers.multiHeadAttention({ numHeads: 4, keyDim: 16 });
 * const y = mha.apply(x, { useCausalMask: true });
 * const [y2, scores] = mha.applyAll(x, { returnAttentionScores: true }) as Tensor[];
 */
export class MultiHeadAttention extends CompositeLayer {
  static override readonly className = 'MultiHeadAttention';
  override readonly supportsMasking = true;
  readonly numHeads: number;
  readonly keyDim: number;
  readonly valueDim: number;
  readonly dropout: number;
  readonly useBias: boolean;
  readonly outputDim: number | null;
  readonly kernelInitializer: Initializer;
  readonly biasInitializer: Initializer;
  readonly seed: number | null;
  readonly rotary: boolean;
  /** Query projection: kernel `[queryDim, numHeads·keyDim]` (column h·keyDim + d is head h, dim d). */
  queryDense: Dense | null = null;
  /** Key projection: kernel `[keyInputDim, numHeads·keyDim]`. */
  keyDense: Dense | null = null;
  /** Value projection: kernel `[valueInputDim, numHeads·valueDim]`. */
  valueDense: Dense | null = null;
  /** Output projection: kernel `[numHeads·valueDim, outputDim]`. */
  outputDense: Dense | null = null;
  private readonly dropoutLayer: Dropout | null;
  /** Set while a symbolic call asks for scores, so the output shape has two entries. */
  private scoresRequested = false;

  constructor(args: MultiHeadAttentionArgs) {
    super(args);
    this.numHeads = checkPositiveInt(this.name, 'numHeads', args?.numHeads);
    this.keyDim = checkPositiveInt(this.name, 'keyDim', args.keyDim);
    this.valueDim = checkPositiveInt(this.name, 'valueDim', args.valueDim ?? args.keyDim);
    this.outputDim = args.outputDim === undefined || args.outputDim === null ? null : checkPositiveInt(this.name, 'outputDim', args.outputDim);
    this.dropout = args.dropout ?? 0;
    if (typeof this.dropout !== 'number' || !(this.dropout >= 0 && this.dropout < 1)) throw new ArgumentError(this.name, `dropout must be in [0, 1), got ${JSON.stringify(args.dropout)}`);
    this.useBias = args.useBias ?? true;
    this.kernelInitializer = getInitializer(args.kernelInitializer ?? 'glorot_uniform');
    this.biasInitializer = getInitializer(args.biasInitializer ?? 'zeros');
    this.seed = args.seed ?? null;
    this.rotary = args.rotary ?? false;
    if (this.rotary && this.keyDim % 2 !== 0) throw new ArgumentError(this.name, `rotary needs an even keyDim, got ${this.keyDim}`);
    this.dropoutLayer = this.dropout > 0 ? new Dropout({ rate: this.dropout, seed: args.seed, name: `${this.name}_dropout` }) : null;
  }

  protected sublayers(): Layer[] {
    return [this.queryDense, this.keyDense, this.valueDense, this.outputDense].filter((l): l is Dense => l !== null);
  }

  private dense(name: string, units: number): Dense {
    return new Dense({ name, units, useBias: this.useBias, kernelInitializer: this.kernelInitializer, biasInitializer: this.biasInitializer, trainable: this.trainable });
  }

  override build(inputShape: Shape | Shape[]): void {
    const shapes = Array.isArray(inputShape[0]) ? (inputShape as Shape[]) : [inputShape as Shape];
    if (shapes.length > 3) throw new ArgumentError(this.name, `expects query, [query, value] or [query, value, key], got ${shapes.length} inputs`);
    const [qs, vs = qs, ks = vs] = shapes as [Shape, Shape?, Shape?];
    for (const [what, s] of [['query', qs], ['value', vs], ['key', ks]] as const) {
      if (s!.length !== 3 || s![2] === null) throw new ShapeError(this.name, `${what} must be [batch, positions, features] with known features, got ${fmtShapeN(s!)}`);
    }
    const qDim = qs[2]!;
    this.queryDense = this.dense('query', this.numHeads * this.keyDim);
    this.queryDense.ensureBuilt(qs);
    this.keyDense = this.dense('key', this.numHeads * this.keyDim);
    this.keyDense.ensureBuilt(ks!);
    this.valueDense = this.dense('value', this.numHeads * this.valueDim);
    this.valueDense.ensureBuilt(vs!);
    this.outputDense = this.dense('attention_output', this.outputDim ?? qDim);
    this.outputDense.ensureBuilt([qs[0]!, qs[1]!, this.numHeads * this.valueDim]);
    this.inputSpec = shapes.map((s) => ({ ndim: 3, axes: { [-1]: s[2]! } }));
  }

  override applyAll(inputs: Tensor | SymbolicTensor | readonly (Tensor | SymbolicTensor)[], opts: AttentionCallOptions = {}): Tensor | Tensor[] | SymbolicTensor | SymbolicTensor[] {
    this.scoresRequested = opts.returnAttentionScores === true;
    try {
      return super.applyAll(inputs, opts);
    } finally {
      this.scoresRequested = false;
    }
  }

  override apply(inputs: SymbolicTensor | readonly SymbolicTensor[], opts?: AttentionCallOptions): SymbolicTensor;
  override apply(inputs: Tensor | readonly Tensor[], opts?: AttentionCallOptions): Tensor;
  override apply(inputs: Tensor | SymbolicTensor | readonly (Tensor | SymbolicTensor)[], opts: AttentionCallOptions = {}): Tensor | SymbolicTensor {
    return this.applyAll(inputs as never, opts) as never;
  }

  private parts(inputs: Tensor | Tensor[], opts: AttentionCallOptions): Parts {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    if (list.length < 1 || list.length > 3) throw new ArgumentError(this.name, `expects query, [query, value] or [query, value, key], got ${list.length} inputs`);
    const [query, value = query, key = value] = list as [Tensor, Tensor?, Tensor?];
    const m = opts.mask;
    const masks = Array.isArray(m) ? m : [m ?? null];
    const queryMask = masks[0] ?? null;
    const valueMask = list.length === 1 ? queryMask : (masks[1] ?? null);
    const keyMask = list.length === 3 ? (masks[2] ?? valueMask) : valueMask;
    for (const [what, t] of [['query', query], ['value', value], ['key', key]] as const) {
      if (t!.dtype !== 'float32') throw new DTypeError(this.name, `${what} must be float32, got ${t!.dtype} ${fmtShapeN(t!.shape)}`);
      if (t!.rank !== 3) throw new ShapeError(this.name, `${what} must be [batch, positions, features], got ${fmtShapeN(t!.shape)}`);
    }
    if (value!.shape[1] !== key!.shape[1] || value!.shape[0] !== query.shape[0] || key!.shape[0] !== query.shape[0]) {
      throw new ShapeError(this.name, `query ${fmtShapeN(query.shape)}, value ${fmtShapeN(value!.shape)} and key ${fmtShapeN(key!.shape)} must share the batch size, and value and key the positions`);
    }
    return { query, value: value!, key: key!, queryMask, valueMask, keyMask };
  }

  /** `[b, t, h·d]` → `[b, h, t, d]` (a view; `x` and the views go to `temps`). */
  private heads(x: Tensor, d: number, temps: Tensor[]): Tensor {
    temps.push(x);
    const r = reshape(x, [x.shape[0]!, x.shape[1]!, this.numHeads, d]);
    temps.push(r);
    const t = transpose(r, [0, 2, 1, 3]);
    temps.push(t);
    return t;
  }

  /** A padding or attention mask as bool, checked against `want` (size-1 axes broadcast). */
  private asBool(m: Tensor, what: string, want: readonly number[], temps: Tensor[]): Tensor {
    if (m.shape.length !== want.length || m.shape.some((d, i) => d !== want[i] && d !== 1)) {
      throw new ShapeError(this.name, `${what} ${fmtShapeN(m.shape)} does not match ${fmtShapeN(want)}`);
    }
    if (m.dtype === 'bool') return m;
    const c = notEqual(m, 0);
    temps.push(c);
    return c;
  }

  /**
   * The bool mask `[b, 1|heads, Tq, Tk]` from the attention mask and the padding masks (query
   * rows, key columns; `keyMask` already spans every key, cached ones included), or null.
   */
  private combinedMask(p: Parts, opts: AttentionCallOptions, tq: number, tk: number, keyMask: Tensor | null, temps: Tensor[]): Tensor | null {
    const b = p.query.shape[0]!;
    let out: Tensor | null = null;
    const and = (m: Tensor): void => {
      if (out === null) out = m;
      else {
        out = logicalAnd(out, m);
        temps.push(out);
      }
    };
    if (p.queryMask !== null) {
      const qm = this.asBool(p.queryMask, 'query padding mask', [b, tq], temps);
      const e = reshape(qm, [qm.shape[0]!, 1, qm.shape[1]!, 1]);
      temps.push(e);
      and(e);
    }
    if (keyMask !== null) {
      const e = reshape(keyMask, [keyMask.shape[0]!, 1, 1, keyMask.shape[1]!]);
      temps.push(e);
      and(e);
    }
    const a = opts.attentionMask;
    if (a !== undefined && a !== null) {
      const m = this.asBool(a, 'attentionMask', a.rank === 2 ? [tq, tk] : a.rank === 4 ? [b, this.numHeads, tq, tk] : [b, tq, tk], temps);
      if (m.rank === 3) {
        const e = expandDims(m, 1);
        temps.push(e);
        and(e);
      } else and(m);
    }
    return out;
  }

  call(inputs: Tensor | Tensor[], opts: AttentionCallOptions): Tensor | Tensor[] {
    const p = this.parts(inputs, opts);
    const temps: Tensor[] = [];
    try {
      let q = this.heads(this.queryDense!.apply(p.query), this.keyDim, temps);
      let k = this.heads(this.keyDense!.apply(p.key), this.keyDim, temps);
      let v = this.heads(this.valueDense!.apply(p.value), this.valueDim, temps);
      const entry = opts.cache instanceof KVCache ? opts.cache.entryFor(this) : opts.cache;
      const cached = entry === undefined || entry === null ? 0 : entry.length;
      if (this.rotary) {
        // Rotated before caching: cached keys keep the rotation of their own positions.
        temps.push((q = applyRotary(q, 2, cached, 10000, 1, this.name)));
        temps.push((k = applyRotary(k, 2, cached, 10000, 1, this.name)));
      }
      const km = p.keyMask ?? p.valueMask;
      let keyMask = km === null ? null : this.asBool(km, 'key padding mask', [p.query.shape[0]!, k.shape[2]!], temps);
      // The cache keeps the key mask too, so padded prompt positions stay hidden from later tokens.
      if (entry !== undefined && entry !== null) [k, v, keyMask] = entry.append(k, v, keyMask);
      const tq = q.shape[2]!;
      const tk = k.shape[2]!;
      const mask = this.combinedMask(p, opts, tq, tk, keyMask, temps);
      const causal = opts.useCausalMask === true;
      const dropping = opts.training === true && this.dropoutLayer !== null;
      let o: Tensor;
      let scores: Tensor | null = null;
      if (dropping) {
        const w = attentionWeights(q, k, { mask, causal });
        const wd = this.dropoutLayer!.apply(w, { training: true });
        o = matmul(wd, v);
        temps.push(wd);
        if (opts.returnAttentionScores) scores = w;
        else temps.push(w);
      } else if (opts.returnAttentionScores) {
        [o, scores] = scaledDotProductAttention(q, k, v, { mask, causal, returnScores: true });
      } else {
        o = scaledDotProductAttention(q, k, v, { mask, causal });
      }
      temps.push(o);
      const ot = transpose(o, [0, 2, 1, 3]);
      temps.push(ot);
      const merged = reshape(ot, [ot.shape[0]!, tq, this.numHeads * this.valueDim]);
      temps.push(merged);
      const y = this.outputDense!.apply(merged);
      return scores === null ? y : [y, scores];
    } finally {
      for (const t of temps) t.dispose();
    }
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    const shapes = Array.isArray(inputShape[0]) ? (inputShape as Shape[]) : [inputShape as Shape];
    const qs = shapes[0]!;
    const ks = shapes[2] ?? shapes[1] ?? qs;
    const out: Shape = [qs[0] ?? null, qs[1] ?? null, this.outputDim ?? qs[2] ?? null];
    if (!this.scoresRequested) return out;
    return [out, [qs[0] ?? null, this.numHeads, qs[1] ?? null, ks[1] ?? null]];
  }

  override computeOutputDType(): DType {
    return 'float32';
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      numHeads: this.numHeads,
      keyDim: this.keyDim,
      valueDim: this.valueDim,
      dropout: this.dropout,
      useBias: this.useBias,
      outputDim: this.outputDim,
      kernelInitializer: serializeInitializer(this.kernelInitializer),
      biasInitializer: serializeInitializer(this.biasInitializer),
      seed: this.seed,
      rotary: this.rotary,
    };
  }

  static fromConfig(c: Record<string, unknown>): MultiHeadAttention {
    return new MultiHeadAttention({
      ...baseArgs(c),
      numHeads: c.numHeads as number,
      keyDim: c.keyDim as number,
      valueDim: c.valueDim as number,
      dropout: c.dropout as number,
      useBias: c.useBias as boolean,
      outputDim: (c.outputDim as number | null) ?? undefined,
      kernelInitializer: c.kernelInitializer as InitializerIdentifier,
      biasInitializer: c.biasInitializer as InitializerIdentifier,
      seed: (c.seed as number | null) ?? undefined,
      rotary: c.rotary === true,
    });
  }
}
