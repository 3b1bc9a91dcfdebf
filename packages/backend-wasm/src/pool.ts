/**
 * A persistent pool of worker threads over one shared wasm memory. The calling thread takes
 * part in every parallel call (it runs slice 0), so `threads` = workers + 1.
 *
 * Dispatch: a control Int32Array on a SharedArrayBuffer holds
 * `[generation, pending, fn, error, next, chunks, ptr_0 … ptr_{k-1}]`. The caller writes the
 * function index and the parameter-block addresses, sets `pending` to the worker count and
 * bumps `generation`. Workers spin briefly on `generation`, then block in `Atomics.wait`.
 * Static calls (`chunks` = 0) give thread t the block `ptr_t`; chunked calls (`chunks` = k)
 * let every thread, the caller included, take the next block with `Atomics.add(next)` until
 * none is left, so a thread the OS deschedules holds up at most one chunk. Each worker then
 * decrements `pending`, the last one notifying. The caller spins on `pending` after its own
 * share and, where blocking is allowed (Node, workers; never a browser's main thread), falls
 * back to `Atomics.wait`.
 * @module
 */
import { isNode, onBrowserMainThread } from './module.js';

const GEN = 0, PENDING = 1, FN = 2, ERROR = 3, NEXT = 4, CHUNKS = 5, PTRS = 6;
/** Most chunks one dynamic call can have. */
export const MAX_CHUNKS = 32;
/** Iterations a worker spins before blocking (~40 µs: covers the gap between consecutive ops). */
const WORKER_SPIN = 5000;
/** Iterations the caller spins on `pending` before blocking. */
const CALLER_SPIN = 50000;

/** Source of each worker (runs in Node worker_threads via eval, or as a blob Web Worker). */
const WORKER_SOURCE = `
'use strict';
function run(d, post) {
  var inst = new WebAssembly.Instance(d.module, { env: { memory: d.memory, abort: function () { throw new Error('wasm abort'); } } });
  var ex = inst.exports;
  var fns = d.names.map(function (n) { return ex[n]; });
  var ctl = new Int32Array(d.control);
  var tid = d.tid, spin = d.spin, seen = 0;
  if (d.warm) { try { ex[d.warm](d.warmArg); } catch (e) {} }
  post('ready');
  for (;;) {
    var g = Atomics.load(ctl, ${GEN});
    for (var i = 0; g === seen && i < spin; i++) g = Atomics.load(ctl, ${GEN});
    while (g === seen) { Atomics.wait(ctl, ${GEN}, seen); g = Atomics.load(ctl, ${GEN}); }
    seen = g;
    var fn = Atomics.load(ctl, ${FN});
    if (fn < 0) { post('exit'); return; }
    var f = fns[fn], k = Atomics.load(ctl, ${CHUNKS});
    try {
      if (k === 0) {
        var p = Atomics.load(ctl, ${PTRS} + tid);
        if (p !== 0) f(p);
      } else {
        for (var c = Atomics.add(ctl, ${NEXT}, 1); c < k; c = Atomics.add(ctl, ${NEXT}, 1)) f(Atomics.load(ctl, ${PTRS} + c));
      }
    } catch (e) { Atomics.store(ctl, ${ERROR}, 1); }
    if (Atomics.sub(ctl, ${PENDING}, 1) === 1) Atomics.notify(ctl, ${PENDING});
  }
}
if (typeof require === 'function' && typeof self === 'undefined') {
  var wt = require('worker_threads');
  run(wt.workerData, function (m) { wt.parentPort.postMessage(m); });
} else {
  self.onmessage = function (e) { self.onmessage = null; run(e.data, function (m) { self.postMessage(m); }); };
}
`;

interface AnyWorker {
  terminate(): unknown;
}

/** What the pool needs to start its workers. */
export interface PoolOptions {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  /** Export names a dispatch can call, by index. */
  names: readonly string[];
  /** Total threads, the caller included (≥ 2). */
  threads: number;
  /** An export each worker calls once at start (a warm-up), with `warmArg`. */
  warm?: string;
  warmArg?: number;
}

/**
 * The worker pool.
 * @example
 * const pool = await Pool.create({ module, memory, names: ['sgemm_p'], threads: 2 });
 * pool.run(0, [p0, p1], (p) => exports.sgemm_p(p));
 * pool.dispose();
 */
export class Pool {
  readonly threads: number;
  private readonly ctl: Int32Array;
  private readonly workers: AnyWorker[];
  private readonly canBlock: boolean;
  private disposed = false;

  private constructor(threads: number, ctl: Int32Array, workers: AnyWorker[]) {
    this.threads = threads;
    this.ctl = ctl;
    this.workers = workers;
    this.canBlock = !onBrowserMainThread();
  }

  /** Starts `threads − 1` workers and resolves once each has instantiated the module. */
  static async create(o: PoolOptions): Promise<Pool> {
    const n = o.threads - 1;
    const control = new SharedArrayBuffer(4 * (PTRS + Math.max(o.threads, MAX_CHUNKS)));
    const ctl = new Int32Array(control);
    const workers: AnyWorker[] = [];
    const ready: Promise<void>[] = [];
    try {
      if (isNode()) {
        const spec = 'node:worker_threads';
        const wt = (await import(/* @vite-ignore */ spec)) as typeof import('node:worker_threads');
        for (let t = 1; t <= n; t++) {
          const w = new wt.Worker(WORKER_SOURCE, {
            eval: true,
            workerData: { module: o.module, memory: o.memory, control, tid: t, names: o.names, spin: WORKER_SPIN, warm: o.warm, warmArg: o.warmArg },
          });
          workers.push(w);
          ready.push(new Promise<void>((resolve, reject) => {
            w.once('message', () => resolve());
            w.once('error', reject);
            w.once('exit', (code) => reject(new Error(`worker exited with code ${code} during start-up`)));
          }).finally(() => {
            w.removeAllListeners('error');
            w.removeAllListeners('exit');
            w.on('error', () => undefined);
            w.unref();
          }));
        }
      } else {
        const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
        try {
          for (let t = 1; t <= n; t++) {
            const w = new Worker(url);
            workers.push(w);
            ready.push(new Promise<void>((resolve, reject) => {
              w.onmessage = () => { w.onmessage = null; resolve(); };
              w.onerror = (e) => reject(new Error(e.message || 'worker failed to start'));
            }));
            w.postMessage({ module: o.module, memory: o.memory, control, tid: t, names: o.names, spin: WORKER_SPIN, warm: o.warm, warmArg: o.warmArg });
          }
        } finally {
          setTimeout(() => URL.revokeObjectURL(url), 10000);
        }
      }
      await Promise.all(ready);
    } catch (e) {
      for (const w of workers) void w.terminate();
      throw e;
    }
    return new Pool(o.threads, ctl, workers);
  }

  /**
   * Runs export `fn` over parameter blocks and returns when all are done. Static
   * (`ptrs.length` = threads): thread t gets `ptrs[t]` (0: nothing to do), the caller runs
   * `ptrs[0]` through `self`. Chunked (`dynamic`): every thread takes blocks from the list
   * until it is empty.
   */
  run(fn: number, ptrs: readonly number[], self: (ptr: number) => void, dynamic = false): void {
    if (this.disposed) throw new Error('wasm backend: the worker pool was disposed');
    const ctl = this.ctl;
    const nw = this.threads - 1;
    const k = dynamic ? Math.min(ptrs.length, MAX_CHUNKS) : 0;
    Atomics.store(ctl, FN, fn);
    Atomics.store(ctl, CHUNKS, k);
    Atomics.store(ctl, NEXT, 0);
    if (dynamic) for (let c = 0; c < k; c++) Atomics.store(ctl, PTRS + c, ptrs[c]!);
    else for (let t = 1; t <= nw; t++) Atomics.store(ctl, PTRS + t, ptrs[t] ?? 0);
    Atomics.store(ctl, PENDING, nw);
    Atomics.add(ctl, GEN, 1);
    Atomics.notify(ctl, GEN);
    let err: unknown = null;
    try {
      if (!dynamic) {
        if (ptrs[0]) self(ptrs[0]);
      } else {
        for (let c = Atomics.add(ctl, NEXT, 1); c < k; c = Atomics.add(ctl, NEXT, 1)) self(Atomics.load(ctl, PTRS + c));
      }
    } catch (e) {
      err = e;
    }
    let spins = 0;
    for (;;) {
      const left = Atomics.load(ctl, PENDING);
      if (left === 0) break;
      if (++spins > CALLER_SPIN && this.canBlock) Atomics.wait(ctl, PENDING, left, 50);
    }
    if (err !== null) throw err;
    if (Atomics.load(ctl, ERROR) !== 0) {
      Atomics.store(ctl, ERROR, 0);
      throw new Error('wasm backend: a kernel trapped in a worker thread');
    }
  }

  /** Stops the workers (they exit at once). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    Atomics.store(this.ctl, FN, -1);
    Atomics.add(this.ctl, GEN, 1);
    Atomics.notify(this.ctl, GEN);
    for (const w of this.workers) void w.terminate();
  }
}
