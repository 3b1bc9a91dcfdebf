/**
 * What every kernel needs: binding views to shader bindings (the whole block, or the byte
 * range a view spans when the block is larger than maxStorageBufferBindingSize), temporary
 * blocks, and the dispatch helper.
 * @module
 */
import type { DType, View } from '@tessera/core';
import { contiguousStrides, sizeOf, span } from './layout.js';
import type { Access, BindRange, Block, Runtime } from './runtime.js';
import { blockOf, GPU_ELEMENT_BYTES, GpuBuf, tooLarge } from './storage.js';
import { accessOf, type BindingDecl } from './wgsl.js';

/** A view bound to a shader binding: the range, and the view's element offset inside it. */
export interface Bound {
  range: BindRange;
  offset: number;
}

/** Workgroup size of element-wise kernels. */
export const WG = 256;

/** Kernel context over one runtime. */
export class Ctx {
  constructor(readonly rt: Runtime) {}

  /** The block behind a view's buffer. */
  block(v: View): Block {
    return blockOf(v.buf, this.rt);
  }

  /** True when every element the view touches can be bound at once. */
  fits(v: View): boolean {
    const block = this.block(v);
    const limit = this.rt.limits.maxStorageBufferBindingSize;
    if (block.size <= limit) return true;
    const s = span(v);
    if (s === null) return true;
    const align = this.rt.limits.minStorageBufferOffsetAlignment / GPU_ELEMENT_BYTES;
    const start = Math.floor(s[0] / align) * align;
    return (s[1] + 1 - start) * GPU_ELEMENT_BYTES <= limit;
  }

  /** Binds a view (throws a BackendError when its span exceeds the binding limit). */
  bind(v: View, op: string): Bound {
    const block = this.block(v);
    const limit = this.rt.limits.maxStorageBufferBindingSize;
    if (block.size <= limit) return { range: { block, offset: 0, size: block.size }, offset: v.offset };
    const s = span(v) ?? [v.offset, v.offset];
    const align = this.rt.limits.minStorageBufferOffsetAlignment / GPU_ELEMENT_BYTES;
    const start = Math.floor(s[0] / align) * align;
    const bytes = (s[1] + 1 - start) * GPU_ELEMENT_BYTES;
    if (bytes > limit) tooLarge(op, bytes, limit);
    return { range: { block, offset: start * GPU_ELEMENT_BYTES, size: bytes }, offset: v.offset - start };
  }

  /** A whole temporary block of `size` 4-byte elements (give it back with {@link release}). */
  temp(size: number, op: string): Block {
    return this.rt.takeBlock(Math.max(1, size) * GPU_ELEMENT_BYTES, op);
  }

  /** Returns a temporary block to the pool (safe: later work is recorded after its users). */
  release(b: Block): void {
    this.rt.giveBlock(b);
  }

  /** A contiguous view over a temporary block. */
  tempView(b: Block, dtype: DType, shape: readonly number[]): View {
    const buf = new GpuBuf(b, dtype, sizeOf(shape));
    return { buf, dtype, shape, strides: contiguousStrides(shape), offset: 0, size: sizeOf(shape) };
  }

  /**
   * Binding of a temporary's first `elems` elements (default: the whole block, or as much of
   * it as one binding takes); throws the BackendError of {@link tooLarge} when `elems`
   * elements do not fit one binding.
   */
  whole(b: Block, elems?: number, op = 'kernel'): BindRange {
    const limit = this.rt.limits.maxStorageBufferBindingSize;
    if (b.size <= limit) return { block: b, offset: 0, size: b.size };
    const bytes = Math.max(1, elems ?? 0) * GPU_ELEMENT_BYTES;
    if (bytes > limit) tooLarge(op, bytes, limit);
    return { block: b, offset: 0, size: elems === undefined ? limit - (limit % GPU_ELEMENT_BYTES) : bytes };
  }

  /** Compiles (once) and dispatches a kernel. */
  run(key: string, bindings: readonly BindingDecl[], words: number, code: () => string, uniforms: Uint32Array, ranges: readonly BindRange[], groups: number): void {
    const access: Access[] = accessOf(bindings);
    const pipe = this.rt.pipe(key, access, words, code);
    this.rt.dispatch(pipe, uniforms, ranges, groups);
  }
}
