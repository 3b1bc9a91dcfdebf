/**
 * `@tessera/backend-js`: the pure-TypeScript default backend of Tessera.
 *
 * @example
 * import { init } from '@tessera/core';
 * import { createJsBackend } from '@tessera/backend-js';
 * await init({ backends: { js: createJsBackend } });
 * @module
 */
export { createJsBackend, jsBackend, jsKernels, jsFusedKernels } from './backend.js';
export { JsStorage, JsBuf } from './storage.js';
export { threefry2x32 } from './random.js';
export { gemm } from './gemm.js';
