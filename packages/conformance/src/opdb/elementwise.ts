/**
 * Element-wise unary and binary math ops, `clip` and `cast`.
 * @module
 */
import type { DType } from '@tessera/core';
import { bools, grid, gridNonZero, ints, intsNonZero, signedRange, uniform } from '../domains.js';
import { map1, toDType } from '../host.js';
import { erf, floorMod, intFloorDiv, intFloorMod, roundHalfEven, sigmoid } from '../refmath.js';
import { binaryCases, DENORMALS, pairs, SPECIALS, unaryCases, valuesCase } from '../shapes.js';
import { EXACT, F32, TRANSCENDENTAL } from '../tolerance.js';
import type { CaseDef, Domain, OpSpec, Tol } from '../types.js';
import { binarySpec, disposedCase, pick, unarySpec, type UnaryDef } from './helpers.js';

/** Ops that run the full shape sets; the others run the core sets (same shape classes, fewer repeats). */
const FULL = ['neg', 'exp', 'add', 'mul'];
/** The shape subset int32 variants run. */
const INT_SHAPES = ['scalar', 'mat', 'size0', 'transposed', 'broadcast', 'odd', 'same', 'bcast-[3,1]', 'bcast-[2,3,4]', 'number'];

/** Specials without huge magnitudes (for sin/cos, whose float32 argument reduction varies). */
const MODERATE_SPECIALS = [NaN, Infinity, -Infinity, 0, -0, 1, -1, 0.5, -2.5, 100].map(Math.fround);

interface U {
  f: (x: number) => number;
  fInt?: (x: number) => number;
  domain?: Domain;
  tol: Tol;
  ints?: boolean;
  specials?: readonly number[];
  signedZeros?: boolean;
}

const unaryTable: Record<string, U> = {
  neg: { f: (x) => -x, fInt: (x) => -x | 0, tol: EXACT, ints: true, signedZeros: true },
  abs: { f: Math.abs, fInt: (x) => Math.abs(x) | 0, tol: EXACT, ints: true, signedZeros: true },
  sign: { f: Math.sign, tol: EXACT, ints: true },
  square: { f: (x) => x * x, fInt: (x) => Math.imul(x, x), tol: F32, ints: true },
  exp: { f: Math.exp, domain: uniform(-10, 10), tol: TRANSCENDENTAL },
  expm1: { f: Math.expm1, domain: uniform(-5, 5), tol: TRANSCENDENTAL },
  log: { f: Math.log, domain: uniform(0.001, 100), tol: TRANSCENDENTAL },
  log1p: { f: Math.log1p, domain: uniform(-0.99, 10), tol: TRANSCENDENTAL },
  sqrt: { f: Math.sqrt, domain: uniform(0, 100), tol: F32 },
  rsqrt: {
    f: (x) => 1 / Math.sqrt(x), domain: uniform(0.01, 100), tol: F32,
    // -0 left out: IEEE gives -Inf, and several math libraries +Inf.
    specials: SPECIALS.filter((v) => !Object.is(v, -0)),
  },
  reciprocal: { f: (x) => 1 / x, domain: signedRange(0.1, 10), tol: F32 },
  sin: { f: Math.sin, domain: uniform(-10, 10), tol: { rtol: 1e-4, atol: 1e-5 }, specials: MODERATE_SPECIALS },
  cos: { f: Math.cos, domain: uniform(-10, 10), tol: { rtol: 1e-4, atol: 1e-5 }, specials: MODERATE_SPECIALS },
  tanh: { f: Math.tanh, domain: uniform(-5, 5), tol: TRANSCENDENTAL },
  sigmoid: { f: sigmoid, domain: uniform(-20, 20), tol: TRANSCENDENTAL },
  erf: { f: erf, domain: uniform(-4, 4), tol: TRANSCENDENTAL },
  floor: { f: Math.floor, domain: grid(-5, 5, 0.25), tol: EXACT },
  ceil: { f: Math.ceil, domain: grid(-5, 5, 0.25), tol: EXACT },
  round: { f: roundHalfEven, domain: grid(-5, 5, 0.25), tol: EXACT },
  // NaN propagates through relu (as through max).
  relu: { f: (x) => (Number.isNaN(x) ? NaN : Math.max(x, 0)), tol: EXACT },
};

function unaryOp(name: string, u: U): OpSpec {
  const intDomain = ints(-20, 20);
  const def: UnaryDef = {
    name,
    kernels: [`unary:${name}` as const as `unary:neg`],
    dtypes: u.ints ? ['float32', 'int32'] : ['float32'],
    run: (api, x) => (api[name as 'neg'] as (t: typeof x) => typeof x)(x),
    f: u.f,
    fInt: u.fInt ?? u.f,
    domain: (dtype) => (dtype === 'int32' ? intDomain : u.domain),
    tol: u.tol,
    shapes: (dtype) =>
      dtype === 'int32'
        ? pick(unaryCases(dtype, { large: false }), INT_SHAPES)
        : unaryCases(dtype, { set: FULL.includes(name) ? 'full' : 'core' }),
    samples: (dtype) => {
      if (dtype === 'int32') {
        return [valuesCase('int-overflow', 'int32', [[-2147483648, 2147483647, 46341, -46341]], ['int-overflow'])];
      }
      return [
        valuesCase('special', 'float32', [u.specials ?? SPECIALS], ['special'], { signedZeros: u.signedZeros }),
        valuesCase('denormal', 'float32', [DENORMALS], ['denormal']),
      ];
    },
    errors: name === 'neg' ? [disposedCase('float32', [[2, 3]])] : undefined,
    grad: ['sign', 'floor', 'ceil', 'round'].includes(name) ? 'none' : 'fd',
  };
  return unarySpec(def);
}

const unaryOps: OpSpec[] = Object.entries(unaryTable).map(([n, u]) => unaryOp(n, u));

interface B {
  f: (a: number, b: number) => number;
  fInt?: (a: number, b: number) => number;
  kernel: string;
  domains?: readonly [Domain, Domain];
  intDomains?: readonly [Domain, Domain];
  tol: Tol;
  ints: boolean;
  number: number;
  /** Output dtype when it is not the operands'. */
  outDType?: DType;
  /** Special pairs to leave out, as predicates on (a, b). */
  skipSpecial?: (a: number, b: number) => boolean;
}

const quarterGrid = grid(-10, 10, 0.125);
const divisorGrid = gridNonZero(-4, 4, 0.25);

const binaryTable: Record<string, B> = {
  add: { f: (a, b) => a + b, fInt: (a, b) => (a + b) | 0, kernel: 'add', tol: F32, ints: true, number: 2.5 },
  sub: { f: (a, b) => a - b, fInt: (a, b) => (a - b) | 0, kernel: 'sub', tol: F32, ints: true, number: 1.5 },
  mul: { f: (a, b) => a * b, fInt: Math.imul, kernel: 'mul', tol: F32, ints: true, number: -2 },
  // True division: int32 operands give float32.
  div: {
    f: (a, b) => a / b, kernel: 'div', domains: [uniform(-3, 3), signedRange(0.1, 4)],
    intDomains: [ints(-50, 50), intsNonZero(-9, 9)], tol: F32, ints: true, number: 4, outDType: 'float32',
  },
  pow: {
    f: Math.pow,
    fInt: (a, b) => toDType(Math.trunc(Math.pow(a, b)), 'int32'),
    kernel: 'pow',
    domains: [uniform(0.1, 3), uniform(-3, 3)],
    intDomains: [ints(-4, 4), ints(0, 6)],
    tol: TRANSCENDENTAL,
    ints: true,
    number: 2,
    // pow(±1, NaN) and pow(±1, ±Inf): JS says NaN, C99 says 1. Left to the backends.
    skipSpecial: (a, b) => Math.abs(a) === 1 && !Number.isFinite(b),
  },
  maximum: { f: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.max(a, b)), kernel: 'max', tol: EXACT, ints: true, number: 0.5 },
  minimum: { f: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.min(a, b)), kernel: 'min', tol: EXACT, ints: true, number: 0.5 },
  mod: {
    f: floorMod, fInt: intFloorMod, kernel: 'mod',
    domains: [quarterGrid, divisorGrid], intDomains: [ints(-50, 50), intsNonZero(-9, 9)],
    tol: F32, ints: true, number: 1.5,
    // An infinite divisor: fmod-based and floor-based definitions disagree.
    skipSpecial: (_a, b) => !Number.isFinite(b),
  },
  floorDiv: {
    f: (a, b) => Math.floor(a / b), fInt: intFloorDiv, kernel: 'div',
    domains: [quarterGrid, divisorGrid], intDomains: [ints(-50, 50), intsNonZero(-9, 9)],
    tol: F32, ints: true, number: 2,
    skipSpecial: (_a, b) => !Number.isFinite(b),
  },
  atan2: { f: Math.atan2, kernel: 'atan2', tol: TRANSCENDENTAL, ints: false, number: 1 },
};

const BINARY_SPECIALS = [NaN, Infinity, -Infinity, 0, -0, 1, -1, 2.5].map(Math.fround);

function binaryOp(name: string, b: B): OpSpec {
  return binarySpec({
    name,
    kernels: [`binary:${b.kernel}` as `binary:add`],
    dtypes: b.ints ? ['float32', 'int32'] : ['float32'],
    run: (api, x, y) => (api[name as 'add'])(x, y),
    f: b.f,
    fInt: b.fInt,
    outDType: b.outDType,
    domains: (dtype) =>
      dtype === 'int32' ? (b.intDomains ?? [undefined, undefined]) : (b.domains ?? [undefined, undefined]),
    tol: b.tol,
    shapes: (dtype) => {
      const cs = binaryCases(dtype, {
        large: dtype === 'float32',
        numberOperand: dtype === 'int32' ? Math.max(1, Math.round(Math.abs(b.number))) : b.number,
        set: FULL.includes(name) && dtype === 'float32' ? 'full' : 'core',
      });
      return dtype === 'int32' ? pick(cs, INT_SHAPES) : cs;
    },
    samples: (dtype) => (dtype === 'float32' ? floatSamples(b) : intSamples(name)),
    errors: name === 'add' ? binaryErrors : undefined,
    grad: name === 'floorDiv' ? 'none' : 'fd',
  });
}

function floatSamples(b: B): CaseDef[] {
  const [x, y] = pairs(BINARY_SPECIALS);
  const keep = x.map((a, i) => !b.skipSpecial?.(a, y[i]));
  return [
    valuesCase('special', 'float32', [x.filter((_, i) => keep[i]), y.filter((_, i) => keep[i])]),
  ];
}

function intSamples(name: string): CaseDef[] {
  if (name === 'add' || name === 'sub' || name === 'mul') {
    return [valuesCase('int-overflow', 'int32', [
      [2147483647, -2147483648, 65536, 123456789, -46341],
      [1, 1, 65536, 987654321, 46341],
    ], ['int-overflow'])];
  }
  if (name === 'mod' || name === 'floorDiv' || name === 'div') {
    return [valuesCase('div-zero', 'int32', [[7, -7, 0, 5, -5, 5, -5], [0, 0, 0, 3, 3, -3, -3]], ['div-zero'])];
  }
  return [];
}

const binaryErrors: CaseDef[] = [
  {
    label: 'shapes-do-not-broadcast',
    inputs: [{ shape: [2, 3], dtype: 'float32' }, { shape: [4], dtype: 'float32' }],
    error: 'ShapeError',
  },
  {
    label: 'shapes-do-not-broadcast-inner',
    inputs: [{ shape: [2, 3, 4], dtype: 'float32' }, { shape: [3, 1, 3], dtype: 'float32' }],
    error: 'ShapeError',
  },
  disposedCase('float32', [[2, 3], [2, 3]]),
];

/** `clip(x, lo, hi)`: max then min; NaN propagates. */
const clip: OpSpec = unarySpec({
  name: 'clip',
  kernels: ['binary:max', 'binary:min'],
  dtypes: ['float32', 'int32'],
  run: (api, x, a) => api.clip(x, a.lo as number, a.hi as number),
  f: (x, a) => (Number.isNaN(x) ? NaN : Math.min(Math.max(x, a.lo as number), a.hi as number)),
  tol: EXACT,
  shapes: (dtype) =>
    dtype === 'int32'
      ? pick(unaryCases(dtype, { large: false, attrs: { lo: -5, hi: 7 } }), INT_SHAPES)
      : unaryCases(dtype, { large: false, attrs: { lo: -1, hi: 1.5 } }),
  errors: [{ label: 'lo-above-hi', inputs: [{ shape: [3], dtype: 'float32' }], attrs: { lo: 2, hi: 1 }, error: 'ArgumentError' }],
  samples: (dtype) =>
    dtype === 'float32'
      ? [valuesCase('special', 'float32', [SPECIALS], ['special'], { attrs: { lo: -1, hi: 1.5 } })]
      : [],
});

const castTargets: readonly DType[] = ['float32', 'int32', 'bool'];

/** `cast(x, dtype)` between every pair of dtypes. */
const cast: OpSpec = {
  name: 'cast',
  family: 'elementwise',
  kind: 'primitive',
  op: 'cast',
  kernels: ['cast'],
  dtypes: ['float32', 'int32', 'bool'],
  run: (api, [x], a) => api.cast(x, a.to as DType),
  // float→int truncates toward zero (NaN→0); anything→bool is x != 0 (NaN → true).
  ref64: ([x], a) => map1(x, (v) => toDType(Number.isNaN(v) && a.to === 'bool' ? 1 : v, a.to as DType), a.to as DType),
  cases: (dtype) =>
    castTargets.flatMap((to) => [
      ...unaryCases(dtype, { large: false, attrs: { to } }).filter((c) =>
        ['scalar', 'mat', 'size0', 'transposed'].some((p) => c.label.startsWith(p)),
      ).map((c) => ({ ...c, label: `to-${to}-${c.label}` })),
      ...castSamples(dtype, to),
    ]),
  domain: (dtype) => (dtype === 'float32' ? uniform(-50, 50) : dtype === 'int32' ? ints(-3, 3) : bools()),
  errors: [{ label: 'bad-dtype', inputs: [{ shape: [2], dtype: 'float32' }], attrs: { to: 'float64' }, error: 'DTypeError' }],
  grad: 'none',
};

function castSamples(from: DType, to: DType): CaseDef[] {
  if (from === 'float32') {
    const v = [NaN, 0, -0, 0.5, -0.5, 1.9, -1.9, -2.5, 1e9, -1e9, 16777217, 3.4e38 / 1e30];
    return [valuesCase(`to-${to}-special`, 'float32', [v], ['special'], { attrs: { to } })];
  }
  if (from === 'int32') {
    const v = [0, 1, -1, 16777217, -16777219, 2147483647, -2147483648];
    return [valuesCase(`to-${to}-special`, 'int32', [v], ['special'], { attrs: { to } })];
  }
  return [];
}

/** Element-wise math: unary, binary, clip, cast. */
export const elementwiseSpecs: readonly OpSpec[] = [
  ...unaryOps,
  ...Object.entries(binaryTable).map(([n, b]) => binaryOp(n, b)),
  clip,
  cast,
];
