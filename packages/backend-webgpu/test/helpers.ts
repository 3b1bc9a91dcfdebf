import type { Backend, Buf, DType, View } from '@tessera/core';

/** Row-major strides. */
export function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    s[d] = acc;
    acc *= shape[d];
  }
  return s;
}

/** A view over a buffer (contiguous unless strides/offset are given). */
export function view(buf: Buf, dtype: DType, shape: readonly number[], st: readonly number[] = strides(shape), offset = 0): View {
  return { buf, dtype, shape, strides: st, offset, size: shape.reduce((a, b) => a * b, 1) };
}

/** Uploads values and returns a contiguous view. */
export function up(be: Backend, values: readonly number[], shape: readonly number[] = [values.length], dtype: DType = 'float32'): View {
  const data = dtype === 'float32' ? Float32Array.from(values) : dtype === 'int32' ? Int32Array.from(values) : Uint8Array.from(values);
  return view(be.storage.upload(dtype, data), dtype, shape);
}

/** A fresh contiguous output view. */
export function out(be: Backend, shape: readonly number[], dtype: DType = 'float32'): View {
  return view(be.storage.alloc(dtype, shape.reduce((a, b) => a * b, 1)), dtype, shape);
}

/** Reads a view's whole buffer range (views in tests are contiguous from offset 0 unless said). */
export async function read(be: Backend, v: View, size = v.size, offset = v.offset): Promise<number[]> {
  return Array.from(await be.storage.read(v.buf, v.dtype, offset, size));
}

/** Rejects if `p` does not settle within `ms` (a hang is a failure, not a timeout of the runner). */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, rej) => {
    timer = setTimeout(() => rej(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}
