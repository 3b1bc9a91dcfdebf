/**
 * Default tolerances. Float32 references are rounded to float32 before comparison;
 * int32 and bool compare exactly.
 * @module
 */
import type { Tol } from './types.js';

/** Float32 unit roundoff, 2^-24. */
export const U32 = 2 ** -24;

/** Exact comparison (int32, bool, and float ops that only move or select bits). */
export const EXACT: Tol = { rtol: 0, atol: 0 };
/** Float32 arithmetic that rounds once or twice (add, mul, div, sqrt...). */
export const F32: Tol = { rtol: 1e-5, atol: 1e-6 };
/** Float32 transcendentals (exp, log, tanh, erf, pow...), allowing polynomial approximations. */
export const TRANSCENDENTAL: Tol = { rtol: 1e-4, atol: 1e-6 };

/**
 * Scales a tolerance for an op that accumulates `k` float32 terms of typical magnitude
 * `magnitude`: `rtol + 4u√k` and `atol + 8u·k·magnitude` (u = 2^-24). The first covers
 * same-sign sums (relative error grows like √k), the second cancelling sums, whose result
 * is small but whose rounding error follows the partial sums.
 * @example
 * accumulating(F32, 129).atol; // ≈ 6.2e-5
 */
export function accumulating(base: Tol, k: number, magnitude = 1): Tol {
  const kk = Math.max(1, k);
  return { rtol: base.rtol + 4 * U32 * Math.sqrt(kk), atol: base.atol + 8 * U32 * kk * magnitude };
}

/**
 * The looser of two tolerances, field by field.
 * @example
 * looser(F32, { rtol: 0, atol: 1e-3 }); // { rtol: 1e-5, atol: 1e-3 }
 */
export function looser(a: Tol, b: Tol): Tol {
  return { rtol: Math.max(a.rtol, b.rtol), atol: Math.max(a.atol, b.atol) };
}
