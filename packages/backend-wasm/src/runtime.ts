/**
 * The state every kernel shares: the instance's exports, the heap, per-thread parameter
 * blocks and GEMM scratch, temporary blocks, and the worker pool (if any) with the rule for
 * splitting work across it.
 * @module
 */
import type { DType, View } from '@tessera/core';
import type { Heap } from './heap.js';
import { MAX_CHUNKS, type Pool } from './pool.js';
import { ELEMENT_BYTES, type WasmStorage } from './storage.js';

/** Bytes of one parameter block. */
export const PARAM_BYTES = 4096;
/** Parameter blocks a runtime needs: one per chunk (chunks outnumber threads). */
export function paramBlocks(threads: number): number {
  return Math.max(threads, threads > 1 ? MAX_CHUNKS : 1);
}

type Fn = (...args: number[]) => number;
/** The kernel exports, typed loosely (every argument and result is an i32/f32 number). */
export type Exports = Record<string, Fn> & { HEAP_BASE: WebAssembly.Global; THREAD_SCRATCH: WebAssembly.Global };

/** Export names a worker may be asked to run (index = position). */
export const PARALLEL_FNS = [
  'unary_p', 'binary_p', 'compare_p', 'where_p', 'cast_p', 'copy_nd', 'sgemm_p',
  'reduce_rows_p', 'reduce_mid_p', 'softmax_p', 'sce_p', 'layernorm_p', 'conv2d_p', 'conv2d_bi_p',
  'conv2d_bf_p', 'pool2d_p', 'pool2d_bwd_p', 'opt_p', 'threefry_p', 'gather_p',
] as const;
export type ParallelFn = (typeof PARALLEL_FNS)[number];
const FN_INDEX: Record<string, number> = Object.fromEntries(PARALLEL_FNS.map((n, i) => [n, i]));

/**
 * Shared kernel state.
 */
export class Runtime {
  readonly ex: Exports;
  readonly heap: Heap;
  readonly storage: WasmStorage;
  readonly pool: Pool | null;
  readonly threads: number;
  /** Address of parameter block 0 (block t: + t·PARAM_BYTES; {@link PARAM_BLOCKS} of them). */
  readonly params: number;
  /** Per-thread GEMM scratch addresses. */
  readonly scratch: readonly number[];
  private readonly temps: number[] = [];

  constructor(ex: Exports, heap: Heap, storage: WasmStorage, pool: Pool | null, params: number, scratch: number[]) {
    this.ex = ex;
    this.heap = heap;
    this.storage = storage;
    this.pool = pool;
    this.threads = pool?.threads ?? 1;
    this.params = params;
    this.scratch = scratch;
  }

  /** Byte address of a view's first element (checks that the buffer is ours and live). */
  ptr(v: View): number {
    const b = this.storage.own(v.buf);
    return b.ptr + v.offset * ELEMENT_BYTES[v.dtype];
  }

  /** The current temporary-stack height, for {@link freeTemps}. */
  mark(): number {
    return this.temps.length;
  }

  /** A temporary block, freed by {@link freeTemps} (call it in a `finally`). */
  tmp(bytes: number): number {
    const p = this.heap.alloc(bytes);
    this.temps.push(p, bytes);
    return p;
  }

  /** Frees the temporary blocks allocated since `mark`. */
  freeTemps(mark: number): void {
    const t = this.temps;
    for (let i = t.length - 2; i >= mark; i -= 2) this.heap.free(t[i]!, t[i + 1]!);
    t.length = mark;
  }

  /** Parameter block of thread t, as an int32 index into `heap.i32`. */
  pi(t: number): number {
    return (this.params + t * PARAM_BYTES) >> 2;
  }

  /** Estimated nanoseconds of work below which an op stays on the calling thread. */
  parallelThreshold = 40000;

  /**
   * How many slices to cut an op of `work` estimated nanoseconds into: 1 below the
   * threshold, else one per thread, never more than `maxParts`. `chunked` ops (no per-thread
   * scratch) get four chunks per thread, handed out dynamically by the pool.
   */
  parts(work: number, maxParts: number, chunked = false): number {
    if (this.pool === null || work < this.parallelThreshold) return 1;
    return Math.max(1, Math.min(chunked ? Math.min(4 * this.threads, MAX_CHUNKS) : this.threads, maxParts));
  }

  /**
   * Runs export `fn` over `n` slices: `fill(t, q)` writes slice t's parameters at int32 index
   * q. One slice runs inline; up to one per thread go through the pool statically (slice t on
   * thread t, which may use thread t's scratch); more are chunks any thread may take.
   */
  run(fn: ParallelFn, n: number, fill: (t: number, q: number) => void): void {
    const f = this.ex[fn]!;
    const pool = this.pool;
    if (n <= 1 || pool === null) {
      fill(0, this.pi(0));
      f(this.params);
      return;
    }
    const dynamic = n > pool.threads;
    const count = dynamic ? Math.min(n, MAX_CHUNKS) : pool.threads;
    const ptrs: number[] = [];
    for (let t = 0; t < count; t++) {
      if (t < n) {
        fill(t, this.pi(t));
        ptrs.push(this.params + t * PARAM_BYTES);
      } else {
        ptrs.push(0);
      }
    }
    pool.run(FN_INDEX[fn]!, ptrs, (p) => f(p), dynamic);
  }

  /** Element size shift (0 for bool, 2 otherwise). */
  static shift(dtype: DType): number {
    return dtype === 'bool' ? 0 : 2;
  }
}

/**
 * Splits [0, n) into `parts` ranges whose starts are multiples of `align`.
 * @example split(10, 2, 4) // [0, 8, 10] → [0, 8) and [8, 10)
 */
export function split(n: number, parts: number, align: number): number[] {
  const cuts = [0];
  for (let t = 1; t < parts; t++) {
    const c = Math.min(n, Math.round((n * t) / parts / align) * align);
    cuts.push(Math.max(c, cuts[t - 1]!));
  }
  cuts.push(n);
  return cuts;
}
