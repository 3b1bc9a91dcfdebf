/**
 * The Rust addon's surface (written by hand: the addon declares its own Node-API functions,
 * so no bindings are generated) and the loader that finds the `.node` file.
 * @module
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The functions of one backend context. Each takes its arguments from the context's scratch
 * `Float64Array` (see `backend.ts` for the layouts) and returns results there; they throw an
 * `Error` with `code` `ERR_TESSERA_NATIVE` (bad arguments), `ERR_TESSERA_NATIVE_HANDLE`
 * (stale, freed or foreign handle, disposed backend) or `ERR_TESSERA_NATIVE_PANIC`. Kernels return at once:
 * long ones (and those depending on queued ones) run on the context's worker thread.
 */
export interface NativeFns {
  /**
   * `[bytes]` → `scratch[0]` = handle: an integer below 2^53 packing the slot, its
   * generation and the context's tag; every function taking a handle checks all three.
   */
  alloc(): void;
  /** `[handle]`. */
  free(): void;
  /** `[handle, byteOffset]`: copies `src`'s bytes into the buffer. */
  write(src: ArrayBufferView): void;
  /** `[handle, byteOffset]`: fills `dst` from the buffer, first waiting (blocking) for queued work on it. */
  read(dst: ArrayBufferView): void;
  /**
   * `[handle, byteOffset]`: fills `dst` from the buffer. Returns undefined when it did so at
   * once, or a promise that settles after the queued work on the buffer has run and `dst`
   * was filled (rejecting when that work failed).
   */
  readAsync(dst: ArrayBufferView): Promise<void> | undefined;
  /** Undefined when nothing is queued, else a promise for "everything queued so far has run". */
  flush(): Promise<void> | undefined;
  /** → `scratch[0]` = kernels queued on the worker or running there. */
  pending(): void;
  /** `[multiplyAdds]`: matmul/conv kernels at least this large run on the worker (Infinity: none). */
  setAsync(): void;
  /** Test hook: `[mode, view?]` injects a panic (0 here, 1 in a pool task, 2 on the worker) or a worker failure (3). */
  fault(): void;
  /** → `scratch[0..3]` = live buffers, live bytes, pooled bytes. */
  stats(): void;
  /** Returns pooled allocations to the system. */
  trim(): void;
  /** Replaces the scratch array (when it must grow). */
  setScratch(scratch: Float64Array): void;
  /** `[threads]`. */
  setThreads(): void;
  /** Frees every buffer; later calls throw. */
  dispose(): void;
  /** Does nothing (measures the call overhead). */
  noop(): void;
  fill(): void;
  copy(): void;
  cast(): void;
  unary(): void;
  binary(): void;
  compare(): void;
  where(): void;
  reduce(): void;
  argReduce(): void;
  cumulative(): void;
  matmul(): void;
  matmulFused(): void;
  gather(): void;
  scatterAdd(): void;
  randomBits(): void;
  conv2d(): void;
  conv2dBackpropInput(): void;
  conv2dBackpropFilter(): void;
  pool2d(): void;
  pool2dBackward(): void;
  softmax(): void;
  softmaxCrossEntropy(): void;
  layerNorm(): void;
  optimizerStep(): void;
}

/** What the addon's `info()` reports. */
export interface NativeInfo {
  version: string;
  /** The GEMM micro-kernel in use, e.g. `"avx512f 12x32"` or `"avx2+fma 6x16"`. */
  gemm: string;
  avx2: boolean;
  avx512: boolean;
  hardwareThreads: number;
  arch: string;
}

/** The loaded addon module. */
export interface NativeAddon {
  /** A new backend context: its own storage, bound to `scratch`; `threads` 0 = all cores. */
  create(scratch: Float64Array, threads: number): NativeFns;
  /** JSON of {@link NativeInfo}. */
  info(): string;
}

/** Base name of the built addon (package.json `napi.binaryName`). */
export const ADDON_NAME = 'tessera_native';

/** The package root (this file is `src/addon.ts`, or bundled into `dist/index.*`). */
function packageRoot(): string {
  const here = typeof __dirname === 'string' ? __dirname : dirname(fileURLToPath(import.meta.url));
  return resolve(here, '..');
}

/** napi-rs platform suffixes for this machine, most likely first. */
function platformSuffixes(): string[] {
  const { platform, arch } = process;
  if (platform === 'linux') return [`linux-${arch}-gnu`, `linux-${arch}-musl`];
  if (platform === 'win32') return [`win32-${arch}-msvc`, `win32-${arch}-gnu`];
  return [`${platform}-${arch}`];
}

/**
 * Where the addon may be, in the order they are tried: `$TESSERA_NATIVE_ADDON`, then
 * `build/tessera_native.<platform>.node`, then `build/tessera_native.node`.
 * @example addonCandidates() // ['/…/backend-native/build/tessera_native.linux-x64-gnu.node', …]
 */
export function addonCandidates(explicit?: string): string[] {
  const env = typeof process !== 'undefined' ? process.env.TESSERA_NATIVE_ADDON : undefined;
  if (explicit) return [resolve(explicit)];
  if (env) return [resolve(env)];
  const dir = join(packageRoot(), 'build');
  return [...platformSuffixes().map((s) => join(dir, `${ADDON_NAME}.${s}.node`)), join(dir, `${ADDON_NAME}.node`)];
}

let cached: { path: string; addon: NativeAddon } | null = null;

/**
 * Loads the addon (once per path). Throws an Error that names the files it looked for and
 * how to build them, never a bare dlopen error.
 * @example const addon = loadAddon(); JSON.parse(addon.info()).gemm
 */
export function loadAddon(explicit?: string): { path: string; addon: NativeAddon } {
  const candidates = addonCandidates(explicit);
  if (cached !== null && candidates.includes(cached.path)) return cached;
  const path = candidates.find((p) => existsSync(p));
  if (path === undefined) {
    throw new Error(
      `@tessera/backend-native: the native addon is not built; looked for ${candidates.join(', ')}. ` +
        'Build it with `pnpm --filter @tessera/backend-native build` (needs Rust: https://rustup.rs), ' +
        'or point TESSERA_NATIVE_ADDON at a built .node file.',
    );
  }
  const mod = { exports: {} as Record<string, unknown> };
  try {
    process.dlopen(mod, path);
  } catch (e) {
    throw new Error(
      `@tessera/backend-native: ${path} exists but could not be loaded (${e instanceof Error ? e.message : String(e)}). ` +
        'It may have been built for another platform or Node version; rebuild it with `pnpm --filter @tessera/backend-native build`.',
    );
  }
  const addon = mod.exports as unknown as NativeAddon;
  if (typeof addon.create !== 'function' || typeof addon.info !== 'function') {
    throw new Error(`@tessera/backend-native: ${path} is not a Tessera native addon (no create/info exports)`);
  }
  cached = { path, addon };
  return cached;
}
