// N-d strided copy: the one general-layout kernel. Any shape, any element strides (0 and
// negative included) on both sides. The JS side collapses axes first.

@inline function arg(p: usize, i: i32): i32 { return load<i32>(p + (<usize>i << 2)); }

function row32(src: usize, ss: i32, dst: usize, ds: i32, n: i32): void {
  if (ss == 1 && ds == 1) { memory.copy(dst, src, <usize>n << 2); return; }
  if (ss == 0 && ds == 1) {
    const v = load<i32>(src);
    const vv = i32x4.splat(v);
    let i = 0;
    for (; i + 4 <= n; i += 4) v128.store(dst + (<usize>i << 2), vv);
    for (; i < n; i++) store<i32>(dst + (<usize>i << 2), v);
    return;
  }
  if (ds == 1) {
    let i = 0;
    const s4 = <usize>(ss << 2);
    let p = src;
    for (; i + 4 <= n; i += 4) {
      const a = load<i32>(p), b = load<i32>(p + s4), c = load<i32>(p + 2 * s4), d = load<i32>(p + 3 * s4);
      const q = dst + (<usize>i << 2);
      store<i32>(q, a); store<i32>(q, b, 4); store<i32>(q, c, 8); store<i32>(q, d, 12);
      p += 4 * s4;
    }
    for (; i < n; i++) { store<i32>(dst + (<usize>i << 2), load<i32>(p)); p += s4; }
    return;
  }
  const s4 = <usize>(ss << 2), d4 = <usize>(ds << 2);
  let p = src, q = dst;
  for (let i = 0; i < n; i++) { store<i32>(q, load<i32>(p)); p += s4; q += d4; }
}

function row8(src: usize, ss: i32, dst: usize, ds: i32, n: i32): void {
  if (ss == 1 && ds == 1) { memory.copy(dst, src, <usize>n); return; }
  if (ss == 0 && ds == 1) { memory.fill(dst, load<u8>(src), <usize>n); return; }
  let p = src, q = dst;
  for (let i = 0; i < n; i++) { store<u8>(q, load<u8>(p)); p += <usize>ss; q += <usize>ds; }
}

/** 2-D transpose-like copy (inner source stride large, outer source stride 1) in 16×16 tiles. */
function tiled32(src: usize, s0: i32, s1: i32, dst: usize, d0: i32, d1: i32, n0: i32, n1: i32): void {
  for (let i0 = 0; i0 < n0; i0 += 16) {
    const e0 = min(n0, i0 + 16);
    for (let j0 = 0; j0 < n1; j0 += 16) {
      const e1 = min(n1, j0 + 16);
      for (let i = i0; i < e0; i++) {
        let p = src + (<usize>(i * s0 + j0 * s1) << 2);
        let q = dst + (<usize>(i * d0 + j0 * d1) << 2);
        const sp = <usize>(s1 << 2), sq = <usize>(d1 << 2);
        for (let j = j0; j < e1; j++) { store<i32>(q, load<i32>(p)); p += sp; q += sq; }
      }
    }
  }
}

/**
 * Param block: [shift (0: bytes, 2: 32-bit), ndim, src, dst, shape[nd], srcStrides[nd],
 * dstStrides[nd], scratch[nd]]. Strides in elements.
 */
export function copy_nd(p: usize): void {
  const sh = arg(p, 0), nd = arg(p, 1);
  let src = <usize>arg(p, 2), dst = <usize>arg(p, 3);
  const shape = p + 16, ss = shape + (<usize>nd << 2), ds = ss + (<usize>nd << 2), idx = ds + (<usize>nd << 2);
  const last = nd - 1;
  const n = load<i32>(shape + (<usize>last << 2));
  const si = load<i32>(ss + (<usize>last << 2)), di = load<i32>(ds + (<usize>last << 2));
  if (n == 0) return;
  if (nd == 2 && sh == 2 && di == 1 && si != 1 && si != 0) {
    const n0 = load<i32>(shape), s0 = load<i32>(ss), d0 = load<i32>(ds);
    if (s0 != 0 && abs<i32>(s0) < abs<i32>(si)) {
      tiled32(src, s0, si, dst, d0, di, n0, n);
      return;
    }
  }
  for (let d = 0; d < last; d++) {
    if (load<i32>(shape + (<usize>d << 2)) == 0) return;
    store<i32>(idx + (<usize>d << 2), 0);
  }
  while (true) {
    if (sh == 2) row32(src, si, dst, di, n);
    else row8(src, si, dst, di, n);
    let d = last - 1;
    for (; d >= 0; d--) {
      const k = <usize>d << 2;
      const i = load<i32>(idx + k) + 1;
      const sd = load<i32>(ss + k), dd = load<i32>(ds + k);
      if (i < load<i32>(shape + k)) {
        store<i32>(idx + k, i);
        src += <usize>(sd << sh);
        dst += <usize>(dd << sh);
        break;
      }
      store<i32>(idx + k, 0);
      const back = i - 1;
      src -= <usize>((sd * back) << sh);
      dst -= <usize>((dd * back) << sh);
    }
    if (d < 0) return;
  }
}
