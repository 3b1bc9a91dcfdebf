/**
 * Finding a WebGPU implementation, an adapter and a device: `navigator.gpu` in a browser,
 * the npm package `webgpu` (Dawn) in Node, loaded lazily so that browser bundles never
 * include it. Every failure is a BackendError that says why and what to do.
 * @module
 */
import { BackendError } from '@tessera/core';

/** Options of {@link createWebGpuBackend}. */
export interface WebGpuOptions {
  /** Use this adapter instead of requesting one. */
  adapter?: GPUAdapter;
  /** Passed to `requestAdapter` when no adapter is given. */
  powerPreference?: GPUPowerPreference;
  /** A `GPU` object to request the adapter from (default: `navigator.gpu`, else Dawn in Node). */
  gpu?: GPU;
  /** Flags for Dawn's `create()` in Node, e.g. `['enable-dawn-features=dump_shaders']`. */
  dawnFlags?: string[];
  /**
   * Lower the limits the backend plans with (never raises them): for tests of the code that
   * splits work over `maxComputeWorkgroupsPerDimension` and `maxStorageBufferBindingSize`.
   */
  limits?: { maxStorageBufferBindingSize?: number; maxComputeWorkgroupsPerDimension?: number; maxBufferSize?: number };
  /** Dispatches recorded before a batch is submitted without waiting for a read (default 256). */
  maxBatch?: number;
}

/** What {@link acquireDevice} found. */
export interface Acquired {
  adapter: GPUAdapter;
  device: GPUDevice;
  /** Where the GPU object came from. */
  source: 'navigator.gpu' | 'webgpu (Dawn)' | 'options';
}

const WHERE = 'createWebGpuBackend';

interface NodeProcess {
  versions?: { node?: string };
  env?: Record<string, string | undefined>;
  platform?: string;
}

function nodeProcess(): NodeProcess | undefined {
  const p = (globalThis as { process?: NodeProcess }).process;
  return p?.versions?.node ? p : undefined;
}

/** Dawn's `GPU` objects, one per process (each `create()` starts a Dawn instance). */
let dawnGpu: Promise<GPU> | null = null;

async function loadDawn(flags: readonly string[]): Promise<GPU> {
  // A computed specifier: bundlers for the browser leave it alone, so Dawn's native addon is
  // never pulled into a browser bundle.
  const specifier = ['web', 'gpu'].join('');
  let mod: { create: (flags: string[]) => GPU; globals: Record<string, unknown> };
  try {
    mod = (await import(/* @vite-ignore */ /* webpackIgnore: true */ specifier)) as typeof mod;
  } catch (e) {
    throw new BackendError(WHERE, `WebGPU is not available in this Node process: the optional dependency 'webgpu' (Dawn for Node) could not be loaded (${(e as Error).message}). Install it with \`npm install webgpu\`.`);
  }
  // Dawn's GPUBufferUsage, GPUMapMode, ... as globals, without replacing a host's own.
  for (const [k, v] of Object.entries(mod.globals)) if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  return mod.create([...flags]);
}

async function vulkanHint(proc: NodeProcess): Promise<string> {
  const icd = proc.env?.VK_ICD_FILENAMES ?? proc.env?.VK_DRIVER_FILES;
  const install = 'On a machine without a GPU install Mesa\'s lavapipe >= 23 (Debian 12: `apt-get install -t bookworm-backports mesa-vulkan-drivers libvulkan1`, or `scripts/install-vulkan.sh` in the Tessera repository) and set VK_ICD_FILENAMES to its ICD file, e.g. VK_ICD_FILENAMES=/usr/share/vulkan/icd.d/lvp_icd.json';
  if (proc.platform !== 'linux') return 'check that a GPU and its driver (Vulkan, Metal or D3D12) are installed.';
  if (!icd) return `Dawn found no Vulkan driver it accepts (VK_ICD_FILENAMES is not set; Debian 12's own lavapipe, Mesa 22, is rejected). ${install}.`;
  let missing: string[] = [];
  try {
    const fs = (await import(/* @vite-ignore */ /* webpackIgnore: true */ ['node', 'fs'].join(':'))) as { existsSync(p: string): boolean };
    missing = icd.split(':').filter((f) => f !== '' && !fs.existsSync(f));
  } catch {
    // no fs: say less
  }
  const why = missing.length > 0 ? `${missing.join(', ')} does not exist` : 'the driver may need libvulkan1, or be too old: Mesa lavapipe 22 is rejected';
  return `Dawn rejected the Vulkan driver(s) in VK_ICD_FILENAMES=${icd} (${why}). ${install}.`;
}

/**
 * Requests an adapter and a device with the limits the kernels want (the adapter's own
 * buffer and workgroup limits, not WebGPU's defaults).
 * @example const { device } = await acquireDevice({ powerPreference: 'high-performance' });
 */
export async function acquireDevice(options: WebGpuOptions = {}): Promise<Acquired> {
  let adapter = options.adapter ?? null;
  let source: Acquired['source'] = 'options';
  const proc = nodeProcess();
  if (adapter === null) {
    let gpu: GPU | undefined = options.gpu;
    if (gpu === undefined) {
      const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
      if (nav?.gpu) {
        gpu = nav.gpu;
        source = 'navigator.gpu';
      } else if (proc) {
        if (proc.platform === 'linux' && proc.env?.XDG_RUNTIME_DIR === undefined) proc.env!.XDG_RUNTIME_DIR = '/tmp';
        dawnGpu ??= loadDawn(options.dawnFlags ?? []);
        try {
          gpu = await dawnGpu;
        } catch (e) {
          dawnGpu = null;
          throw e;
        }
        source = 'webgpu (Dawn)';
      } else {
        throw new BackendError(WHERE, 'WebGPU is not available: navigator.gpu is undefined. Use a browser with WebGPU enabled (Chrome/Edge 113+, Safari 18+, Firefox 141+ on Windows), serve the page over https or localhost, or start Chromium with --enable-unsafe-webgpu.');
      }
    }
    const opts: GPURequestAdapterOptions = {};
    if (options.powerPreference) opts.powerPreference = options.powerPreference;
    try {
      adapter = await gpu.requestAdapter(opts);
    } catch (e) {
      throw new BackendError(WHERE, `requestAdapter failed: ${(e as Error).message}`);
    }
    if (adapter === null) {
      const why = source === 'webgpu (Dawn)' && proc ? await vulkanHint(proc) : 'the browser offers WebGPU but no adapter (GPU blocklisted, or WebGPU disabled: in Chromium try --enable-unsafe-webgpu).';
      throw new BackendError(WHERE, `no WebGPU adapter: ${why}`);
    }
  }
  const a = adapter.limits;
  const want = (name: keyof GPUSupportedLimits, cap: number): number => Math.min(Number(a[name]), cap);
  const requiredLimits: Record<string, number> = {
    maxStorageBufferBindingSize: want('maxStorageBufferBindingSize', 2 ** 31 - 4),
    maxBufferSize: want('maxBufferSize', 2 ** 32 - 4),
    maxStorageBuffersPerShaderStage: want('maxStorageBuffersPerShaderStage', 10),
    maxComputeWorkgroupStorageSize: want('maxComputeWorkgroupStorageSize', 32768),
    maxComputeInvocationsPerWorkgroup: want('maxComputeInvocationsPerWorkgroup', 256),
    maxComputeWorkgroupSizeX: want('maxComputeWorkgroupSizeX', 256),
    maxComputeWorkgroupSizeY: want('maxComputeWorkgroupSizeY', 256),
  };
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ requiredLimits, label: 'tessera' });
  } catch (e) {
    throw new BackendError(WHERE, `requestDevice failed: ${(e as Error).message}`);
  }
  return { adapter, device, source };
}
