/**
 * Start-up warm-up: V8 runs wasm in its baseline tier first and cannot switch a running call
 * to optimised code, so the first big matmul in a fresh process would be 3–4× slow. A few
 * hundred small calls of the hot kernels let the optimising tier compile them first.
 * @module
 */
import type { FusedKernels, Kernels } from '@tessera/core';
import type { Runtime } from './runtime.js';

export function warmUp(rt: Runtime, _kernels: Kernels, _fused: Omit<FusedKernels, 'scaledDotProductAttention'>): void {
  rt.ex['warm_up']!(rt.scratch[0]!);
}
