// NHWC convolution and its two gradients through the packed GEMM: output positions are
// unrolled (im2col) a chunk at a time into per-thread scratch, so the filter
// [kh, kw, cin, cout] is the GEMM's B operand as it lies in memory.
import { sgemm } from './gemm';

@inline function arg(p: usize, i: i32): i32 { return load<i32>(p + (<usize>i << 2)); }

// Geometry block: the first 15 slots of every conv parameter block.
const N = 0, H = 1, W = 2, C = 3, KH = 4, KW = 5, COUT = 6, OH = 7, OW = 8, SH = 9, SW = 10, DH = 11, DW = 12, PT = 13, PL = 14;

/** Unrolls output positions [r0, r0 + nr) into col (nr × kh·kw·c); padded taps are zeros. */
function im2col(g: usize, x: usize, r0: i32, nr: i32, col: usize): void {
  const h = arg(g, H), w = arg(g, W), c = arg(g, C), kh = arg(g, KH), kw = arg(g, KW);
  const sh = arg(g, SH), sw = arg(g, SW), dh = arg(g, DH), dw = arg(g, DW), pt = arg(g, PT), pl = arg(g, PL);
  const oh = arg(g, OH), ow = arg(g, OW);
  const plane = oh * ow;
  const cb = <usize>c << 2;
  let d = col;
  for (let r = r0; r < r0 + nr; r++) {
    const b = r / plane, rem = r - b * plane;
    const oy = rem / ow, ox = rem - oy * ow;
    const iy0 = oy * sh - pt, ix0 = ox * sw - pl;
    for (let ky = 0; ky < kh; ky++) {
      const iy = iy0 + ky * dh;
      if (iy < 0 || iy >= h) {
        memory.fill(d, 0, <usize>kw * cb);
        d += <usize>kw * cb;
        continue;
      }
      const rowBase = (b * h + iy) * w;
      for (let kx = 0; kx < kw; kx++) {
        const ix = ix0 + kx * dw;
        if (ix < 0 || ix >= w) memory.fill(d, 0, cb);
        else memory.copy(d, x + <usize>(rowBase + ix) * cb, cb);
        d += cb;
      }
    }
  }
}

/** Adds the patches of positions [r0, r0 + nr) in col back into dx. */
function col2im(g: usize, col: usize, r0: i32, nr: i32, dx: usize): void {
  const h = arg(g, H), w = arg(g, W), c = arg(g, C), kh = arg(g, KH), kw = arg(g, KW);
  const sh = arg(g, SH), sw = arg(g, SW), dh = arg(g, DH), dw = arg(g, DW), pt = arg(g, PT), pl = arg(g, PL);
  const oh = arg(g, OH), ow = arg(g, OW);
  const plane = oh * ow;
  const cb = <usize>c << 2;
  let d = col;
  for (let r = r0; r < r0 + nr; r++) {
    const b = r / plane, rem = r - b * plane;
    const oy = rem / ow, ox = rem - oy * ow;
    const iy0 = oy * sh - pt, ix0 = ox * sw - pl;
    for (let ky = 0; ky < kh; ky++) {
      const iy = iy0 + ky * dh;
      if (iy < 0 || iy >= h) { d += <usize>kw * cb; continue; }
      const rowBase = (b * h + iy) * w;
      for (let kx = 0; kx < kw; kx++) {
        const ix = ix0 + kx * dw;
        if (ix >= 0 && ix < w) {
          const q = dx + <usize>(rowBase + ix) * cb;
          let i = 0;
          for (; i + 4 <= c; i += 4) {
            const k = <usize>i << 2;
            v128.store(q + k, f32x4.add(v128.load(q + k), v128.load(d + k)));
          }
          for (; i < c; i++) {
            const k = <usize>i << 2;
            store<f32>(q + k, load<f32>(q + k) + load<f32>(d + k));
          }
        }
        d += cb;
      }
    }
  }
}

/** [geometry(15), x, filter, out, r0, r1, col, colRows, scratch]: output rows [r0, r1). */
export function conv2d_p(p: usize): void {
  const x = <usize>arg(p, 15), f = <usize>arg(p, 16), o = <usize>arg(p, 17);
  const r0 = arg(p, 18), r1 = arg(p, 19), col = <usize>arg(p, 20), step = arg(p, 21), scratch = <usize>arg(p, 22);
  const K = arg(p, KH) * arg(p, KW) * arg(p, C), cout = arg(p, COUT);
  for (let r = r0; r < r1; r += step) {
    const nr = min(step, r1 - r);
    im2col(p, x, r, nr, col);
    sgemm(nr, cout, K, col, K, 1, f, cout, 1, o + (<usize>(r * cout) << 2), cout, false, 0, 0, scratch);
  }
}

/** [geometry(15), dy, filter, dx, b0, b1, col, colRows, scratch]: images [b0, b1) of dx. */
export function conv2d_bi_p(p: usize): void {
  const dy = <usize>arg(p, 15), f = <usize>arg(p, 16), dx = <usize>arg(p, 17);
  const b0 = arg(p, 18), b1 = arg(p, 19), col = <usize>arg(p, 20), step = arg(p, 21), scratch = <usize>arg(p, 22);
  const K = arg(p, KH) * arg(p, KW) * arg(p, C), cout = arg(p, COUT);
  const img = arg(p, H) * arg(p, W) * arg(p, C);
  memory.fill(dx + (<usize>(b0 * img) << 2), 0, <usize>((b1 - b0) * img) << 2);
  const plane = arg(p, OH) * arg(p, OW);
  const r1 = b1 * plane;
  for (let r = b0 * plane; r < r1; r += step) {
    const nr = min(step, r1 - r);
    // col = dy[r : r+nr] · filterᵀ  (filter as [K, cout], so Bᵀ has brs = 1, bcs = cout)
    sgemm(nr, K, cout, dy + (<usize>(r * cout) << 2), cout, 1, f, 1, cout, col, K, false, 0, 0, scratch);
    col2im(p, col, r, nr, dx);
  }
}

/**
 * [geometry(15), x, dy, dw, r0, r1, col, colRows, scratch]: dw (K × cout) = Σ over output rows
 * [r0, r1) of im2col(x)ᵀ · dy (overwrites dw).
 */
export function conv2d_bf_p(p: usize): void {
  const x = <usize>arg(p, 15), dy = <usize>arg(p, 16), dw = <usize>arg(p, 17);
  const r0 = arg(p, 18), r1 = arg(p, 19), col = <usize>arg(p, 20), step = arg(p, 21), scratch = <usize>arg(p, 22);
  const K = arg(p, KH) * arg(p, KW) * arg(p, C), cout = arg(p, COUT);
  if (r1 <= r0) { memory.fill(dw, 0, <usize>(K * cout) << 2); return; }
  for (let r = r0; r < r1; r += step) {
    const nr = min(step, r1 - r);
    im2col(p, x, r, nr, col);
    sgemm(K, cout, nr, col, 1, K, dy + (<usize>(r * cout) << 2), cout, 1, dw, cout, r > r0, 0, 0, scratch);
  }
}
