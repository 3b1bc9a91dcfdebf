/**
 * WGSL building blocks: the uniform/binding header every kernel shares, and a library of
 * float32/int32 helpers with the semantics the contract fixes (NaN propagation, floored
 * division, saturating casts, half-to-even rounding). WGSL leaves NaN/Inf behaviour and the
 * accuracy of several builtins to the implementation, so everything that matters here is
 * explicit: NaN tests are bit tests, and sin/cos/atan/erf/expm1/log1p are our own
 * polynomials (≈ 1e-7 relative) rather than the builtins (WGSL allows 2⁻¹¹ absolute for sin).
 * @module
 */
import type { DType } from '@tessera/core';
import type { Access } from './runtime.js';

/** WGSL scalar type of each dtype's storage (bool is a u32 word). */
export type Ty = 'f32' | 'i32' | 'u32';

/** Storage type of a dtype. @example tyOf('bool'); // 'u32' */
export function tyOf(d: DType): Ty {
  return d === 'float32' ? 'f32' : d === 'int32' ? 'i32' : 'u32';
}

/** A storage binding of a kernel. */
export interface BindingDecl {
  name: string;
  ty: Ty | `atomic<${'i32' | 'u32'}>`;
  access: Access;
}

/**
 * The shared header: the uniform block `P` (read with `pu/pi/pf(word)`), storage bindings
 * 1..n in order, and the requested library functions.
 */
export function header(words: number, bindings: readonly BindingDecl[], lib: readonly string[] = []): string {
  const vec4s = Math.max(1, Math.ceil(words / 4));
  const lines = [
    `struct Params { w: array<vec4<u32>, ${vec4s}> }`,
    '@group(0) @binding(0) var<uniform> PRM: Params;',
    'fn pu(i: u32) -> u32 { return PRM.w[i >> 2u][i & 3u]; }',
    'fn pi(i: u32) -> i32 { return bitcast<i32>(pu(i)); }',
    'fn pf(i: u32) -> f32 { return bitcast<f32>(pu(i)); }',
  ];
  bindings.forEach((b, i) => {
    lines.push(`@group(0) @binding(${i + 1}) var<storage, ${b.access === 'r' ? 'read' : 'read_write'}> ${b.name}: array<${b.ty}>;`);
  });
  lines.push(library(lib));
  return lines.join('\n');
}

/** Access list of a binding list (for the pipeline layout). */
export function accessOf(bindings: readonly BindingDecl[]): Access[] {
  return bindings.map((b) => b.access);
}

/** `@compute` entry point with a linear workgroup index `g` and local index `lid`. */
export function entry(wg: number, body: string): string {
  return `@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let g = wid.x + wid.y * nwg.x;
${body}
}`;
}

const LIB: Record<string, { deps: string[]; code: string }> = {
  consts: {
    deps: [],
    // Private variables, so that NaN and Inf are runtime values (const NaN is a WGSL error).
    code: `var<private> K_NAN: u32 = 0x7fc00000u;
var<private> K_INF: u32 = 0x7f800000u;
fn nan_f() -> f32 { return bitcast<f32>(K_NAN); }
fn inf_f() -> f32 { return bitcast<f32>(K_INF); }
fn is_nan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
fn is_inf(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) == 0x7f800000u; }
fn is_fin(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) < 0x7f800000u; }
fn signbit(x: f32) -> bool { return (bitcast<u32>(x) & 0x80000000u) != 0u; }
fn copysign_f(m: f32, s: f32) -> f32 { return bitcast<f32>((bitcast<u32>(m) & 0x7fffffffu) | (bitcast<u32>(s) & 0x80000000u)); }
fn nz_f(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) != 0u; }
fn exp_f(x: f32) -> f32 { if (is_nan(x)) { return x; } return exp(x); }
const I32_MIN: i32 = -2147483647 - 1;`,
  },
  f2i: {
    deps: ['consts'],
    code: `fn f2i(x: f32) -> i32 {
  if (is_nan(x)) { return 0; }
  if (x >= 2147483648.0) { return 2147483647; }
  if (x <= -2147483648.0) { return I32_MIN; }
  return i32(x);
}`,
  },
  i2f: {
    deps: [],
    // Exact halves, one rounding: correctly rounded like a Float32Array store.
    code: `fn i2f(x: i32) -> f32 { return f32(x >> 16u) * 65536.0 + f32(x & 0xffff); }`,
  },
  div_f: {
    deps: ['consts'],
    code: `fn div_f(a: f32, b: f32) -> f32 {
  if (b == 0.0) {
    if (a == 0.0 || is_nan(a)) { return nan_f(); }
    return bitcast<f32>(K_INF | ((bitcast<u32>(a) ^ bitcast<u32>(b)) & 0x80000000u));
  }
  return a / b;
}`,
  },
  max_f: {
    deps: ['consts'],
    code: `fn max_f(a: f32, b: f32) -> f32 { if (is_nan(a) || is_nan(b)) { return nan_f(); } return max(a, b); }
fn min_f(a: f32, b: f32) -> f32 { if (is_nan(a) || is_nan(b)) { return nan_f(); } return min(a, b); }`,
  },
  // Sign-bit and exponent tests instead of float compares, and subnormals decoded from their
  // bits (m · 2^-149) and rescaled in the exponent field: exact also where the driver flushes subnormals
  // to zero in arithmetic (SwiftShader does; WGSL allows it).
  bitops: {
    deps: ['consts'],
    code: `fn is_sub(x: f32) -> bool { let b = bitcast<u32>(x); return (b & 0x7f800000u) == 0u && (b & 0x007fffffu) != 0u; }
fn sub_mant(x: f32) -> f32 { return f32(bitcast<u32>(x) & 0x007fffffu); }
fn exp_shift(x: f32, k: i32) -> f32 { return bitcast<f32>(bitcast<i32>(x) + (k << 23u)); }
fn neg_f(x: f32) -> f32 { return bitcast<f32>(bitcast<u32>(x) ^ 0x80000000u); }
fn abs_f(x: f32) -> f32 { return bitcast<f32>(bitcast<u32>(x) & 0x7fffffffu); }
fn sign_f(x: f32) -> f32 { if (!nz_f(x) || is_nan(x)) { return x; } return select(1.0, -1.0, signbit(x)); }
fn relu_f(x: f32) -> f32 { if (signbit(x) && nz_f(x) && !is_nan(x)) { return 0.0; } return x; }
fn floor_f(x: f32) -> f32 { if (is_sub(x)) { return select(0.0, -1.0, signbit(x)); } return floor(x); }
fn ceil_f(x: f32) -> f32 { if (is_sub(x)) { return select(1.0, -0.0, signbit(x)); } return ceil(x); }
fn recip_f(x: f32) -> f32 {
  if (!nz_f(x)) { return copysign_f(inf_f(), x); }
  if (is_sub(x)) {
    let y = 1.0 / sub_mant(x);
    if (((bitcast<u32>(y) >> 23u) & 0xffu) + 149u > 254u) { return copysign_f(inf_f(), x); }
    return copysign_f(exp_shift(y, 149), x);
  }
  return 1.0 / x;
}`,
  },
  expm1_f: {
    deps: ['consts'],
    code: `fn expm1_f(x: f32) -> f32 {
  if (abs(x) < 0.5) {
    return x * (1.0 + x * (0.5 + x * (0.16666666666666666 + x * (0.041666666666666664 + x * (0.008333333333333333
      + x * (0.001388888888888889 + x * (0.0001984126984126984 + x * (2.48015873015873e-05 + x * 2.7557319223985893e-06))))))));
  }
  return exp_f(x) - 1.0;
}`,
  },
  log_f: {
    deps: ['consts'],
    // Subnormals are decoded from their bits (m · 2^-149): drivers may flush them.
    code: `fn log_f(x: f32) -> f32 {
  let bits = bitcast<u32>(x);
  if (is_nan(x) || ((bits & 0x80000000u) != 0u && (bits & 0x7fffffffu) != 0u)) { return nan_f(); }
  if ((bits & 0x7fffffffu) == 0u) { return -inf_f(); }
  if (is_inf(x)) { return x; }
  if (bits < 0x00800000u) { return log(f32(bits)) - 103.27892990343184; }
  return log(x);
}`,
  },
  log1p_f: {
    deps: ['consts'],
    code: `fn log1p_f(x: f32) -> f32 {
  if (is_nan(x) || x < -1.0) { return nan_f(); }
  if (x == -1.0) { return -inf_f(); }
  if (is_inf(x)) { return x; }
  if (abs(x) < 0.5) {
    let s = x / (2.0 + x);
    let z = s * s;
    return 2.0 * s * (1.0 + z * (0.3333333333333333 + z * (0.2 + z * (0.14285714285714285 + z * (0.1111111111111111
      + z * (0.09090909090909091 + z * (0.07692307692307693 + z * 0.06666666666666667)))))));
  }
  return log(1.0 + x);
}`,
  },
  sqrt_f: {
    deps: ['consts', 'bitops'],
    code: `fn sqrt_f(x: f32) -> f32 {
  if (is_nan(x)) { return x; }
  if (signbit(x) && nz_f(x)) { return nan_f(); }
  if (is_sub(x)) { return exp_shift(sqrt(2.0 * sub_mant(x)), -75); }
  return sqrt(x);
}
fn rsqrt_f(x: f32) -> f32 {
  if (is_nan(x) || (signbit(x) && nz_f(x))) { return nan_f(); }
  if (!nz_f(x)) { return copysign_f(inf_f(), x); }
  if (is_inf(x)) { return 0.0; }
  if (is_sub(x)) { return exp_shift(1.0 / sqrt(2.0 * sub_mant(x)), 75); }
  return 1.0 / sqrt(x);
}`,
  },
  trig: {
    deps: ['consts'],
    // Cody-Waite reduction by pi/2 (three-part constant) and Cephes' sinf/cosf polynomials.
    code: `fn sincos_q(x: f32, shift: i32) -> f32 {
  if (!is_fin(x)) { return nan_f(); }
  if (abs(x) > 65536.0) { return select(sin(x), cos(x), shift == 1); }
  let q = round(x * 0.6366197723675814);
  var r = x - q * 1.5703125;
  r = r - q * 4.837512969970703125e-4;
  r = r - q * 7.54978995489188216e-8;
  let z = r * r;
  let s = r + r * z * (-1.6666654611e-1 + z * (8.3321608736e-3 + z * -1.9515295891e-4));
  let c = 1.0 - 0.5 * z + z * z * (4.166664568298827e-2 + z * (-1.388731625493765e-3 + z * 2.443315711809948e-5));
  let k = (i32(q) + shift) & 3;
  if (k == 0) { return s; }
  if (k == 1) { return c; }
  if (k == 2) { return -s; }
  return -c;
}
fn sin_f(x: f32) -> f32 { if (x == 0.0) { return x; } return sincos_q(x, 0); }
fn cos_f(x: f32) -> f32 { return sincos_q(x, 1); }`,
  },
  atan_f: {
    deps: ['consts'],
    code: `fn atan_pos(x: f32) -> f32 {
  var y0 = 0.0;
  var t = x;
  if (x > 2.414213562373095) { y0 = 1.5707963267948966; t = -1.0 / x; }
  else if (x > 0.41421356237309503) { y0 = 0.7853981633974483; t = (x - 1.0) / (x + 1.0); }
  let z = t * t;
  return y0 + ((((8.05374449538e-2 * z - 1.38776856032e-1) * z + 1.99777106478e-1) * z - 3.33329491539e-1) * z * t + t);
}
fn atan2_f(y: f32, x: f32) -> f32 {
  if (is_nan(x) || is_nan(y)) { return nan_f(); }
  let pi = 3.141592653589793;
  if (y == 0.0) {
    if (x > 0.0 || (x == 0.0 && !signbit(x))) { return y; }
    return copysign_f(pi, y);
  }
  var r: f32;
  if (is_inf(x)) {
    if (is_inf(y)) { r = select(2.356194490192345, 0.7853981633974483, x > 0.0); }
    else { r = select(pi, 0.0, x > 0.0); }
    return copysign_f(r, y);
  }
  if (is_inf(y) || x == 0.0) { return copysign_f(1.5707963267948966, y); }
  r = atan_pos(abs(y) / abs(x));
  if (x < 0.0) { r = pi - r; }
  return copysign_f(r, y);
}`,
  },
  tanh_f: {
    deps: ['consts', 'expm1_f'],
    code: `fn tanh_f(x: f32) -> f32 {
  let ax = abs(x);
  var r = 1.0;
  if (!(ax > 10.0)) { let e = expm1_f(2.0 * ax); r = e / (e + 2.0); }
  return copysign_f(r, x);
}`,
  },
  sigmoid_f: {
    deps: ['consts'],
    code: `fn sigmoid_f(x: f32) -> f32 {
  if (x >= 0.0) { return 1.0 / (1.0 + exp(-x)); }
  let e = exp_f(x);
  return e / (1.0 + e);
}`,
  },
  erf_f: {
    deps: ['consts'],
    // Series below |x| = 2, Laplace's continued fraction (12 terms) for erfc above.
    code: `fn erf_f(x: f32) -> f32 {
  if (is_nan(x)) { return x; }
  let ax = abs(x);
  var r: f32;
  if (ax < 2.0) {
    let x2 = ax * ax;
    var term = ax;
    var sum = ax;
    for (var n = 1; n < 48; n++) {
      term = term * (2.0 * x2) / f32(2 * n + 1);
      sum = sum + term;
      if (term < sum * 1e-9) { break; }
    }
    r = 1.1283791670955126 * exp(-x2) * sum;
  } else if (ax >= 6.0) {
    r = 1.0;
  } else {
    let x2 = ax * ax;
    var f = 2.0 * x2 + 49.0;
    for (var n = 12; n >= 1; n--) { f = 2.0 * x2 + f32(4 * n - 3) - f32((2 * n - 1) * (2 * n)) / f; }
    r = 1.0 - exp(-x2) * 0.5641895835477563 * 2.0 * ax / f;
  }
  return copysign_f(r, x);
}`,
  },
  gelu_f: {
    deps: ['erf_f'],
    code: 'fn gelu_f(x: f32) -> f32 { return 0.5 * x * (1.0 + erf_f(x * 0.7071067811865476)); }',
  },
  pow_f: {
    deps: ['consts'],
    code: `fn pow_f(a: f32, b: f32) -> f32 {
  if (b == 0.0) { return 1.0; }
  if (is_nan(a) || is_nan(b)) { return nan_f(); }
  let ab = abs(a);
  if (is_inf(b)) {
    if (ab == 1.0) { return nan_f(); }
    return select(0.0, inf_f(), (ab > 1.0) == (b > 0.0));
  }
  let bint = b == floor(b);
  let odd = bint && abs(b) < 16777216.0 && (i32(b) & 1) != 0;
  if (is_inf(a) || ab == 0.0) {
    var r = select(0.0, inf_f(), (b > 0.0) == is_inf(a));
    if (signbit(a) && odd) { r = -r; }
    return r;
  }
  if (a < 0.0 && !bint) { return nan_f(); }
  var r = exp2(b * log2(ab));
  if (a < 0.0 && odd) { r = -r; }
  return r;
}`,
  },
  mod_f: {
    deps: ['consts'],
    // Truncated remainder with one correction step (exact while |a/b| < 2^24), then floored.
    code: `fn mod_f(a: f32, b: f32) -> f32 {
  if (is_nan(a) || is_nan(b) || is_inf(a) || b == 0.0) { return nan_f(); }
  if (is_inf(b)) { if (a == 0.0 || (a < 0.0) == (b < 0.0)) { return a; } return b; }
  let q = trunc(a / b);
  var r = fma(-q, b, a);
  let ab = abs(b);
  if (r != 0.0 && (r < 0.0) != (a < 0.0)) { r = r + select(ab, -ab, a < 0.0); }
  if (abs(r) >= ab) { r = r - select(ab, -ab, a < 0.0); }
  if (r != 0.0 && (r < 0.0) != (b < 0.0)) { r = r + b; }
  if (r == 0.0) { r = select(0.0, -0.0, b < 0.0); }
  return r;
}`,
  },
  int_ops: {
    deps: [],
    code: `fn idiv(a: i32, b: i32) -> i32 {
  if (b == 0) { return 0; }
  var q = a / b;
  if ((a % b) != 0 && ((a < 0) != (b < 0))) { q = q - 1; }
  return q;
}
fn imod(a: i32, b: i32) -> i32 {
  if (b == 0) { return 0; }
  var r = a % b;
  if (r != 0 && ((r < 0) != (b < 0))) { r = r + b; }
  return r;
}
fn ipow(a: i32, b: i32) -> i32 {
  if (b < 0) {
    if (a == 1) { return 1; }
    if (a == -1) { return select(1, -1, (b & 1) != 0); }
    return 0;
  }
  var r = 1;
  var base = a;
  var e = b;
  loop {
    if (e == 0) { break; }
    if ((e & 1) != 0) { r = r * base; }
    base = base * base;
    e = e >> 1u;
  }
  return r;
}`,
  },
};

/** The code of library functions `names` and their dependencies, each once, in order. */
export function library(names: readonly string[]): string {
  const seen = new Set<string>();
  const out: string[] = [];
  const visit = (n: string): void => {
    if (seen.has(n)) return;
    seen.add(n);
    const f = LIB[n];
    if (f === undefined) throw new Error(`webgpu backend: unknown WGSL library function '${n}'`);
    f.deps.forEach(visit);
    out.push(f.code);
  };
  names.forEach(visit);
  return out.join('\n');
}

const F32_BITS = new Float32Array(1);
const U32_BITS = new Uint32Array(F32_BITS.buffer);

/** The float32 bits of a number. @example f32Bits(1); // 0x3f800000 */
export function f32Bits(x: number): number {
  F32_BITS[0] = x;
  return U32_BITS[0];
}

/** Uniform words under construction. */
export class Words {
  readonly a: Uint32Array;
  constructor(n: number) {
    this.a = new Uint32Array(Math.max(4, Math.ceil(n / 4) * 4));
  }
  u(i: number, x: number): this {
    this.a[i] = x >>> 0;
    return this;
  }
  i(i: number, x: number): this {
    this.a[i] = x | 0;
    return this;
  }
  f(i: number, x: number): this {
    this.a[i] = f32Bits(x);
    return this;
  }
  /** Writes `xs` (as int32) from word `i`. */
  ints(i: number, xs: readonly number[]): this {
    for (let k = 0; k < xs.length; k++) this.a[i + k] = xs[k] | 0;
    return this;
  }
}
