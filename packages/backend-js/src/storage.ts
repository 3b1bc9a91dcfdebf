/**
 * Host storage for the js backend: typed arrays with reference counts, and a small pool of
 * freed arrays keyed by dtype and exact length.
 * @module
 */
import type { Buf, DataArray, DType, Storage, StorageStats, View } from '@tessera/core';

/**
 * Bytes per element of each dtype (bool is one byte).
 *
 * @example
 * ELEMENT_BYTES.int32;   // 4
 */
export const ELEMENT_BYTES: Readonly<Record<DType, number>> = { float32: 4, int32: 4, bool: 1 };

/** Pool limits: total bytes kept, largest array kept, arrays kept per exact size. */
const POOL_MAX_BYTES = 64 * 1024 * 1024;
const POOL_MAX_ARRAY_BYTES = 16 * 1024 * 1024;
const POOL_MAX_PER_SIZE = 8;

/**
 * A js-backend buffer: the typed array of its dtype plus a reference count. The array is
 * detached (set to null) when the count reaches zero, so any later use throws.
 *
 * @example
 * const s = new JsStorage();
 * const b = s.alloc('float32', 4) as JsBuf;   // b.data is a Float32Array(4), b.refs === 1
 */
export class JsBuf implements Buf {
  readonly byteLength: number;
  /** The dtype the array was allocated for. */
  readonly dtype: DType;
  /** Element count. */
  readonly length: number;
  /** The host array; null once freed. */
  data: DataArray | null;
  /** Reference count; 0 means freed. */
  refs = 1;
  /** Lazily made reinterpretation (float32 <-> int32) of the same bytes. */
  alias: DataArray | null = null;

  constructor(dtype: DType, data: DataArray) {
    this.dtype = dtype;
    this.data = data;
    this.length = data.length;
    this.byteLength = data.length * ELEMENT_BYTES[dtype];
  }
}

function freedError(): Error {
  return new Error('js backend: use of a freed buffer (its reference count reached zero)');
}

/**
 * The typed array behind `buf` as `dtype`. Throws if the buffer is freed, belongs to another
 * backend, or `dtype` cannot reinterpret its bytes (float32 and int32 may alias each other).
 *
 * @example
 * const a = arrayOf(view.buf, 'float32') as Float32Array;
 */
export function arrayOf(buf: Buf, dtype: DType): DataArray {
  if (!(buf instanceof JsBuf)) throw new Error('js backend: buffer does not belong to the js backend');
  const data = buf.data;
  if (data === null) throw freedError();
  if (buf.dtype === dtype) return data;
  if (dtype === 'bool' || buf.dtype === 'bool') {
    throw new Error(`js backend: a ${buf.dtype} buffer cannot be viewed as ${dtype}`);
  }
  let alias = buf.alias;
  if (alias === null) {
    alias = dtype === 'float32'
      ? new Float32Array(data.buffer, data.byteOffset, data.length)
      : new Int32Array(data.buffer, data.byteOffset, data.length);
    buf.alias = alias;
  }
  return alias;
}

/**
 * The typed array of a view (its buffer's array, as the view's dtype).
 *
 * @example
 * const x = dataOf(v);   // Float32Array for a float32 view; index it with v.offset and v.strides
 */
export function dataOf(v: View): DataArray {
  return arrayOf(v.buf, v.dtype);
}

/** @example const x = f32(v); // Float32Array behind a float32 view */
export function f32(v: View): Float32Array {
  return arrayOf(v.buf, 'float32') as Float32Array;
}
/** @example const x = i32(v); // Int32Array behind an int32 view */
export function i32(v: View): Int32Array {
  return arrayOf(v.buf, 'int32') as Int32Array;
}
/** @example const x = u8(v); // Uint8Array behind a bool view */
export function u8(v: View): Uint8Array {
  return arrayOf(v.buf, 'bool') as Uint8Array;
}

/**
 * A fresh typed array of `dtype` and `size` elements (zero-filled).
 *
 * @example
 * newArray('int32', 3);   // Int32Array [0, 0, 0]
 */
export function newArray(dtype: DType, size: number): DataArray {
  return dtype === 'float32' ? new Float32Array(size) : dtype === 'int32' ? new Int32Array(size) : new Uint8Array(size);
}

/**
 * Reference-counted host storage with an exact-size pool of freed arrays.
 *
 * @example
 * const s = new JsStorage();
 * const b = s.upload('float32', new Float32Array([1, 2, 3]));
 * s.readSync(b, 'float32', 1, 2);   // Float32Array [2, 3]
 * s.release(b);                     // s.stats().liveBuffers === 0
 */
export class JsStorage implements Storage {
  private live = 0;
  private liveBytes = 0;
  private pooled = 0;
  private readonly pool: Record<DType, Map<number, DataArray[]>> = {
    float32: new Map(), int32: new Map(), bool: new Map(),
  };
  private disposed = false;

  alloc(dtype: DType, size: number): Buf {
    this.checkUsable();
    checkSize(size);
    const data = this.take(dtype, size) ?? newArray(dtype, size);
    return this.track(dtype, data);
  }

  upload(dtype: DType, data: DataArray): Buf {
    this.checkUsable();
    const arr = this.take(dtype, data.length) ?? newArray(dtype, data.length);
    if (dtype === 'bool' && !(data instanceof Uint8Array)) {
      for (let i = 0; i < data.length; i++) arr[i] = data[i] !== 0 ? 1 : 0;
    } else {
      arr.set(data);
    }
    return this.track(dtype, arr);
  }

  read(buf: Buf, dtype: DType, offset: number, size: number): Promise<DataArray> {
    try {
      return Promise.resolve(this.readSync(buf, dtype, offset, size));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  readSync(buf: Buf, dtype: DType, offset: number, size: number): DataArray {
    const data = arrayOf(buf, dtype);
    if (!Number.isInteger(offset) || !Number.isInteger(size) || offset < 0 || size < 0 || offset + size > data.length) {
      throw new Error(`js backend: read of ${size} elements at ${offset} is outside a buffer of ${data.length}`);
    }
    return data.slice(offset, offset + size);
  }

  retain(buf: Buf): void {
    const b = asJsBuf(buf);
    if (b.refs <= 0) throw freedError();
    b.refs++;
  }

  release(buf: Buf): void {
    const b = asJsBuf(buf);
    if (b.refs <= 0) throw new Error('js backend: release of a buffer that has no references left (double free)');
    if (--b.refs > 0) return;
    const data = b.data!;
    b.data = null;
    b.alias = null;
    this.live--;
    this.liveBytes -= b.byteLength;
    if (!this.disposed) this.give(b.dtype, data);
  }

  stats(): StorageStats {
    return { liveBuffers: this.live, liveBytes: this.liveBytes, pooledBytes: this.pooled };
  }

  /** Empties the pool and refuses further allocations. */
  dispose(): void {
    this.disposed = true;
    for (const m of Object.values(this.pool)) m.clear();
    this.pooled = 0;
  }

  private checkUsable(): void {
    if (this.disposed) throw new Error('js backend: the backend was disposed');
  }

  private track(dtype: DType, data: DataArray): JsBuf {
    const b = new JsBuf(dtype, data);
    this.live++;
    this.liveBytes += b.byteLength;
    return b;
  }

  private take(dtype: DType, size: number): DataArray | undefined {
    if (size === 0) return undefined;
    const list = this.pool[dtype].get(size);
    const arr = list?.pop();
    if (arr !== undefined) this.pooled -= arr.byteLength;
    return arr;
  }

  private give(dtype: DType, data: DataArray): void {
    const bytes = data.byteLength;
    if (bytes === 0 || bytes > POOL_MAX_ARRAY_BYTES || this.pooled + bytes > POOL_MAX_BYTES) return;
    const m = this.pool[dtype];
    let list = m.get(data.length);
    if (list === undefined) m.set(data.length, (list = []));
    if (list.length >= POOL_MAX_PER_SIZE) return;
    list.push(data);
    this.pooled += bytes;
  }
}

function asJsBuf(buf: Buf): JsBuf {
  if (!(buf instanceof JsBuf)) throw new Error('js backend: buffer does not belong to the js backend');
  return buf;
}

function checkSize(size: number): void {
  if (!Number.isInteger(size) || size < 0) throw new Error(`js backend: cannot allocate ${size} elements`);
}

/**
 * A contiguous view over a host array that no storage tracks: scratch for kernels that
 * compute into a temporary and then `copy` into a strided `out`.
 *
 * @example
 * const v = hostView(new Float32Array(6), 'float32', [2, 3]);   // strides [3, 1], offset 0
 */
export function hostView(data: DataArray, dtype: DType, shape: readonly number[]): View {
  const strides = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = acc;
    acc *= shape[d];
  }
  return { buf: new JsBuf(dtype, data), dtype, shape, strides, offset: 0, size: acc };
}
