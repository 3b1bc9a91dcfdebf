/**
 * The wasm heap: one `WebAssembly.Memory` (shared when the worker pool runs), a size-class
 * allocator that reuses freed blocks and grows the memory on demand, and typed views over it.
 * @module
 */

/** Bytes of slack kept past the highest block, so SIMD tail reads never leave the memory. */
const GUARD = 256;
const PAGE = 65536;

/**
 * The size class of a request: 64 bytes minimum, then four classes per power of two (at most
 * 25% rounding), always a multiple of 64 (cache-line aligned, SIMD aligned).
 * @example classOf(1) // 64; classOf(1000) // 1024; classOf(1100) // 1280
 */
export function classOf(bytes: number): number {
  if (bytes <= 64) return 64;
  const e = 2 ** (31 - Math.clz32(bytes - 1));
  const step = Math.max(64, e / 4);
  return Math.ceil(bytes / step) * step;
}

/**
 * Size-class allocator over a wasm memory. Freed blocks go to a free list per class (and count
 * as pooled bytes); a freed block at the top of the heap lowers the top instead.
 * @example
 * const h = new Heap(memory, 1024);
 * const p = h.alloc(400);   // 448-byte block, 64-aligned
 * h.free(p, 400);
 */
export class Heap {
  readonly memory: WebAssembly.Memory;
  readonly maxBytes: number;
  u8!: Uint8Array;
  i32!: Int32Array;
  f32!: Float32Array;
  private top: number;
  private readonly lists = new Map<number, number[]>();
  /** Bytes in the free lists. */
  pooledBytes = 0;

  constructor(memory: WebAssembly.Memory, base: number, maxPages: number) {
    this.memory = memory;
    this.maxBytes = maxPages * PAGE;
    this.top = Math.ceil(base / 64) * 64;
    this.refresh();
  }

  /** Recreates the typed views (after the memory grew). */
  refresh(): void {
    const b = this.memory.buffer;
    this.u8 = new Uint8Array(b);
    this.i32 = new Int32Array(b);
    this.f32 = new Float32Array(b);
  }

  /** Current memory size in bytes. */
  get size(): number {
    return this.u8.byteLength;
  }

  /** Address of a block of at least `bytes` bytes (64-aligned); 0 for 0 bytes. */
  alloc(bytes: number): number {
    if (bytes <= 0) return 0;
    const cls = classOf(bytes);
    const list = this.lists.get(cls);
    if (list !== undefined && list.length > 0) {
      this.pooledBytes -= cls;
      return list.pop()!;
    }
    const p = this.top;
    const end = p + cls + GUARD;
    if (end > this.u8.byteLength) this.grow(end);
    this.top = p + cls;
    return p;
  }

  /** Returns a block of `bytes` (as requested) at `ptr` to its free list. */
  free(ptr: number, bytes: number): void {
    if (bytes <= 0) return;
    const cls = classOf(bytes);
    if (ptr + cls === this.top) {
      this.top = ptr;
      return;
    }
    let list = this.lists.get(cls);
    if (list === undefined) this.lists.set(cls, (list = []));
    list.push(ptr);
    this.pooledBytes += cls;
  }

  /** Drops every pooled block (they stay in the memory, which cannot shrink). */
  trim(): void {
    this.lists.clear();
    this.pooledBytes = 0;
  }

  private grow(end: number): void {
    const cur = this.u8.byteLength;
    if (end > this.maxBytes) {
      throw new Error(`wasm backend: out of memory: a block would end at ${mib(end)} MiB, past the ${mib(this.maxBytes)} MiB the wasm memory can reach (live tensors plus ${mib(this.pooledBytes)} MiB pooled)`);
    }
    // Grow by at least 1/8 of the current size (amortised), never past the maximum.
    const want = Math.min(this.maxBytes, Math.max(end, cur + cur / 8));
    const pages = Math.ceil((want - cur) / PAGE);
    try {
      this.memory.grow(pages);
    } catch (e) {
      throw new Error(`wasm backend: out of memory: could not grow the wasm memory from ${mib(cur)} MiB by ${mib(pages * PAGE)} MiB (${(e as Error).message})`);
    }
    this.refresh();
  }
}

function mib(b: number): string {
  return (b / 1048576).toFixed(1);
}
