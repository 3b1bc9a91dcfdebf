/**
 * Seeds for layers that draw random numbers without a seed of their own (Dropout), so that
 * `fit({ seed })` makes a whole run reproducible.
 * @module
 */

let state: { seed: number; counter: number } | null = null;

/**
 * Makes unseeded Dropout layers draw from a stream derived from `seed` (null: back to the
 * global core random stream). `fit({ seed })` calls it for the duration of training.
 * @example setLayerSeed(42); ... setLayerSeed(null);
 */
export function setLayerSeed(seed: number | null): void {
  state = seed === null ? null : { seed, counter: 0 };
}

/** The seed for the next unseeded dropout mask, or undefined for the global stream. */
export function nextDropoutSeed(): number | undefined {
  if (state === null) return undefined;
  const s = (state.seed * 1_000_003 + ++state.counter * 7_919) % 2 ** 52;
  return s;
}

/**
 * The position of the layer-seed stream (for checkpoints), or null when none is set.
 * @example const s = layerSeedState(); ... restoreLayerSeedState(s);
 */
export function layerSeedState(): { seed: number; counter: number } | null {
  return state === null ? null : { ...state };
}

/**
 * Moves the layer-seed stream back to a position from {@link layerSeedState} (resuming a run).
 * @example restoreLayerSeedState({ seed: 42, counter: 1200 });
 */
export function restoreLayerSeedState(s: { seed: number; counter: number } | null): void {
  state = s === null ? null : { seed: s.seed, counter: s.counter };
}
