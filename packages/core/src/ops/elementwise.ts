/**
 * Element-wise math, comparisons and logic, with NumPy broadcasting and dtype promotion.
 * @module
 */
import type { BinaryOp, CompareOp, DType, UnaryOp } from '../backend/types.js';
import { checkDType } from '../dtype.js';
import { ArgumentError, DTypeError } from '../errors.js';
import { broadcastDims } from '../shape-unchecked.js';
import { Tensor } from '../tensor.js';
import { alias, backendOf, broadcastView, dtypeOfNumber, expectNumber, input, live, type Operand, operands, output, record, releaseTemps, scalarOn } from './util.js';

/**
 * Converts a tensor to another dtype (float→int truncates toward zero, NaN→0; →bool is x≠0).
 * @example cast(tensor([1.7, -1.7]), 'int32') // [1, -1]
 */
export function cast(x: Tensor, dtype: DType): Tensor {
  live(x, 'cast');
  checkDType(dtype, 'cast');
  const be = x.backend;
  let out: Tensor;
  if (x.dtype === dtype) out = alias(x);
  else {
    out = output(be, dtype, x.shape);
    if (out.size > 0) {
      be.kernels.cast(input(x, be), out);
      releaseTemps();
    }
  }
  record('cast', [x], out, { dtype });
  return out;
}

const FLOAT_ONLY = new Set<UnaryOp>(['exp', 'expm1', 'log', 'log1p', 'sqrt', 'rsqrt', 'reciprocal', 'sin', 'cos', 'tanh', 'sigmoid', 'erf']);
const INT_IDENTITY = new Set<UnaryOp>(['floor', 'ceil', 'round']);

function unary(op: UnaryOp, x: Tensor): Tensor {
  live(x, op);
  if (x.dtype === 'bool') {
    if (op !== 'not') throw new DTypeError(op, `x has dtype bool; expected float32 or int32 (cast it first)`);
  } else if (op === 'not') {
    throw new DTypeError('logicalNot', `x has dtype ${x.dtype}; expected bool`);
  }
  if (x.dtype === 'int32') {
    if (FLOAT_ONLY.has(op)) {
      const f = cast(x, 'float32');
      const y = unary(op, f);
      f.dispose();
      return y;
    }
    if (INT_IDENTITY.has(op)) return alias(x);
  }
  const be = x.backend;
  const out = output(be, x.dtype, x.shape);
  if (out.size > 0) {
    be.kernels.unary(op, input(x, be), out);
    releaseTemps();
  }
  record(op, [x], out);
  return out;
}

/** −x. @example neg(tensor([1, -2])) // [-1, 2] */
export const neg = (x: Tensor): Tensor => unary('neg', x);
/** |x|. @example abs(tensor([-1.5])) // [1.5] */
export const abs = (x: Tensor): Tensor => unary('abs', x);
/** −1, 0 or 1 (NaN stays NaN). @example sign(tensor([-3, 0, 2])) // [-1, 0, 1] */
export const sign = (x: Tensor): Tensor => unary('sign', x);
/** eˣ. @example exp(tensor([0, 1])) // [1, 2.71828] */
export const exp = (x: Tensor): Tensor => unary('exp', x);
/** eˣ − 1, accurate for tiny x. @example expm1(tensor([1e-10])) // [1e-10] */
export const expm1 = (x: Tensor): Tensor => unary('expm1', x);
/** Natural logarithm (−Inf at 0, NaN below). @example log(tensor([1, Math.E])) // [0, 1] */
export const log = (x: Tensor): Tensor => unary('log', x);
/** log(1 + x), accurate for tiny x. @example log1p(tensor([1e-10])) // [1e-10] */
export const log1p = (x: Tensor): Tensor => unary('log1p', x);
/** √x. @example sqrt(tensor([4, 9])) // [2, 3] */
export const sqrt = (x: Tensor): Tensor => unary('sqrt', x);
/** 1/√x. @example rsqrt(tensor([4])) // [0.5] */
export const rsqrt = (x: Tensor): Tensor => unary('rsqrt', x);
/** x². @example square(tensor([3])) // [9] */
export const square = (x: Tensor): Tensor => unary('square', x);
/** 1/x. @example reciprocal(tensor([4])) // [0.25] */
export const reciprocal = (x: Tensor): Tensor => unary('reciprocal', x);
/** sin x. @example sin(tensor([0])) // [0] */
export const sin = (x: Tensor): Tensor => unary('sin', x);
/** cos x. @example cos(tensor([0])) // [1] */
export const cos = (x: Tensor): Tensor => unary('cos', x);
/** tanh x. @example tanh(tensor([0])) // [0] */
export const tanh = (x: Tensor): Tensor => unary('tanh', x);
/** 1/(1+e⁻ˣ), without overflow. @example sigmoid(tensor([0])) // [0.5] */
export const sigmoid = (x: Tensor): Tensor => unary('sigmoid', x);
/** The error function. @example erf(tensor([0])) // [0] */
export const erf = (x: Tensor): Tensor => unary('erf', x);
/** ⌊x⌋. @example floor(tensor([1.5, -1.5])) // [1, -2] */
export const floor = (x: Tensor): Tensor => unary('floor', x);
/** ⌈x⌉. @example ceil(tensor([1.5])) // [2] */
export const ceil = (x: Tensor): Tensor => unary('ceil', x);
/** Round half to even, like NumPy. @example round(tensor([0.5, 1.5, 2.5])) // [0, 2, 2] */
export const round = (x: Tensor): Tensor => unary('round', x);
/** max(x, 0). @example relu(tensor([-1, 2])) // [0, 2] */
export const relu = (x: Tensor): Tensor => unary('relu', x);
/** Logical not of a tensor (cast to bool first when needed). @example logicalNot(tensor([true])) // [false] */
export function logicalNot(x: Tensor): Tensor {
  live(x, 'logicalNot');
  if (x.dtype === 'bool') return unary('not', x);
  const b = cast(x, 'bool');
  const y = unary('not', b);
  b.dispose();
  return y;
}

function castTo(t: Tensor, dtype: DType, temp: boolean): [Tensor, boolean] {
  if (t.dtype === dtype) return [t, temp];
  const c = cast(t, dtype);
  if (temp) t.dispose();
  return [c, true];
}

function binary(op: BinaryOp, name: string, a: Operand, b: Operand, mode: 'arith' | 'float' | 'bool' = 'arith'): Tensor {
  let [ta, tb, dtype, tmpA, tmpB] = operands(name, a, b);
  if (mode === 'float') dtype = 'float32';
  else if (mode === 'bool') dtype = 'bool';
  else if (dtype === 'bool') dtype = 'int32';
  // Shapes are checked before the casts, so a mismatch leaves no cast copy behind.
  const shape = broadcastDims(ta.shape, tb.shape, name);
  [ta, tmpA] = castTo(ta, dtype, tmpA);
  [tb, tmpB] = castTo(tb, dtype, tmpB);
  const be = ta.backend;
  const out = output(be, dtype, shape);
  if (out.size > 0) {
    be.kernels.binary(op, input(broadcastView(ta, shape), be), input(broadcastView(tb, shape), be), out);
    releaseTemps();
  }
  record(name, [ta, tb], out);
  if (tmpA) ta.dispose();
  if (tmpB) tb.dispose();
  return out;
}

/** a + b. @example add(x, 1); add(x, y) */
export const add = (a: Operand, b: Operand): Tensor => binary('add', 'add', a, b);
/** a − b. @example sub(x, y) */
export const sub = (a: Operand, b: Operand): Tensor => binary('sub', 'sub', a, b);
/** a · b. @example mul(x, 2) */
export const mul = (a: Operand, b: Operand): Tensor => binary('mul', 'mul', a, b);
/** True division a / b (integers become float32). @example div(tensor([1, 2]), 2) // [0.5, 1] */
export const div = (a: Operand, b: Operand): Tensor => binary('div', 'div', a, b, 'float');
/** aᵇ. @example pow(x, 2) */
export const pow = (a: Operand, b: Operand): Tensor => binary('pow', 'pow', a, b);
/** Element-wise max, NaN-propagating. @example maximum(x, 0) */
export const maximum = (a: Operand, b: Operand): Tensor => binary('max', 'maximum', a, b);
/** Element-wise min, NaN-propagating. @example minimum(x, 1) */
export const minimum = (a: Operand, b: Operand): Tensor => binary('min', 'minimum', a, b);
/** Floored modulo (result has the divisor's sign). @example mod(tensor([-3]), 2) // [1] */
export const mod = (a: Operand, b: Operand): Tensor => binary('mod', 'mod', a, b);
/** atan2(a, b). @example atan2(tensor([1]), tensor([1])) // [0.785] */
export const atan2 = (a: Operand, b: Operand): Tensor => binary('atan2', 'atan2', a, b, 'float');

/**
 * Floored division: integers stay integers (x // 0 gives 0), floats give ⌊a/b⌋.
 * @example floorDiv(tensor([7, -7], [2], 'int32'), 2) // [3, -4]
 */
export function floorDiv(a: Operand, b: Operand): Tensor {
  const [ta, tb, dtype, tmpA, tmpB] = operands('floorDiv', a, b);
  if (tmpA) ta.dispose();
  if (tmpB) tb.dispose();
  if (dtype === 'float32') {
    const q = div(a, b);
    const y = floor(q);
    q.dispose();
    return y;
  }
  return binary('div', 'floorDiv', a, b);
}

/** (a − b)². @example squaredDifference(x, y) */
export function squaredDifference(a: Operand, b: Operand): Tensor {
  const d = sub(a, b);
  const y = square(d);
  d.dispose();
  return y;
}

function compare(op: CompareOp, a: Operand, b: Operand): Tensor {
  let [ta, tb, dtype, tmpA, tmpB] = operands(op, a, b);
  [ta, tmpA] = castTo(ta, dtype, tmpA);
  [tb, tmpB] = castTo(tb, dtype, tmpB);
  const shape = broadcastDims(ta.shape, tb.shape, op);
  const be = ta.backend;
  const out = output(be, 'bool', shape);
  if (out.size > 0) {
    be.kernels.compare(op, input(broadcastView(ta, shape), be), input(broadcastView(tb, shape), be), out);
    releaseTemps();
  }
  if (tmpA) ta.dispose();
  if (tmpB) tb.dispose();
  return out;
}

/** a == b (bool). @example equal(x, 0) */
export const equal = (a: Operand, b: Operand): Tensor => compare('equal', a, b);
/** a != b (bool; true where either is NaN). @example notEqual(x, y) */
export const notEqual = (a: Operand, b: Operand): Tensor => compare('notEqual', a, b);
/** a < b. @example less(x, 0) */
export const less = (a: Operand, b: Operand): Tensor => compare('less', a, b);
/** a ≤ b. @example lessEqual(x, 0) */
export const lessEqual = (a: Operand, b: Operand): Tensor => compare('lessEqual', a, b);
/** a > b. @example greater(x, 0) */
export const greater = (a: Operand, b: Operand): Tensor => compare('greater', a, b);
/** a ≥ b. @example greaterEqual(x, 0) */
export const greaterEqual = (a: Operand, b: Operand): Tensor => compare('greaterEqual', a, b);
/** Logical and (operands cast to bool). @example logicalAnd(a, b) */
export const logicalAnd = (a: Operand, b: Operand): Tensor => binary('and', 'logicalAnd', a, b, 'bool');
/** Logical or (operands cast to bool). @example logicalOr(a, b) */
export const logicalOr = (a: Operand, b: Operand): Tensor => binary('or', 'logicalOr', a, b, 'bool');
/** True where x is NaN. @example isNaN(tensor([NaN, 1])) // [true, false] */
export function isNaN(x: Tensor): Tensor {
  live(x, 'isNaN');
  return notEqual(x, x);
}
/** True where x is neither NaN nor ±Inf. @example isFinite(tensor([Infinity, 1])) // [false, true] */
export function isFinite(x: Tensor): Tensor {
  live(x, 'isFinite');
  if (x.dtype !== 'float32') return compare('equal', x, x);
  const a = abs(x);
  const y = less(a, Infinity);
  a.dispose();
  return y;
}

/**
 * Picks `a` where `cond` is true and `b` elsewhere, broadcasting all three.
 * @example where(greater(x, 0), x, 0) // relu
 */
export function where(cond: Tensor, a: Operand, b: Operand): Tensor {
  live(cond, 'where', 'cond');
  if (!(a instanceof Tensor) && !(b instanceof Tensor) && (typeof a === 'number' || typeof a === 'boolean') && cond.backend !== undefined) {
    // Two numbers: they live on cond's backend (not necessarily the current one).
    const ta = scalarOn(cond.backend, +a, dtypeOfNumber(a));
    try {
      return where(cond, ta, b);
    } finally {
      ta.dispose();
    }
  }
  let [ta, tb, dtype, tmpA, tmpB] = operands('where', a, b);
  [ta, tmpA] = castTo(ta, dtype, tmpA);
  [tb, tmpB] = castTo(tb, dtype, tmpB);
  let c = cond;
  if (c.dtype !== 'bool') c = cast(cond, 'bool');
  backendOf('where', c, ta);
  const shape = broadcastDims(broadcastDims(c.shape, ta.shape, 'where'), tb.shape, 'where');
  const be = ta.backend;
  const out = output(be, dtype, shape);
  if (out.size > 0) {
    be.kernels.where(input(broadcastView(c, shape), be), input(broadcastView(ta, shape), be), input(broadcastView(tb, shape), be), out);
    releaseTemps();
  }
  record('where', [c, ta, tb], out);
  if (c !== cond) c.dispose();
  if (tmpA) ta.dispose();
  if (tmpB) tb.dispose();
  return out;
}

/**
 * Clamps to `[lo, hi]`.
 * @example clip(tensor([-2, 0.5, 3]), 0, 1) // [0, 0.5, 1]
 */
export function clip(x: Tensor, lo: number, hi: number): Tensor {
  live(x, 'clip');
  expectNumber('clip', 'lo', lo);
  expectNumber('clip', 'hi', hi);
  if (!(lo <= hi)) throw new ArgumentError('clip', `lo (${lo}) must be <= hi (${hi})`);
  const a = maximum(x, lo);
  const y = minimum(a, hi);
  a.dispose();
  return y;
}

/** A contiguous copy of a view (`x` itself is left as it is). @example contiguous(transpose(x)) */
export function contiguous(x: Tensor): Tensor {
  live(x, 'contiguous');
  const be = x.backend;
  const out = output(be, x.dtype, x.shape);
  if (out.size > 0) be.kernels.copy(x, out);
  record('contiguous', [x], out);
  return out;
}

/** A new tensor with the same values (always a copy). @example const y = clone(x) */
export const clone = contiguous;

