/**
 * The key/value cache for fast autoregressive decoding: each attention layer keeps the keys
 * and values of the positions it has seen, so a decoding step projects only the new token
 * and attends over everything cached.
 * @module
 */
import { alias, ArgumentError, concat, fill, fmtShape, keep, ShapeError, type Tensor } from '@tessera/core';

/**
 * The cached keys and values of one attention layer, `[batch, heads, positions, dim]` each.
 * MultiHeadAttention appends to it when given one as its `cache` call option.
 * @example const entry = cache.layer(0); entry.length // positions cached so far
 */
export class KVCacheEntry {
  private k: Tensor | null = null;
  private v: Tensor | null = null;
  private m: Tensor | null = null;

  /** Cached keys `[batch, heads, positions, keyDim]`, or null before the first step. */
  get keys(): Tensor | null {
    return this.k;
  }

  /** Cached values `[batch, heads, positions, valueDim]`, or null before the first step. */
  get values(): Tensor | null {
    return this.v;
  }

  /** Which cached positions are real keys, bool `[batch, positions]`, or null when every one is (no padding mask seen). */
  get keyMask(): Tensor | null {
    return this.m;
  }

  /** Positions cached so far. */
  get length(): number {
    return this.k === null ? 0 : this.k.shape[2]!;
  }

  /**
   * Appends new keys and values (`[batch, heads, newPositions, dim]`) and, when given, their
   * padding mask (bool `[batch, newPositions]`), and returns the whole cached keys, values and
   * mask (null while no mask was ever given), which the entry owns (do not dispose them). The
   * previous tensors are disposed; the caller keeps ownership of its arguments.
   * @example const [allK, allV, allMask] = entry.append(k, v, padMask);
   */
  append(keys: Tensor, values: Tensor, keyMask: Tensor | null = null): [Tensor, Tensor, Tensor | null] {
    const op = 'KVCache.append';
    if (keys.rank !== 4 || values.rank !== 4 || keys.shape[2] !== values.shape[2]) {
      throw new ShapeError(op, `keys ${fmtShape(keys.shape)} and values ${fmtShape(values.shape)} must be [batch, heads, positions, dim] with the same positions`);
    }
    if (this.k !== null && this.v !== null) {
      const same = (a: Tensor, b: Tensor): boolean => a.shape[0] === b.shape[0] && a.shape[1] === b.shape[1] && a.shape[3] === b.shape[3];
      if (!same(this.k, keys) || !same(this.v, values)) {
        throw new ShapeError(op, `new keys ${fmtShape(keys.shape)} / values ${fmtShape(values.shape)} do not match the cached ${fmtShape(this.k.shape)} / ${fmtShape(this.v.shape)} (batch, heads and dim must agree); reset the cache for a new sequence`);
      }
    }
    // keep(): the cache outlives the tidy scope of the decoding step that filled it.
    const nk = keep(this.k === null ? alias(keys) : concat([this.k, keys], 2));
    const nv = keep(this.v === null ? alias(values) : concat([this.v, values], 2));
    let nm: Tensor | null = null;
    if (keyMask !== null || this.m !== null) {
      // Positions appended without a mask are real keys.
      const b = keys.shape[0]!;
      const fresh = keyMask ?? fill([b, keys.shape[2]!], true, 'bool');
      if (keyMask !== null && (keyMask.dtype !== 'bool' || keyMask.rank !== 2 || keyMask.shape[0] !== b || keyMask.shape[1] !== keys.shape[2])) {
        throw new ShapeError(op, `keyMask must be bool [${b}, ${keys.shape[2]}], got ${keyMask.dtype} ${fmtShape(keyMask.shape)}`);
      }
      const old = this.m ?? (this.k === null ? null : fill([b, this.k.shape[2]!], true, 'bool'));
      nm = keep(old === null ? alias(fresh) : concat([old, fresh], 1));
      if (old !== this.m) old?.dispose();
      if (fresh !== keyMask) fresh.dispose();
    }
    this.k?.dispose();
    this.v?.dispose();
    this.m?.dispose();
    this.k = nk;
    this.v = nv;
    this.m = nm;
    return [nk, nv, nm];
  }

  /** Frees the cached tensors; the entry is empty again (length 0). */
  reset(): void {
    this.k?.dispose();
    this.v?.dispose();
    this.m?.dispose();
    this.k = null;
    this.v = null;
    this.m = null;
  }
}

/**
 * Per-layer key/value caches for autoregressive decoding. Pass `cache.layer(i)` as the
 * `cache` call option of attention block `i` — or the whole cache to a model, whose
 * attention layers then each use their own entry ({@link KVCache.entryFor}); feed the prompt
 * once, then one token per step (with `startIndex: cache.length` for position embeddings).
 * Dispose it when done.
 * @example
 * const cache = new KVCache();
 * let logits = gpt.apply(prompt, { cache, startIndex: 0 });
 * logits = gpt.apply(nextToken, { cache, startIndex: cache.length });
 * cache.dispose();
 */
export class KVCache {
  private readonly entries: KVCacheEntry[] = [];
  private readonly owned = new Map<object, KVCacheEntry>();

  /** The entry of attention block `i` (created on first use). */
  layer(i: number): KVCacheEntry {
    if (!Number.isInteger(i) || i < 0) throw new ArgumentError('KVCache.layer', `index must be a non-negative integer, got ${String(i)}`);
    while (this.entries.length <= i) this.entries.push(new KVCacheEntry());
    return this.entries[i]!;
  }

  /**
   * The entry of one attention layer, created on first use: what MultiHeadAttention takes when
   * it is handed the whole cache (as a model passes `cache` to every layer).
   */
  entryFor(layer: object): KVCacheEntry {
    let e = this.owned.get(layer);
    if (e === undefined) {
      e = new KVCacheEntry();
      this.owned.set(layer, e);
      this.entries.push(e);
    }
    return e;
  }

  /** Positions cached (those of the first block; every block caches the same positions). */
  get length(): number {
    return this.entries[0]?.length ?? 0;
  }

  /** Number of block entries created so far. */
  get numLayers(): number {
    return this.entries.length;
  }

  /** Empties every entry (frees the tensors) so the cache can decode a new sequence. */
  reset(): void {
    for (const e of this.entries) e.reset();
  }

  /** Frees every cached tensor. */
  dispose(): void {
    this.reset();
    this.entries.length = 0;
    this.owned.clear();
  }
}
