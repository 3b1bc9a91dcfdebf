/**
 * Assembles the js backend: storage, required kernels and fused kernels.
 * @module
 */
import type { Backend, FusedKernels, Kernels } from '@tessera/core';
import { JsStorage } from './storage.js';
import { cast, copy, fill, where } from './elementwise.js';
import { unary } from './unary.js';
import { binary, compare } from './binary.js';
import { argReduce, cumulative, reduce } from './reduce.js';
import { matmul, matmulFused } from './matmul.js';
import { gather, scatterAdd } from './gather.js';
import { randomBits } from './random.js';
import { conv2d, conv2dBackpropFilter, conv2dBackpropInput } from './conv.js';
import { pool2d, pool2dBackward } from './pool.js';
import { layerNorm, optimizerStep, softmax, softmaxCrossEntropy } from './fused.js';
import { scaledDotProductAttention } from './attention.js';

/**
 * The required kernels of the js backend (stateless; shared by every instance).
 *
 * @example
 * jsKernels.binary('add', a, b, out);
 */
export const jsKernels: Kernels = {
  fill, copy, cast, unary, binary, compare, where, reduce, argReduce, cumulative, matmul, gather, scatterAdd, randomBits,
};

/**
 * Every fused kernel of the js backend.
 *
 * @example
 * jsFusedKernels.softmax(x, false, out);
 */
export const jsFusedKernels: FusedKernels = {
  matmulFused, conv2d, conv2dBackpropInput, conv2dBackpropFilter, pool2d, pool2dBackward,
  softmax, softmaxCrossEntropy, layerNorm, optimizerStep, scaledDotProductAttention,
};

/**
 * A new js backend, synchronously: its own storage (and pool), the shared kernels. Kernels run
 * when called, so `flush()` resolves at once and `readSync` is available.
 *
 * @example
 * const be = jsBackend();
 * const buf = be.storage.upload('float32', new Float32Array([1, 2]));
 * be.storage.readSync!(buf, 'float32', 0, 2);   // Float32Array [1, 2]
 */
export function jsBackend(): Backend {
  const storage = new JsStorage();
  let disposed = false;
  return {
    name: 'js',
    caps: { stridedInputs: true, syncRead: true },
    storage,
    kernels: jsKernels,
    fused: jsFusedKernels,
    flush: () => (disposed ? Promise.reject(new Error('js backend: the backend was disposed')) : Promise.resolve()),
    dispose: () => {
      disposed = true;
      storage.dispose();
    },
  };
}

/**
 * The factory the core registers: resolves to a new js backend (it runs anywhere JavaScript
 * does, so it never rejects).
 *
 * @example
 * import { init } from '@tessera/core';
 * await init({ backends: { js: createJsBackend } });
 */
export function createJsBackend(): Promise<Backend> {
  return Promise.resolve(jsBackend());
}
