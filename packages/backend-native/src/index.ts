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

export { NativeBackend, NativeBackendError, NativeBuf, NativeFused, NativeKernels, NativeStorage, type NativeBackendOptions } from './backend.js';
export { addonCandidates, loadAddon, type NativeAddon, type NativeFns, type NativeInfo } from './addon.js';

/** Entries of the scratch array each backend starts with (it grows on demand). */
const SCRATCH = 4096;

/**
 * Creates a native backend. Rejects with an Error that says why it cannot run here (addon
 * not built, not loadable, bad options).
 * @example
 * const backend = await createNativeBackend();          // every core
 * const single = await createNativeBackend({ threads: 1 });
 */
export async function createNativeBackend(options: NativeBackendOptions = {}): Promise<NativeBackend> {
  const { threads } = options;
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 1)) {
    throw new NativeBackendError(`createNativeBackend: threads must be an integer >= 1, got ${String(threads)}`);
  }
  const { path, addon } = loadAddon(options.addonPath);
  const info = JSON.parse(addon.info()) as NativeInfo;
  const scratch = new Float64Array(SCRATCH);
  const fns = addon.create(scratch, threads ?? 0);
  return new NativeBackend(fns, scratch, info, path, threads ?? info.hardwareThreads);
}
