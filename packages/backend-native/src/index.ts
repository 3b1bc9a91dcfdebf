/**
 * `@tessera/backend-native`: Tessera's kernels in Rust, loaded as a Node-API addon.
 *
 * @example
 * import { setBackend } from '@tessera/core';
 * import { createNativeBackend } from '@tessera/backend-native';
 * setBackend(await createNativeBackend({ threads: 2 }));
 * @packageDocumentation
 */
import { loadAddon, type NativeInfo } from './addon.js';
import { NativeBackend, NativeBackendError, type NativeBackendOptions } from './backend.js';

export { DEFAULT_ASYNC_THRESHOLD, NativeBackend, NativeBackendError, NativeBuf, NativeFused, NativeKernels, NativeStorage, type NativeBackendOptions } from './backend.js';
export { addonCandidates, loadAddon, type NativeAddon, type NativeFns, type NativeInfo } from './addon.js';

/** Entries of the scratch array each backend starts with (it grows on demand). */
const SCRATCH = 4096;

/**
 * Creates a native backend. Rejects with an Error that says why it cannot run here (addon
 * not built, not loadable, bad options).
 * @example
 * const backend = await createNativeBackend();          // every core
 * const single = await createNativeBackend({ threads: 1 });
 * const inline = await createNativeBackend({ asyncThreshold: Infinity }); // nothing off the JS thread
 */
export async function createNativeBackend(options: NativeBackendOptions = {}): Promise<NativeBackend> {
  const { threads, asyncThreshold } = options;
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 1)) {
    throw new NativeBackendError(`createNativeBackend: threads must be an integer >= 1, got ${String(threads)}`);
  }
  if (asyncThreshold !== undefined && (typeof asyncThreshold !== 'number' || Number.isNaN(asyncThreshold) || asyncThreshold < 0)) {
    throw new NativeBackendError(`createNativeBackend: asyncThreshold must be a number >= 0 (Infinity to disable), got ${String(asyncThreshold)}`);
  }
  const { path, addon } = loadAddon(options.addonPath);
  const info = JSON.parse(addon.info()) as NativeInfo;
  const scratch = new Float64Array(SCRATCH);
  const fns = addon.create(scratch, threads ?? 0);
  const backend = new NativeBackend(fns, scratch, info, path, threads ?? info.hardwareThreads);
  if (asyncThreshold !== undefined) backend.setAsyncThreshold(asyncThreshold);
  return backend;
}
