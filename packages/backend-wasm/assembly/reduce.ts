// Reductions (sum, prod, max, min; any/all on bool), index reductions and running
// (cumulative) ops. The JS side brings the input to one of two contiguous layouts:
//   rows: [R, n], reducing each row;   mid: [A, R, C], reducing the middle axis.
// Float sums and products accumulate in float64; max/min propagate NaN.

@inline function arg(p: usize, i: i32): i32 { return load<i32>(p + (<usize>i << 2)); }

export const R_SUM = 0, R_PROD = 1, R_MAX = 2, R_MIN = 3;

@inline function hmax(m: v128): f32 {
  m = f32x4.max(m, v128.shuffle<f32>(m, m, 2, 3, 0, 1));
  m = f32x4.max(m, v128.shuffle<f32>(m, m, 1, 0, 3, 2));
  return f32x4.extract_lane(m, 0);
}
@inline function hmin(m: v128): f32 {
  m = f32x4.min(m, v128.shuffle<f32>(m, m, 2, 3, 0, 1));
  m = f32x4.min(m, v128.shuffle<f32>(m, m, 1, 0, 3, 2));
  return f32x4.extract_lane(m, 0);
}

/** Sum of n contiguous floats, in float64. */
export function sumF32(x: usize, n: i32): f64 {
  let a0 = f64x2.splat(0), a1 = f64x2.splat(0), a2 = f64x2.splat(0), a3 = f64x2.splat(0);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const k = x + (<usize>i << 2);
    const v = v128.load(k), w = v128.load(k, 16);
    a0 = f64x2.add(a0, f64x2.promote_low_f32x4(v));
    a1 = f64x2.add(a1, f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1)));
    a2 = f64x2.add(a2, f64x2.promote_low_f32x4(w));
    a3 = f64x2.add(a3, f64x2.promote_low_f32x4(v128.shuffle<f32>(w, w, 2, 3, 0, 1)));
  }
  a0 = f64x2.add(f64x2.add(a0, a1), f64x2.add(a2, a3));
  let s = f64x2.extract_lane(a0, 0) + f64x2.extract_lane(a0, 1);
  for (; i < n; i++) s += <f64>load<f32>(x + (<usize>i << 2));
  return s;
}

/** Max (or min) of n contiguous floats, NaN-propagating; -Inf (+Inf) when n = 0. */
export function maxF32(x: usize, n: i32, isMax: bool): f32 {
  let m = f32x4.splat(isMax ? -Infinity : Infinity);
  let i = 0;
  if (isMax) {
    for (; i + 4 <= n; i += 4) m = f32x4.max(m, v128.load(x + (<usize>i << 2)));
    for (; i < n; i++) m = f32x4.max(m, v128.load32_splat(x + (<usize>i << 2)));
    return hmax(m);
  }
  for (; i + 4 <= n; i += 4) m = f32x4.min(m, v128.load(x + (<usize>i << 2)));
  for (; i < n; i++) m = f32x4.min(m, v128.load32_splat(x + (<usize>i << 2)));
  return hmin(m);
}

function rowF32(op: i32, x: usize, n: i32): f32 {
  if (op == R_SUM) return <f32>sumF32(x, n);
  if (op == R_PROD) {
    let s: f64 = 1;
    for (let i = 0; i < n; i++) s *= <f64>load<f32>(x + (<usize>i << 2));
    return <f32>s;
  }
  return maxF32(x, n, op == R_MAX);
}

function rowI32(op: i32, x: usize, n: i32): i32 {
  let i = 0;
  if (op == R_PROD) {
    let s = 1;
    for (; i < n; i++) s *= load<i32>(x + (<usize>i << 2));
    return s;
  }
  let m = i32x4.splat(op == R_SUM ? 0 : op == R_MAX ? i32.MIN_VALUE : i32.MAX_VALUE);
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(x + (<usize>i << 2));
    m = op == R_SUM ? i32x4.add(m, v) : op == R_MAX ? i32x4.max_s(m, v) : i32x4.min_s(m, v);
  }
  let s = i32x4.extract_lane(m, 0);
  const l1 = i32x4.extract_lane(m, 1), l2 = i32x4.extract_lane(m, 2), l3 = i32x4.extract_lane(m, 3);
  if (op == R_SUM) s = s + l1 + l2 + l3;
  else if (op == R_MAX) s = max(max(s, l1), max(l2, l3));
  else s = min(min(s, l1), min(l2, l3));
  for (; i < n; i++) {
    const v = load<i32>(x + (<usize>i << 2));
    s = op == R_SUM ? s + v : op == R_MAX ? max(s, v) : min(s, v);
  }
  return s;
}

function rowU8(op: i32, x: usize, n: i32): u8 {
  const any = op == R_SUM || op == R_MAX;
  for (let i = 0; i < n; i++) {
    const nz = load<u8>(x + <usize>i) != 0;
    if (any && nz) return 1;
    if (!any && !nz) return 0;
  }
  return any ? 0 : 1;
}

function reduceRows(op: i32, dt: i32, r0: i32, r1: i32, n: i32, x: usize, o: usize): void {
  for (let r = r0; r < r1; r++) {
    if (dt == 0) store<f32>(o + (<usize>r << 2), rowF32(op, x + (<usize>(r * n) << 2), n));
    else if (dt == 1) store<i32>(o + (<usize>r << 2), rowI32(op, x + (<usize>(r * n) << 2), n));
    else store<u8>(o + <usize>r, rowU8(op, x + <usize>(r * n), n));
  }
}
/** [op, dt, r0, r1, n, x, o]: o[r] = op over x[r·n, (r+1)·n). */
export function reduce_rows_p(p: usize): void {
  reduceRows(arg(p, 0), arg(p, 1), arg(p, 2), arg(p, 3), arg(p, 4), arg(p, 5), arg(p, 6));
}

/** Columns [c0, c0 + 16) of one [R, C] slab, float32. */
function mid16F32(op: i32, x: usize, R: i32, C: i32, o: usize): void {
  const rs = <usize>C << 2;
  if (op == R_SUM) {
    let a0 = f64x2.splat(0), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    let q = x;
    for (let r = 0; r < R; r++) {
      const v0 = v128.load(q), v1 = v128.load(q, 16), v2 = v128.load(q, 32), v3 = v128.load(q, 48);
      a0 = f64x2.add(a0, f64x2.promote_low_f32x4(v0));
      a1 = f64x2.add(a1, f64x2.promote_low_f32x4(v128.shuffle<f32>(v0, v0, 2, 3, 0, 1)));
      a2 = f64x2.add(a2, f64x2.promote_low_f32x4(v1));
      a3 = f64x2.add(a3, f64x2.promote_low_f32x4(v128.shuffle<f32>(v1, v1, 2, 3, 0, 1)));
      a4 = f64x2.add(a4, f64x2.promote_low_f32x4(v2));
      a5 = f64x2.add(a5, f64x2.promote_low_f32x4(v128.shuffle<f32>(v2, v2, 2, 3, 0, 1)));
      a6 = f64x2.add(a6, f64x2.promote_low_f32x4(v3));
      a7 = f64x2.add(a7, f64x2.promote_low_f32x4(v128.shuffle<f32>(v3, v3, 2, 3, 0, 1)));
      q += rs;
    }
    v128.store(o, v128.shuffle<f32>(f32x4.demote_f64x2_zero(a0), f32x4.demote_f64x2_zero(a1), 0, 1, 4, 5));
    v128.store(o, v128.shuffle<f32>(f32x4.demote_f64x2_zero(a2), f32x4.demote_f64x2_zero(a3), 0, 1, 4, 5), 16);
    v128.store(o, v128.shuffle<f32>(f32x4.demote_f64x2_zero(a4), f32x4.demote_f64x2_zero(a5), 0, 1, 4, 5), 32);
    v128.store(o, v128.shuffle<f32>(f32x4.demote_f64x2_zero(a6), f32x4.demote_f64x2_zero(a7), 0, 1, 4, 5), 48);
    return;
  }
  const isMax = op == R_MAX;
  let m0 = f32x4.splat(isMax ? -Infinity : Infinity), m1 = m0, m2 = m0, m3 = m0;
  let q = x;
  for (let r = 0; r < R; r++) {
    if (isMax) {
      m0 = f32x4.max(m0, v128.load(q)); m1 = f32x4.max(m1, v128.load(q, 16));
      m2 = f32x4.max(m2, v128.load(q, 32)); m3 = f32x4.max(m3, v128.load(q, 48));
    } else {
      m0 = f32x4.min(m0, v128.load(q)); m1 = f32x4.min(m1, v128.load(q, 16));
      m2 = f32x4.min(m2, v128.load(q, 32)); m3 = f32x4.min(m3, v128.load(q, 48));
    }
    q += rs;
  }
  v128.store(o, m0); v128.store(o, m1, 16); v128.store(o, m2, 32); v128.store(o, m3, 48);
}

function midColumn(op: i32, dt: i32, x: usize, R: i32, C: i32, o: usize): void {
  const sh: usize = dt == 2 ? 0 : 2;
  const rs = <usize>C << sh;
  if (dt == 0) {
    let s: f64 = op == R_SUM ? 0 : op == R_PROD ? 1 : op == R_MAX ? -Infinity : Infinity;
    let q = x;
    for (let r = 0; r < R; r++) {
      const v = <f64>load<f32>(q);
      if (op == R_SUM) s += v;
      else if (op == R_PROD) s *= v;
      else if (op == R_MAX) s = (v != v || s != s) ? NaN : max(s, v);
      else s = (v != v || s != s) ? NaN : min(s, v);
      q += rs;
    }
    store<f32>(o, <f32>s);
  } else if (dt == 1) {
    let s: i32 = op == R_SUM ? 0 : op == R_PROD ? 1 : op == R_MAX ? i32.MIN_VALUE : i32.MAX_VALUE;
    let q = x;
    for (let r = 0; r < R; r++) {
      const v = load<i32>(q);
      if (op == R_SUM) s += v;
      else if (op == R_PROD) s *= v;
      else if (op == R_MAX) s = max(s, v);
      else s = min(s, v);
      q += rs;
    }
    store<i32>(o, s);
  } else {
    const any = op == R_SUM || op == R_MAX;
    let s: bool = !any;
    let q = x;
    for (let r = 0; r < R; r++) {
      const nz = load<u8>(q) != 0;
      s = any ? s || nz : s && nz;
      q += rs;
    }
    store<u8>(o, <u8>s);
  }
}

function reduceMid(op: i32, dt: i32, a0: i32, a1: i32, R: i32, C: i32, x: usize, o: usize): void {
  const sh: usize = dt == 2 ? 0 : 2;
  for (let a = a0; a < a1; a++) {
    const xa = x + (<usize>(a * R * C) << sh), oa = o + (<usize>(a * C) << sh);
    let c = 0;
    if (dt == 0 && op != R_PROD) for (; c + 16 <= C; c += 16) mid16F32(op, xa + (<usize>c << 2), R, C, oa + (<usize>c << 2));
    for (; c < C; c++) midColumn(op, dt, xa + (<usize>c << sh), R, C, oa + (<usize>c << sh));
  }
}
/** [op, dt, a0, a1, R, C, x, o]: o[a, c] = op over r of x[a, r, c]. */
export function reduce_mid_p(p: usize): void {
  reduceMid(arg(p, 0), arg(p, 1), arg(p, 2), arg(p, 3), arg(p, 4), arg(p, 5), arg(p, 6), arg(p, 7));
}

// ------------------------------------------------------------------ argmax / argmin

@inline function ldv(dt: i32, p: usize): f64 {
  return dt == 0 ? <f64>load<f32>(p) : dt == 1 ? <f64>load<i32>(p) : <f64>load<u8>(p);
}

/**
 * Index of the max (isMax) or min along the middle axis of contiguous [outer, n, inner] into
 * int32 o[outer, inner]. Ties: first index; NaN wins (first NaN). `best`: inner float64s.
 */
export function argreduce(isMax: bool, dt: i32, outer: i32, n: i32, inner: i32, x: usize, o: usize, best: usize): void {
  const sh: usize = dt == 2 ? 0 : 2;
  for (let a = 0; a < outer; a++) {
    const xa = x + (<usize>(a * n * inner) << sh);
    const oa = o + (<usize>(a * inner) << 2);
    if (inner == 1) {
      let b = ldv(dt, xa), bi = 0;
      if (b == b) {
        for (let i = 1; i < n; i++) {
          const v = ldv(dt, xa + (<usize>i << sh));
          if (v != v) { bi = i; break; }
          if (isMax ? v > b : v < b) { b = v; bi = i; }
        }
      }
      store<i32>(oa, bi);
      continue;
    }
    for (let c = 0; c < inner; c++) {
      store<f64>(best + (<usize>c << 3), ldv(dt, xa + (<usize>c << sh)));
      store<i32>(oa + (<usize>c << 2), 0);
    }
    for (let i = 1; i < n; i++) {
      const row = xa + (<usize>(i * inner) << sh);
      for (let c = 0; c < inner; c++) {
        const bp = best + (<usize>c << 3);
        const b = load<f64>(bp), v = ldv(dt, row + (<usize>c << sh));
        if (b == b && ((isMax ? v > b : v < b) || v != v)) {
          store<f64>(bp, v);
          store<i32>(oa + (<usize>c << 2), i);
        }
      }
    }
  }
}

// ------------------------------------------------------------------ cumulative

/**
 * Running op along the middle axis of contiguous [outer, n, inner] (float32 or int32) into o
 * (same layout). Float accumulates in float64. `acc`: inner float64s of scratch.
 */
export function cumulative(op: i32, dt: i32, outer: i32, n: i32, inner: i32, x: usize, o: usize, exclusive: bool, reverse: bool, acc: usize): void {
  const init: f64 = op == R_SUM ? 0 : op == R_PROD ? 1 : op == R_MAX ? (dt == 0 ? -Infinity : <f64>i32.MIN_VALUE) : (dt == 0 ? Infinity : <f64>i32.MAX_VALUE);
  for (let a = 0; a < outer; a++) {
    const base = <usize>(a * n * inner) << 2;
    for (let c = 0; c < inner; c++) store<f64>(acc + (<usize>c << 3), init);
    for (let s = 0; s < n; s++) {
      const i = reverse ? n - 1 - s : s;
      const off = base + (<usize>(i * inner) << 2);
      for (let c = 0; c < inner; c++) {
        const ap = acc + (<usize>c << 3);
        const xp = x + off + (<usize>c << 2), op_ = o + off + (<usize>c << 2);
        const cur = load<f64>(ap);
        let next: f64;
        if (dt == 0) {
          const v = <f64>load<f32>(xp);
          if (op == R_SUM) next = cur + v;
          else if (op == R_PROD) next = cur * v;
          else if (cur != cur || v != v) next = NaN;
          else next = op == R_MAX ? max(cur, v) : min(cur, v);
          store<f32>(op_, <f32>(exclusive ? cur : next));
        } else {
          const v = load<i32>(xp), ci = <i32>cur;
          let ni: i32;
          if (op == R_SUM) ni = ci + v;
          else if (op == R_PROD) ni = ci * v;
          else ni = op == R_MAX ? max(ci, v) : min(ci, v);
          next = <f64>ni;
          store<i32>(op_, exclusive ? ci : ni);
        }
        store<f64>(ap, next);
      }
    }
  }
}
