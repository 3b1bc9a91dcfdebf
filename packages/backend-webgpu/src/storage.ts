/**
 * Reference-counted WebGPU storage. Every dtype takes 4 bytes per element on the GPU:
 * float32 as `f32`, int32 as `i32`, and **bool as `u32` (0 or 1)** — WGSL has no byte
 * type, and one word per element keeps every kernel free of packing and of write races
 * between neighbouring bytes. Host arrays keep core's layout (bool as Uint8Array bytes);
 * the conversion happens on upload and read.
 * @module
 */
import { BackendError, type Buf, type DataArray, type DType, type Storage, type StorageStats } from '@tessera/core';
import type { Block, Runtime } from './runtime.js';

/** Bytes per element on the GPU (bool is stored as a u32 word). */
export const GPU_ELEMENT_BYTES = 4;

/** A WebGPU buffer: a pooled block, its element count and a reference count. */
export class GpuBuf implements Buf {
  /** Bytes this buffer holds for its elements (4 per element, bool included). */
  readonly byteLength: number;
  /** The block; null once freed. */
  block: Block | null;
  refs = 1;
  constructor(block: Block, readonly dtype: DType, readonly length: number) {
    this.block = block;
    this.byteLength = length * GPU_ELEMENT_BYTES;
  }
}

/** The block behind a buffer, or an Error naming the misuse. */
export function blockOf(buf: Buf, owner: Runtime): Block {
  if (!(buf instanceof GpuBuf)) throw new Error('webgpu backend: buffer does not belong to the webgpu backend');
  const b = buf.block;
  if (b === null) throw new Error('webgpu backend: use of a freed buffer (its reference count reached zero)');
  if (owner.disposed) throw owner.lostError('webgpu');
  return b;
}

function checkSize(size: number): void {
  if (!Number.isInteger(size) || size < 0) throw new Error(`webgpu backend: cannot allocate ${size} elements`);
}

/** The words the GPU holds for `data` as `dtype`. */
function toWords(dtype: DType, data: DataArray): Float32Array | Int32Array | Uint32Array {
  if (dtype === 'float32') return data instanceof Float32Array ? data : Float32Array.from(data);
  if (dtype === 'int32') {
    if (data instanceof Int32Array) return data;
    const out = new Int32Array(data.length);
    for (let i = 0; i < data.length; i++) out[i] = data[i] as number;
    return out;
  }
  const out = new Uint32Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i] !== 0 ? 1 : 0;
  return out;
}

/**
 * Storage on a WebGPU device: buffers from the runtime's block pool, uploads through
 * `writeBuffer` (or a staging copy when the block is still used by recorded work), reads
 * through pooled staging buffers.
 */
export class WebGpuStorage implements Storage {
  private live = 0;
  private liveBytes = 0;

  constructor(private readonly rt: Runtime) {}

  alloc(dtype: DType, size: number): Buf {
    checkSize(size);
    const block = this.rt.takeBlock(Math.max(1, size) * GPU_ELEMENT_BYTES, 'alloc');
    return this.track(new GpuBuf(block, dtype, size));
  }

  upload(dtype: DType, data: DataArray): Buf {
    const words = toWords(dtype, data);
    const block = this.rt.takeBlock(Math.max(1, words.length) * GPU_ELEMENT_BYTES, 'upload');
    this.rt.write(block, 0, words);
    return this.track(new GpuBuf(block, dtype, words.length));
  }

  async read(buf: Buf, dtype: DType, offset: number, size: number): Promise<DataArray> {
    const block = blockOf(buf, this.rt);
    const length = (buf as GpuBuf).length;
    if (!Number.isInteger(offset) || !Number.isInteger(size) || offset < 0 || size < 0 || offset + size > length) {
      throw new Error(`webgpu backend: read of ${size} elements at ${offset} is outside a buffer of ${length}`);
    }
    if (size === 0) return dtype === 'float32' ? new Float32Array(0) : dtype === 'int32' ? new Int32Array(0) : new Uint8Array(0);
    const bytes = await this.rt.read(block, offset * GPU_ELEMENT_BYTES, size * GPU_ELEMENT_BYTES, 'read');
    if (dtype === 'float32') return new Float32Array(bytes);
    if (dtype === 'int32') return new Int32Array(bytes);
    const words = new Uint32Array(bytes);
    const out = new Uint8Array(size);
    for (let i = 0; i < size; i++) out[i] = words[i] !== 0 ? 1 : 0;
    return out;
  }

  retain(buf: Buf): void {
    if (!(buf instanceof GpuBuf)) throw new Error('webgpu backend: buffer does not belong to the webgpu backend');
    if (buf.refs <= 0) throw new Error('webgpu backend: retain of a freed buffer');
    buf.refs++;
  }

  release(buf: Buf): void {
    if (!(buf instanceof GpuBuf)) throw new Error('webgpu backend: buffer does not belong to the webgpu backend');
    if (buf.refs <= 0) throw new Error('webgpu backend: release of a buffer that has no references left (double free)');
    if (--buf.refs > 0) return;
    const block = buf.block!;
    buf.block = null;
    this.live--;
    this.liveBytes -= buf.byteLength;
    this.rt.giveBlock(block);
  }

  stats(): StorageStats {
    return { liveBuffers: this.live, liveBytes: this.liveBytes, pooledBytes: this.rt.pooledBytes };
  }

  private track(b: GpuBuf): GpuBuf {
    this.live++;
    this.liveBytes += b.byteLength;
    return b;
  }
}

/** Throws a BackendError when `bytes` cannot be bound in one shader binding. */
export function tooLarge(op: string, bytes: number, limit: number): never {
  throw new BackendError(op, `webgpu backend: an operand spans ${bytes} bytes, more than the device's maxStorageBufferBindingSize (${limit} bytes); split the tensor`);
}
