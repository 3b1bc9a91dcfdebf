/**
 * A finite-difference gradient checker for `@tessera/autograd`. It checks the gradient of
 * the scalar `L(xs) = Σ f(xs)` (the sum of every output element) against an analytic
 * gradient. Central differences are taken in float64 on the host from a `ref64` scalar
 * function when one is given; otherwise `f` itself is re-run through core in float32 with a
 * large step and a loose tolerance (float32 differences are too noisy for tight checks).
 * @module
 */
import type { DataArray } from '@tessera/core';
import { loadCoreApi, type CoreApi, type Tensor } from './api.js';

/** Options of {@link checkGradients}. */
export interface GradCheckOptions {
  /** Step. Default: `1e-6·max(1, |x|)` with `ref64`, `1e-2` without. */
  eps?: number;
  /** Default 1e-3 with `ref64`, 2e-2 without. */
  rtol?: number;
  /** Default 1e-4 with `ref64`, 2e-3 without. */
  atol?: number;
  /** Float64 reference of `L = Σ f(xs)`, taking each input's values row-major. */
  ref64?: (...xs: Float64Array[]) => number;
  /** Which inputs to check (default: every float32 input). */
  wrt?: readonly number[];
  /** At most this many elements per input, spread evenly (default: all). */
  maxElements?: number;
}

/** One element whose analytic and numeric gradients disagree. */
export interface GradMismatch {
  input: number;
  index: number;
  analytic: number;
  numeric: number;
}

/** What {@link checkGradients} found. */
export interface GradCheckResult {
  ok: boolean;
  /** Elements compared. */
  checked: number;
  maxAbsErr: number;
  failures: GradMismatch[];
  /** `float64` when `ref64` drove the differences, `float32` otherwise. */
  precision: 'float64' | 'float32';
}

/**
 * Central difference of a float64 scalar function with respect to one element.
 * @example
 * centralDifference64((x) => x[0] ** 3, [Float64Array.of(2)], 0, 0, 1e-6); // ≈ 12
 */
export function centralDifference64(
  ref64: (...xs: Float64Array[]) => number, xs: readonly Float64Array[], input: number, index: number, eps?: number,
): number {
  const x = xs[input];
  const v = x[index];
  const h = eps ?? 1e-6 * Math.max(1, Math.abs(v));
  const args = xs.map((a, i) => (i === input ? Float64Array.from(a) : a));
  args[input][index] = v + h;
  const up = ref64(...args);
  args[input][index] = v - h;
  const down = ref64(...args);
  return (up - down) / (2 * h);
}

/** Indices `0..n-1`, or at most `m` of them spread evenly. */
function pickIndices(n: number, m?: number): number[] {
  if (m === undefined || m >= n) return Array.from({ length: n }, (_, i) => i);
  if (m <= 1) return n ? [0] : [];
  return [...new Set(Array.from({ length: m }, (_, k) => Math.round((k * (n - 1)) / (m - 1))))];
}

/** L = Σ f(xs) evaluated through core (float32), from host values. */
async function lossF32(api: CoreApi, f: (...xs: Tensor[]) => Tensor, inputs: readonly Tensor[], values: readonly DataArray[]): Promise<number> {
  const made = inputs.map((t, i) => api.tensor(values[i], t.shape, t.dtype));
  try {
    const y = f(...made);
    const s = api.sum(y);
    const v = (await s.data())[0];
    y.dispose();
    s.dispose();
    return v;
  } finally {
    for (const t of made) t.dispose();
  }
}

/**
 * Checks `gradFn(...inputs)` (the analytic gradient of `Σ f(...inputs)`, one tensor per
 * input, null for inputs it does not differentiate) against central finite differences.
 * @example
 * const r = await checkGradients(
 *   (x) => mul(x, x),
 *   [tensor([1, 2, 3])],
 *   (x) => [mul(x, 2)],
 *   { ref64: (x) => x.reduce((s, v) => s + v * v, 0) },
 * );
 * r.ok; // true
 */
export async function checkGradients(
  f: (...xs: Tensor[]) => Tensor,
  inputs: readonly Tensor[],
  gradFn: (...xs: Tensor[]) => readonly (Tensor | null | undefined)[],
  opts: GradCheckOptions = {},
): Promise<GradCheckResult> {
  const api = await loadCoreApi();
  const precise = opts.ref64 !== undefined;
  const rtol = opts.rtol ?? (precise ? 1e-3 : 2e-2);
  const atol = opts.atol ?? (precise ? 1e-4 : 2e-3);
  const wrt = opts.wrt ?? inputs.map((t, i) => (t.dtype === 'float32' ? i : -1)).filter((i) => i >= 0);
  const grads = gradFn(...inputs);
  const values = await Promise.all(inputs.map((t) => t.data()));
  const xs64 = values.map((v) => Float64Array.from(v));
  const result: GradCheckResult = { ok: true, checked: 0, maxAbsErr: 0, failures: [], precision: precise ? 'float64' : 'float32' };
  try {
    for (const i of wrt) {
      const g = grads[i];
      const analytic = g ? await g.data() : new Float32Array(inputs[i].size);
      for (const j of pickIndices(inputs[i].size, opts.maxElements)) {
        let numeric: number;
        if (precise) {
          numeric = centralDifference64(opts.ref64!, xs64, i, j, opts.eps);
        } else {
          const h = opts.eps ?? 1e-2;
          const v = values[i][j];
          const up = values.map((a, k) => (k === i ? a.slice() : a));
          up[i][j] = v + h;
          const lUp = await lossF32(api, f, inputs, up);
          up[i][j] = v - h;
          const lDown = await lossF32(api, f, inputs, up);
          numeric = (lUp - lDown) / (2 * h);
        }
        const a = analytic[j];
        const err = Math.abs(a - numeric);
        result.checked++;
        result.maxAbsErr = Math.max(result.maxAbsErr, err);
        if (!(err <= atol + rtol * Math.abs(numeric))) {
          result.ok = false;
          result.failures.push({ input: i, index: j, analytic: a, numeric });
        }
      }
    }
  } finally {
    for (const g of grads) g?.dispose();
  }
  return result;
}
