/**
 * The element-wise required kernels as {@link MapOp}s generated from core's op enums:
 * fill, copy, cast, unary, binary, compare and where.
 * @module
 */
import type { BinaryOp, CompareOp, DType, UnaryOp, View } from '@tessera/core';
import type { Ctx } from '../ctx.js';
import { f32Bits, type Ty, tyOf } from '../wgsl.js';
import { copyOp, fillOp, type MapOp, runMap } from './map.js';

/** float32 → int32 like core: truncate, NaN → 0, saturate. */
export function toInt32(x: number): number {
  if (x !== x) return 0;
  if (x >= 2147483647) return 2147483647;
  if (x <= -2147483648) return -2147483648;
  return Math.trunc(x);
}

/** The 32-bit word `value` becomes in a buffer of `dtype`. */
export function wordOf(value: number, dtype: DType): number {
  if (dtype === 'float32') return f32Bits(value);
  if (dtype === 'int32') return toInt32(value) >>> 0;
  return value !== 0 ? 1 : 0;
}

/** `v` (of WGSL type `from`) as an f32 expression. */
function asF32(v: string, from: Ty): string {
  return from === 'f32' ? v : from === 'i32' ? `i2f(${v})` : `f32(${v})`;
}

/** An f32 expression stored as `to`. */
function fromF32(e: string, to: Ty): string {
  return to === 'f32' ? e : to === 'i32' ? `f2i(${e})` : `select(0u, 1u, nz_f(${e}))`;
}

/** "is non-zero" of a value of type `t`. */
function nonZero(v: string, t: Ty): string {
  return t === 'f32' ? `nz_f(${v})` : t === 'i32' ? `(${v} != 0)` : `(${v} != 0u)`;
}

function boolTo(cond: string, to: Ty): string {
  return to === 'f32' ? `select(0.0, 1.0, ${cond})` : to === 'i32' ? `select(0, 1, ${cond})` : `select(0u, 1u, ${cond})`;
}

const CONV_LIB = ['consts', 'f2i', 'i2f'];

/** float32 unary expressions over `x`, with the library functions they need. */
const F32_UNARY: Record<Exclude<UnaryOp, 'not'>, [string, string[]]> = {
  neg: ['neg_f(x)', ['bitops']],
  abs: ['abs_f(x)', ['bitops']],
  sign: ['sign_f(x)', ['bitops']],
  exp: ['exp_f(x)', []],
  expm1: ['expm1_f(x)', ['expm1_f']],
  log: ['log_f(x)', ['log_f']],
  log1p: ['log1p_f(x)', ['log1p_f']],
  sqrt: ['sqrt_f(x)', ['sqrt_f']],
  rsqrt: ['rsqrt_f(x)', ['sqrt_f']],
  square: ['x * x', []],
  reciprocal: ['recip_f(x)', ['bitops']],
  sin: ['sin_f(x)', ['trig']],
  cos: ['cos_f(x)', ['trig']],
  tanh: ['tanh_f(x)', ['tanh_f']],
  sigmoid: ['sigmoid_f(x)', ['sigmoid_f']],
  erf: ['erf_f(x)', ['erf_f']],
  floor: ['floor_f(x)', ['bitops']],
  ceil: ['ceil_f(x)', ['bitops']],
  round: ['round(x)', []],
  relu: ['relu_f(x)', ['bitops']],
};

/** int32 unary ops computed exactly on integers. */
const I32_UNARY: Partial<Record<UnaryOp, string>> = {
  neg: '-x', abs: 'abs(x)', sign: 'sign(x)', square: 'x * x', floor: 'x', ceil: 'x', round: 'x', relu: 'max(x, 0)',
};

/** The unary op for `x` dtype `xd` into `od`. */
export function unaryOp(op: UnaryOp, xd: DType, od: DType): MapOp {
  const xt = tyOf(xd), ot = tyOf(od);
  const key = `un:${op}`;
  if (op === 'not') return { key, ins: [xt], out: ot, expr: boolTo(`!${nonZero('a0', xt)}`, ot), lib: ['consts'] };
  if (xt === 'i32' && ot === 'i32' && I32_UNARY[op] !== undefined) {
    return { key, ins: [xt], out: ot, expr: `u_${op}(a0)`, fn: `fn u_${op}(x: i32) -> i32 { return ${I32_UNARY[op]}; }` };
  }
  const [e, lib] = F32_UNARY[op];
  const fn = `fn u_${op}(x: f32) -> f32 { return ${e}; }`;
  if (xt === 'f32' && ot === 'f32') return { key, ins: [xt], out: ot, expr: `u_${op}(a0)`, lib: ['consts', ...lib], fn };
  return { key, ins: [xt], out: ot, expr: fromF32(`u_${op}(${asF32('a0', xt)})`, ot), lib: [...CONV_LIB, ...lib], fn };
}

/** float32 binary expressions over `a`, `b`. */
const F32_BINARY: Record<BinaryOp, [string, string[]]> = {
  add: ['a + b', []],
  sub: ['a - b', []],
  mul: ['a * b', []],
  div: ['div_f(a, b)', ['div_f']],
  pow: ['pow_f(a, b)', ['pow_f']],
  max: ['max_f(a, b)', ['max_f']],
  min: ['min_f(a, b)', ['max_f']],
  mod: ['mod_f(a, b)', ['mod_f']],
  atan2: ['atan2_f(a, b)', ['atan_f']],
  and: ['select(0.0, 1.0, nz_f(a) && nz_f(b))', []],
  or: ['select(0.0, 1.0, nz_f(a) || nz_f(b))', []],
};

const I32_BINARY: Partial<Record<BinaryOp, string>> = {
  add: 'a + b', sub: 'a - b', mul: 'a * b', div: 'idiv(a, b)', pow: 'ipow(a, b)', max: 'max(a, b)', min: 'min(a, b)',
  mod: 'imod(a, b)', and: 'select(0, 1, a != 0 && b != 0)', or: 'select(0, 1, a != 0 || b != 0)',
};

const BOOL_BINARY: Partial<Record<BinaryOp, string>> = {
  and: 'a & b', min: 'a & b', mul: 'a & b', or: 'a | b', max: 'a | b', add: 'a | b', sub: 'a ^ b',
};

/** The binary op on operands and output of dtype `d`. */
export function binaryOp(op: BinaryOp, d: DType): MapOp {
  const t = tyOf(d);
  const key = `bin:${op}`;
  if (t === 'i32' && I32_BINARY[op] !== undefined) {
    return { key, ins: [t, t], out: t, expr: `b_${op}(a0, a1)`, lib: ['int_ops'], fn: `fn b_${op}(a: i32, b: i32) -> i32 { return ${I32_BINARY[op]}; }` };
  }
  if (t === 'u32' && BOOL_BINARY[op] !== undefined) {
    return { key, ins: [t, t], out: t, expr: `b_${op}(a0, a1)`, fn: `fn b_${op}(a: u32, b: u32) -> u32 { return ${BOOL_BINARY[op]}; }` };
  }
  const [e, lib] = F32_BINARY[op];
  const fn = `fn b_${op}(a: f32, b: f32) -> f32 { return ${e}; }`;
  if (t === 'f32') return { key, ins: [t, t], out: t, expr: `b_${op}(a0, a1)`, lib: ['consts', ...lib], fn };
  return { key, ins: [t, t], out: t, expr: fromF32(`b_${op}(${asF32('a0', t)}, ${asF32('a1', t)})`, t), lib: [...CONV_LIB, ...lib], fn };
}

const CMP: Record<CompareOp, string> = {
  equal: '==', notEqual: '!=', less: '<', lessEqual: '<=', greater: '>', greaterEqual: '>=',
};

/** The comparison of operands of dtype `d` into bool. */
export function compareOp(op: CompareOp, d: DType): MapOp {
  const t = tyOf(d);
  const key = `cmp:${op}`;
  if (t !== 'f32') return { key, ins: [t, t], out: 'u32', expr: `select(0u, 1u, a0 ${CMP[op]} a1)` };
  const cond = op === 'notEqual' ? '(is_nan(a0) || is_nan(a1) || a0 != a1)' : `(!is_nan(a0) && !is_nan(a1) && a0 ${CMP[op]} a1)`;
  return { key, ins: [t, t], out: 'u32', expr: `select(0u, 1u, ${cond})`, lib: ['consts'] };
}

/** `cond ? a : b` over values of dtype `d`. */
export function whereOp(d: DType): MapOp {
  const t = tyOf(d);
  return { key: 'where', ins: ['u32', t, t], out: t, expr: 'select(a2, a1, a0 != 0u)' };
}

/** Conversion from `from` to `to` (same dtype: a bit copy). */
export function castOp(from: DType, to: DType): MapOp {
  if (from === to) return copyOp;
  const ft = tyOf(from), tt = tyOf(to);
  let expr: string;
  if (tt === 'u32') expr = `select(0u, 1u, ${nonZero('a0', ft)})`;
  else if (ft === 'f32') expr = 'f2i(a0)';
  else if (ft === 'i32') expr = 'i2f(a0)';
  else expr = tt === 'f32' ? 'f32(a0)' : 'i32(a0)';
  return { key: `cast`, ins: [ft], out: tt, expr, lib: CONV_LIB };
}

/** fill: every element of `out` (any strides) becomes `value` cast to its dtype. */
export function fill(ctx: Ctx, out: View, value: number): void {
  runMap(ctx, fillOp, [], out, [wordOf(value, out.dtype)], 'fill');
}

/** copy (casting when the dtypes differ). */
export function copy(ctx: Ctx, x: View, out: View): void {
  runMap(ctx, castOp(x.dtype, out.dtype), [x], out, [], 'copy');
}
