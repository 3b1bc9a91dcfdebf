import type { Backend, DataArray, DType, View } from '@tessera/core';
import { jsBackend } from '../src/index.js';

export const be: Backend = jsBackend();
export const K = be.kernels;
export const F = be.fused;

const CTOR = { float32: Float32Array, int32: Int32Array, bool: Uint8Array } as const;

export function cstrides(shape: readonly number[]): number[] {
  const s: number[] = [];
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    s[d] = acc;
    acc *= shape[d];
  }
  return s;
}

export function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Uploads `data` and returns a contiguous view of `shape`. */
export function tensor(data: ArrayLike<number>, shape: readonly number[], dtype: DType = 'float32'): View {
  const arr = new CTOR[dtype](data.length);
  for (let i = 0; i < data.length; i++) arr[i] = data[i];
  const buf = be.storage.upload(dtype, arr);
  return { buf, dtype, shape, strides: cstrides(shape), offset: 0, size: size(shape) };
}

/** A fresh contiguous output view. */
export function empty(shape: readonly number[], dtype: DType = 'float32'): View {
  const buf = be.storage.alloc(dtype, Math.max(0, size(shape)));
  return { buf, dtype, shape, strides: cstrides(shape), offset: 0, size: size(shape) };
}

/** A view with explicit strides/offset over an existing view's buffer. */
export function viewOf(base: View, shape: readonly number[], strides: readonly number[], offset: number): View {
  return { buf: base.buf, dtype: base.dtype, shape, strides, offset, size: size(shape) };
}

/** Transposed view of the last two axes. */
export function transposed(v: View): View {
  const r = v.shape.length;
  const shape = v.shape.slice(), strides = v.strides.slice();
  [shape[r - 2], shape[r - 1]] = [shape[r - 1], shape[r - 2]];
  [strides[r - 2], strides[r - 1]] = [strides[r - 1], strides[r - 2]];
  return { ...v, shape, strides };
}

/** Flipped view along `axis`. */
export function flipped(v: View, axis: number): View {
  const strides = v.strides.slice();
  const offset = v.offset + (v.shape[axis] - 1) * v.strides[axis];
  strides[axis] = -strides[axis];
  return { ...v, strides, offset };
}

/** Broadcast view (right-aligned) to `shape`. */
export function broadcast(v: View, shape: readonly number[]): View {
  const lead = shape.length - v.shape.length;
  const strides = shape.map((n, d) => {
    const sd = d - lead;
    return sd < 0 || v.shape[sd] === 1 ? 0 : v.strides[sd];
  });
  return { ...v, shape, strides, size: size(shape) };
}

/** Reads a view's logical elements (row-major), whatever its strides. */
export function read(v: View): number[] {
  const all = be.storage.readSync!(v.buf, v.dtype, 0, v.buf.byteLength / (v.dtype === 'bool' ? 1 : 4));
  const out: number[] = [];
  const n = v.size;
  const idx = new Array<number>(v.shape.length).fill(0);
  for (let i = 0; i < n; i++) {
    let off = v.offset;
    for (let d = 0; d < idx.length; d++) off += idx[d] * v.strides[d];
    out.push(all[off]);
    for (let d = idx.length - 1; d >= 0; d--) {
      if (++idx[d] < v.shape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

export function raw(v: View): DataArray {
  return be.storage.readSync!(v.buf, v.dtype, 0, v.buf.byteLength / (v.dtype === 'bool' ? 1 : 4));
}

/** Deterministic pseudo-random numbers in [lo, hi). */
export function rand(n: number, seed = 1, lo = -1, hi = 1): number[] {
  let s = seed >>> 0 || 1;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    const u = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    out.push(Math.fround(lo + (hi - lo) * u));
  }
  return out;
}

/** Element-wise closeness with relative+absolute tolerance; NaN matches NaN. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol = 1e-5, atol = 1e-6): void {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} != ${expected.length}`);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i], e = expected[i];
    if (Number.isNaN(e)) {
      if (!Number.isNaN(a)) throw new Error(`[${i}] expected NaN, got ${a}`);
      continue;
    }
    if (a === e) continue;
    if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) throw new Error(`[${i}] expected ${e}, got ${a}`);
  }
}

/** Releases the buffers of views (each once). */
export function free(...views: View[]): void {
  const seen = new Set<unknown>();
  for (const v of views) {
    if (seen.has(v.buf)) continue;
    seen.add(v.buf);
    be.storage.release(v.buf);
  }
}
