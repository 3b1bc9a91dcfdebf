// Entry point of the Tessera wasm kernels: every export of the kernel modules.
export * from './elementwise';
export * from './strided';
export * from './gemm';

/** First byte after the static data; the JS allocator starts above it. */
export const HEAP_BASE: usize = __heap_base;

import { GEMM_SCRATCH, sgemm } from './gemm';
import { unary, binary, compare, cast } from './elementwise';
import { sumF32, maxF32 } from './reduce';

/** Bytes of per-thread scratch: GEMM packing plus a 64 KiB work area. */
export const THREAD_SCRATCH: i32 = GEMM_SCRATCH + 65536;

/**
 * Runs the hot kernels on small problems so the engine's optimising tier compiles them
 * before real work arrives (V8 starts wasm in its baseline compiler and cannot switch a
 * running call over). `s`: THREAD_SCRATCH bytes of this thread's scratch.
 */
export function warm_up(s: usize): void {
  const w = s + <usize>GEMM_SCRATCH;
  const A = w, B = w + 16384, C = w + 32768;
  for (let i = 0; i < 4096 * 3; i++) store<f32>(w + (<usize>i << 2), <f32>((i % 7) - 3) * 0.25);
  for (let i = 0; i < 200; i++) {
    sgemm(32, 32, 32, A, 32, 1, B, 32, 1, C, 32, false, 0, 0, s);
    sgemm(32, 32, 32, A, 1, 32, B, 1, 32, C, 32, i > 100, B, 1, s);
  }
  for (let r = 0; r < 6; r++) {
    for (let op = 0; op < 20; op++) unary(op, 0, 1, 4096, A, 0, 1, C);
    for (let op = 0; op < 9; op++) binary(op, 0, 1, 4096, A, 0, 1, B, 0, 1, C);
    for (let op = 0; op < 6; op++) compare(op, 0, 1, 4096, A, 0, 1, B, 0, 1, C);
    binary(0, 1, 1, 4096, A, 0, 1, B, 0, 1, C);
    cast(0, A, C, 4096);
    sumF32(A, 4096);
    maxF32(A, 4096, true);
  }
}

export * from './reduce';
export * from './indexing';
export * from './random';
export * from './nn';
export * from './conv';
export * from './pool';
export { ACT_LINEAR, ACT_RELU, ACT_SIGMOID, ACT_TANH, ACT_GELU } from './vmath';
