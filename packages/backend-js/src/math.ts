/**
 * Scalar math the elementwise and fused kernels share, in float64.
 * @module
 */

const TWO_OVER_SQRT_PI = 1.1283791670955126;
const INV_SQRT_PI = 0.5641895835477563;

/**
 * The error function to about 1e-12 relative error: the series
 * `erf x = 2/√π · e^{-x²} Σ 2ⁿ x^{2n+1} / (2n+1)!!` below |x| = 2, and a 12-term continued
 * fraction for erfc above.
 *
 * @example
 * erf(1);   // 0.8427007929497149
 */
export function erf(x: number): number {
  if (x !== x) return x;
  const ax = x < 0 ? -x : x;
  if (ax < 2) {
    const x2 = ax * ax;
    let term = ax;
    let sum = ax;
    for (let n = 1; n < 64; n++) {
      term *= (2 * x2) / (2 * n + 1);
      sum += term;
      if (term < sum * 1e-17) break;
    }
    const r = TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
    return x < 0 ? -r : r;
  }
  if (ax >= 6) return x < 0 ? -1 : 1;
  const r = 1 - erfcLarge(ax);
  return x < 0 ? -r : r;
}

/** erfc(x) for x ≥ 2: the even contraction of Laplace's continued fraction, 12 terms. */
function erfcLarge(x: number): number {
  const x2 = x * x;
  let f = 2 * x2 + 49;
  for (let n = 12; n >= 1; n--) f = 2 * x2 + 4 * n - 3 - ((2 * n - 1) * (2 * n)) / f;
  return ((Math.exp(-x2) * INV_SQRT_PI) * 2 * x) / f;
}

/**
 * Rounds half to even (banker's rounding), like NumPy's `round`.
 *
 * @example
 * roundHalfEven(2.5);    // 2
 * roundHalfEven(-1.5);   // -2
 */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * The logistic function `1 / (1 + e^{-x})`.
 *
 * @example
 * sigmoid(0);   // 0.5
 */
export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/**
 * Exact GELU: `x · Φ(x) = 0.5 x (1 + erf(x / √2))`.
 *
 * @example
 * gelu(1);   // 0.8413447460685429
 */
export function gelu(x: number): number {
  return 0.5 * x * (1 + erf(x * Math.SQRT1_2));
}

/**
 * float → int32 conversion: truncates toward zero, NaN → 0, saturates outside the int32 range.
 *
 * @example
 * toInt32(-2.7);   // -2
 * toInt32(1e10);   // 2147483647
 */
export function toInt32(x: number): number {
  if (x !== x) return 0;
  if (x >= 2147483647) return 2147483647;
  if (x <= -2147483648) return -2147483648;
  return x < 0 ? Math.ceil(x) : Math.floor(x);
}

/**
 * Floored float modulo (result takes the divisor's sign; `x mod 0` is NaN).
 *
 * @example
 * floatMod(-1, 3);   // 2
 */
export function floatMod(a: number, b: number): number {
  let r = a % b;
  if (r !== 0) {
    if (r < 0 !== b < 0) r += b;
  } else if (r === r) {
    r = b < 0 ? -0 : 0;
  }
  return r;
}

/**
 * Floored int32 modulo; `x mod 0` is 0.
 *
 * @example
 * intMod(-7, 3);   // 2
 */
export function intMod(a: number, b: number): number {
  if (b === 0) return 0;
  const r = a % b;
  return r !== 0 && r < 0 !== b < 0 ? r + b : r;
}

/**
 * Floored int32 division; `x / 0` is 0.
 *
 * @example
 * intDiv(-7, 2);   // -4
 */
export function intDiv(a: number, b: number): number {
  return b === 0 ? 0 : Math.floor(a / b);
}
