/**
 * NHWC 2-D convolution and its two gradients, all through the packed GEMM: the image is
 * unrolled (im2col) a chunk of output positions at a time into a reused scratch, so the
 * filter `[kh, kw, cin, cout]` is the GEMM's B operand as it lies in memory. 1×1 stride-1
 * unpadded convolutions skip the unrolling.
 * @module
 */
import type { View, WindowParams } from '@tessera/core';
import { f32, hostView } from './storage.js';
import { isContiguous } from './strided.js';
import { copy, materialize } from './elementwise.js';
import { gemm } from './gemm.js';

/** Elements of im2col scratch per chunk (4 MiB of float32). */
const CHUNK = 1 << 20;
let colScratch = new Float32Array(0);

/** Geometry of one convolution: image, filter, output and window parameters. */
interface Geometry {
  n: number; h: number; w: number; c: number;
  kh: number; kw: number; cout: number;
  oh: number; ow: number;
  sh: number; sw: number; dh: number; dw: number; pt: number; pl: number;
}

function geometry(xShape: readonly number[], fShape: readonly number[], yShape: readonly number[], p: WindowParams): Geometry {
  return {
    n: xShape[0], h: xShape[1], w: xShape[2], c: xShape[3],
    kh: fShape[0], kw: fShape[1], cout: fShape[3],
    oh: yShape[1], ow: yShape[2],
    sh: p.strides[0], sw: p.strides[1], dh: p.dilations[0], dw: p.dilations[1], pt: p.pads[0], pl: p.pads[2],
  };
}

function isPointwise(g: Geometry): boolean {
  return g.kh === 1 && g.kw === 1 && g.sh === 1 && g.sw === 1 && g.pt === 0 && g.pl === 0 && g.oh === g.h && g.ow === g.w;
}

function scratch(size: number): Float32Array {
  if (colScratch.length < size) colScratch = new Float32Array(size);
  return colScratch;
}

/** Output rows (positions) per chunk so that a chunk's unrolled patches fit the scratch. */
function chunkRows(K: number, total: number): number {
  return Math.max(1, Math.min(total, Math.floor(CHUNK / Math.max(1, K))));
}

/**
 * Unrolls output positions `[r0, r0 + nr)` into `col` (`nr × kh·kw·c`, row-major); padded
 * taps are zeros.
 */
function im2col(X: Float32Array, g: Geometry, r0: number, nr: number, col: Float32Array): void {
  const { h, w, c, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow } = g;
  const plane = oh * ow;
  let d = 0;
  for (let r = r0; r < r0 + nr; r++) {
    const b = Math.floor(r / plane), rem = r - b * plane;
    const oy = Math.floor(rem / ow), ox = rem - oy * ow;
    const iy0 = oy * sh - pt, ix0 = ox * sw - pl;
    for (let ky = 0; ky < kh; ky++) {
      const iy = iy0 + ky * dh;
      if (iy < 0 || iy >= h) {
        col.fill(0, d, d + kw * c);
        d += kw * c;
        continue;
      }
      const rowBase = (b * h + iy) * w;
      for (let kx = 0; kx < kw; kx++, d += c) {
        const ix = ix0 + kx * dw;
        if (ix < 0 || ix >= w) {
          col.fill(0, d, d + c);
          continue;
        }
        const src = (rowBase + ix) * c;
        for (let ci = 0; ci < c; ci++) col[d + ci] = X[src + ci];
      }
    }
  }
}

/** The adjoint of {@link im2col}: adds the patches of positions `[r0, r0 + nr)` back into `dx`. */
function col2im(col: Float32Array, g: Geometry, r0: number, nr: number, DX: Float32Array): void {
  const { h, w, c, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow } = g;
  const plane = oh * ow;
  let d = 0;
  for (let r = r0; r < r0 + nr; r++) {
    const b = Math.floor(r / plane), rem = r - b * plane;
    const oy = Math.floor(rem / ow), ox = rem - oy * ow;
    const iy0 = oy * sh - pt, ix0 = ox * sw - pl;
    for (let ky = 0; ky < kh; ky++) {
      const iy = iy0 + ky * dh;
      if (iy < 0 || iy >= h) {
        d += kw * c;
        continue;
      }
      const rowBase = (b * h + iy) * w;
      for (let kx = 0; kx < kw; kx++, d += c) {
        const ix = ix0 + kx * dw;
        if (ix < 0 || ix >= w) continue;
        const dst = (rowBase + ix) * c;
        for (let ci = 0; ci < c; ci++) DX[dst + ci] += col[d + ci];
      }
    }
  }
}

/**
 * Runs `body` on a contiguous float32 out, through a temporary when out is strided.
 *
 * @example
 * intoContiguous(out, (O, o) => O.fill(1, o, o + out.size));
 */
export function intoContiguous(out: View, body: (O: Float32Array, o: number) => void): void {
  if (isContiguous(out)) {
    body(f32(out), out.offset);
    return;
  }
  const tmp = new Float32Array(out.size);
  body(tmp, 0);
  copy(hostView(tmp, 'float32', out.shape), out);
}

/**
 * NHWC convolution: x `[n, h, w, cin]`, filter `[kh, kw, cin, cout]`, out `[n, oh, ow, cout]`
 * with `oh = floor((h + top + bottom - dilation·(kh-1) - 1) / stride) + 1`.
 *
 * @example
 * conv2d(x, filter, { window: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1] }, out);
 */
export function conv2d(x: View, filter: View, p: WindowParams, out: View): void {
  if (out.size === 0) return;
  const g = geometry(x.shape, filter.shape, out.shape, p);
  const X = materialize(x) as Float32Array, F = materialize(filter) as Float32Array;
  const K = g.kh * g.kw * g.c, rows = g.n * g.oh * g.ow, cout = g.cout;
  intoContiguous(out, (O, o) => {
    if (isPointwise(g)) {
      gemm(rows, cout, K, X, 0, K, 1, F, 0, cout, 1, O, o, cout, false);
      return;
    }
    const step = chunkRows(K, rows);
    const col = scratch(step * K);
    for (let r0 = 0; r0 < rows; r0 += step) {
      const nr = Math.min(step, rows - r0);
      im2col(X, g, r0, nr, col);
      gemm(nr, cout, K, col, 0, K, 1, F, 0, cout, 1, O, o + r0 * cout, cout, false);
    }
  });
}

/**
 * Gradient of {@link conv2d} with respect to x: `out` is shaped like x; `dy` is
 * `[n, oh, ow, cout]`. Computed as `dy · filterᵀ` per chunk, then scattered back (col2im).
 *
 * @example
 * conv2dBackpropInput(dy, filter, params, dx);
 */
export function conv2dBackpropInput(dy: View, filter: View, p: WindowParams, out: View): void {
  if (out.size === 0) return;
  const g = geometry(out.shape, filter.shape, dy.shape, p);
  const DY = materialize(dy) as Float32Array, F = materialize(filter) as Float32Array;
  const K = g.kh * g.kw * g.c, rows = g.n * g.oh * g.ow, cout = g.cout;
  intoContiguous(out, (O, o) => {
    if (isPointwise(g)) {
      gemm(rows, K, cout, DY, 0, cout, 1, F, 0, 1, cout, O, o, K, false);
      return;
    }
    const DX = O.subarray(o, o + out.size);
    DX.fill(0);
    if (rows === 0) return;
    const step = chunkRows(K, rows);
    const col = scratch(step * K);
    for (let r0 = 0; r0 < rows; r0 += step) {
      const nr = Math.min(step, rows - r0);
      gemm(nr, K, cout, DY, r0 * cout, cout, 1, F, 0, 1, cout, col, 0, K, false);
      col2im(col, g, r0, nr, DX);
    }
  });
}

/**
 * Gradient of {@link conv2d} with respect to the filter: `out` is `[kh, kw, cin, cout]`,
 * `Σ_chunks im2col(x)ᵀ · dy`.
 *
 * @example
 * conv2dBackpropFilter(x, dy, params, dw);
 */
export function conv2dBackpropFilter(x: View, dy: View, p: WindowParams, out: View): void {
  if (out.size === 0) return;
  const g = geometry(x.shape, out.shape, dy.shape, p);
  const X = materialize(x) as Float32Array, DY = materialize(dy) as Float32Array;
  const K = g.kh * g.kw * g.c, rows = g.n * g.oh * g.ow, cout = g.cout;
  intoContiguous(out, (O, o) => {
    if (rows === 0) {
      O.fill(0, o, o + out.size);
      return;
    }
    if (isPointwise(g)) {
      gemm(K, cout, rows, X, 0, 1, K, DY, 0, cout, 1, O, o, cout, false);
      return;
    }
    const step = chunkRows(K, rows);
    const col = scratch(step * K);
    for (let r0 = 0; r0 < rows; r0 += step) {
      const nr = Math.min(step, rows - r0);
      im2col(X, g, r0, nr, col);
      gemm(K, cout, nr, col, 0, 1, K, DY, r0 * cout, cout, 1, O, o, cout, r0 > 0);
    }
  });
}
