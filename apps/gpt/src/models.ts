/**
 * The two models of the app, built from Tessera's transformer layers:
 * - `CharGPT`, a decoder-only language model: token + position embedding, pre-norm
 *   `transformerEncoder` blocks with a causal mask, a final layer norm and a linear head
 *   giving next-character logits. It decodes with a KV cache.
 * - `CharBERT`, an encoder for masked-character prediction: the same stack without the
 *   causal mask (every position sees the whole word).
 *
 * Both are functional models (so `summary`, `fit`, `save` and `loadModel` work as for any
 * model) whose `call` passes the options a graph node cannot carry per call: the causal mask,
 * the KV cache entry of each block and the start position of the new tokens.
 * @module
 */
import {
  type CallOptions,
  Dense,
  input,
  type KVCache,
  LayerNormalization,
  Model,
  type StepFn,
  type Tensor,
  TokenAndPositionEmbedding,
  TransformerEncoder,
} from 'tessera';

/** The size of a model. */
export interface TransformerConfig {
  /** Tokens in the vocabulary (the tokenizer's `vocabSize`). */
  vocabSize: number;
  /** Longest sequence (positions of the learned position embedding). */
  maxLength: number;
  /** Width of the residual stream. */
  dModel: number;
  /** Transformer blocks. */
  numLayers: number;
  /** Attention heads per block. */
  numHeads: number;
  /** Hidden size of each block's MLP. */
  intermediateDim: number;
  /** Dropout inside the blocks (default 0). */
  dropout?: number;
  /** Model name. */
  name?: string;
}

/** Call options of the models. */
export interface TransformerCallOptions extends CallOptions {
  /** CharGPT: the decoding cache (`cache.layer(i)` goes to block i). */
  cache?: KVCache | null;
  /** Position of the first input token (with a cache: the positions already cached). */
  startIndex?: number;
}

interface Parts {
  embed: TokenAndPositionEmbedding;
  blocks: TransformerEncoder[];
  norm: LayerNormalization;
  head: Dense;
}

function makeParts(c: TransformerConfig): Parts {
  return {
    embed: new TokenAndPositionEmbedding({ name: 'embed', vocabSize: c.vocabSize, maxLength: c.maxLength, embeddingDim: c.dModel, embeddingsInitializer: 'random_normal' }),
    blocks: Array.from(
      { length: c.numLayers },
      (_, i) => new TransformerEncoder({ name: `block_${i}`, numHeads: c.numHeads, intermediateDim: c.intermediateDim, dropout: c.dropout ?? 0, normFirst: true }),
    ),
    norm: new LayerNormalization({ name: 'final_norm' }),
    head: new Dense({ name: 'lm_head', units: c.vocabSize }),
  };
}

/** The functional graph: ids `[batch, T]` -> logits `[batch, T, vocab]`. */
function graph(p: Parts, causal: boolean): { inputs: ReturnType<typeof input>; outputs: ReturnType<typeof input> } {
  const ids = input({ shape: [null], dtype: 'int32', name: 'tokens' });
  let h = p.embed.apply(ids);
  for (const b of p.blocks) h = b.apply(h, causal ? { useCausalMask: true } : {});
  return { inputs: ids, outputs: p.head.apply(p.norm.apply(h)) };
}

/** The forward pass both models share; intermediate tensors are freed as it goes. */
function forward(p: Parts, x: Tensor, causal: boolean, opts: TransformerCallOptions): Tensor {
  let h = p.embed.apply(x, { startIndex: opts.startIndex ?? 0 });
  p.blocks.forEach((b, i) => {
    const next = b.apply(h, { training: opts.training, useCausalMask: causal, cache: opts.cache?.layer(i) });
    h.dispose();
    h = next;
  });
  const n = p.norm.apply(h);
  h.dispose();
  const logits = p.head.apply(n);
  n.dispose();
  return logits;
}

function checkConfig(c: TransformerConfig): TransformerConfig {
  for (const k of ['vocabSize', 'maxLength', 'dModel', 'numLayers', 'numHeads', 'intermediateDim'] as const) {
    if (!Number.isInteger(c[k]) || c[k] < 1) throw new Error(`${k} must be a positive integer, got ${String(c[k])}`);
  }
  if (c.dModel % c.numHeads !== 0) throw new Error(`dModel ${c.dModel} must be a multiple of numHeads ${c.numHeads}`);
  return { ...c };
}

/**
 * A character-level GPT: next-character logits `[batch, T, vocab]` from ids `[batch, T]`.
 * @example
 * const gpt = new CharGPT({ vocabSize: 31, maxLength: 32, dModel: 64, numLayers: 2, numHeads: 4, intermediateDim: 256 });
 * const logits = gpt.apply(ids) as Tensor;
 */
export class CharGPT extends Model {
  static override readonly className = 'CharGPT';
  readonly config: TransformerConfig;
  private readonly parts: Parts;

  constructor(config: TransformerConfig) {
    const c = checkConfig(config);
    const parts = makeParts(c);
    super({ ...graph(parts, true), name: c.name ?? 'char_gpt' });
    this.config = c;
    this.parts = parts;
  }

  override call(inputs: Tensor | Tensor[], opts: TransformerCallOptions = {}): Tensor {
    return forward(this.parts, Array.isArray(inputs) ? inputs[0]! : inputs, true, opts);
  }

  /**
   * The step function `generate` drives: with a cache it feeds only the new tokens at
   * positions `startIndex…`; without, the whole sequence.
   */
  step(): StepFn {
    return (tokens, ctx) => this.call(tokens, { training: false, cache: ctx.cache, startIndex: ctx.startIndex });
  }

  override getConfig(): Record<string, unknown> {
    return { ...this.config, name: this.name };
  }

  static fromConfig(c: Record<string, unknown>): CharGPT {
    return new CharGPT(c as unknown as TransformerConfig);
  }
}

/**
 * A character-level BERT-style encoder: logits `[batch, T, vocab]` for every position, trained
 * to recover masked characters from both sides.
 * @example const bert = new CharBERT({ vocabSize: 31, maxLength: 32, dModel: 64, numLayers: 2, numHeads: 4, intermediateDim: 256 });
 */
export class CharBERT extends Model {
  static override readonly className = 'CharBERT';
  readonly config: TransformerConfig;
  private readonly parts: Parts;

  constructor(config: TransformerConfig) {
    const c = checkConfig(config);
    const parts = makeParts(c);
    super({ ...graph(parts, false), name: c.name ?? 'char_bert' });
    this.config = c;
    this.parts = parts;
  }

  override call(inputs: Tensor | Tensor[], opts: TransformerCallOptions = {}): Tensor {
    return forward(this.parts, Array.isArray(inputs) ? inputs[0]! : inputs, false, opts);
  }

  override getConfig(): Record<string, unknown> {
    return { ...this.config, name: this.name };
  }

  static fromConfig(c: Record<string, unknown>): CharBERT {
    return new CharBERT(c as unknown as TransformerConfig);
  }
}
