/**
 * NHWC max/average pooling and its gradient. Windows only visit real (unpadded) cells.
 * @module
 */
import type { View, WindowParams } from '@tessera/core';
import { materialize } from './elementwise.js';
import { intoContiguous } from './conv.js';

interface PoolGeometry {
  n: number; h: number; w: number; c: number; oh: number; ow: number;
  kh: number; kw: number; sh: number; sw: number; dh: number; dw: number; pt: number; pl: number;
}

function geometry(x: View, y: View, p: WindowParams): PoolGeometry {
  return {
    n: x.shape[0], h: x.shape[1], w: x.shape[2], c: x.shape[3], oh: y.shape[1], ow: y.shape[2],
    kh: p.window[0], kw: p.window[1], sh: p.strides[0], sw: p.strides[1],
    dh: p.dilations[0], dw: p.dilations[1], pt: p.pads[0], pl: p.pads[2],
  };
}

/**
 * Max or average pooling over NHWC windows: max ignores padded cells (NaN propagates; a
 * window with no real cell gives -Inf); average divides by the number of real cells (NaN
 * for a window with none).
 *
 * @example
 * pool2d('max', x, { window: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0], dilations: [1, 1] }, out);
 */
export function pool2d(kind: 'max' | 'avg', x: View, p: WindowParams, out: View): void {
  if (out.size === 0) return;
  const g = geometry(x, out, p);
  const X = materialize(x) as Float32Array;
  const { n, h, w, c, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl } = g;
  const isMax = kind === 'max';
  const acc = new Float64Array(c);
  intoContiguous(out, (O, o) => {
    let q = o;
    for (let b = 0; b < n; b++) {
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++, q += c) {
          acc.fill(isMax ? -Infinity : 0);
          let count = 0;
          for (let ky = 0; ky < kh; ky++) {
            const iy = oy * sh - pt + ky * dh;
            if (iy < 0 || iy >= h) continue;
            for (let kx = 0; kx < kw; kx++) {
              const ix = ox * sw - pl + kx * dw;
              if (ix < 0 || ix >= w) continue;
              count++;
              const src = ((b * h + iy) * w + ix) * c;
              if (isMax) for (let ci = 0; ci < c; ci++) acc[ci] = Math.max(acc[ci], X[src + ci]);
              else for (let ci = 0; ci < c; ci++) acc[ci] += X[src + ci];
            }
          }
          if (isMax) for (let ci = 0; ci < c; ci++) O[q + ci] = acc[ci];
          else for (let ci = 0; ci < c; ci++) O[q + ci] = acc[ci] / count;
        }
      }
    }
  });
}

/**
 * Gradient of {@link pool2d} with respect to x (`out` shaped like x). Max routes each
 * window's gradient to its first maximal real cell (a NaN counts as maximal); average spreads
 * it evenly over the window's real cells.
 *
 * @example
 * pool2dBackward('max', x, dy, params, dx);
 */
export function pool2dBackward(kind: 'max' | 'avg', x: View, dy: View, p: WindowParams, out: View): void {
  if (out.size === 0) return;
  const g = geometry(x, dy, p);
  const DY = materialize(dy) as Float32Array;
  const X = kind === 'max' ? (materialize(x) as Float32Array) : null;
  const { n, h, w, c, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl } = g;
  const best = new Float64Array(c), at = new Int32Array(c);
  intoContiguous(out, (O, o) => {
    O.fill(0, o, o + out.size);
    let q = 0;
    for (let b = 0; b < n; b++) {
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++, q += c) {
          if (X !== null) {
            at.fill(-1);
            for (let ky = 0; ky < kh; ky++) {
              const iy = oy * sh - pt + ky * dh;
              if (iy < 0 || iy >= h) continue;
              for (let kx = 0; kx < kw; kx++) {
                const ix = ox * sw - pl + kx * dw;
                if (ix < 0 || ix >= w) continue;
                const src = ((b * h + iy) * w + ix) * c;
                for (let ci = 0; ci < c; ci++) {
                  const v = X[src + ci], bv = best[ci];
                  if (at[ci] < 0 || (bv === bv && (v > bv || v !== v))) {
                    best[ci] = v;
                    at[ci] = src + ci;
                  }
                }
              }
            }
            for (let ci = 0; ci < c; ci++) if (at[ci] >= 0) O[o + at[ci]] += DY[q + ci];
            continue;
          }
          let count = 0;
          for (let ky = 0; ky < kh; ky++) {
            const iy = oy * sh - pt + ky * dh;
            if (iy >= 0 && iy < h) for (let kx = 0; kx < kw; kx++) {
              const ix = ox * sw - pl + kx * dw;
              if (ix >= 0 && ix < w) count++;
            }
          }
          if (count === 0) continue;
          for (let ky = 0; ky < kh; ky++) {
            const iy = oy * sh - pt + ky * dh;
            if (iy < 0 || iy >= h) continue;
            for (let kx = 0; kx < kw; kx++) {
              const ix = ox * sw - pl + kx * dw;
              if (ix < 0 || ix >= w) continue;
              const dst = o + ((b * h + iy) * w + ix) * c;
              for (let ci = 0; ci < c; ci++) O[dst + ci] += DY[q + ci] / count;
            }
          }
        }
      }
    }
  });
}
