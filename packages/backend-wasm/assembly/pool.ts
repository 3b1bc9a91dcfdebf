// NHWC max / average pooling and its gradient. Windows visit only real (unpadded) cells;
// channels are contiguous, so every window step is SIMD over channels.

@inline function arg(p: usize, i: i32): i32 { return load<i32>(p + (<usize>i << 2)); }

// [kind, n, h, w, c, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl, x, o/dy, (dx), lo, hi, scratch]
const KIND = 0, N = 1, H = 2, W = 3, C = 4, OH = 5, OW = 6, KH = 7, KW = 8, SH = 9, SW = 10, DH = 11, DW = 12, PT = 13, PL = 14;

/** Forward: x, o at 15, 16; output rows (b·oh + oy) [lo, hi) at 17, 18. kind 0 max, 1 avg. */
export function pool2d_p(p: usize): void {
  const isMax = arg(p, KIND) == 0;
  const h = arg(p, H), w = arg(p, W), c = arg(p, C), oh = arg(p, OH), ow = arg(p, OW);
  const kh = arg(p, KH), kw = arg(p, KW), sh = arg(p, SH), sw = arg(p, SW), dh = arg(p, DH), dw = arg(p, DW);
  const pt = arg(p, PT), pl = arg(p, PL);
  const x = <usize>arg(p, 15), o = <usize>arg(p, 16), lo = arg(p, 17), hi = arg(p, 18);
  const cb = <usize>c << 2;
  for (let row = lo; row < hi; row++) {
    const b = row / oh, oy = row - b * oh;
    for (let ox = 0; ox < ow; ox++) {
      const q = o + <usize>((row * ow + ox)) * cb;
      const init = f32x4.splat(isMax ? -Infinity : 0);
      let i = 0;
      for (; i + 4 <= c; i += 4) v128.store(q + (<usize>i << 2), init);
      for (; i < c; i++) store<f32>(q + (<usize>i << 2), isMax ? -Infinity : 0);
      let count = 0;
      for (let ky = 0; ky < kh; ky++) {
        const iy = oy * sh - pt + ky * dh;
        if (iy < 0 || iy >= h) continue;
        for (let kx = 0; kx < kw; kx++) {
          const ix = ox * sw - pl + kx * dw;
          if (ix < 0 || ix >= w) continue;
          count++;
          const s = x + <usize>((b * h + iy) * w + ix) * cb;
          i = 0;
          if (isMax) {
            for (; i + 4 <= c; i += 4) { const k = <usize>i << 2; v128.store(q + k, f32x4.max(v128.load(q + k), v128.load(s + k))); }
            for (; i < c; i++) {
              const k = <usize>i << 2;
              store<f32>(q + k, f32x4.extract_lane(f32x4.max(v128.load32_splat(q + k), v128.load32_splat(s + k)), 0));
            }
          } else {
            for (; i + 4 <= c; i += 4) { const k = <usize>i << 2; v128.store(q + k, f32x4.add(v128.load(q + k), v128.load(s + k))); }
            for (; i < c; i++) { const k = <usize>i << 2; store<f32>(q + k, load<f32>(q + k) + load<f32>(s + k)); }
          }
        }
      }
      if (!isMax) {
        const cnt = <f32>count;
        for (i = 0; i < c; i++) { const k = <usize>i << 2; store<f32>(q + k, load<f32>(q + k) / cnt); }
      }
    }
  }
}

/**
 * Backward: x, dy, dx at 15, 16, 17; images [lo, hi) at 18, 19; scratch (2·c words) at 20.
 * Max routes each window's gradient to its first maximal real cell (NaN counts as maximal);
 * average spreads it evenly over the real cells.
 */
export function pool2d_bwd_p(p: usize): void {
  const isMax = arg(p, KIND) == 0;
  const h = arg(p, H), w = arg(p, W), c = arg(p, C), oh = arg(p, OH), ow = arg(p, OW);
  const kh = arg(p, KH), kw = arg(p, KW), sh = arg(p, SH), sw = arg(p, SW), dh = arg(p, DH), dw = arg(p, DW);
  const pt = arg(p, PT), pl = arg(p, PL);
  const x = <usize>arg(p, 15), dy = <usize>arg(p, 16), dx = <usize>arg(p, 17);
  const lo = arg(p, 18), hi = arg(p, 19), scr = <usize>arg(p, 20);
  const cb = <usize>c << 2;
  const best = scr, at = scr + cb;
  memory.fill(dx + <usize>(lo * h * w) * cb, 0, <usize>((hi - lo) * h * w) * cb);
  for (let b = lo; b < hi; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const g = dy + <usize>((b * oh + oy) * ow + ox) * cb;
        if (isMax) {
          for (let i = 0; i < c; i++) store<i32>(at + (<usize>i << 2), -1);
          for (let ky = 0; ky < kh; ky++) {
            const iy = oy * sh - pt + ky * dh;
            if (iy < 0 || iy >= h) continue;
            for (let kx = 0; kx < kw; kx++) {
              const ix = ox * sw - pl + kx * dw;
              if (ix < 0 || ix >= w) continue;
              const cell = (b * h + iy) * w + ix;
              const s = x + <usize>cell * cb;
              let i = 0;
              const cellv = i32x4.splat(cell);
              for (; i + 4 <= c; i += 4) {
                const k = <usize>i << 2;
                const v = v128.load(s + k), bv = v128.load(best + k), av = v128.load(at + k);
                const take = v128.or(i32x4.lt_s(av, i32x4.splat(0)),
                  v128.and(f32x4.eq(bv, bv), v128.or(f32x4.gt(v, bv), f32x4.ne(v, v))));
                v128.store(best + k, v128.bitselect(v, bv, take));
                v128.store(at + k, v128.bitselect(cellv, av, take));
              }
              for (; i < c; i++) {
                const k = <usize>i << 2;
                const v = load<f32>(s + k), bv = load<f32>(best + k);
                if (load<i32>(at + k) < 0 || (bv == bv && (v > bv || v != v))) {
                  store<f32>(best + k, v);
                  store<i32>(at + k, cell);
                }
              }
            }
          }
          for (let i = 0; i < c; i++) {
            const k = <usize>i << 2;
            const a = load<i32>(at + k);
            if (a >= 0) {
              const q = dx + <usize>a * cb + k;
              store<f32>(q, load<f32>(q) + load<f32>(g + k));
            }
          }
          continue;
        }
        let count = 0;
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh - pt + ky * dh;
          if (iy < 0 || iy >= h) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * sw - pl + kx * dw;
            if (ix >= 0 && ix < w) count++;
          }
        }
        if (count == 0) continue;
        const inv = f32x4.splat(<f32>(1.0 / <f64>count));
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh - pt + ky * dh;
          if (iy < 0 || iy >= h) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * sw - pl + kx * dw;
            if (ix < 0 || ix >= w) continue;
            const q = dx + <usize>((b * h + iy) * w + ix) * cb;
            let i = 0;
            for (; i + 4 <= c; i += 4) {
              const k = <usize>i << 2;
              v128.store(q + k, f32x4.add(v128.load(q + k), f32x4.mul(v128.load(g + k), inv)));
            }
            for (; i < c; i++) {
              const k = <usize>i << 2;
              store<f32>(q + k, load<f32>(q + k) + load<f32>(g + k) * f32x4.extract_lane(inv, 0));
            }
          }
        }
      }
    }
  }
}
