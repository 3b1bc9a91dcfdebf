/**
 * Single-precision GEMM on host arrays, float64 accumulation: `C (+)= A · B` with A and B
 * given by arbitrary element strides. Large products use a Goto-style blocked algorithm:
 * panels of B (KC × NC) and A (MC × KC) are packed into float64 scratch reused across calls,
 * and a 4×4 register-tiled micro-kernel keeps its 16 accumulators in locals. Small and
 * vector-shaped products take direct loops.
 * @module
 */

type Arr = Float32Array | Float64Array;

/** Signature of {@link gemm}. */
export type Gemm = (
  M: number, N: number, K: number,
  A: Arr, ao: number, ars: number, acs: number,
  B: Arr, bo: number, brs: number, bcs: number,
  C: Float32Array, co: number, ldc: number,
  accumulate: boolean,
) => void;

/**
 * Builds the GEMM with its packing scratch held in closure constants (V8 compiles the
 * micro-kernel noticeably faster when the packed panels are constants of its context than
 * when they are module-level bindings, which bundlers turn into `var`s).
 */
function createGemm(): Gemm {
  const MR = 4;
  const NR = 4;
  const KC = 256;
  const MC = 64;
  const NC = 1024;
  /** Below this many multiply-adds the packing is not worth it. */
  const SMALL = 4096;

  const packedA = new Float64Array(MC * KC);
  const packedB = new Float64Array(KC * NC);
  const edge = new Float64Array(MR * NR);
  let vecAcc = new Float64Array(256);

  function gemm(
    M: number, N: number, K: number,
    A: Arr, ao: number, ars: number, acs: number,
    B: Arr, bo: number, brs: number, bcs: number,
    C: Float32Array, co: number, ldc: number,
    accumulate: boolean,
  ): void {
    if (M === 0 || N === 0) return;
    if (K === 0) {
      if (!accumulate) for (let i = 0; i < M; i++) C.fill(0, co + i * ldc, co + i * ldc + N);
      return;
    }
    if (N === 1) return gemv(M, K, A, ao, ars, acs, B, bo, brs, C, co, ldc, accumulate);
    if (M === 1) return gevm(N, K, A, ao, acs, B, bo, brs, bcs, C, co, accumulate);
    if (M * N * K <= SMALL) return direct(M, N, K, A, ao, ars, acs, B, bo, brs, bcs, C, co, ldc, accumulate);
    for (let jc = 0; jc < N; jc += NC) {
      const nc = Math.min(NC, N - jc);
      for (let pc = 0; pc < K; pc += KC) {
        const kc = Math.min(KC, K - pc);
        packB(B, bo + pc * brs + jc * bcs, brs, bcs, kc, nc);
        const acc = accumulate || pc > 0;
        for (let ic = 0; ic < M; ic += MC) {
          const mc = Math.min(MC, M - ic);
          packA(A, ao + ic * ars + pc * acs, ars, acs, mc, kc);
          for (let jr = 0; jr < nc; jr += NR) {
            const nr = Math.min(NR, nc - jr);
            for (let ir = 0; ir < mc; ir += MR) {
              const mr = Math.min(MR, mc - ir);
              micro(kc, ir * kc, jr * kc, C, co + (ic + ir) * ldc + jc + jr, ldc, mr, nr, acc);
            }
          }
        }
      }
    }
  }

  /** Packs an mc × kc block of A into MR-row panels, k-major, zero-padding the last panel. */
  function packA(A: Arr, base: number, rs: number, cs: number, mc: number, kc: number): void {
    const dst = packedA;
    let d = 0;
    for (let ir = 0; ir < mc; ir += MR) {
      const mr = Math.min(MR, mc - ir);
      const b = base + ir * rs;
      if (mr === MR) {
        let q0 = b, q1 = b + rs, q2 = b + 2 * rs, q3 = b + 3 * rs;
        for (let p = 0; p < kc; p++, d += 4, q0 += cs, q1 += cs, q2 += cs, q3 += cs) {
          dst[d] = A[q0]; dst[d + 1] = A[q1]; dst[d + 2] = A[q2]; dst[d + 3] = A[q3];
        }
      } else {
        for (let p = 0; p < kc; p++, d += MR) {
          for (let i = 0; i < MR; i++) dst[d + i] = i < mr ? A[b + i * rs + p * cs] : 0;
        }
      }
    }
  }

  /** Packs a kc × nc block of B into NR-column panels, k-major, zero-padding the last panel. */
  function packB(B: Arr, base: number, rs: number, cs: number, kc: number, nc: number): void {
    const dst = packedB;
    let d = 0;
    for (let jr = 0; jr < nc; jr += NR) {
      const nr = Math.min(NR, nc - jr);
      const b = base + jr * cs;
      if (nr === NR) {
        if (cs === 1) {
          for (let p = 0, q = b; p < kc; p++, d += 4, q += rs) {
            dst[d] = B[q]; dst[d + 1] = B[q + 1]; dst[d + 2] = B[q + 2]; dst[d + 3] = B[q + 3];
          }
        } else {
          const c2 = 2 * cs, c3 = 3 * cs;
          for (let p = 0, q = b; p < kc; p++, d += 4, q += rs) {
            dst[d] = B[q]; dst[d + 1] = B[q + cs]; dst[d + 2] = B[q + c2]; dst[d + 3] = B[q + c3];
          }
        }
      } else {
        for (let p = 0; p < kc; p++, d += NR) {
          for (let j = 0; j < NR; j++) dst[d + j] = j < nr ? B[b + p * rs + j * cs] : 0;
        }
      }
    }
  }

  /** The 4×4 micro-kernel over packed panels; partial tiles go through a small scratch tile. */
  function micro(kc: number, ai: number, bi: number, C: Float32Array, ci: number, ldc: number, mr: number, nr: number, acc: boolean): void {
    const Ap = packedA, Bp = packedB;
    let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
    let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
    for (let p = 0; p < kc; p++, ai += 4, bi += 4) {
      const b0 = Bp[bi], b1 = Bp[bi + 1], b2 = Bp[bi + 2], b3 = Bp[bi + 3];
      let a = Ap[ai];
      c00 += a * b0; c01 += a * b1; c02 += a * b2; c03 += a * b3;
      a = Ap[ai + 1];
      c10 += a * b0; c11 += a * b1; c12 += a * b2; c13 += a * b3;
      a = Ap[ai + 2];
      c20 += a * b0; c21 += a * b1; c22 += a * b2; c23 += a * b3;
      a = Ap[ai + 3];
      c30 += a * b0; c31 += a * b1; c32 += a * b2; c33 += a * b3;
    }
    if (mr === MR && nr === NR) {
      if (acc) {
        C[ci] += c00; C[ci + 1] += c01; C[ci + 2] += c02; C[ci + 3] += c03; ci += ldc;
        C[ci] += c10; C[ci + 1] += c11; C[ci + 2] += c12; C[ci + 3] += c13; ci += ldc;
        C[ci] += c20; C[ci + 1] += c21; C[ci + 2] += c22; C[ci + 3] += c23; ci += ldc;
        C[ci] += c30; C[ci + 1] += c31; C[ci + 2] += c32; C[ci + 3] += c33;
      } else {
        C[ci] = c00; C[ci + 1] = c01; C[ci + 2] = c02; C[ci + 3] = c03; ci += ldc;
        C[ci] = c10; C[ci + 1] = c11; C[ci + 2] = c12; C[ci + 3] = c13; ci += ldc;
        C[ci] = c20; C[ci + 1] = c21; C[ci + 2] = c22; C[ci + 3] = c23; ci += ldc;
        C[ci] = c30; C[ci + 1] = c31; C[ci + 2] = c32; C[ci + 3] = c33;
      }
      return;
    }
    const t = edge;
    t[0] = c00; t[1] = c01; t[2] = c02; t[3] = c03;
    t[4] = c10; t[5] = c11; t[6] = c12; t[7] = c13;
    t[8] = c20; t[9] = c21; t[10] = c22; t[11] = c23;
    t[12] = c30; t[13] = c31; t[14] = c32; t[15] = c33;
    for (let i = 0; i < mr; i++, ci += ldc) {
      for (let j = 0; j < nr; j++) {
        if (acc) C[ci + j] += t[i * NR + j];
        else C[ci + j] = t[i * NR + j];
      }
    }
  }

  /** Direct triple loop for small products. */
  function direct(
    M: number, N: number, K: number, A: Arr, ao: number, ars: number, acs: number,
    B: Arr, bo: number, brs: number, bcs: number, C: Float32Array, co: number, ldc: number, accumulate: boolean,
  ): void {
    for (let i = 0; i < M; i++) {
      const ar = ao + i * ars;
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let p = 0, pa = ar, pb = bo + j * bcs; p < K; p++, pa += acs, pb += brs) s += A[pa] * B[pb];
        const c = co + i * ldc + j;
        C[c] = accumulate ? C[c] + s : s;
      }
    }
  }

  /** Matrix × vector (N = 1): dot products along rows, or row-wise AXPY when A is column-major. */
  function gemv(
    M: number, K: number, A: Arr, ao: number, ars: number, acs: number,
    B: Arr, bo: number, brs: number, C: Float32Array, co: number, ldc: number, accumulate: boolean,
  ): void {
    if (Math.abs(acs) <= Math.abs(ars)) {
      for (let i = 0; i < M; i++) {
        let s = 0;
        for (let p = 0, pa = ao + i * ars, pb = bo; p < K; p++, pa += acs, pb += brs) s += A[pa] * B[pb];
        const c = co + i * ldc;
        C[c] = accumulate ? C[c] + s : s;
      }
      return;
    }
    const acc = accBuffer(M);
    for (let p = 0; p < K; p++) {
      const b = B[bo + p * brs];
      for (let i = 0, pa = ao + p * acs; i < M; i++, pa += ars) acc[i] += A[pa] * b;
    }
    for (let i = 0; i < M; i++) {
      const c = co + i * ldc;
      C[c] = accumulate ? C[c] + acc[i] : acc[i];
    }
  }

  /** Vector × matrix (M = 1): AXPY over rows of B, or dot products when B is column-major. */
  function gevm(
    N: number, K: number, A: Arr, ao: number, acs: number,
    B: Arr, bo: number, brs: number, bcs: number, C: Float32Array, co: number, accumulate: boolean,
  ): void {
    if (Math.abs(brs) <= Math.abs(bcs)) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let p = 0, pa = ao, pb = bo + j * bcs; p < K; p++, pa += acs, pb += brs) s += A[pa] * B[pb];
        C[co + j] = accumulate ? C[co + j] + s : s;
      }
      return;
    }
    const acc = accBuffer(N);
    for (let p = 0; p < K; p++) {
      const a = A[ao + p * acs];
      for (let j = 0, pb = bo + p * brs; j < N; j++, pb += bcs) acc[j] += a * B[pb];
    }
    for (let j = 0; j < N; j++) C[co + j] = accumulate ? C[co + j] + acc[j] : acc[j];
  }

  function accBuffer(n: number): Float64Array {
    if (vecAcc.length < n) vecAcc = new Float64Array(Math.max(n, vecAcc.length * 2));
    vecAcc.fill(0, 0, n);
    return vecAcc;
  }
  return gemm;
}

/**
 * `C[i, j] (+)= Σ_p A[i, p] · B[p, j]` for `i < M, j < N, p < K`, where
 * `A[i, p] = A[ao + i·ars + p·acs]`, `B[p, j] = B[bo + p·brs + j·bcs]` and
 * `C[i, j] = C[co + i·ldc + j]`. With `accumulate` false, C is overwritten.
 *
 * @example
 * // 2×3 · 3×2, all row-major
 * gemm(2, 2, 3, a, 0, 3, 1, b, 0, 2, 1, c, 0, 2, false);
 */
export const gemm: Gemm = createGemm();
