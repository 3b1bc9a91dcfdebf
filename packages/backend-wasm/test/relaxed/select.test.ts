/**
 * Choosing the build: where relaxed SIMD is available (this project runs with
 * `--experimental-wasm-relaxed-simd`) the backend picks the fused multiply-add build unless
 * `relaxedSimd: false`, and the two really compute differently (one rounding per step instead
 * of two) while both stay within float32 accuracy of a float64 reference.
 */
import { describe, expect, it } from 'vitest';
import { createWasmBackend, relaxedSimdSupported, type WasmBackend } from '../../src/index.js';

const n = 64;

function matmul(be: WasmBackend, a: Float32Array, b: Float32Array): Float32Array {
  const view = (buf: unknown) => ({ buf, dtype: 'float32', shape: [n, n], strides: [n, 1], offset: 0, size: n * n }) as never;
  const A = be.storage.upload('float32', a), B = be.storage.upload('float32', b), C = be.storage.alloc('float32', n * n);
  be.kernels.matmul(view(A), view(B), view(C));
  const out = be.storage.readSync!(C, 'float32', 0, n * n) as Float32Array;
  for (const x of [A, B, C]) be.storage.release(x);
  expect(be.storage.stats().liveBytes).toBe(0);
  return out;
}

describe('relaxed-SIMD build selection', () => {
  it('uses FMA by default where supported, the plain build with relaxedSimd: false', async () => {
    expect(relaxedSimdSupported()).toBe(true);
    let s = 12345;
    const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
    const a = Float32Array.from({ length: n * n }, rnd), b = Float32Array.from({ length: n * n }, rnd);
    const fused = await createWasmBackend({ threads: 1 });
    const plain = await createWasmBackend({ threads: 1, relaxedSimd: false });
    expect(fused.relaxedSimd).toBe(true);
    expect(plain.relaxedSimd).toBe(false);
    const cf = matmul(fused, a, b), cp = matmul(plain, a, b);
    fused.dispose();
    plain.dispose();
    let differ = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let ref = 0, mag = 0;
        for (let k = 0; k < n; k++) { ref += a[i * n + k]! * b[k * n + j]!; mag += Math.abs(a[i * n + k]! * b[k * n + j]!); }
        expect(Math.abs(cf[i * n + j]! - ref)).toBeLessThanOrEqual(1e-6 * mag);
        expect(Math.abs(cp[i * n + j]! - ref)).toBeLessThanOrEqual(1e-6 * mag);
        if (cf[i * n + j] !== cp[i * n + j]) differ++;
      }
    }
    // Every x86-64 CPU since 2013 and every arm64 one has FMA, which V8 uses for relaxed_madd.
    expect(differ).toBeGreaterThan(0);
  });
});
