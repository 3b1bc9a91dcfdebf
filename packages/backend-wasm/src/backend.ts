/**
 * `createWasmBackend`: feature detection, module instantiation, memory and thread-pool set-up,
 * warm-up, and the Backend object.
 * @module
 */
import type { Backend, FusedKernels, Kernels } from '@tessera/core';
import { Heap } from './heap.js';
import { makeFused, makeKernels } from './kernels.js';
import { cpuCount, kernelModule, MAX_PAGES, relaxedSimdSupported, threadsUnavailableReason, unsupportedReason } from './module.js';
import { Pool } from './pool.js';
import { PARALLEL_FNS, PARAM_BYTES, paramBlocks, Runtime, type Exports } from './runtime.js';
import { WasmStorage } from './storage.js';
import { warmUp } from './warmup.js';

/** Options of {@link createWasmBackend}. */
export interface WasmBackendOptions {
  /**
   * Threads to compute on, the calling thread included: 1 runs everything on the calling
   * thread; n > 1 starts n − 1 workers over a shared memory. Default: the logical CPU count
   * (at most 8). When shared memory or workers are unavailable the backend falls back to one
   * thread and says why in `threadsNote`.
   */
  threads?: number;
  /** Run the kernels briefly at start-up so the first real call is fast (default true). */
  warmUp?: boolean;
  /**
   * Receives the reason when fewer threads than requested can run. Default: `console.warn`
   * when `threads` > 1 was passed explicitly, silence otherwise.
   */
  onFallback?: (reason: string) => void;
  /** Initial wasm memory in MiB (default 32; it grows on demand up to 2 GiB). */
  initialMemoryMiB?: number;
  /**
   * Estimated work (nanoseconds on one thread) below which an op stays on the calling thread
   * instead of waking the pool (default 40000). 0 splits every op that can be split (tests).
   */
  parallelThreshold?: number;
  /**
   * Use the relaxed-SIMD build, whose GEMM micro-kernel (matmul, conv2d and their backprops)
   * uses fused multiply-add, where the engine supports relaxed SIMD (Chrome 114+, Firefox 120+,
   * Node 22+; Node 20 only with `--experimental-wasm-relaxed-simd`). Default true. Its results
   * may differ in the last bits between machines (FMA rounds once where the CPU has it); false
   * keeps the plain build (multiply, then add), identical everywhere.
   */
  relaxedSimd?: boolean;
}

/** The wasm backend: a Backend plus what it found about threads. */
export interface WasmBackend extends Backend {
  readonly name: 'wasm';
  /** Threads in use (the caller included). */
  readonly threads: number;
  /** Why fewer threads than requested are in use, or null. */
  readonly threadsNote: string | null;
  /** Whether the relaxed-SIMD (fused multiply-add) kernels are in use. */
  readonly relaxedSimd: boolean;
  readonly kernels: Kernels;
  readonly fused: Omit<FusedKernels, 'scaledDotProductAttention'>;
}

/**
 * Creates a wasm backend (explicit and asynchronous: compiles, instantiates, starts the worker
 * pool and warms the kernels). Rejects with an Error that says why when WebAssembly SIMD is
 * unavailable.
 * @example
 * import { init } from '@tessera/core';
 * import { createWasmBackend } from '@tessera/backend-wasm';
 * await init({ backends: { wasm: () => createWasmBackend({ threads: 4 }) }, prefer: ['wasm'] });
 */
export async function createWasmBackend(options: WasmBackendOptions = {}): Promise<WasmBackend> {
  const why = unsupportedReason();
  if (why !== null) throw new Error(`wasm backend: ${why}`);
  const explicit = options.threads !== undefined;
  const requested = explicit ? Math.max(1, Math.floor(options.threads!)) : Math.min(8, await cpuCount());
  if (!Number.isFinite(requested)) throw new Error(`wasm backend: threads must be a positive integer, got ${String(options.threads)}`);
  const notify = options.onFallback ?? (explicit ? (r: string) => console.warn(`tessera wasm backend: ${r}`) : () => undefined);
  let threads = requested;
  let threadsNote: string | null = null;
  if (threads > 1) {
    const reason = threadsUnavailableReason();
    if (reason !== null) {
      threads = 1;
      threadsNote = `running on 1 thread instead of ${requested}: ${reason}`;
    }
  }
  const shared = threads > 1;
  const relaxedSimd = options.relaxedSimd !== false && relaxedSimdSupported();
  const module = await kernelModule(shared ? 'shared' : 'single', relaxedSimd);
  const initialMiB = Math.max(8, options.initialMemoryMiB ?? 32);
  const memory = new WebAssembly.Memory({ initial: Math.ceil(initialMiB * 16 + threads * 40), maximum: MAX_PAGES, shared } as WebAssembly.MemoryDescriptor);
  const abort = (): never => { throw new Error('wasm backend: a kernel aborted'); };
  const instance = await WebAssembly.instantiate(module, { env: { memory, abort } });
  const ex = instance.exports as unknown as Exports;
  const heap = new Heap(memory, ex.HEAP_BASE.value as number, MAX_PAGES);
  const params = heap.alloc(paramBlocks(threads) * PARAM_BYTES);
  const scratchBytes = ex.THREAD_SCRATCH.value as number;
  const scratch: number[] = [];
  for (let t = 0; t < threads; t++) scratch.push(heap.alloc(scratchBytes));
  let pool: Pool | null = null;
  if (shared) {
    try {
      pool = await Pool.create({ module, memory, names: PARALLEL_FNS, threads, warm: 'warm_up', warmArg: scratch[1] });
    } catch (e) {
      threads = 1;
      threadsNote = `running on 1 thread instead of ${requested}: the worker pool failed to start (${(e as Error).message})`;
    }
  }
  if (threadsNote !== null) notify(threadsNote);
  const storage = new WasmStorage(heap);
  const rt = new Runtime(ex, heap, storage, pool, params, scratch);
  if (options.parallelThreshold !== undefined) rt.parallelThreshold = Math.max(0, options.parallelThreshold);
  const kernels = makeKernels(rt);
  const fused = makeFused(rt);
  if (options.warmUp !== false) warmUp(rt, kernels, fused);
  let disposed = false;
  const backend: WasmBackend = {
    name: 'wasm',
    caps: { stridedInputs: true, syncRead: true },
    storage,
    kernels,
    fused,
    threads,
    threadsNote,
    relaxedSimd,
    flush: () => Promise.resolve(),
    dispose() {
      if (disposed) return;
      disposed = true;
      pool?.dispose();
      storage.dispose();
    },
  };
  return backend;
}
