/**
 * Reference-counted tensor storage in wasm memory.
 * @module
 */
import type { Buf, DataArray, DType, Storage, StorageStats } from '@tessera/core';
import type { Heap } from './heap.js';

/** Bytes per element of each dtype (bool is one byte). */
export const ELEMENT_BYTES: Readonly<Record<DType, number>> = { float32: 4, int32: 4, bool: 1 };

/**
 * A wasm-backend buffer: an address in the wasm memory plus a reference count. `ptr` becomes
 * -1 when the count reaches zero, so any later use throws.
 */
export class WasmBuf implements Buf {
  readonly byteLength: number;
  /** Byte address of element 0; -1 once freed (0 for an empty buffer). */
  ptr: number;
  /** Reference count; 0 means freed. */
  refs = 1;
  /** The storage that owns this buffer. */
  readonly owner: WasmStorage;

  constructor(owner: WasmStorage, ptr: number, byteLength: number) {
    this.owner = owner;
    this.ptr = ptr;
    this.byteLength = byteLength;
  }
}

/**
 * Storage over a {@link Heap}: `alloc`/`upload` take blocks from the allocator, `release` at
 * zero references returns them to its pool, reads copy out into fresh host arrays.
 * @example
 * const b = storage.upload('float32', new Float32Array([1, 2, 3]));
 * storage.readSync(b, 'float32', 1, 2); // Float32Array [2, 3]
 * storage.release(b);
 */
export class WasmStorage implements Storage {
  private live = 0;
  private liveBytes = 0;
  private disposed = false;
  readonly heap: Heap;

  constructor(heap: Heap) {
    this.heap = heap;
  }

  alloc(dtype: DType, size: number): Buf {
    this.checkUsable();
    if (!Number.isInteger(size) || size < 0) throw new Error(`wasm backend: cannot allocate ${size} elements`);
    const bytes = size * ELEMENT_BYTES[dtype];
    return this.track(this.heap.alloc(bytes), bytes);
  }

  upload(dtype: DType, data: DataArray): Buf {
    this.checkUsable();
    const bytes = data.length * ELEMENT_BYTES[dtype];
    if (data.byteLength !== bytes) throw new Error(`wasm backend: a ${data.constructor.name} cannot hold ${dtype} data`);
    const ptr = this.heap.alloc(bytes);
    if (bytes > 0) this.heap.u8.set(new Uint8Array(data.buffer, data.byteOffset, bytes), ptr);
    return this.track(ptr, bytes);
  }

  read(buf: Buf, dtype: DType, offset: number, size: number): Promise<DataArray> {
    try {
      return Promise.resolve(this.readSync(buf, dtype, offset, size));
    } catch (e) {
      return Promise.reject(e as Error);
    }
  }

  readSync(buf: Buf, dtype: DType, offset: number, size: number): DataArray {
    const b = this.own(buf);
    const eb = ELEMENT_BYTES[dtype];
    if (!Number.isInteger(offset) || !Number.isInteger(size) || offset < 0 || size < 0 || (offset + size) * eb > b.byteLength) {
      throw new Error(`wasm backend: read of ${size} ${dtype} elements at ${offset} is outside a buffer of ${b.byteLength} bytes`);
    }
    const start = b.ptr + offset * eb;
    const h = this.heap;
    if (dtype === 'float32') {
      const out = new Float32Array(size);
      out.set(h.f32.subarray(start >> 2, (start >> 2) + size));
      return out;
    }
    if (dtype === 'int32') {
      const out = new Int32Array(size);
      out.set(h.i32.subarray(start >> 2, (start >> 2) + size));
      return out;
    }
    const out = new Uint8Array(size);
    out.set(h.u8.subarray(start, start + size));
    return out;
  }

  retain(buf: Buf): void {
    const b = this.own(buf);
    b.refs++;
  }

  release(buf: Buf): void {
    if (!(buf instanceof WasmBuf) || buf.owner !== this) throw new Error('wasm backend: buffer does not belong to this wasm backend');
    if (buf.refs <= 0) throw new Error('wasm backend: release of a buffer that has no references left (double free)');
    if (--buf.refs > 0) return;
    const ptr = buf.ptr;
    buf.ptr = -1;
    this.live--;
    this.liveBytes -= buf.byteLength;
    if (!this.disposed) this.heap.free(ptr, buf.byteLength);
  }

  stats(): StorageStats {
    return { liveBuffers: this.live, liveBytes: this.liveBytes, pooledBytes: this.heap.pooledBytes };
  }

  /** Refuses further allocations (the memory itself goes with the backend). */
  dispose(): void {
    this.disposed = true;
    this.heap.trim();
  }

  /** The buffer as a live WasmBuf of this storage, or an Error saying why not. */
  own(buf: Buf): WasmBuf {
    if (!(buf instanceof WasmBuf) || buf.owner !== this) throw new Error('wasm backend: buffer does not belong to this wasm backend');
    if (buf.refs <= 0) throw new Error('wasm backend: use of a freed buffer (its reference count reached zero)');
    return buf;
  }

  private checkUsable(): void {
    if (this.disposed) throw new Error('wasm backend: the backend was disposed');
  }

  private track(ptr: number, bytes: number): WasmBuf {
    this.live++;
    this.liveBytes += bytes;
    return new WasmBuf(this, ptr, bytes);
  }
}
