/**
 * Scalar float64 reference functions the op references share, written from their
 * definitions (series, continued fractions) rather than from any backend.
 * @module
 */

/**
 * The error function to ~1e-15: Maclaurin series for |x| < 3, the continued fraction of
 * erfc beyond.
 * @example
 * erf(1); // 0.8427007929497149
 */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x === 0) return x; // keeps -0
  const ax = Math.abs(x);
  if (ax >= 3) return Math.sign(x) * (1 - erfcLarge(ax));
  // erf(x) = 2/√π Σ (-1)^n x^(2n+1) / (n! (2n+1))
  let term = ax;
  let sum = ax;
  const x2 = ax * ax;
  for (let n = 1; n < 200; n++) {
    term *= -x2 / n;
    const add = term / (2 * n + 1);
    sum += add;
    if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
  }
  return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
}

/** erfc(x) for x ≥ 3 by the Laplace continued fraction, evaluated bottom-up. */
function erfcLarge(x: number): number {
  if (!Number.isFinite(x)) return 0;
  // erfc(x) = exp(-x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...)))))
  let f = x;
  for (let k = 120; k >= 1; k--) f = x + k / 2 / f;
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
}

/**
 * Round half to even (banker's rounding), keeping the sign of zero.
 * @example
 * roundHalfEven(2.5); // 2
 */
export function roundHalfEven(x: number): number {
  if (!Number.isFinite(x)) return x;
  const f = Math.floor(x);
  const d = x - f;
  let r: number;
  if (d < 0.5) r = f;
  else if (d > 0.5) r = f + 1;
  else r = f % 2 === 0 ? f : f + 1;
  return r === 0 ? (x < 0 || Object.is(x, -0) ? -0 : 0) : r;
}

/**
 * Logistic sigmoid, stable for large |x|.
 * @example
 * sigmoid(0); // 0.5
 */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/**
 * log(1 + e^x) without overflow.
 * @example
 * softplus(0); // Math.LN2
 */
export function softplus(x: number): number {
  if (x > 0) return x + Math.log1p(Math.exp(-x));
  return Math.log1p(Math.exp(x));
}

/**
 * GELU: `x·Φ(x)` with the exact normal CDF, or the tanh approximation
 * `0.5x(1 + tanh(√(2/π)(x + 0.044715x³)))`.
 * @example
 * gelu(1); // 0.8413447460685429
 */
export function gelu(x: number, approximate = false): number {
  if (approximate) {
    const c = Math.sqrt(2 / Math.PI);
    return 0.5 * x * (1 + Math.tanh(c * (x + 0.044715 * x * x * x)));
  }
  return 0.5 * x * (1 + erf(x / Math.SQRT2));
}

/** SELU's α and λ (Klambauer et al. 2017). */
export const SELU_ALPHA = 1.6732632423543772848170429916717;
/** SELU's scale λ. */
export const SELU_SCALE = 1.0507009873554804934193349852946;

/**
 * Floored modulo: the result takes the divisor's sign; `x mod 0` is NaN.
 * @example
 * floorMod(-7, 3); // 2
 */
export function floorMod(a: number, b: number): number {
  const r = a % b;
  return r !== 0 && r < 0 !== b < 0 ? r + b : r;
}

/**
 * Floored division of int32 values as the kernel specifies (`x / 0` gives 0).
 * @example
 * intFloorDiv(-7, 2); // -4
 */
export function intFloorDiv(a: number, b: number): number {
  return b === 0 ? 0 : Math.floor(a / b) | 0;
}

/**
 * Floored modulo of int32 values (`x mod 0` gives 0).
 * @example
 * intFloorMod(-7, 3); // 2
 */
export function intFloorMod(a: number, b: number): number {
  return b === 0 ? 0 : floorMod(a, b) | 0;
}

/**
 * Sum in float64 with Neumaier compensation (exact enough for 100k terms).
 * @example
 * kahanSum([1e16, 1, -1e16]); // 1
 * kahanSum([Infinity, 1]); // Infinity
 */
export function kahanSum(v: ArrayLike<number>): number {
  let s = 0;
  let c = 0;
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    const t = s + x;
    if (Math.abs(s) >= Math.abs(x)) c += s - t + x;
    else c += x - t + s;
    s = t;
  }
  // With an infinity or NaN among the terms the compensation is NaN; the plain sum is right.
  return Number.isFinite(s) ? s + c : s;
}
