/**
 * `@tessera/backend-webgpu`: Tessera's WebGPU backend. WGSL compute kernels for every
 * required and fused kernel; in a browser it uses `navigator.gpu`, in Node the npm package
 * `webgpu` (Dawn), loaded lazily so browser bundles never include it.
 *
 * Storage: float32 as `f32`, int32 as `i32`, bool as one `u32` word (0/1) per element.
 * Reads are asynchronous only (`caps.syncRead` is false); kernels take strided inputs.
 *
 * @example
 * import { init, tensor, matmul } from '@tessera/core';
 * import { createWebGpuBackend } from '@tessera/backend-webgpu';
 * await init({ backends: { webgpu: () => createWebGpuBackend() }, prefer: ['webgpu'] });
 * const y = matmul(tensor([1, 2, 3, 4], [2, 2]), tensor([1, 0, 0, 1], [2, 2]));
 * console.log(await y.data());
 * @module
 */
export { createWebGpuBackend, webGpuBackendFromDevice, type WebGpuBackend } from './backend.js';
export { acquireDevice, type WebGpuOptions, type Acquired } from './gpu.js';
export { sizeClass } from './runtime.js';
