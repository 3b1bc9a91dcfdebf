/**
 * Op codes shared with the wasm kernels. Each table maps a contract name to the number the
 * kernels switch on; `AS_NAMES` gives the constant the AssemblyScript side exports for it, and
 * a test checks that both sides agree.
 * @module
 */
import type { Activation, BinaryOp, CompareOp, OptimizerKind, ReduceOp, UnaryOp } from '@tessera/core';

export const UNARY: Readonly<Record<UnaryOp, number>> = {
  neg: 0, abs: 1, sign: 2, exp: 3, expm1: 4, log: 5, log1p: 6, sqrt: 7, rsqrt: 8, square: 9,
  reciprocal: 10, sin: 11, cos: 12, tanh: 13, sigmoid: 14, erf: 15, floor: 16, ceil: 17, round: 18,
  relu: 19, not: 20,
};
export const BINARY: Readonly<Record<BinaryOp, number>> = {
  add: 0, sub: 1, mul: 2, div: 3, pow: 4, max: 5, min: 6, mod: 7, atan2: 8, and: 9, or: 10,
};
export const COMPARE: Readonly<Record<CompareOp, number>> = {
  equal: 0, notEqual: 1, less: 2, lessEqual: 3, greater: 4, greaterEqual: 5,
};
export const REDUCE: Readonly<Record<ReduceOp, number>> = { sum: 0, prod: 1, max: 2, min: 3 };
export const ACTIVATION: Readonly<Record<Activation, number>> = { linear: 0, relu: 1, sigmoid: 2, tanh: 3, gelu: 4 };
export const OPTIMIZER: Readonly<Record<OptimizerKind, number>> = { sgd: 0, momentum: 1, nesterov: 2, adam: 3 };
/** Cast kinds by `from>to`. */
export const CAST: Readonly<Record<string, number>> = {
  'float32>int32': 0, 'int32>float32': 1, 'float32>bool': 2, 'int32>bool': 3, 'bool>float32': 4, 'bool>int32': 5,
};

/** The exported AssemblyScript constant of each code, per table. */
export const AS_NAMES: Readonly<Record<string, [Readonly<Record<string, number>>, Readonly<Record<string, string>>]>> = {
  unary: [UNARY, {
    neg: 'U_NEG', abs: 'U_ABS', sign: 'U_SIGN', exp: 'U_EXP', expm1: 'U_EXPM1', log: 'U_LOG', log1p: 'U_LOG1P',
    sqrt: 'U_SQRT', rsqrt: 'U_RSQRT', square: 'U_SQUARE', reciprocal: 'U_RECIP', sin: 'U_SIN', cos: 'U_COS',
    tanh: 'U_TANH', sigmoid: 'U_SIGMOID', erf: 'U_ERF', floor: 'U_FLOOR', ceil: 'U_CEIL', round: 'U_ROUND',
    relu: 'U_RELU', not: 'U_NOT',
  }],
  binary: [BINARY, {
    add: 'B_ADD', sub: 'B_SUB', mul: 'B_MUL', div: 'B_DIV', pow: 'B_POW', max: 'B_MAX', min: 'B_MIN', mod: 'B_MOD',
    atan2: 'B_ATAN2', and: 'B_AND', or: 'B_OR',
  }],
  compare: [COMPARE, { equal: 'C_EQ', notEqual: 'C_NE', less: 'C_LT', lessEqual: 'C_LE', greater: 'C_GT', greaterEqual: 'C_GE' }],
  reduce: [REDUCE, { sum: 'R_SUM', prod: 'R_PROD', max: 'R_MAX', min: 'R_MIN' }],
  activation: [ACTIVATION, { linear: 'ACT_LINEAR', relu: 'ACT_RELU', sigmoid: 'ACT_SIGMOID', tanh: 'ACT_TANH', gelu: 'ACT_GELU' }],
  optimizer: [OPTIMIZER, { sgd: 'OPT_SGD', momentum: 'OPT_MOMENTUM', nesterov: 'OPT_NESTEROV', adam: 'OPT_ADAM' }],
  cast: [CAST, {
    'float32>int32': 'K_F2I', 'int32>float32': 'K_I2F', 'float32>bool': 'K_F2B', 'int32>bool': 'K_I2B',
    'bool>float32': 'K_B2F', 'bool>int32': 'K_B2I',
  }],
};
