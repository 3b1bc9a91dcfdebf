/**
 * Input domains: where generated values come from. Float values are rounded to float32 as
 * they are drawn, so the reference sees exactly what the backend stores.
 * @module
 */
import type { DType } from '@tessera/core';
import type { Domain } from './types.js';

/**
 * Uniform float32 values in [lo, hi].
 * @example
 * uniform(-3, 3).sample(Math.random);
 */
export function uniform(lo: number, hi: number): Domain {
  return { name: `[${lo}, ${hi}]`, sample: (u) => Math.fround(lo + (hi - lo) * u()) };
}

/**
 * Uniform magnitude in [lo, hi] with a random sign: keeps away from zero (for div, log|x|).
 * @example
 * signedRange(0.5, 4).sample(Math.random); // in ±[0.5, 4]
 */
export function signedRange(lo: number, hi: number): Domain {
  return {
    name: `±[${lo}, ${hi}]`,
    sample: (u) => Math.fround((u() < 0.5 ? -1 : 1) * (lo + (hi - lo) * u())),
  };
}

/**
 * Multiples of `step` in [lo, hi]: exact in float32, and for small dyadic steps far from
 * rounding boundaries (mod, floorDiv, floor, round ties).
 * @example
 * grid(-4, 4, 0.25).sample(Math.random); // e.g. -1.75
 */
export function grid(lo: number, hi: number, step: number): Domain {
  const n = Math.floor((hi - lo) / step);
  return {
    name: `${step}·ℤ ∩ [${lo}, ${hi}]`,
    sample: (u) => Math.fround(lo + step * Math.floor(u() * (n + 1))),
  };
}

/**
 * Like {@link grid} but never zero.
 * @example
 * gridNonZero(-4, 4, 0.25).sample(Math.random) !== 0; // true
 */
export function gridNonZero(lo: number, hi: number, step: number): Domain {
  const g = grid(lo, hi, step);
  return {
    name: `${g.name} \\ {0}`,
    sample: (u) => {
      for (;;) {
        const v = g.sample(u);
        if (v !== 0) return v;
      }
    },
  };
}

/**
 * Integers in [lo, hi].
 * @example
 * ints(-20, 20).sample(Math.random);
 */
export function ints(lo: number, hi: number): Domain {
  return { name: `int[${lo}, ${hi}]`, sample: (u) => lo + Math.floor(u() * (hi - lo + 1)) };
}

/**
 * Non-zero integers in [lo, hi].
 * @example
 * intsNonZero(-9, 9).sample(Math.random) !== 0; // true
 */
export function intsNonZero(lo: number, hi: number): Domain {
  return {
    name: `int[${lo}, ${hi}] \\ {0}`,
    sample: (u) => {
      for (;;) {
        const v = lo + Math.floor(u() * (hi - lo + 1));
        if (v !== 0) return v;
      }
    },
  };
}

/**
 * 0 or 1 with equal odds.
 * @example
 * bools().sample(Math.random); // 0 | 1
 */
export function bools(): Domain {
  return { name: '{0, 1}', sample: (u) => (u() < 0.5 ? 0 : 1) };
}

/**
 * The suite's default domain per dtype: float32 [-3, 3], int32 [-20, 20], bool {0, 1}.
 * @example
 * defaultDomain('int32').name; // 'int[-20, 20]'
 */
export function defaultDomain(dtype: DType): Domain {
  if (dtype === 'int32') return ints(-20, 20);
  if (dtype === 'bool') return bools();
  return uniform(-3, 3);
}
