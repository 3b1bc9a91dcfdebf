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
