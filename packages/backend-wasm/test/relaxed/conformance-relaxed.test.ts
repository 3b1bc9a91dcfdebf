/**
 * The conformance suite on the relaxed-SIMD build (fused multiply-add GEMM micro-kernel, used
 * by matmul, conv2d and their backprops), on one thread and with the pool. Node 20 implements
 * relaxed SIMD only behind a flag: vitest.config.ts runs this file in its own project with
 * `--experimental-wasm-relaxed-simd`, and the factory fails if the backend did not pick the
 * relaxed build, so this cannot pass by silently testing the plain one.
 */
import { describeConformance } from '@tessera/conformance';
import { createWasmBackend, type WasmBackendOptions } from '../../src/index.js';
import { expect } from '../conformance.expect.js';

async function relaxed(options: WasmBackendOptions) {
  const be = await createWasmBackend(options);
  if (!be.relaxedSimd) {
    be.dispose();
    throw new Error('the relaxed-SIMD build was not selected: run this file through the relaxed-simd vitest project (node --experimental-wasm-relaxed-simd)');
  }
  return be;
}

describeConformance('wasm relaxed-simd', () => relaxed({ threads: 1 }), { expect });
describeConformance('wasm relaxed-simd (2 threads)', () => relaxed({ threads: 2, parallelThreshold: 0 }), { expect });
