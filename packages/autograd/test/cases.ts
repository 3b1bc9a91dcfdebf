/**
 * The gradient cases: at least one per op the core records, most with broadcasting inputs
 * (a broadcast view, or operands of different shapes), each with a float64 host reference
 * where the op is not (piecewise) linear.
 */
import * as c from '@tessera/core';
import type { Tensor, WindowParams } from '@tessera/core';
import type { GradCase, InputSpec } from './helpers/gradcheck.js';
import { bcast, erf, hArr, hmatmul, hsum, htranspose, lanes, logSoftmaxLane, map, reduce, softmaxLane, zip, zip3, type H } from './helpers/host.js';

const F = (shape: number[], range?: [number, number], extra: Partial<InputSpec> = {}): InputSpec => ({ shape, range, ...extra });
const INTS = [-3, -2, -1, 0, 1, 2, 3];
const HALVES = [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5];

const sigm = (v: number): number => 1 / (1 + Math.exp(-v));
const gelu = (v: number): number => 0.5 * v * (1 + erf(v / Math.SQRT2));
const geluTanh = (v: number): number => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
const elu = (v: number, a = 1): number => (v > 0 ? v : a * Math.expm1(v));
const SELU_A = 1.6732632423543772;
const SELU_S = 1.0507009873554805;

interface Unary {
  name: string;
  op: (x: Tensor) => Tensor;
  f: (v: number) => number;
  spec: Partial<InputSpec>;
  /** Recorded op names (default: [name]). */
  ops?: string[];
}

const UNARY: Unary[] = [
  { name: 'neg', op: c.neg, f: (v) => -v, spec: {} },
  { name: 'abs', op: c.abs, f: Math.abs, spec: { avoid: [0] } },
  { name: 'sign', op: c.sign, f: Math.sign, spec: { avoid: [0] } },
  { name: 'exp', op: c.exp, f: Math.exp, spec: {} },
  { name: 'expm1', op: c.expm1, f: Math.expm1, spec: {} },
  { name: 'log', op: c.log, f: Math.log, spec: { range: [0.3, 3] } },
  { name: 'log1p', op: c.log1p, f: Math.log1p, spec: { range: [-0.6, 2] } },
  { name: 'sqrt', op: c.sqrt, f: Math.sqrt, spec: { range: [0.3, 3] } },
  { name: 'rsqrt', op: c.rsqrt, f: (v) => 1 / Math.sqrt(v), spec: { range: [0.3, 3] } },
  { name: 'square', op: c.square, f: (v) => v * v, spec: {} },
  { name: 'reciprocal', op: c.reciprocal, f: (v) => 1 / v, spec: { avoid: [0], gap: 0.4 } },
  { name: 'sin', op: c.sin, f: Math.sin, spec: { range: [-3, 3] } },
  { name: 'cos', op: c.cos, f: Math.cos, spec: { range: [-3, 3] } },
  { name: 'tanh', op: c.tanh, f: Math.tanh, spec: {} },
  { name: 'sigmoid', op: c.sigmoid, f: sigm, spec: { range: [-4, 4] } },
  { name: 'erf', op: c.erf, f: erf, spec: {} },
  { name: 'floor', op: c.floor, f: Math.floor, spec: { range: [-2.9, 2.9], avoid: INTS, gap: 0.05 } },
  { name: 'ceil', op: c.ceil, f: Math.ceil, spec: { range: [-2.9, 2.9], avoid: INTS, gap: 0.05 } },
  { name: 'round', op: c.round, f: (v) => Math.round(v), spec: { range: [-2.9, 2.9], avoid: HALVES, gap: 0.05 } },
  { name: 'relu', op: c.relu, f: (v) => Math.max(v, 0), spec: { avoid: [0] } },
  // Compositions the core builds from recorded ops.
  { name: 'relu6', op: c.relu6, f: (v) => Math.min(Math.max(v, 0), 6), spec: { range: [-2, 8], avoid: [0, 6] }, ops: ['relu', 'minimum'] },
  { name: 'leakyRelu', op: (x) => c.leakyRelu(x), f: (v) => (v > 0 ? v : 0.2 * v), spec: { avoid: [0] }, ops: ['where', 'mul'] },
  { name: 'elu', op: (x) => c.elu(x), f: (v) => elu(v), spec: { avoid: [0] }, ops: ['where', 'expm1', 'minimum'] },
  { name: 'selu', op: c.selu, f: (v) => SELU_S * elu(v, SELU_A), spec: { avoid: [0] }, ops: ['where', 'expm1', 'mul'] },
  { name: 'gelu', op: (x) => c.gelu(x), f: gelu, spec: {}, ops: ['erf', 'mul', 'add'] },
  { name: 'geluTanh', op: (x) => c.gelu(x, true), f: geluTanh, spec: {}, ops: ['tanh', 'mul', 'add'] },
  { name: 'silu', op: c.silu, f: (v) => v * sigm(v), spec: {}, ops: ['sigmoid', 'mul'] },
  { name: 'softplus', op: c.softplus, f: (v) => Math.log1p(Math.exp(v)), spec: { avoid: [0] }, ops: ['abs', 'exp', 'log1p', 'relu'] },
  { name: 'softsign', op: c.softsign, f: (v) => v / (1 + Math.abs(v)), spec: { avoid: [0] }, ops: ['abs', 'div'] },
  { name: 'hardSigmoid', op: c.hardSigmoid, f: (v) => Math.min(Math.max(v + 3, 0), 6) / 6, spec: { range: [-5, 5], avoid: [-3, 3] }, ops: ['relu', 'minimum', 'div'] },
];

interface Binary {
  name: string;
  op: (a: Tensor, b: Tensor) => Tensor;
  f: (a: number, b: number) => number;
  a?: Partial<InputSpec>;
  b?: Partial<InputSpec>;
  /** Explicit values for the [2,3] x [3] variant (to keep away from kinks). */
  values?: [number[], number[]];
}

const BINARY: Binary[] = [
  { name: 'add', op: c.add, f: (a, b) => a + b },
  { name: 'sub', op: c.sub, f: (a, b) => a - b },
  { name: 'mul', op: c.mul, f: (a, b) => a * b },
  { name: 'div', op: c.div, f: (a, b) => a / b, b: { avoid: [0], gap: 0.5 } },
  { name: 'pow', op: c.pow, f: (a, b) => a ** b, a: { range: [0.4, 2] }, b: { range: [-1.5, 1.5] } },
  { name: 'maximum', op: c.maximum, f: Math.max, values: [[-1.9, -1.1, -0.3, 0.5, 1.3, 1.7], [-0.7, 0.1, 0.9]] },
  { name: 'minimum', op: c.minimum, f: Math.min, values: [[-1.9, -1.1, -0.3, 0.5, 1.3, 1.7], [-0.7, 0.1, 0.9]] },
  { name: 'mod', op: c.mod, f: (a, b) => a - b * Math.floor(a / b), values: [[0.3, 1.4, 2.2, -0.6, -1.3, 2.9], [0.7, 1.1, -0.9]] },
  { name: 'atan2', op: c.atan2, f: Math.atan2, a: { avoid: [0] }, b: { avoid: [0] } },
];

function unaryCases(): GradCase[] {
  const out: GradCase[] = [];
  for (const u of UNARY) {
    const ops = u.ops ?? [u.name];
    out.push({
      name: `${u.name} [2,3]`,
      ops,
      fn: (x) => u.op(x),
      inputs: [{ shape: [2, 3], ...u.spec }],
      ref: (x) => map(x, u.f),
    });
    out.push({
      name: `${u.name} of a broadcast view [3] -> [2,3]`,
      ops: [...ops, 'broadcastTo'],
      fn: (x) => u.op(c.broadcastTo(x, [2, 3])),
      inputs: [{ shape: [3], ...u.spec }],
      ref: (x) => map(bcast(x, [2, 3]), u.f),
    });
  }
  return out;
}

function binaryCases(): GradCase[] {
  const out: GradCase[] = [];
  for (const b of BINARY) {
    const A = b.values ? { values: b.values[0] } : b.a ?? {};
    const Bv = b.values ? { values: b.values[1] } : b.b ?? {};
    out.push({
      name: `${b.name} [2,3] with [3]`,
      ops: [b.name],
      fn: (x, y) => b.op(x, y),
      inputs: [{ shape: [2, 3], ...A }, { shape: [3], ...Bv }],
      ref: (x, y) => zip(x, y, b.f),
    });
    if (!b.values) {
      out.push({
        name: `${b.name} [2,1] with [1,3]`,
        ops: [b.name],
        fn: (x, y) => b.op(x, y),
        inputs: [{ shape: [2, 1], ...(b.a ?? {}) }, { shape: [1, 3], ...(b.b ?? {}) }],
        ref: (x, y) => zip(x, y, b.f),
      });
      out.push({
        name: `${b.name} scalar tensor with [2,2]`,
        ops: [b.name],
        fn: (x, y) => b.op(x, y),
        inputs: [{ shape: [], ...(b.a ?? {}) }, { shape: [2, 2], ...(b.b ?? {}) }],
        ref: (x, y) => zip(x, y, b.f),
      });
    }
  }
  // A JS number operand becomes an untracked scalar tensor.
  out.push({ name: 'mul by a number', ops: ['mul'], fn: (x) => c.mul(x, 2.5), inputs: [F([2, 2])], ref: (x) => map(x, (v) => v * 2.5) });
  out.push({ name: 'pow by a number', ops: ['pow'], fn: (x) => c.pow(x, 3), inputs: [F([2, 2])], ref: (x) => map(x, (v) => v ** 3) });
  out.push({ name: 'number minus tensor', ops: ['sub'], fn: (x) => c.sub(1, x), inputs: [F([3])], ref: (x) => map(x, (v) => 1 - v) });
  out.push({ name: 'squaredDifference', ops: ['sub', 'square'], fn: (x, y) => c.squaredDifference(x, y), inputs: [F([2, 3]), F([3])], ref: (x, y) => zip(x, y, (a, b) => (a - b) ** 2) });
  // where: cond is a constant; a and b broadcast against it.
  const mask = [1, 0, 1, 0, 0, 1];
  out.push({
    name: 'where [2,3] cond with [3] and [2,1]',
    ops: ['where'],
    fn: (a, b) => {
      const m = c.tensor(Uint8Array.from(mask), [2, 3], 'bool');
      const y = c.where(m, a, b);
      m.dispose();
      return y;
    },
    inputs: [F([3]), F([2, 1])],
    ref: (a, b) => zip3(hArr([2, 3], mask), a, b, (m, x, y) => (m ? x : y)),
  });
  // cast: the int32 branch carries no gradient; x's gradient comes through the product only.
  out.push({
    name: 'cast to int32 and back',
    ops: ['cast', 'mul'],
    fn: (x) => c.mul(x, c.cast(x, 'int32')),
    inputs: [{ shape: [2, 3], range: [-2.9, 2.9], avoid: INTS, gap: 0.05 }],
    ref: (x) => map(x, (v) => v * Math.trunc(v)),
  });
  out.push({
    name: 'int32 input gets zero gradient',
    ops: ['cast', 'mul'],
    fn: (x, k) => c.mul(x, k),
    inputs: [F([2, 3]), { shape: [3], dtype: 'int32', values: [1, -2, 3] }],
    ref: (x, k) => zip(x, k, (a, b) => a * b),
  });
  out.push({ name: 'contiguous of a transpose', ops: ['contiguous', 'transpose'], fn: (x) => c.contiguous(c.transpose(x)), inputs: [F([2, 3])], ref: (x) => htranspose(x, [1, 0]) });
  return out;
}

const keepShape = (s: number[], axes: number[]): number[] => s.map((d, i) => (axes.includes(i) ? 1 : d));

function reductionCases(): GradCase[] {
  const out: GradCase[] = [];
  const axesList: { axes: number | number[] | undefined; keep: boolean }[] = [
    { axes: 0, keep: false },
    { axes: -1, keep: true },
    { axes: [0, 2], keep: false },
    { axes: undefined, keep: false },
    { axes: [1, 2], keep: true },
  ];
  const red = {
    sum: (v: number[]) => v.reduce((a, b) => a + b, 0),
    prod: (v: number[]) => v.reduce((a, b) => a * b, 1),
    max: (v: number[]) => Math.max(...v),
    min: (v: number[]) => Math.min(...v),
    mean: (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length,
    logSumExp: (v: number[]) => {
      const m = Math.max(...v);
      return m + Math.log(v.reduce((a, b) => a + Math.exp(b - m), 0));
    },
    variance: (v: number[]) => {
      const m = v.reduce((a, b) => a + b, 0) / v.length;
      return v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length;
    },
    std: (v: number[]) => {
      const m = v.reduce((a, b) => a + b, 0) / v.length;
      return Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length);
    },
  };
  const fns = { sum: c.sum, prod: c.prod, max: c.max, min: c.min, mean: c.mean, logSumExp: c.logSumExp, variance: c.variance, std: c.std };
  const recordedAs: Record<string, string[]> = {
    sum: ['sum'],
    prod: ['prod'],
    max: ['max'],
    min: ['min'],
    mean: ['sum', 'div'],
    logSumExp: ['max', 'sub', 'exp', 'sum', 'log', 'add'],
    variance: ['sum', 'sub', 'square'],
    std: ['sqrt', 'square'],
  };
  for (const name of Object.keys(fns) as (keyof typeof fns)[]) {
    for (const { axes, keep } of axesList) {
      out.push({
        name: `${name} over ${JSON.stringify(axes) ?? 'all'}${keep ? ' keepDims' : ''} of [2,3,2]`,
        ops: recordedAs[name]!,
        fn: (x) => fns[name](x, axes, keep),
        inputs: [{ shape: [2, 3, 2], range: name === 'prod' ? [0.5, 1.6] : [-2, 2] }],
        ref: (x) => reduce(x, axes, keep, red[name]),
        // std over the broadcast axis alone is sqrt(0): not differentiable there.
        noBroadcastVariant: name === 'std' && axes === 0,
      });
    }
  }
  // Reductions of a broadcast input, and prod with negative values.
  out.push({ name: 'sum of a broadcast view', ops: ['sum', 'broadcastTo'], fn: (x) => c.sum(c.broadcastTo(x, [3, 2, 2]), [0, 2]), inputs: [F([2, 1])], ref: (x) => hsum(bcast(x, [3, 2, 2]), [0, 2]) });
  out.push({ name: 'max of a broadcast sum', ops: ['max', 'add'], fn: (x, y) => c.max(c.add(x, y), 1), inputs: [F([2, 1]), F([3])], ref: (x, y) => reduce(zip(x, y, (a, b) => a + b), 1, false, red.max) });
  out.push({ name: 'prod with negatives', ops: ['prod'], fn: (x) => c.prod(x, 1), inputs: [{ shape: [2, 3], values: [-0.5, 1.2, 0.8, 1.5, -1.1, -0.9] }], ref: (x) => reduce(x, 1, false, red.prod) });
  // Cumulative ops, every flag combination.
  for (const [name, fn, f] of [
    ['cumsum', c.cumsum, (a: number, b: number) => a + b],
    ['cumprod', c.cumprod, (a: number, b: number) => a * b],
    ['cummax', c.cummax, Math.max],
  ] as const) {
    const ident = name === 'cumsum' ? 0 : name === 'cumprod' ? 1 : -Infinity;
    for (const axis of [0, 1]) {
      for (const exclusive of [false, true]) {
        for (const reverse of [false, true]) {
          if (name === 'cummax' && exclusive) continue; // -Inf identity: compared separately below
          out.push({
            name: `${name} axis ${axis}${exclusive ? ' exclusive' : ''}${reverse ? ' reverse' : ''}`,
            ops: [name],
            fn: (x) => fn(x, axis, { exclusive, reverse }),
            inputs: [{ shape: [3, 4], range: name === 'cumprod' ? [0.5, 1.6] : [-2, 2] }],
            ref: (x) =>
              lanes(x, axis, (l) => {
                const src = reverse ? [...l].reverse() : l;
                const r: number[] = [];
                let acc = ident;
                for (const v of src) {
                  if (exclusive) {
                    r.push(acc);
                    acc = f(acc, v);
                  } else {
                    acc = f(acc, v);
                    r.push(acc);
                  }
                }
                return reverse ? r.reverse() : r;
              }),
          });
        }
      }
    }
  }
  out.push({
    name: 'cummax exclusive (finite part)',
    ops: ['cummax'],
    fn: (x) => c.slice(c.cummax(x, 1, { exclusive: true }), [0, 1], [3, 3]),
    inputs: [F([3, 4])],
    ref: (x) => {
      const d: number[] = [];
      for (let i = 0; i < 3; i++) {
        const row = Array.from(x.data.subarray(i * 4, i * 4 + 4));
        for (let j = 1; j < 4; j++) d.push(Math.max(...row.slice(0, j)));
      }
      return hArr([3, 3], d);
    },
  });
  return out;
}

function movementCases(): GradCase[] {
  const h = 0.5;
  return [
    { name: 'reshape', ops: ['reshape'], fn: (x) => c.reshape(x, [3, -1]), inputs: [F([2, 3])], h },
    { name: 'reshape of a strided view', ops: ['reshape', 'transpose'], fn: (x) => c.reshape(c.transpose(x), [-1]), inputs: [F([2, 3])], h },
    { name: 'transpose', ops: ['transpose'], fn: (x) => c.transpose(x, [2, 0, 1]), inputs: [F([2, 3, 2])], h },
    { name: 'stridedSlice negative steps', ops: ['stridedSlice'], fn: (x) => c.stridedSlice(x, [3, null], [null, null], [-2, 2]), inputs: [F([4, 5])], h },
    { name: 'slice', ops: ['stridedSlice'], fn: (x) => c.slice(x, [1, 0], [2, -1]), inputs: [F([3, 3])], h },
    { name: 'unslice', ops: ['unslice'], fn: (x) => c.unslice(x, [5, 4], [1, 0], [2, 1]), inputs: [F([2, 4])], h },
    { name: 'unslice negative step', ops: ['unslice'], fn: (x) => c.unslice(x, [5, 3], [4, 2], [-2, -1]), inputs: [F([3, 3])], h },
    { name: 'flip', ops: ['flip'], fn: (x) => c.flip(x, 1), inputs: [F([2, 3])], h },
    { name: 'broadcastTo [2,1] -> [3,2,4]', ops: ['broadcastTo'], fn: (x) => c.mul(c.broadcastTo(x, [3, 2, 4]), 1.5), inputs: [F([2, 1])], h },
    { name: 'concat of broadcast views', ops: ['concat', 'broadcastTo'], fn: (a, b) => c.concat([c.broadcastTo(a, [2, 2]), b, a], 1), inputs: [F([2, 1]), F([2, 3])], h },
    { name: 'stack', ops: ['concat', 'reshape'], fn: (a, b) => c.stack([a, b], 1), inputs: [F([2, 3]), F([2, 3])], h },
    { name: 'split', ops: ['stridedSlice'], fn: (x) => c.split(x, [1, 2], 1)[1]!, inputs: [F([2, 3])], h },
    { name: 'pad', ops: ['pad'], fn: (x) => c.pad(x, [[1, 0], [2, 1]], 3), inputs: [F([2, 3])], h },
    { name: 'tile', ops: ['broadcastTo', 'reshape'], fn: (x) => c.tile(x, [2, 3]), inputs: [F([2, 2])], h },
    { name: 'expandDims/squeeze', ops: ['reshape'], fn: (x) => c.squeeze(c.expandDims(x, 1), [1]), inputs: [F([3])], h },
    {
      name: 'gather axis 0 with repeats',
      ops: ['gather'],
      fn: (x) => {
        const i = c.tensor([2, 0, 2, 3, 2], [5], 'int32');
        const y = c.gather(x, i, 0);
        i.dispose();
        return y;
      },
      inputs: [F([4, 3])],
      h,
    },
    {
      name: 'gather axis 1 with 2-D indices',
      ops: ['gather'],
      fn: (x) => {
        const i = c.tensor([1, 1, 0, 2], [2, 2], 'int32');
        const y = c.gather(x, i, 1);
        i.dispose();
        return y;
      },
      inputs: [F([3, 3])],
      h,
    },
    {
      name: 'scatterAdd',
      ops: ['scatterAdd'],
      fn: (x, u) => {
        const i = c.tensor([1, 3, 1], [3], 'int32');
        const y = c.scatterAdd(x, i, u, 0);
        i.dispose();
        return y;
      },
      inputs: [F([4, 2]), F([3, 2])],
      h,
    },
    { name: 'gather/oneHot labels (int32 input, no gradient)', ops: ['gather'], fn: (x, i) => c.gather(x, i, 0), inputs: [F([3, 2]), { shape: [2], dtype: 'int32', values: [2, 0] }], h },
  ];
}

const ACT: Record<string, (v: number) => number> = {
  linear: (v) => v,
  relu: (v) => Math.max(v, 0),
  sigmoid: sigm,
  tanh: Math.tanh,
  gelu,
};

function productCases(): GradCase[] {
  const out: GradCase[] = [];
  const mm = (shapeA: number[], shapeB: number[], ta = false, tb = false): GradCase => ({
    name: `matmul ${JSON.stringify(shapeA)} @ ${JSON.stringify(shapeB)}${ta ? ' transposeA' : ''}${tb ? ' transposeB' : ''}`,
    ops: ['matmul'],
    fn: (a, b) => c.matmul(a, b, { transposeA: ta, transposeB: tb }),
    inputs: [F(shapeA), F(shapeB)],
    ref: (a, b) => hmatmul(a, b, ta, tb),
  });
  out.push(mm([2, 3], [3, 4]));
  out.push(mm([2, 1, 2, 3], [3, 3, 2]));
  out.push(mm([3, 2], [3, 4], true));
  out.push(mm([2, 3], [4, 3], false, true));
  out.push(mm([2, 3, 2], [1, 4, 3], true, true));
  out.push(mm([3], [3, 2]));
  out.push(mm([2, 3], [3]));
  out.push(mm([3], [3]));
  out.push(mm([2, 2, 3], [3]));
  for (const act of Object.keys(ACT)) {
    for (const [xs, bias] of [
      [[2, 3], true],
      [[2, 2, 3], true],
      [[2, 3], false],
    ] as const) {
      out.push({
        name: `linear ${act} x ${JSON.stringify(xs)}${bias ? ' + bias' : ''}`,
        ops: ['linear'],
        fn: (x, w, b) => c.linear(x, w, bias ? b : null, act as 'linear'),
        inputs: [F([...xs], undefined, act === 'relu' ? {} : {}), F([3, 4]), F([4])],
        ref: (x, w, b) => {
          const z = hmatmul(x, w);
          const zb = bias ? zip(z, b, (p, q) => p + q) : z;
          return map(zb, ACT[act]!);
        },
      });
    }
  }
  for (const [name, fn, lane] of [
    ['softmax', c.softmax, softmaxLane],
    ['logSoftmax', c.logSoftmax, logSoftmaxLane],
  ] as const) {
    out.push({ name: `${name} last axis`, ops: [name], fn: (x) => fn(x), inputs: [F([2, 4])], ref: (x) => lanes(x, -1, lane) });
    out.push({ name: `${name} axis 0`, ops: [name, 'transpose'], fn: (x) => fn(x, 0), inputs: [F([3, 2])], ref: (x) => lanes(x, 0, lane) });
    out.push({ name: `${name} of a broadcast view`, ops: [name, 'broadcastTo'], fn: (x) => fn(c.broadcastTo(x, [2, 3, 4])), inputs: [F([3, 1])], ref: (x) => lanes(bcast(x, [2, 3, 4]), -1, lane) });
  }
  out.push({
    name: 'softmaxCrossEntropy (logits and soft labels)',
    ops: ['softmaxCrossEntropy'],
    fn: (z, t) => c.softmaxCrossEntropy(z, t),
    inputs: [F([3, 4]), F([3, 4], [0, 1])],
    ref: (z, t) => {
      const ls = lanes(z, -1, logSoftmaxLane);
      return hsum(zip(t, ls, (a, b) => -a * b), -1);
    },
  });
  out.push({
    name: 'layerNorm',
    ops: ['layerNorm'],
    fn: (x, g, b) => c.layerNorm(x, g, b, 1e-5),
    inputs: [F([2, 2, 4]), F([4]), F([4])],
    ref: (x, g, b) => {
      const norm = lanes(x, -1, (l) => {
        const m = l.reduce((p, q) => p + q, 0) / l.length;
        const v = l.reduce((p, q) => p + (q - m) ** 2, 0) / l.length;
        return l.map((q) => (q - m) / Math.sqrt(v + 1e-5));
      });
      return zip(zip(norm, g, (p, q) => p * q), b, (p, q) => p + q);
    },
  });
  // Scaled dot-product attention (one recorded op; its rule recomputes the weights).
  const attnRef = (mask: (b: number, i: number, j: number) => boolean, scale?: number) => (q: H, k: H, v: H): H => {
    const d = q.shape[q.shape.length - 1]!;
    const s = hmatmul(q, k, false, true);
    const [tq, tk] = s.shape.slice(-2) as [number, number];
    const sc = scale ?? 1 / Math.sqrt(d);
    const p = { shape: s.shape, data: new Float64Array(s.data.length) };
    for (let r = 0; r < s.data.length / tk; r++) {
      const b = Math.floor(r / tq);
      const i = r % tq;
      const lane: number[] = [];
      for (let j = 0; j < tk; j++) lane.push(s.data[r * tk + j]! * sc);
      const keep = lane.map((_, j) => mask(b, i, j));
      const m = Math.max(...lane.filter((_, j) => keep[j]));
      const e = lane.map((x, j) => (keep[j] ? Math.exp(x - m) : 0));
      const z = e.reduce((a, x) => a + x, 0);
      e.forEach((x, j) => (p.data[r * tk + j] = z > 0 ? x / z : 0));
    }
    return hmatmul(p, v);
  };
  out.push({
    name: 'scaledDotProductAttention',
    ops: ['scaledDotProductAttention'],
    fn: (q, k, v) => c.scaledDotProductAttention(q, k, v),
    inputs: [F([2, 3, 4]), F([2, 5, 4]), F([2, 5, 3])],
    ref: attnRef(() => true),
  });
  out.push({
    name: 'scaledDotProductAttention causal (Tq < Tk, as with a KV cache), scale 0.7',
    ops: ['scaledDotProductAttention'],
    fn: (q, k, v) => c.scaledDotProductAttention(q, k, v, { causal: true, scale: 0.7 }),
    inputs: [F([2, 3, 4]), F([2, 5, 4]), F([2, 5, 2])],
    ref: attnRef((_b, i, j) => j <= i + 2, 0.7),
  });
  out.push({
    name: 'scaledDotProductAttention with a padding mask (one query row fully masked)',
    ops: ['scaledDotProductAttention'],
    fn: (q, k, v) => {
      const mask = c.tensor([1, 1, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0], [2, 2, 3]);
      const y = c.scaledDotProductAttention(q, k, v, { mask, causal: true });
      mask.dispose();
      return y;
    },
    inputs: [F([2, 2, 4]), F([2, 3, 4]), F([2, 3, 3])],
    ref: attnRef((b, i, j) => [[[1, 1, 0], [0, 1, 1]], [[1, 0, 0], [0, 0, 0]]][b]![i]![j] === 1 && j <= i + 1),
  });
  return out;
}

function windowCases(): GradCase[] {
  const h = 0.25;
  const p = (window: [number, number], strides: [number, number], pads: [number, number, number, number], dilations: [number, number] = [1, 1]): WindowParams => ({
    window,
    strides,
    pads,
    dilations,
  });
  const out: GradCase[] = [
    { name: 'extractPatches', ops: ['extractPatches'], fn: (x) => c.extractPatches(x, p([2, 2], [1, 2], [0, 1, 1, 0])), inputs: [F([1, 3, 4, 2])], h },
    { name: 'accumulatePatches', ops: ['accumulatePatches'], fn: (x) => c.accumulatePatches(x, [1, 3, 4, 2], p([2, 2], [1, 2], [0, 1, 1, 0])), inputs: [F([1, 3, 2, 2, 2, 2])], h },
  ];
  for (const [label, opts] of [
    ['same stride 2', { strides: 2, padding: 'same' }],
    ['valid dilation 2', { padding: 'valid', dilations: 2 }],
    ['explicit padding', { padding: [[1, 0], [0, 2]] }],
  ] as const) {
    out.push({ name: `conv2d ${label}`, ops: ['conv2d'], fn: (x, f) => c.conv2d(x, f, opts as c.WindowOptions), inputs: [F([2, 5, 5, 2]), F([3, 3, 2, 2])], h });
  }
  out.push({ name: 'conv2d of a rank-3 image', ops: ['conv2d', 'reshape'], fn: (x, f) => c.conv2d(x, f, { padding: 'same' }), inputs: [F([4, 4, 1]), F([2, 2, 1, 2])], h });
  const cp = c.resolveWindow('conv2d', 5, 5, [3, 3], { strides: 2, padding: 'same' }).p;
  out.push({ name: 'conv2dBackpropInput', ops: ['conv2dBackpropInput'], fn: (dy, f) => c.conv2dBackpropInput(dy, f, [2, 5, 5, 2], cp), inputs: [F([2, 3, 3, 3]), F([3, 3, 2, 3])], h });
  out.push({ name: 'conv2dBackpropFilter', ops: ['conv2dBackpropFilter'], fn: (x, dy) => c.conv2dBackpropFilter(x, dy, [3, 3, 2, 3], cp), inputs: [F([2, 5, 5, 2]), F([2, 3, 3, 3])], h });
  out.push({ name: 'depthwiseConv2d', ops: ['extractPatches', 'mul', 'sum'], fn: (x, f) => c.depthwiseConv2d(x, f, { padding: 'same' }), inputs: [F([1, 4, 4, 2]), F([3, 3, 2, 2])], h });
  for (const kind of ['max', 'avg'] as const) {
    for (const [label, size, opts] of [
      ['2x2 valid', 2, {}],
      ['3x3 same stride 2', 3, { strides: 2, padding: 'same' }],
      ['2x2 same stride 1', 2, { strides: 1, padding: 'same' }],
    ] as const) {
      out.push({
        name: `${kind}Pool ${label}`,
        ops: ['pool2d'],
        fn: (x) => (kind === 'max' ? c.maxPool : c.avgPool)(x, size, opts as c.PoolOptions),
        inputs: [{ shape: [2, 5, 5, 2], range: [-5, 5], sep: 0.05 }],
        h: 0.02,
      });
    }
    const pp = c.resolveWindow('pool', 5, 5, [3, 3], { strides: 2, padding: 'same' }).p;
    out.push({
      name: `pool2dBackward ${kind} (gradient wrt dy; none wrt x)`,
      ops: ['pool2dBackward'],
      fn: (x, dy) => c.pool2dBackward(kind, x, dy, pp),
      inputs: [{ shape: [1, 5, 5, 2], range: [-5, 5], sep: 0.05 }, F([1, 3, 3, 2])],
      h: 0.02,
    });
  }
  return out;
}

/**
 * The same case with its first input given as a broadcast view: the input's leading axis is 1
 * and `broadcastTo` widens it to the case's shape, so the op's rule runs on a stride-0 input
 * and the gradient is summed back over the broadcast axis.
 */
function broadcastVariant(gc: GradCase): GradCase | undefined {
  const spec = gc.inputs[0]!;
  const shape = spec.shape;
  if (gc.noBroadcastVariant || shape.length === 0 || shape[0]! <= 1 || spec.values || (spec.dtype ?? 'float32') !== 'float32') return undefined;
  const small = [1, ...shape.slice(1)];
  return {
    ...gc,
    name: `${gc.name} | first input broadcast from ${JSON.stringify(small)}`,
    ops: [...gc.ops, 'broadcastTo'],
    fn: (x, ...rest) => gc.fn(c.broadcastTo(x!, shape), ...rest),
    inputs: [{ ...spec, shape: small }, ...gc.inputs.slice(1)],
    ref: gc.ref ? (x, ...rest) => gc.ref!(bcast(x!, shape), ...rest) : undefined,
  };
}

/** Every gradient case, and its broadcast variant. */
export function allCases(): GradCase[] {
  const base = [...unaryCases(), ...binaryCases(), ...reductionCases(), ...movementCases(), ...productCases(), ...windowCases()];
  return base.flatMap((gc) => {
    const v = broadcastVariant(gc);
    return v ? [gc, v] : [gc];
  });
}

/** Every op name the core records (from `record(`/`recorded(` in packages/core/src/ops). */
export const CORE_RECORDED_OPS = [
  // unary
  'neg', 'abs', 'sign', 'exp', 'expm1', 'log', 'log1p', 'sqrt', 'rsqrt', 'square', 'reciprocal', 'sin', 'cos', 'tanh',
  'sigmoid', 'erf', 'floor', 'ceil', 'round', 'relu', 'not',
  // binary
  'add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'mod', 'atan2', 'floorDiv', 'logicalAnd', 'logicalOr',
  'cast', 'where', 'contiguous',
  // reductions
  'sum', 'prod', 'max', 'min', 'cumsum', 'cumprod', 'cummax',
  // movement
  'reshape', 'transpose', 'stridedSlice', 'unslice', 'flip', 'broadcastTo', 'concat', 'pad', 'gather', 'scatterAdd',
  // products, activations, fused
  'matmul', 'linear', 'softmax', 'logSoftmax', 'softmaxCrossEntropy', 'layerNorm', 'scaledDotProductAttention',
  // windows
  'extractPatches', 'accumulatePatches', 'conv2d', 'conv2dBackpropInput', 'conv2dBackpropFilter', 'pool2d', 'pool2dBackward',
];

/** Recorded ops whose outputs are bool/int32 only, so no gradient ever reaches them. */
export const NON_FLOAT_OPS = ['not', 'logicalAnd', 'logicalOr', 'floorDiv'];

export type { H };
