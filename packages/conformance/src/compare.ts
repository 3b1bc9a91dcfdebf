/**
 * Comparing a backend's output with a float64 reference.
 * @module
 */
import type { DataArray } from '@tessera/core';
import { toDType, unravel, type HostTensor } from './host.js';
import type { Tol } from './types.js';

/** Options of {@link compareToRef}. */
export interface CompareOptions {
  /** Also require the sign of zero to match. */
  signedZeros?: boolean;
  /** Skip the dtype check. */
  anyDType?: boolean;
}

/**
 * Compares `got` (what the backend returned, with its shape and dtype) with the reference.
 * The reference is first rounded to the output dtype (float32 via `Math.fround`). Then:
 * NaN positions match exactly, infinities match in sign, int32/bool match exactly, and
 * finite floats satisfy `|got − ref| ≤ atol + rtol·|ref|`. Returns null when they agree,
 * else a message naming the first mismatches.
 * @example
 * compareToRef({ shape: [1], dtype: 'float32', data: Float32Array.of(1) },
 *   host('float32', [1], [1 + 1e-7]), F32); // null
 */
export function compareToRef(
  got: { shape: readonly number[]; dtype: string; data: DataArray },
  ref: HostTensor,
  tol: Tol,
  opts: CompareOptions = {},
): string | null {
  const same = got.shape.length === ref.shape.length && got.shape.every((d, i) => d === ref.shape[i]);
  if (!same) return `shape [${got.shape.join(',')}], expected [${ref.shape.join(',')}]`;
  if (!opts.anyDType && got.dtype !== ref.dtype) return `dtype ${got.dtype}, expected ${ref.dtype}`;
  if (got.data.length !== ref.data.length) {
    return `${got.data.length} values for ${ref.data.length} elements`;
  }
  const exact = ref.dtype !== 'float32';
  const bad: string[] = [];
  let nBad = 0;
  let worst = 0;
  for (let i = 0; i < ref.data.length; i++) {
    const r = toDType(ref.data[i], ref.dtype);
    const g = got.data[i];
    const err = mismatch(g, r, exact ? { rtol: 0, atol: 0 } : tol, !!opts.signedZeros);
    if (err === null) continue;
    nBad++;
    if (Number.isFinite(err)) worst = Math.max(worst, err);
    if (bad.length < 5) {
      bad.push(`[${unravel(i, ref.shape).join(',')}] got ${fmt(g)} expected ${fmt(r)}`);
    }
  }
  if (nBad === 0) return null;
  const tolText = exact ? 'exact' : `rtol ${tol.rtol}, atol ${tol.atol}`;
  return `${nBad}/${ref.data.length} elements differ (${tolText}; worst finite excess ${worst.toPrecision(3)}): ${bad.join('; ')}`;
}

/** Null when `g` matches `r`, else how far past the tolerance it is (Infinity for NaN/Inf/sign mismatches). */
function mismatch(g: number, r: number, tol: Tol, signedZeros: boolean): number | null {
  if (Number.isNaN(r) || Number.isNaN(g)) return Number.isNaN(r) && Number.isNaN(g) ? null : Infinity;
  if (!Number.isFinite(r) || !Number.isFinite(g)) return g === r ? null : Infinity;
  if (signedZeros && r === 0 && g === 0 && Object.is(r, -0) !== Object.is(g, -0)) return Infinity;
  const d = Math.abs(g - r);
  const allowed = tol.atol + tol.rtol * Math.abs(r);
  return d <= allowed ? null : d - allowed;
}

function fmt(v: number): string {
  return Object.is(v, -0) ? '-0' : String(v);
}

/**
 * True when two host arrays hold the same bits (NaN payloads and -0 included).
 * @example
 * bitwiseEqual(Float32Array.of(-0), Float32Array.of(0)); // false
 */
export function bitwiseEqual(a: DataArray, b: DataArray): boolean {
  if (a.constructor !== b.constructor || a.length !== b.length) return false;
  const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}
