// Element-wise kernels: fill, cast, unary, binary, compare, where. Each works on R rows of
// C elements; every operand has a row stride (any, in elements) and an inner stride of 0
// (broadcast) or 1 (contiguous); the output is contiguous. The JS side collapses a view's
// axes into that form or materialises it first. `*_p(p)` variants read their arguments from
// a parameter block so that a worker can run a slice of rows.
import {
  sel, splat, isplat, vexp, vexpm1, vlog, vlog1p, vtanh, vsigmoid, verf, vsin, vcos, loadTail, storeTail,
} from './vmath';

@inline function at(p: usize, i: i32, s: i32, sh: i32): usize { return p + (<usize>(i * s) << sh); }
@inline function arg(p: usize, i: i32): i32 { return load<i32>(p + (<usize>i << 2)); }
@inline function argf(p: usize, i: i32): f32 { return load<f32>(p + (<usize>i << 2)); }

@inline function loadTailI(p: usize, n: i32): v128 {
  let v = i32x4.splat(0);
  v = i32x4.replace_lane(v, 0, load<i32>(p));
  if (n > 1) v = i32x4.replace_lane(v, 1, load<i32>(p, 4));
  if (n > 2) v = i32x4.replace_lane(v, 2, load<i32>(p, 8));
  return v;
}
@inline function storeTailI(p: usize, v: v128, n: i32): void {
  store<i32>(p, i32x4.extract_lane(v, 0));
  if (n > 1) store<i32>(p, i32x4.extract_lane(v, 1), 4);
  if (n > 2) store<i32>(p, i32x4.extract_lane(v, 2), 8);
}

// ---------------------------------------------------------------------------------- fill

export function fill32(o: usize, n: i32, bits: i32): void {
  const v = i32x4.splat(bits);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(o + (<usize>i << 2), v);
  for (; i < n; i++) store<i32>(o + (<usize>i << 2), bits);
}
export function fill8(o: usize, n: i32, v: i32): void {
  memory.fill(o, <u8>v, <usize>n);
}
export function copy_bytes(dst: usize, src: usize, n: i32): void {
  memory.copy(dst, src, <usize>n);
}

// ---------------------------------------------------------------------------------- unary

export const U_NEG = 0, U_ABS = 1, U_SIGN = 2, U_EXP = 3, U_EXPM1 = 4, U_LOG = 5, U_LOG1P = 6,
  U_SQRT = 7, U_RSQRT = 8, U_SQUARE = 9, U_RECIP = 10, U_SIN = 11, U_COS = 12, U_TANH = 13,
  U_SIGMOID = 14, U_ERF = 15, U_FLOOR = 16, U_CEIL = 17, U_ROUND = 18, U_RELU = 19, U_NOT = 20;

@final class UNeg { @inline v(x: v128): v128 { return f32x4.neg(x); } }
@final class UAbs { @inline v(x: v128): v128 { return f32x4.abs(x); } }
@final class USign {
  @inline v(x: v128): v128 {
    return sel(f32x4.gt(x, splat(0)), splat(1), sel(f32x4.lt(x, splat(0)), splat(-1), x));
  }
}
@final class UExp { @inline v(x: v128): v128 { return vexp(x); } }
@final class UExpm1 { @inline v(x: v128): v128 { return vexpm1(x); } }
@final class ULog { @inline v(x: v128): v128 { return vlog(x); } }
@final class ULog1p { @inline v(x: v128): v128 { return vlog1p(x); } }
@final class USqrt { @inline v(x: v128): v128 { return f32x4.sqrt(x); } }
@final class URsqrt { @inline v(x: v128): v128 { return f32x4.div(splat(1), f32x4.sqrt(x)); } }
@final class USquare { @inline v(x: v128): v128 { return f32x4.mul(x, x); } }
@final class URecip { @inline v(x: v128): v128 { return f32x4.div(splat(1), x); } }
@final class USin { @inline v(x: v128): v128 { return vsin(x); } }
@final class UCos { @inline v(x: v128): v128 { return vcos(x); } }
@final class UTanh { @inline v(x: v128): v128 { return vtanh(x); } }
@final class USigmoid { @inline v(x: v128): v128 { return vsigmoid(x); } }
@final class UErf { @inline v(x: v128): v128 { return verf(x); } }
@final class UFloor { @inline v(x: v128): v128 { return f32x4.floor(x); } }
@final class UCeil { @inline v(x: v128): v128 { return f32x4.ceil(x); } }
@final class URound { @inline v(x: v128): v128 { return f32x4.nearest(x); } }
@final class URelu { @inline v(x: v128): v128 { return sel(f32x4.lt(x, splat(0)), splat(0), x); } }

@inline function unRow<Op>(x: usize, sx: i32, o: usize, n: i32): void {
  const op = changetype<Op>(0);
  if (sx == 0) {
    const v = op.v(v128.load32_splat(x));
    for (let i = 0; i + 4 <= n; i += 4) v128.store(o + (<usize>i << 2), v);
    for (let i = n & ~3; i < n; i++) store<f32>(o + (<usize>i << 2), f32x4.extract_lane(v, 0));
    return;
  }
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const k = <usize>i << 2;
    const a = v128.load(x + k), b = v128.load(x + k, 16);
    v128.store(o + k, op.v(a));
    v128.store(o + k, op.v(b), 16);
  }
  for (; i + 4 <= n; i += 4) { const k = <usize>i << 2; v128.store(o + k, op.v(v128.load(x + k))); }
  if (i < n) { const k = <usize>i << 2; storeTail(o + k, op.v(loadTail(x + k, n - i)), n - i); }
}

function unaryRowF32(op: i32, x: usize, sx: i32, o: usize, n: i32): void {
  switch (op) {
    case U_NEG: unRow<UNeg>(x, sx, o, n); break;
    case U_ABS: unRow<UAbs>(x, sx, o, n); break;
    case U_SIGN: unRow<USign>(x, sx, o, n); break;
    case U_EXP: unRow<UExp>(x, sx, o, n); break;
    case U_EXPM1: unRow<UExpm1>(x, sx, o, n); break;
    case U_LOG: unRow<ULog>(x, sx, o, n); break;
    case U_LOG1P: unRow<ULog1p>(x, sx, o, n); break;
    case U_SQRT: unRow<USqrt>(x, sx, o, n); break;
    case U_RSQRT: unRow<URsqrt>(x, sx, o, n); break;
    case U_SQUARE: unRow<USquare>(x, sx, o, n); break;
    case U_RECIP: unRow<URecip>(x, sx, o, n); break;
    case U_SIN: unRow<USin>(x, sx, o, n); break;
    case U_COS: unRow<UCos>(x, sx, o, n); break;
    case U_TANH: unRow<UTanh>(x, sx, o, n); break;
    case U_SIGMOID: unRow<USigmoid>(x, sx, o, n); break;
    case U_ERF: unRow<UErf>(x, sx, o, n); break;
    case U_FLOOR: unRow<UFloor>(x, sx, o, n); break;
    case U_CEIL: unRow<UCeil>(x, sx, o, n); break;
    case U_ROUND: unRow<URound>(x, sx, o, n); break;
    case U_RELU: unRow<URelu>(x, sx, o, n); break;
    default: unreachable();
  }
}

function unaryRowI32(op: i32, x: usize, sx: i32, o: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const v = load<i32>(at(x, i, sx, 2));
    let r: i32;
    switch (op) {
      case U_NEG: r = -v; break;
      case U_ABS: r = v < 0 ? -v : v; break;
      case U_SIGN: r = <i32>(v > 0) - <i32>(v < 0); break;
      case U_SQUARE: r = v * v; break;
      case U_RELU: r = v < 0 ? 0 : v; break;
      case U_NOT: r = <i32>(v == 0); break;
      default: r = v; // floor, ceil, round are the identity on integers
    }
    store<i32>(o + (<usize>i << 2), r);
  }
}

function unaryRowI32Simd(op: i32, x: usize, o: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const k = <usize>i << 2;
    const v = v128.load(x + k);
    let r: v128;
    switch (op) {
      case U_NEG: r = i32x4.neg(v); break;
      case U_ABS: r = i32x4.abs(v); break;
      case U_SIGN: r = i32x4.sub(i32x4.lt_s(v, isplat(0)), i32x4.gt_s(v, isplat(0))); break;
      case U_SQUARE: r = i32x4.mul(v, v); break;
      case U_RELU: r = i32x4.max_s(v, isplat(0)); break;
      case U_NOT: r = v128.and(i32x4.eq(v, isplat(0)), isplat(1)); break;
      default: r = v;
    }
    v128.store(o + k, r);
  }
  if (i < n) unaryRowI32(op, x + (<usize>i << 2), 1, o + (<usize>i << 2), n - i);
}

function notRowU8(x: usize, sx: i32, o: usize, n: i32): void {
  let i = 0;
  if (sx == 1) {
    for (; i + 16 <= n; i += 16) {
      const v = v128.load(x + <usize>i);
      v128.store(o + <usize>i, v128.and(i8x16.eq(v, i8x16.splat(0)), i8x16.splat(1)));
    }
  }
  for (; i < n; i++) store<u8>(o + <usize>i, <u8>(load<u8>(x + <usize>(i * sx)) == 0));
}

/** dtype: 0 float32, 1 int32, 2 bool. Rows [r0, r1) of an R×C problem. */
function unaryRows(op: i32, dt: i32, r0: i32, r1: i32, C: i32, x: usize, xrs: i32, xcs: i32, o: usize): void {
  for (let r = r0; r < r1; r++) {
    if (dt == 0) {
      unaryRowF32(op, at(x, r, xrs, 2), xcs, o + (<usize>(r * C) << 2), C);
    } else if (dt == 1) {
      const xr = at(x, r, xrs, 2), or = o + (<usize>(r * C) << 2);
      if (xcs == 1) unaryRowI32Simd(op, xr, or, C);
      else unaryRowI32(op, xr, xcs, or, C);
    } else {
      notRowU8(at(x, r, xrs, 0), xcs, o + <usize>(r * C), C);
    }
  }
}

export function unary(op: i32, dt: i32, R: i32, C: i32, x: usize, xrs: i32, xcs: i32, o: usize): void {
  unaryRows(op, dt, 0, R, C, x, xrs, xcs, o);
}
/** [op, dt, r0, r1, C, x, xrs, xcs, o] */
export function unary_p(p: usize): void {
  unaryRows(arg(p, 0), arg(p, 1), arg(p, 2), arg(p, 3), arg(p, 4), arg(p, 5), arg(p, 6), arg(p, 7), arg(p, 8));
}

// ---------------------------------------------------------------------------------- binary

export const B_ADD = 0, B_SUB = 1, B_MUL = 2, B_DIV = 3, B_POW = 4, B_MAX = 5, B_MIN = 6,
  B_MOD = 7, B_ATAN2 = 8, B_AND = 9, B_OR = 10;

/** JavaScript's Math.pow (1 ** ±Inf and 1 ** NaN are NaN, unlike C). */
@inline export function jsPow(a: f64, b: f64): f64 {
  if (Math.abs(a) == 1.0 && !isFinite(b)) return NaN;
  return Math.pow(a, b);
}
/** Floored float modulo: the result takes the divisor's sign; x mod 0 is NaN. */
@inline export function floatMod(a: f64, b: f64): f64 {
  let r = a % b;
  if (r != 0) {
    if ((r < 0) != (b < 0)) r += b;
  } else if (r == r) {
    r = b < 0 ? -0.0 : 0.0;
  }
  return r;
}
@inline function lane4(a: v128, b: v128, k: i32): v128 {
  // k: 0 pow, 1 mod, 2 atan2 — float64 scalar per lane
  let r = f32x4.splat(0);
  r = f32x4.replace_lane(r, 0, scal(f32x4.extract_lane(a, 0), f32x4.extract_lane(b, 0), k));
  r = f32x4.replace_lane(r, 1, scal(f32x4.extract_lane(a, 1), f32x4.extract_lane(b, 1), k));
  r = f32x4.replace_lane(r, 2, scal(f32x4.extract_lane(a, 2), f32x4.extract_lane(b, 2), k));
  r = f32x4.replace_lane(r, 3, scal(f32x4.extract_lane(a, 3), f32x4.extract_lane(b, 3), k));
  return r;
}
function scal(a: f32, b: f32, k: i32): f32 {
  const x = <f64>a, y = <f64>b;
  if (k == 0) {
    if (y == 2.0) return a * a;
    return <f32>jsPow(x, y);
  }
  if (k == 1) return <f32>floatMod(x, y);
  return <f32>Math.atan2(x, y);
}

@final class BAdd { @inline v(a: v128, b: v128): v128 { return f32x4.add(a, b); } }
@final class BSub { @inline v(a: v128, b: v128): v128 { return f32x4.sub(a, b); } }
@final class BMul { @inline v(a: v128, b: v128): v128 { return f32x4.mul(a, b); } }
@final class BDiv { @inline v(a: v128, b: v128): v128 { return f32x4.div(a, b); } }
@final class BMax { @inline v(a: v128, b: v128): v128 { return f32x4.max(a, b); } }
@final class BMin { @inline v(a: v128, b: v128): v128 { return f32x4.min(a, b); } }
@final class BPow { @inline v(a: v128, b: v128): v128 { return lane4(a, b, 0); } }
@final class BMod { @inline v(a: v128, b: v128): v128 { return lane4(a, b, 1); } }
@final class BAtan2 { @inline v(a: v128, b: v128): v128 { return lane4(a, b, 2); } }
@final class BAndF {
  @inline v(a: v128, b: v128): v128 {
    return v128.and(v128.and(f32x4.ne(a, splat(0)), f32x4.ne(b, splat(0))), splat(1));
  }
}
@final class BOrF {
  @inline v(a: v128, b: v128): v128 {
    return v128.and(v128.or(f32x4.ne(a, splat(0)), f32x4.ne(b, splat(0))), splat(1));
  }
}
@final class IAdd { @inline v(a: v128, b: v128): v128 { return i32x4.add(a, b); } }
@final class ISub { @inline v(a: v128, b: v128): v128 { return i32x4.sub(a, b); } }
@final class IMul { @inline v(a: v128, b: v128): v128 { return i32x4.mul(a, b); } }
@final class IMax { @inline v(a: v128, b: v128): v128 { return i32x4.max_s(a, b); } }
@final class IMin { @inline v(a: v128, b: v128): v128 { return i32x4.min_s(a, b); } }
@final class IAnd {
  @inline v(a: v128, b: v128): v128 {
    return v128.and(v128.andnot(v128.not(i32x4.eq(a, isplat(0))), i32x4.eq(b, isplat(0))), isplat(1));
  }
}
@final class IOr {
  @inline v(a: v128, b: v128): v128 {
    return v128.and(v128.not(v128.and(i32x4.eq(a, isplat(0)), i32x4.eq(b, isplat(0)))), isplat(1));
  }
}

/** One row: sa, sb ∈ {0, 1}. Works on 32-bit lanes (float32 or int32 ops). */
@inline function binRow<Op>(a: usize, sa: i32, b: usize, sb: i32, o: usize, n: i32): void {
  const op = changetype<Op>(0);
  let i = 0;
  if (sa != 0 && sb != 0) {
    for (; i + 8 <= n; i += 8) {
      const k = <usize>i << 2;
      v128.store(o + k, op.v(v128.load(a + k), v128.load(b + k)));
      v128.store(o + k, op.v(v128.load(a + k, 16), v128.load(b + k, 16)), 16);
    }
    for (; i + 4 <= n; i += 4) { const k = <usize>i << 2; v128.store(o + k, op.v(v128.load(a + k), v128.load(b + k))); }
    if (i < n) { const k = <usize>i << 2; storeTailI(o + k, op.v(loadTailI(a + k, n - i), loadTailI(b + k, n - i)), n - i); }
  } else if (sa != 0) {
    const bv = v128.load32_splat(b);
    for (; i + 8 <= n; i += 8) {
      const k = <usize>i << 2;
      v128.store(o + k, op.v(v128.load(a + k), bv));
      v128.store(o + k, op.v(v128.load(a + k, 16), bv), 16);
    }
    for (; i + 4 <= n; i += 4) { const k = <usize>i << 2; v128.store(o + k, op.v(v128.load(a + k), bv)); }
    if (i < n) { const k = <usize>i << 2; storeTailI(o + k, op.v(loadTailI(a + k, n - i), bv), n - i); }
  } else if (sb != 0) {
    const av = v128.load32_splat(a);
    for (; i + 8 <= n; i += 8) {
      const k = <usize>i << 2;
      v128.store(o + k, op.v(av, v128.load(b + k)));
      v128.store(o + k, op.v(av, v128.load(b + k, 16)), 16);
    }
    for (; i + 4 <= n; i += 4) { const k = <usize>i << 2; v128.store(o + k, op.v(av, v128.load(b + k))); }
    if (i < n) { const k = <usize>i << 2; storeTailI(o + k, op.v(av, loadTailI(b + k, n - i)), n - i); }
  } else {
    const v = op.v(v128.load32_splat(a), v128.load32_splat(b));
    for (; i + 4 <= n; i += 4) v128.store(o + (<usize>i << 2), v);
    for (; i < n; i++) store<i32>(o + (<usize>i << 2), i32x4.extract_lane(v, 0));
  }
}

function binRowF32(op: i32, a: usize, sa: i32, b: usize, sb: i32, o: usize, n: i32): void {
  switch (op) {
    case B_ADD: binRow<BAdd>(a, sa, b, sb, o, n); break;
    case B_SUB: binRow<BSub>(a, sa, b, sb, o, n); break;
    case B_MUL: binRow<BMul>(a, sa, b, sb, o, n); break;
    case B_DIV: binRow<BDiv>(a, sa, b, sb, o, n); break;
    case B_POW: binRow<BPow>(a, sa, b, sb, o, n); break;
    case B_MAX: binRow<BMax>(a, sa, b, sb, o, n); break;
    case B_MIN: binRow<BMin>(a, sa, b, sb, o, n); break;
    case B_MOD: binRow<BMod>(a, sa, b, sb, o, n); break;
    case B_ATAN2: binRow<BAtan2>(a, sa, b, sb, o, n); break;
    case B_AND: binRow<BAndF>(a, sa, b, sb, o, n); break;
    case B_OR: binRow<BOrF>(a, sa, b, sb, o, n); break;
    default: unreachable();
  }
}

/** ToInt32 of a float64 (wraps modulo 2^32; NaN and ±Inf give 0). */
@inline export function toInt32Wrap(r: f64): i32 {
  if (!isFinite(r)) return 0;
  r = Math.trunc(r);
  r = r - Math.floor(r * 2.3283064365386963e-10) * 4294967296.0;
  return <i32>(<u32>r);
}

function binScalarI32(op: i32, x: i32, y: i32): i32 {
  switch (op) {
    case B_DIV: {
      if (y == 0) return 0;
      if (y == -1) return -x;
      let q = x / y;
      if ((x % y != 0) && ((x ^ y) < 0)) q -= 1;
      return q;
    }
    case B_MOD: {
      if (y == 0) return 0;
      let r = x % y;
      if (r != 0 && ((r ^ y) < 0)) r += y;
      return r;
    }
    case B_POW: return toInt32Wrap(jsPow(<f64>x, <f64>y));
    case B_ATAN2: return toInt32Wrap(Math.atan2(<f64>x, <f64>y));
    default: return 0;
  }
}

function binRowI32(op: i32, a: usize, sa: i32, b: usize, sb: i32, o: usize, n: i32): void {
  switch (op) {
    case B_ADD: binRow<IAdd>(a, sa, b, sb, o, n); return;
    case B_SUB: binRow<ISub>(a, sa, b, sb, o, n); return;
    case B_MUL: binRow<IMul>(a, sa, b, sb, o, n); return;
    case B_MAX: binRow<IMax>(a, sa, b, sb, o, n); return;
    case B_MIN: binRow<IMin>(a, sa, b, sb, o, n); return;
    case B_AND: binRow<IAnd>(a, sa, b, sb, o, n); return;
    case B_OR: binRow<IOr>(a, sa, b, sb, o, n); return;
  }
  for (let i = 0; i < n; i++) {
    store<i32>(o + (<usize>i << 2), binScalarI32(op, load<i32>(at(a, i, sa, 2)), load<i32>(at(b, i, sb, 2))));
  }
}

function binRowU8(op: i32, a: usize, sa: i32, b: usize, sb: i32, o: usize, n: i32): void {
  // and/min/mul: and; or/max/add: or; sub: xor
  const kind = (op == B_AND || op == B_MIN || op == B_MUL) ? 0 : (op == B_SUB ? 2 : 1);
  let i = 0;
  if (sa == 1 && sb == 1) {
    const z = i8x16.splat(0), one = i8x16.splat(1);
    for (; i + 16 <= n; i += 16) {
      const x = v128.not(i8x16.eq(v128.load(a + <usize>i), z));
      const y = v128.not(i8x16.eq(v128.load(b + <usize>i), z));
      const r = kind == 0 ? v128.and(x, y) : kind == 1 ? v128.or(x, y) : v128.xor(x, y);
      v128.store(o + <usize>i, v128.and(r, one));
    }
  }
  for (; i < n; i++) {
    const x = load<u8>(a + <usize>(i * sa)) != 0, y = load<u8>(b + <usize>(i * sb)) != 0;
    store<u8>(o + <usize>i, <u8>(kind == 0 ? (x && y) : kind == 1 ? (x || y) : (x != y)));
  }
}

function binaryRows(op: i32, dt: i32, r0: i32, r1: i32, C: i32, a: usize, ars: i32, acs: i32, b: usize, brs: i32, bcs: i32, o: usize): void {
  const sh = dt == 2 ? 0 : 2;
  for (let r = r0; r < r1; r++) {
    const ar = at(a, r, ars, sh), br = at(b, r, brs, sh), or = o + (<usize>(r * C) << sh);
    if (dt == 0) binRowF32(op, ar, acs, br, bcs, or, C);
    else if (dt == 1) binRowI32(op, ar, acs, br, bcs, or, C);
    else binRowU8(op, ar, acs, br, bcs, or, C);
  }
}

export function binary(op: i32, dt: i32, R: i32, C: i32, a: usize, ars: i32, acs: i32, b: usize, brs: i32, bcs: i32, o: usize): void {
  binaryRows(op, dt, 0, R, C, a, ars, acs, b, brs, bcs, o);
}
/** [op, dt, r0, r1, C, a, ars, acs, b, brs, bcs, o] */
export function binary_p(p: usize): void {
  binaryRows(arg(p, 0), arg(p, 1), arg(p, 2), arg(p, 3), arg(p, 4), arg(p, 5), arg(p, 6), arg(p, 7),
    arg(p, 8), arg(p, 9), arg(p, 10), arg(p, 11));
}

// ---------------------------------------------------------------------------------- compare

export const C_EQ = 0, C_NE = 1, C_LT = 2, C_LE = 3, C_GT = 4, C_GE = 5;

@inline function cmpF(op: i32, a: v128, b: v128): v128 {
  switch (op) {
    case C_EQ: return f32x4.eq(a, b);
    case C_NE: return f32x4.ne(a, b);
    case C_LT: return f32x4.lt(a, b);
    case C_LE: return f32x4.le(a, b);
    case C_GT: return f32x4.gt(a, b);
    default: return f32x4.ge(a, b);
  }
}
@inline function cmpI(op: i32, a: v128, b: v128): v128 {
  switch (op) {
    case C_EQ: return i32x4.eq(a, b);
    case C_NE: return i32x4.ne(a, b);
    case C_LT: return i32x4.lt_s(a, b);
    case C_LE: return i32x4.le_s(a, b);
    case C_GT: return i32x4.gt_s(a, b);
    default: return i32x4.ge_s(a, b);
  }
}
@inline function cmpB(op: i32, a: v128, b: v128): v128 {
  switch (op) {
    case C_EQ: return i8x16.eq(a, b);
    case C_NE: return i8x16.ne(a, b);
    case C_LT: return i8x16.lt_u(a, b);
    case C_LE: return i8x16.le_u(a, b);
    case C_GT: return i8x16.gt_u(a, b);
    default: return i8x16.ge_u(a, b);
  }
}
@inline function cmpScalar(op: i32, x: f64, y: f64): bool {
  switch (op) {
    case C_EQ: return x == y;
    case C_NE: return x != y;
    case C_LT: return x < y;
    case C_LE: return x <= y;
    case C_GT: return x > y;
    default: return x >= y;
  }
}
@inline function narrowMasks(m0: v128, m1: v128, m2: v128, m3: v128): v128 {
  return v128.and(i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(m0, m1), i16x8.narrow_i32x4_s(m2, m3)), i8x16.splat(1));
}
@inline function ld(p: usize, s: i32, off: usize): v128 {
  return s != 0 ? v128.load(p + off) : v128.load32_splat(p);
}

function cmpRow(op: i32, dt: i32, a: usize, sa: i32, b: usize, sb: i32, o: usize, n: i32): void {
  let i = 0;
  if (dt == 0) {
    for (; i + 16 <= n; i += 16) {
      const k = <usize>i << 2, ka = sa != 0 ? k : 0, kb = sb != 0 ? k : 0;
      const m0 = cmpF(op, ld(a, sa, ka), ld(b, sb, kb));
      const m1 = cmpF(op, ld(a, sa, ka + 16), ld(b, sb, kb + 16));
      const m2 = cmpF(op, ld(a, sa, ka + 32), ld(b, sb, kb + 32));
      const m3 = cmpF(op, ld(a, sa, ka + 48), ld(b, sb, kb + 48));
      v128.store(o + <usize>i, narrowMasks(m0, m1, m2, m3));
    }
    for (; i < n; i++) {
      store<u8>(o + <usize>i, <u8>cmpScalar(op, <f64>load<f32>(at(a, i, sa, 2)), <f64>load<f32>(at(b, i, sb, 2))));
    }
  } else if (dt == 1) {
    for (; i + 16 <= n; i += 16) {
      const k = <usize>i << 2, ka = sa != 0 ? k : 0, kb = sb != 0 ? k : 0;
      const m0 = cmpI(op, ld(a, sa, ka), ld(b, sb, kb));
      const m1 = cmpI(op, ld(a, sa, ka + 16), ld(b, sb, kb + 16));
      const m2 = cmpI(op, ld(a, sa, ka + 32), ld(b, sb, kb + 32));
      const m3 = cmpI(op, ld(a, sa, ka + 48), ld(b, sb, kb + 48));
      v128.store(o + <usize>i, narrowMasks(m0, m1, m2, m3));
    }
    for (; i < n; i++) {
      store<u8>(o + <usize>i, <u8>cmpScalar(op, <f64>load<i32>(at(a, i, sa, 2)), <f64>load<i32>(at(b, i, sb, 2))));
    }
  } else {
    for (; i + 16 <= n; i += 16) {
      const av = sa != 0 ? v128.load(a + <usize>i) : v128.load8_splat(a);
      const bv = sb != 0 ? v128.load(b + <usize>i) : v128.load8_splat(b);
      v128.store(o + <usize>i, v128.and(cmpB(op, av, bv), i8x16.splat(1)));
    }
    for (; i < n; i++) {
      store<u8>(o + <usize>i, <u8>cmpScalar(op, <f64>load<u8>(a + <usize>(i * sa)), <f64>load<u8>(b + <usize>(i * sb))));
    }
  }
}

function compareRows(op: i32, dt: i32, r0: i32, r1: i32, C: i32, a: usize, ars: i32, acs: i32, b: usize, brs: i32, bcs: i32, o: usize): void {
  const sh = dt == 2 ? 0 : 2;
  for (let r = r0; r < r1; r++) {
    cmpRow(op, dt, at(a, r, ars, sh), acs, at(b, r, brs, sh), bcs, o + <usize>(r * C), C);
  }
}
export function compare(op: i32, dt: i32, R: i32, C: i32, a: usize, ars: i32, acs: i32, b: usize, brs: i32, bcs: i32, o: usize): void {
  compareRows(op, dt, 0, R, C, a, ars, acs, b, brs, bcs, o);
}
/** [op, dt, r0, r1, C, a, ars, acs, b, brs, bcs, o] */
export function compare_p(p: usize): void {
  compareRows(arg(p, 0), arg(p, 1), arg(p, 2), arg(p, 3), arg(p, 4), arg(p, 5), arg(p, 6), arg(p, 7),
    arg(p, 8), arg(p, 9), arg(p, 10), arg(p, 11));
}

// ---------------------------------------------------------------------------------- where

function whereRow(sh: i32, c: usize, sc: i32, a: usize, sa: i32, b: usize, sb: i32, o: usize, n: i32): void {
  if (sc == 0) {
    // one condition for the whole row: copy (or broadcast) one side
    const src = load<u8>(c) != 0 ? a : b, s = load<u8>(c) != 0 ? sa : sb;
    if (s != 0) memory.copy(o, src, <usize>n << sh);
    else if (sh == 2) fill32(o, n, load<i32>(src));
    else memory.fill(o, load<u8>(src), <usize>n);
    return;
  }
  let i = 0;
  if (sh == 2) {
    for (; i + 4 <= n; i += 4) {
      const k = <usize>i << 2;
      const m = v128.not(i32x4.eq(i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(v128.load32_zero(c + <usize>i))), isplat(0)));
      v128.store(o + k, v128.bitselect(ld(a, sa, sa != 0 ? k : 0), ld(b, sb, sb != 0 ? k : 0), m));
    }
    for (; i < n; i++) {
      store<i32>(o + (<usize>i << 2), load<u8>(c + <usize>i) != 0 ? load<i32>(at(a, i, sa, 2)) : load<i32>(at(b, i, sb, 2)));
    }
  } else {
    for (; i < n; i++) {
      store<u8>(o + <usize>i, load<u8>(c + <usize>i) != 0 ? load<u8>(a + <usize>(i * sa)) : load<u8>(b + <usize>(i * sb)));
    }
  }
}

function whereRows(sh: i32, r0: i32, r1: i32, C: i32, c: usize, crs: i32, ccs: i32, a: usize, ars: i32, acs: i32, b: usize, brs: i32, bcs: i32, o: usize): void {
  for (let r = r0; r < r1; r++) {
    whereRow(sh, at(c, r, crs, 0), ccs, at(a, r, ars, sh), acs, at(b, r, brs, sh), bcs, o + (<usize>(r * C) << sh), C);
  }
}
/** [sh, r0, r1, C, c, crs, ccs, a, ars, acs, b, brs, bcs, o] */
export function where_p(p: usize): void {
  whereRows(arg(p, 0), arg(p, 1), arg(p, 2), arg(p, 3), arg(p, 4), arg(p, 5), arg(p, 6), arg(p, 7),
    arg(p, 8), arg(p, 9), arg(p, 10), arg(p, 11), arg(p, 12), arg(p, 13));
}

// ---------------------------------------------------------------------------------- cast

export const K_F2I = 0, K_I2F = 1, K_F2B = 2, K_I2B = 3, K_B2F = 4, K_B2I = 5;

/** Contiguous conversion of n elements. */
export function cast(kind: i32, x: usize, o: usize, n: i32): void {
  let i = 0;
  switch (kind) {
    case K_F2I:
      for (; i + 4 <= n; i += 4) v128.store(o + (<usize>i << 2), i32x4.trunc_sat_f32x4_s(v128.load(x + (<usize>i << 2))));
      for (; i < n; i++) store<i32>(o + (<usize>i << 2), i32x4.extract_lane(i32x4.trunc_sat_f32x4_s(v128.load32_splat(x + (<usize>i << 2))), 0));
      return;
    case K_I2F:
      for (; i + 4 <= n; i += 4) v128.store(o + (<usize>i << 2), f32x4.convert_i32x4_s(v128.load(x + (<usize>i << 2))));
      for (; i < n; i++) store<f32>(o + (<usize>i << 2), <f32>load<i32>(x + (<usize>i << 2)));
      return;
    case K_F2B:
    case K_I2B: {
      const f = kind == K_F2B;
      for (; i + 16 <= n; i += 16) {
        const k = x + (<usize>i << 2);
        const z = isplat(0);
        let m0: v128, m1: v128, m2: v128, m3: v128;
        if (f) {
          m0 = f32x4.ne(v128.load(k), z); m1 = f32x4.ne(v128.load(k, 16), z);
          m2 = f32x4.ne(v128.load(k, 32), z); m3 = f32x4.ne(v128.load(k, 48), z);
        } else {
          m0 = i32x4.ne(v128.load(k), z); m1 = i32x4.ne(v128.load(k, 16), z);
          m2 = i32x4.ne(v128.load(k, 32), z); m3 = i32x4.ne(v128.load(k, 48), z);
        }
        v128.store(o + <usize>i, narrowMasks(m0, m1, m2, m3));
      }
      for (; i < n; i++) {
        const nz = f ? load<f32>(x + (<usize>i << 2)) != 0 : load<i32>(x + (<usize>i << 2)) != 0;
        store<u8>(o + <usize>i, <u8>nz);
      }
      return;
    }
    default: {
      const f = kind == K_B2F;
      for (; i + 4 <= n; i += 4) {
        const v = i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(v128.load32_zero(x + <usize>i)));
        v128.store(o + (<usize>i << 2), f ? f32x4.convert_i32x4_s(v) : v);
      }
      for (; i < n; i++) {
        const v = <i32>load<u8>(x + <usize>i);
        if (f) store<f32>(o + (<usize>i << 2), <f32>v);
        else store<i32>(o + (<usize>i << 2), v);
      }
    }
  }
}
/** [kind, x, o, n] */
export function cast_p(p: usize): void {
  cast(arg(p, 0), arg(p, 1), arg(p, 2), arg(p, 3));
}
