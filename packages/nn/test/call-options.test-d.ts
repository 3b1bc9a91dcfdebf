/**
 * Type test of the call options, checked by `pnpm --filter @tessera/nn typecheck` (the
 * tsconfig includes `test/`; vitest does not run this file). Every known option must compile
 * on the layers and models that take it, and a misspelt one must not: each `@ts-expect-error`
 * line below becomes an "unused directive" error, failing the typecheck, if `CallOptions` (or
 * a layer-specific options type) ever gets an index signature back.
 */
import type { Tensor } from '@tessera/core';
import {
  type AttentionCallOptions,
  type CallOptions,
  type CommonCallOptions,
  type Dense,
  KVCache,
  type KVCacheEntry,
  type Layer,
  Model,
  type MultiHeadAttention,
  type PositionCallOptions,
  type SymbolicTensor,
  type TokenAndPositionEmbedding,
  type TransformerCallOptions,
  type TransformerDecoder,
  type TransformerEncoder,
} from '../src/index.js';

/** Compile-time equality of two types (false on any difference, including optionality). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(): T | void {}

// No option type has an index signature: a string key is not a known option.
assertType<Equal<string extends keyof CallOptions ? true : false, false>>();
assertType<Equal<string extends keyof AttentionCallOptions ? true : false, false>>();
assertType<Equal<string extends keyof TransformerCallOptions ? true : false, false>>();
assertType<Equal<string extends keyof PositionCallOptions ? true : false, false>>();
// CallOptions is exactly the common options plus every layer-specific one.
assertType<Equal<keyof CommonCallOptions, 'training' | 'mask'>>();
assertType<Equal<keyof CallOptions, 'training' | 'mask' | 'attentionMask' | 'useCausalMask' | 'returnAttentionScores' | 'cache' | 'memoryMask' | 'startIndex'>>();
assertType<Equal<CallOptions['cache'], KVCacheEntry | KVCache | null | undefined>>();

/**
 * A custom model may declare its own options (here narrowing `cache` and adding nothing
 * unknown) on its `call` override, as apps/gpt's CharGPT does: that must keep compiling.
 */
export interface MyModelOptions extends CallOptions {
  cache?: KVCache | null;
  startIndex?: number;
}
export class MyModel extends Model {
  override call(inputs: Tensor | Tensor[], opts: MyModelOptions = {}): Tensor {
    void opts.cache?.layer(0);
    return super.call(inputs, opts) as Tensor;
  }
}

/** Never called: only its body's types matter. */
export function callSites(
  x: Tensor,
  s: SymbolicTensor,
  m: Model,
  l: Layer,
  dense: Dense,
  mha: MultiHeadAttention,
  enc: TransformerEncoder,
  dec: TransformerDecoder,
  emb: TokenAndPositionEmbedding,
  mask: Tensor,
  entry: KVCacheEntry,
): void {
  // Every known option compiles where it is taken.
  m.apply(x, { training: true });
  m.apply(x, { training: false, cache: new KVCache(), startIndex: 3, useCausalMask: true });
  m.applyAll([x, x], { mask: [mask, null] });
  l.apply(x, { training: true, mask, attentionMask: mask, returnAttentionScores: false, memoryMask: mask });
  l.apply(s, { useCausalMask: true });
  dense.apply(x, {});
  mha.apply(x, { useCausalMask: true, cache: entry, attentionMask: mask });
  mha.apply(x, { cache: null });
  mha.applyAll(x, { returnAttentionScores: true });
  enc.apply(x, { useCausalMask: true, cache: new KVCache(), training: true });
  dec.apply([x, x], { memoryMask: mask, useCausalMask: false });
  emb.apply(x, { startIndex: 4 });
  const opts: CallOptions = { training: true, startIndex: 0 };
  l.apply(x, opts);
  new MyModel({ inputs: s, outputs: s }).call(x, { cache: new KVCache(), startIndex: 2 });

  // Misspelt options are type errors, on models and on layers alike.
  // @ts-expect-error `trainng` is not a call option
  m.apply(x, { trainng: true });
  // @ts-expect-error `trainng` is not a call option
  m.applyAll(x, { trainng: true });
  // @ts-expect-error `casheX` is not a call option
  mha.apply(x, { casheX: entry });
  // @ts-expect-error `casheX` is not a call option
  l.apply(x, { casheX: entry });
  // @ts-expect-error `causalMask` is not a call option (it is `useCausalMask`)
  enc.apply(s, { causalMask: true });
  // @ts-expect-error `start` is not a call option (it is `startIndex`)
  emb.apply(x, { start: 2 });
  // @ts-expect-error `training` is a boolean
  dense.apply(x, { training: 'yes' });
  // @ts-expect-error `startIndex` is a number
  l.apply(x, { startIndex: '3' });
  // @ts-expect-error a KV cache entry is not a mask
  mha.apply(x, { attentionMask: entry });
  // @ts-expect-error `startIndex` is not an attention option (MultiHeadAttention narrows its options)
  mha.apply(x, { startIndex: 1 });
  // @ts-expect-error a layer's own `call` takes the common options unless it declares more
  l.call(x, { trainng: true });
  // @ts-expect-error the custom model's options are checked too
  new MyModel({ inputs: s, outputs: s }).call(x, { startIdx: 2 });
}
