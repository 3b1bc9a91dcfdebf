/**
 * Layers built of other layers (MultiHeadAttention, the transformer blocks): their weights,
 * trainability, penalties and disposal are those of their sublayers, so a composite behaves
 * like one layer to models, optimizers and save/load.
 * @module
 */
import type { Variable } from '@tessera/autograd';
import type { Tensor } from '@tessera/core';
import { Layer, type LayerWeight } from '../engine/layer.js';
import { accumulate } from '../util.js';

/**
 * A layer whose weights live in sublayers. Weight paths are `<sublayer>/<weight>`
 * (`query/kernel`); setting `trainable` sets every sublayer's flag too, as in Keras.
 * @example class Block extends CompositeLayer { protected sublayers() { return [this.dense]; } ... }
 */
export abstract class CompositeLayer extends Layer {
  /** The sublayers that own weights, in weight order (read at each use, so a sublayer can be swapped). */
  protected abstract sublayers(): Layer[];

  override get trainable(): boolean {
    return super.trainable;
  }
  override set trainable(value: boolean) {
    super.trainable = value;
    for (const l of this.sublayersOrEmpty()) l.trainable = value;
  }

  /**
   * The layers this one is made of, in weight order (e.g. MultiHeadAttention's four Dense
   * projections), as `model.layers` lists a model's. Empty until built for layers that create
   * their sublayers in `build`.
   * @example block.layers.map((l) => l.name) // ['self_attention', 'self_attention_norm', ...]
   */
  get layers(): Layer[] {
    return this.sublayersOrEmpty();
  }

  /** The sublayers, skipping any a subclass has not created yet. */
  private sublayersOrEmpty(): Layer[] {
    return this.sublayers().filter((l) => l !== undefined && l !== null);
  }

  override get weightEntries(): LayerWeight[] {
    const own = super.weightEntries;
    const out: LayerWeight[] = [...own];
    for (const l of this.sublayersOrEmpty()) for (const w of l.weightEntries) out.push({ ...w, name: `${l.name}/${w.name}` });
    return out;
  }

  override get trainableWeights(): Variable[] {
    if (!this.trainable) return [];
    return [...super.trainableWeights, ...this.sublayersOrEmpty().flatMap((l) => l.trainableWeights)];
  }

  override get nonTrainableWeights(): Variable[] {
    const t = new Set(this.trainableWeights);
    return this.weights.filter((v) => !t.has(v));
  }

  override regularizationLoss(): Tensor | null {
    let total = super.regularizationLoss();
    for (const l of this.sublayersOrEmpty()) {
      const p = l.regularizationLoss();
      if (p !== null) total = accumulate(total, p);
    }
    return total;
  }

  override dispose(): void {
    if (this.isDisposed) return;
    super.dispose();
    for (const l of this.sublayersOrEmpty()) l.dispose();
  }
}
