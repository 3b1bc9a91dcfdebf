/**
 * Activations (besides `relu`, an op code of its own in the element-wise family):
 * `relu6 leakyRelu elu selu gelu silu softplus softsign hardSigmoid`.
 * @module
 */
import type { CoreApi, Tensor } from '../api.js';
import { uniform } from '../domains.js';
import type { KernelRef } from '../kernels.js';
import { gelu, SELU_ALPHA, SELU_SCALE, sigmoid, softplus } from '../refmath.js';
import { SPECIALS, unaryCases, valuesCase } from '../shapes.js';
import { EXACT, F32, TRANSCENDENTAL } from '../tolerance.js';
import type { Attrs, OpSpec, Tol } from '../types.js';
import { pick, unarySpec } from './helpers.js';

const nanKeep = (f: (x: number) => number) => (x: number) => (Number.isNaN(x) ? NaN : f(x));

interface A {
  op: string;
  run: (api: CoreApi, x: Tensor, a: Attrs) => Tensor;
  f: (x: number, a: Attrs) => number;
  kernels: KernelRef[];
  tol: Tol;
  attrs?: Attrs;
  /** Specials left out: x·0 limits (silu, gelu at -Inf) and Inf/Inf (softsign) are left to the backends. */
  skip?: (x: number) => boolean;
}

const table: Record<string, A> = {
  relu6: {
    op: 'relu6', run: (api, x) => api.relu6(x), f: nanKeep((x) => Math.min(Math.max(x, 0), 6)),
    kernels: ['unary:relu', 'binary:min'], tol: EXACT,
  },
  leakyRelu: {
    op: 'leakyRelu', run: (api, x) => api.leakyRelu(x), f: nanKeep((x) => (x > 0 ? x : Math.fround(0.2) * x)),
    kernels: ['binary:mul', 'binary:max'], tol: F32,
  },
  'leakyRelu-alpha': {
    op: 'leakyRelu', run: (api, x, a) => api.leakyRelu(x, a.alpha as number),
    f: nanKeep((x) => (x > 0 ? x : Math.fround(0.05) * x)), kernels: ['binary:mul', 'binary:max'], tol: F32,
    attrs: { alpha: 0.05 },
  },
  elu: {
    op: 'elu', run: (api, x) => api.elu(x), f: (x) => (x > 0 ? x : Math.expm1(x)),
    kernels: ['unary:expm1', 'where'], tol: TRANSCENDENTAL,
  },
  'elu-alpha': {
    op: 'elu', run: (api, x, a) => api.elu(x, a.alpha as number),
    f: (x) => (x > 0 ? x : Math.fround(0.5) * Math.expm1(x)), kernels: ['unary:expm1', 'where'], tol: TRANSCENDENTAL,
    attrs: { alpha: 0.5 },
  },
  selu: {
    op: 'selu', run: (api, x) => api.selu(x),
    f: (x) => (x > 0 ? SELU_SCALE * x : SELU_SCALE * SELU_ALPHA * Math.expm1(x)),
    kernels: ['unary:expm1', 'where', 'binary:mul'], tol: TRANSCENDENTAL,
  },
  gelu: {
    op: 'gelu', run: (api, x) => api.gelu(x), f: (x) => gelu(x), kernels: ['unary:erf', 'binary:mul'],
    tol: TRANSCENDENTAL, skip: (x) => x === -Infinity,
  },
  'gelu-approximate': {
    op: 'gelu', run: (api, x) => api.gelu(x, true), f: (x) => gelu(x, true), kernels: ['unary:tanh', 'binary:mul'],
    tol: TRANSCENDENTAL, skip: (x) => x === -Infinity,
  },
  silu: {
    op: 'silu', run: (api, x) => api.silu(x), f: (x) => x * sigmoid(x), kernels: ['unary:sigmoid', 'binary:mul'],
    tol: TRANSCENDENTAL, skip: (x) => x === -Infinity,
  },
  softplus: {
    op: 'softplus', run: (api, x) => api.softplus(x), f: softplus, kernels: ['unary:exp', 'unary:log1p'],
    tol: TRANSCENDENTAL,
  },
  softsign: {
    op: 'softsign', run: (api, x) => api.softsign(x), f: (x) => x / (1 + Math.abs(x)),
    kernels: ['unary:abs', 'binary:div'], tol: F32, skip: (x) => !Number.isFinite(x) && !Number.isNaN(x),
  },
  // Keras 3 definition: relu6(x + 3) / 6.
  hardSigmoid: {
    op: 'hardSigmoid', run: (api, x) => api.hardSigmoid(x),
    f: nanKeep((x) => Math.min(6, Math.max(0, x + 3)) / 6), kernels: ['unary:relu', 'binary:min', 'binary:div'], tol: F32,
  },
};

const SHAPES = ['scalar', 'mat', 'rank3', 'size0-[2,0,3]', 'size1-[1,1,5]', 'odd', 'transposed', 'broadcast', 'stepped', 'large'];

/** Activation functions. */
export const activationSpecs: readonly OpSpec[] = Object.entries(table).map(([name, a]) =>
  unarySpec({
    name,
    family: 'nn',
    kind: 'composite',
    kernels: a.kernels,
    run: a.run,
    f: a.f,
    tol: a.tol,
    domain: () => uniform(-6, 6),
    shapes: (d) => pick(unaryCases(d, { attrs: a.attrs }), SHAPES),
    samples: () => [valuesCase('special', 'float32', [SPECIALS.filter((x) => !a.skip?.(x))], ['special'], { attrs: a.attrs })],
  }),
).map((s, i) => ({ ...s, op: Object.values(table)[i].op }));
