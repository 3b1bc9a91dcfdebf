/**
 * `@tessera/backend-wasm`: Tessera's WebAssembly backend — AssemblyScript kernels with SIMD128,
 * tensors resident in wasm memory, and an optional shared-memory worker pool.
 *
 * @example
 * import { init } from '@tessera/core';
 * import { createWasmBackend } from '@tessera/backend-wasm';
 * await init({ backends: { wasm: () => createWasmBackend() }, prefer: ['wasm'] });
 * @module
 */
export { createWasmBackend, type WasmBackend, type WasmBackendOptions } from './backend.js';
export { WasmBuf, WasmStorage } from './storage.js';
export { classOf } from './heap.js';
export { relaxedSimdSupported, threadsUnavailableReason, unsupportedReason } from './module.js';
