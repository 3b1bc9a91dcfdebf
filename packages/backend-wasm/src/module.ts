/**
 * Loading the kernels: base64 → bytes → a compiled `WebAssembly.Module` (cached per process),
 * and the feature checks that decide whether (and how) the backend can run here.
 * @module
 */
import { MAX_PAGES, RELAXED_BODIES, SHARED_PATCH, WASM_SINGLE } from '../build/wasm-binaries.js';
import { replaceFunctionBodies } from './wasm-patch.js';

export { MAX_PAGES };

/** The exports of the kernel module that the JS side calls. */
export interface KernelExports {
  readonly HEAP_BASE: WebAssembly.Global;
  readonly GEMM_SCRATCH: WebAssembly.Global;
  readonly [name: string]: WebAssembly.Global | ((...args: number[]) => number | void) | WebAssembly.Memory;
}

function decodeBase64(b64: string): Uint8Array {
  if (typeof atob === 'function') {
    const s = atob(b64);
    const out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  }
  const B = (globalThis as { Buffer?: { from(s: string, e: string): Uint8Array } }).Buffer;
  if (B !== undefined) return new Uint8Array(B.from(b64, 'base64'));
  throw new Error('wasm backend: no base64 decoder (atob) in this environment');
}

/** i32.const 0; i8x16.splat; i8x16.popcnt: validates only where SIMD128 is implemented. */
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11]);

/**
 * Why the backend cannot run here at all (no WebAssembly, no SIMD), or null.
 * @example const why = unsupportedReason(); if (why) console.log(why);
 */
export function unsupportedReason(): string | null {
  if (typeof WebAssembly !== 'object' || typeof WebAssembly.validate !== 'function') {
    return 'WebAssembly is not available in this environment';
  }
  try {
    if (!WebAssembly.validate(SIMD_PROBE)) return 'this WebAssembly engine lacks SIMD128 (fixed-width SIMD), which the wasm backend requires (Chrome 91+, Firefox 89+, Safari 16.4+, Node 16.4+)';
  } catch (e) {
    return `WebAssembly SIMD check failed: ${(e as Error).message}`;
  }
  return null;
}

/** A function returning `f32x4.relaxed_madd` of three zero vectors: validates only where relaxed SIMD is implemented. */
const RELAXED_PROBE = (() => {
  const zero = [0xfd, 0x0c, ...new Array<number>(16).fill(0)];
  const body = [0x00, ...zero, ...zero, ...zero, 0xfd, 0x85, 0x02, 0x0b];
  return new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, body.length + 2, 1, body.length, ...body]);
})();

/**
 * Whether the engine implements relaxed SIMD (Chrome 114+, Firefox 120+, Node 22+; Node 20 only
 * with `--experimental-wasm-relaxed-simd`), which lets the GEMM micro-kernel use FMA.
 * @example if (relaxedSimdSupported()) console.log('fused multiply-add GEMM available');
 */
export function relaxedSimdSupported(): boolean {
  try {
    return typeof WebAssembly === 'object' && WebAssembly.validate(RELAXED_PROBE);
  } catch {
    return false;
  }
}

/**
 * The module bytes: the single build, optionally with the relaxed-SIMD function bodies swapped
 * in, and for `shared` with its memory import patched to a shared one.
 */
export function moduleBytes(kind: 'single' | 'shared', relaxed = false): Uint8Array {
  let bytes = decodeBase64(WASM_SINGLE);
  if (relaxed) bytes = replaceFunctionBodies(bytes, new Map(RELAXED_BODIES.map(([i, b64]) => [i, decodeBase64(b64)])));
  if (kind === 'single') return bytes;
  // The memory import precedes the code section, so the shared patch's offset holds for both.
  const { at, remove, insert } = SHARED_PATCH;
  const out = new Uint8Array(bytes.length - remove + insert.length);
  out.set(bytes.subarray(0, at), 0);
  out.set(insert, at);
  out.set(bytes.subarray(at + remove), at + insert.length);
  return out;
}

const compiled = new Map<string, Promise<WebAssembly.Module>>();

/**
 * The compiled kernel module (compiled once per process, kind and SIMD flavour).
 * @example const mod = await kernelModule('single');
 */
export function kernelModule(kind: 'single' | 'shared', relaxed = false): Promise<WebAssembly.Module> {
  const key = `${kind}${relaxed ? '+relaxed' : ''}`;
  let p = compiled.get(key);
  if (p === undefined) {
    p = WebAssembly.compile(moduleBytes(kind, relaxed) as BufferSource);
    p.catch(() => { compiled.delete(key); });
    compiled.set(key, p);
  }
  return p;
}

/** True in a browser window's main thread (where `Atomics.wait` is not allowed). */
export function onBrowserMainThread(): boolean {
  const g = globalThis as { window?: unknown; document?: unknown };
  return typeof g.window === 'object' && typeof g.document === 'object';
}

/** True when running under Node.js (worker_threads available). */
export function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === 'string' && !onBrowserMainThread();
}

/** Logical CPU count, or 1 when unknown. */
export async function cpuCount(): Promise<number> {
  if (isNode()) {
    try {
      const spec = 'node:os';
      const os = (await import(/* @vite-ignore */ spec)) as { availableParallelism?: () => number; cpus(): unknown[] };
      return os.availableParallelism?.() ?? os.cpus().length;
    } catch {
      return 1;
    }
  }
  const n = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
  return typeof n === 'number' && n > 0 ? n : 1;
}

/**
 * Why a shared-memory worker pool cannot run here, or null when it can.
 * @example threadsUnavailableReason() // 'the page is not cross-origin isolated ...'
 */
export function threadsUnavailableReason(): string | null {
  const g = globalThis as { SharedArrayBuffer?: unknown; crossOriginIsolated?: boolean; Worker?: unknown };
  const coi = 'serve the page with the headers Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp (or credentialless) so that it is cross-origin isolated';
  if (!isNode()) {
    if (g.crossOriginIsolated !== true) return `the page is not cross-origin isolated, so shared memory is unavailable; ${coi}`;
    if (typeof g.Worker !== 'function') return 'Web Workers are not available here';
  }
  if (typeof g.SharedArrayBuffer !== 'function') return `SharedArrayBuffer is not available${isNode() ? '' : `; ${coi}`}`;
  if (typeof Atomics !== 'object' || typeof Atomics.wait !== 'function') return 'Atomics.wait is not available';
  try {
    new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true } as WebAssembly.MemoryDescriptor);
  } catch (e) {
    return `shared WebAssembly memory is not supported (${(e as Error).message})`;
  }
  return null;
}
