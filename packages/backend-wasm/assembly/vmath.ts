// SIMD (f32x4) math shared by the kernels: exp, expm1, log, log1p, tanh, sigmoid, erf, sin,
// cos and the fused-epilogue activations. Every function is exact on the IEEE specials it is
// defined for: NaN propagates, ±Inf give the limits, ±0 and denormals keep their sign and
// relative accuracy. Errors (vs. float64) are a few float32 ulps; erf about 2e-7 absolute.

@inline export function splat(x: f32): v128 { return f32x4.splat(x); }
@inline export function isplat(x: i32): v128 { return i32x4.splat(x); }
@inline function fadd(a: v128, b: v128): v128 { return f32x4.add(a, b); }
@inline function fsub(a: v128, b: v128): v128 { return f32x4.sub(a, b); }
@inline function fmul(a: v128, b: v128): v128 { return f32x4.mul(a, b); }
/** a*b + c */
@inline function fma(a: v128, b: v128, c: v128): v128 { return f32x4.add(f32x4.mul(a, b), c); }
/** Lanes of `a` where `mask`, else lanes of `b`. */
@inline export function sel(mask: v128, a: v128, b: v128): v128 { return v128.bitselect(a, b, mask); }

const SIGN: i32 = 0x80000000;

/** e^x. Overflows to +Inf above ln(FLT_MAX), underflows gradually to 0. */
@inline export function vexp(x0: v128): v128 {
  // Clamp keeps 2^n representable in two steps; min/max propagate NaN.
  const x = f32x4.min(f32x4.max(x0, splat(-104.0)), splat(89.0));
  const fx = f32x4.nearest(fmul(x, splat(1.44269504088896341)));
  let r = fsub(x, fmul(fx, splat(0.693359375)));
  r = fsub(r, fmul(fx, splat(-2.12194440e-4)));
  const z = fmul(r, r);
  let y = fma(splat(1.9875691500e-4), r, splat(1.3981999507e-3));
  y = fma(y, r, splat(8.3334519073e-3));
  y = fma(y, r, splat(4.1665795894e-2));
  y = fma(y, r, splat(1.6666665459e-1));
  y = fma(y, r, splat(5.0000001201e-1));
  y = fadd(fma(y, z, r), splat(1.0));
  const n = i32x4.trunc_sat_f32x4_s(fx);
  const n1 = i32x4.shr_s(n, 1);
  const n2 = i32x4.sub(n, n1);
  const p1 = i32x4.shl(i32x4.add(n1, isplat(127)), 23);
  const p2 = i32x4.shl(i32x4.add(n2, isplat(127)), 23);
  return fmul(fmul(y, p1), p2);
}

/** e^x − 1, accurate for tiny |x| (keeps −0). */
@inline export function vexpm1(x: v128): v128 {
  // |x| < 0.5: Taylor to x^8 (error < 1e-8 relative); otherwise exp(x) − 1.
  let p = fma(splat(2.48015873e-5), x, splat(1.98412698e-4));
  p = fma(p, x, splat(1.38888889e-3));
  p = fma(p, x, splat(8.33333333e-3));
  p = fma(p, x, splat(4.16666667e-2));
  p = fma(p, x, splat(1.66666667e-1));
  p = fma(p, x, splat(0.5));
  const small = fma(fmul(p, x), x, x);
  const big = fsub(vexp(x), splat(1.0));
  return sel(f32x4.lt(f32x4.abs(x), splat(0.5)), small, big);
}

/** Natural log: −Inf at ±0, NaN below 0, exact handling of denormals and +Inf. */
@inline export function vlog(x0: v128): v128 {
  const den = f32x4.lt(x0, splat(1.17549435e-38));
  const x = sel(den, fmul(x0, splat(8388608.0)), x0);
  let e = i32x4.sub(v128.and(i32x4.shr_u(x, 23), isplat(0xff)), isplat(126));
  e = i32x4.sub(e, v128.and(den, isplat(23)));
  let m = v128.or(v128.and(x, isplat(0x007fffff)), isplat(0x3f000000));
  const lt = f32x4.lt(m, splat(0.707106781186547524));
  e = i32x4.add(e, lt);
  m = fsub(fadd(m, v128.and(m, lt)), splat(1.0));
  const ef = f32x4.convert_i32x4_s(e);
  const z = fmul(m, m);
  let y = fma(splat(7.0376836292e-2), m, splat(-1.1514610310e-1));
  y = fma(y, m, splat(1.1676998740e-1));
  y = fma(y, m, splat(-1.2420140846e-1));
  y = fma(y, m, splat(1.4249322787e-1));
  y = fma(y, m, splat(-1.6668057665e-1));
  y = fma(y, m, splat(2.0000714765e-1));
  y = fma(y, m, splat(-2.4999993993e-1));
  y = fma(y, m, splat(3.3333331174e-1));
  y = fmul(fmul(y, m), z);
  y = fma(ef, splat(-2.12194440e-4), y);
  y = fma(z, splat(-0.5), y);
  let r = fadd(m, y);
  r = fma(ef, splat(0.693359375), r);
  r = sel(f32x4.eq(x0, splat(Infinity)), splat(Infinity), r);
  r = sel(f32x4.eq(x0, splat(0.0)), splat(-Infinity), r);
  r = sel(v128.or(f32x4.lt(x0, splat(0.0)), f32x4.ne(x0, x0)), splat(NaN), r);
  return r;
}

/** log(1 + x), accurate for tiny |x|: log(u)·x/(u−1) with u = 1 + x. */
@inline export function vlog1p(x: v128): v128 {
  const u = fadd(x, splat(1.0));
  const um1 = fsub(u, splat(1.0));
  const l = vlog(u);
  let r = fmul(l, f32x4.div(x, um1));
  r = sel(f32x4.eq(um1, splat(0.0)), x, r);
  r = sel(f32x4.eq(x, splat(Infinity)), x, r);
  // u = 0 (x = −1) or u < 0: log gives −Inf / NaN directly.
  r = sel(f32x4.le(u, splat(0.0)), l, r);
  return r;
}

/** tanh: odd polynomial below |x| = 0.625, 1 − 2/(e^{2|x|} + 1) above (±1 at ±Inf). */
@inline export function vtanh(x: v128): v128 {
  const ax = f32x4.abs(x);
  const z = fmul(x, x);
  let p = fma(splat(-5.70498872745e-3), z, splat(2.06390887954e-2));
  p = fma(p, z, splat(-5.37397155531e-2));
  p = fma(p, z, splat(1.33314422036e-1));
  p = fma(p, z, splat(-3.33332819422e-1));
  const small = fma(fmul(p, z), x, x);
  const e = vexp(fadd(ax, ax));
  let big = fsub(splat(1.0), f32x4.div(splat(2.0), fadd(e, splat(1.0))));
  big = v128.or(big, v128.and(x, isplat(SIGN)));
  return sel(f32x4.lt(ax, splat(0.625)), small, big);
}

/** 1 / (1 + e^{−x}): 0 at −Inf, 1 at +Inf. */
@inline export function vsigmoid(x: v128): v128 {
  return f32x4.div(splat(1.0), fadd(splat(1.0), vexp(f32x4.neg(x))));
}

/** erf: Maclaurin series below |x| = 0.5, Abramowitz–Stegun 7.1.26 above (abs. error 1.5e-7). */
@inline export function verf(x: v128): v128 {
  const ax = f32x4.abs(x);
  const z = fmul(x, x);
  // 2/√π · Σ_{n≤6} (−1)^n x^{2n+1} / (n!(2n+1))
  let p = fma(splat(1.2055332981789664e-4), z, splat(-8.548327023450852e-4));
  p = fma(p, z, splat(5.223977625442188e-3));
  p = fma(p, z, splat(-2.6866170645131252e-2));
  p = fma(p, z, splat(1.1283791670955126e-1));
  p = fma(p, z, splat(-3.7612638903183754e-1));
  p = fma(p, z, splat(1.1283791670955126));
  const small = fmul(p, x);
  const t = f32x4.div(splat(1.0), fma(splat(0.3275911), ax, splat(1.0)));
  let q = fma(splat(1.061405429), t, splat(-1.453152027));
  q = fma(q, t, splat(1.421413741));
  q = fma(q, t, splat(-0.284496736));
  q = fma(q, t, splat(0.254829592));
  q = fmul(q, t);
  let big = fsub(splat(1.0), fmul(q, vexp(f32x4.neg(fmul(ax, ax)))));
  big = v128.or(big, v128.and(x, isplat(SIGN)));
  return sel(f32x4.lt(ax, splat(0.5)), small, big);
}

// sin/cos: Cephes range reduction by π/4 (three-part constant), exact for |x| < 8192; larger
// lanes (and ±Inf, NaN) are recomputed by the scalar float64 routines.
const FOPI: f32 = 1.27323954473516;
const DP1: f32 = 0.78515625;
const DP2: f32 = 2.4187564849853515625e-4;
const DP3: f32 = 3.77489497744594108e-8;

@inline function sinPoly(x: v128, z: v128): v128 {
  let y = fma(splat(-1.9515295891e-4), z, splat(8.3321608736e-3));
  y = fma(y, z, splat(-1.6666654611e-1));
  return fma(fmul(y, z), x, x);
}
@inline function cosPoly(z: v128): v128 {
  let y = fma(splat(2.443315711809948e-5), z, splat(-1.388731625493765e-3));
  y = fma(y, z, splat(4.166664568298827e-2));
  y = fmul(fmul(y, z), z);
  y = fma(z, splat(-0.5), y);
  return fadd(y, splat(1.0));
}

function scalarFix(x: v128, r: v128, cosine: bool): v128 {
  for (let i = 0; i < 4; i++) {
    // lane access needs constants: unrolled through a switch
    let v: f32;
    switch (i) {
      case 0: v = f32x4.extract_lane(x, 0); break;
      case 1: v = f32x4.extract_lane(x, 1); break;
      case 2: v = f32x4.extract_lane(x, 2); break;
      default: v = f32x4.extract_lane(x, 3);
    }
    if (!(Mathf.abs(v) < 8192.0)) {
      const s = <f32>(cosine ? Math.cos(<f64>v) : Math.sin(<f64>v));
      switch (i) {
        case 0: r = f32x4.replace_lane(r, 0, s); break;
        case 1: r = f32x4.replace_lane(r, 1, s); break;
        case 2: r = f32x4.replace_lane(r, 2, s); break;
        default: r = f32x4.replace_lane(r, 3, s);
      }
    }
  }
  return r;
}

@inline export function vsin(x0: v128): v128 {
  let sign = v128.and(x0, isplat(SIGN));
  let x = f32x4.abs(x0);
  let j = i32x4.trunc_sat_f32x4_s(fmul(x, splat(FOPI)));
  j = v128.and(i32x4.add(j, isplat(1)), isplat(~1));
  const y = f32x4.convert_i32x4_s(j);
  sign = v128.xor(sign, i32x4.shl(v128.and(j, isplat(4)), 29));
  const polyMask = i32x4.eq(v128.and(j, isplat(2)), isplat(0));
  x = fsub(x, fmul(y, splat(DP1)));
  x = fsub(x, fmul(y, splat(DP2)));
  x = fsub(x, fmul(y, splat(DP3)));
  const z = fmul(x, x);
  let r = sel(polyMask, sinPoly(x, z), cosPoly(z));
  r = v128.xor(r, sign);
  if (v128.any_true(v128.not(f32x4.lt(f32x4.abs(x0), splat(8192.0))))) r = scalarFix(x0, r, false);
  return r;
}

@inline export function vcos(x0: v128): v128 {
  let x = f32x4.abs(x0);
  let j = i32x4.trunc_sat_f32x4_s(fmul(x, splat(FOPI)));
  j = v128.and(i32x4.add(j, isplat(1)), isplat(~1));
  const y = f32x4.convert_i32x4_s(j);
  j = i32x4.sub(j, isplat(2));
  const sign = i32x4.shl(v128.andnot(isplat(4), j), 29);
  const polyMask = i32x4.eq(v128.and(j, isplat(2)), isplat(0));
  x = fsub(x, fmul(y, splat(DP1)));
  x = fsub(x, fmul(y, splat(DP2)));
  x = fsub(x, fmul(y, splat(DP3)));
  const z = fmul(x, x);
  let r = sel(polyMask, sinPoly(x, z), cosPoly(z));
  r = v128.xor(r, sign);
  if (v128.any_true(v128.not(f32x4.lt(f32x4.abs(x0), splat(8192.0))))) r = scalarFix(x0, r, true);
  return r;
}

/** Exact GELU x·Φ(x) = 0.5·x·(1 + erf(x/√2)). */
@inline export function vgelu(x: v128): v128 {
  return fmul(fmul(splat(0.5), x), fadd(splat(1.0), verf(fmul(x, splat(0.7071067811865476)))));
}

// Activation codes (the Activation union of the contract, in order).
export const ACT_LINEAR: i32 = 0;
export const ACT_RELU: i32 = 1;
export const ACT_SIGMOID: i32 = 2;
export const ACT_TANH: i32 = 3;
export const ACT_GELU: i32 = 4;

@inline export function vact(v: v128, act: i32): v128 {
  switch (act) {
    case ACT_RELU: return sel(f32x4.lt(v, splat(0.0)), splat(0.0), v);
    case ACT_SIGMOID: return vsigmoid(v);
    case ACT_TANH: return vtanh(v);
    case ACT_GELU: return vgelu(v);
    default: return v;
  }
}

/** Loads `n` (< 4) floats into the low lanes of a vector (other lanes 0). */
@inline export function loadTail(p: usize, n: i32): v128 {
  let v = f32x4.splat(0);
  v = f32x4.replace_lane(v, 0, load<f32>(p));
  if (n > 1) v = f32x4.replace_lane(v, 1, load<f32>(p, 4));
  if (n > 2) v = f32x4.replace_lane(v, 2, load<f32>(p, 8));
  return v;
}
/** Stores the low `n` (< 4) lanes of a vector. */
@inline export function storeTail(p: usize, v: v128, n: i32): void {
  store<f32>(p, f32x4.extract_lane(v, 0));
  if (n > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
  if (n > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
}
