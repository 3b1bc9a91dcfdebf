/**
 * Comparisons, logical ops, `where`, `isNaN` and `isFinite`. Outputs are bool; NaN
 * compares false except under `notEqual`.
 * @module
 */
import type { DType } from '@tessera/core';
import { bools, grid, ints } from '../domains.js';
import { broadcastShapes, broadcastTo, type HostTensor } from '../host.js';
import { binaryCases, input, pairs, shapeText, SPECIALS, unaryCases, valuesCase, viewTag } from '../shapes.js';
import type { CaseDef, OpSpec, Tag, ViewRecipe } from '../types.js';
import { binarySpec, disposedCase, pick, unarySpec } from './helpers.js';

const cmpTable: Record<string, (a: number, b: number) => boolean> = {
  equal: (a, b) => a === b,
  notEqual: (a, b) => a !== b,
  less: (a, b) => a < b,
  lessEqual: (a, b) => a <= b,
  greater: (a, b) => a > b,
  greaterEqual: (a, b) => a >= b,
};

const CMP_SPECIALS = [NaN, Infinity, -Infinity, 0, -0, 1, -1].map(Math.fround);

function compareOp(name: string, f: (a: number, b: number) => boolean): OpSpec {
  const eq = name === 'equal' || name === 'notEqual';
  return binarySpec({
    name,
    family: 'compare',
    kernels: [`compare:${name}` as 'compare:equal'],
    dtypes: eq ? ['float32', 'int32', 'bool'] : ['float32', 'int32'],
    run: (api, a, b) => api[name as 'equal'](a, b),
    f: (a, b) => (f(a, b) ? 1 : 0),
    outDType: 'bool',
    // A coarse grid so that equal values occur often.
    domains: (dtype) =>
      dtype === 'float32' ? [grid(-2, 2, 0.5), grid(-2, 2, 0.5)] : dtype === 'int32' ? [ints(-3, 3), ints(-3, 3)] : [bools(), bools()],
    shapes: (dtype) => {
      const all = binaryCases(dtype, { large: dtype === 'float32', numberOperand: dtype === 'bool' ? undefined : 1 });
      return dtype === 'float32'
        ? pick(all, ['same', 'scalar-right', 'bcast-[3,1]', 'bcast-[2,3,4]', 'size0', 'transposed', 'stepped', 'broadcast-view', 'large-bcast', 'number-right'])
        : pick(all, ['same', 'bcast-[3,1]', 'size0-[0,3]', 'transposed', 'number-left']);
    },
    samples: (dtype) => {
      if (dtype !== 'float32') return [];
      const [x, y] = pairs(CMP_SPECIALS);
      return [valuesCase('special', 'float32', [x, y])];
    },
    errors: name === 'less'
      ? [
          {
            label: 'shapes-do-not-broadcast',
            inputs: [{ shape: [3], dtype: 'float32' }, { shape: [4], dtype: 'float32' }],
            error: 'ShapeError',
          },
        ]
      : undefined,
    grad: 'none',
  });
}

/** Truthiness as `cast(x, 'bool')` defines it: x != 0 (NaN is true). */
const truthy = (v: number) => v !== 0;

const logicalAnd = binarySpec({
  name: 'logicalAnd',
  family: 'compare',
  kernels: ['binary:and', 'cast'],
  dtypes: ['bool', 'float32'],
  run: (api, a, b) => api.logicalAnd(a, b),
  f: (a, b) => (truthy(a) && truthy(b) ? 1 : 0),
  outDType: 'bool',
  // Float operands are cast to bool first.
  shapes: (d) => (d === 'bool' ? binaryCases(d, { large: true }) : pick(binaryCases(d), ['same', 'bcast-[3,1]'])),
  samples: (d) => {
    if (d !== 'float32') return [];
    const [x, y] = pairs([NaN, 0, -0, 1, -2.5, Infinity]);
    return [valuesCase('special', 'float32', [x, y])];
  },
  grad: 'none',
});

const logicalOr = binarySpec({
  name: 'logicalOr',
  family: 'compare',
  kernels: ['binary:or'],
  dtypes: ['bool'],
  run: (api, a, b) => api.logicalOr(a, b),
  f: (a, b) => (truthy(a) || truthy(b) ? 1 : 0),
  shapes: (d) => pick(binaryCases(d, { large: false }), ['same', 'scalar', 'bcast', 'size0', 'transposed', 'stepped', 'broadcast-view']),
  grad: 'none',
});

const logicalNot = unarySpec({
  name: 'logicalNot',
  family: 'compare',
  kernels: ['unary:not'],
  dtypes: ['bool'],
  run: (api, x) => api.logicalNot(x),
  f: (x) => (x ? 0 : 1),
  shapes: (d) => pick(unaryCases(d), ['scalar', 'mat', 'rank5', 'size0', 'odd', 'transposed', 'stepped', 'flipped', 'broadcast', 'offset', 'large']),
  grad: 'none',
});

const isNaN = unarySpec({
  name: 'isNaN',
  family: 'compare',
  kernels: ['compare:notEqual'],
  dtypes: ['float32'],
  run: (api, x) => api.isNaN(x),
  f: (x) => (Number.isNaN(x) ? 1 : 0),
  outDType: 'bool',
  shapes: (d) => pick(unaryCases(d), ['scalar', 'mat', 'size0', 'transposed', 'broadcast', 'large']),
  samples: () => [valuesCase('special', 'float32', [SPECIALS])],
  grad: 'none',
});

const isFinite = unarySpec({
  name: 'isFinite',
  family: 'compare',
  kernels: ['unary:abs', 'compare:less'],
  dtypes: ['float32'],
  run: (api, x) => api.isFinite(x),
  f: (x) => (Number.isFinite(x) ? 1 : 0),
  outDType: 'bool',
  shapes: (d) => pick(unaryCases(d), ['scalar', 'mat', 'size0', 'stepped', 'large']),
  samples: () => [valuesCase('special', 'float32', [SPECIALS])],
  grad: 'none',
});

/** `where(cond, a, b)` cases: three-way broadcasting, views, number operands. */
function whereCases(dtype: DType): CaseDef[] {
  const all = whereShapes(dtype);
  return dtype === 'float32' ? all : all.filter((c) => ['same', 'bcast-[4]', 'size0', 'views'].some((p) => c.label.startsWith(p)));
}

function whereShapes(dtype: DType): CaseDef[] {
  const mk = (
    label: string, c: number[], a: number[], b: number[], tags: Tag[] = [],
    views: [ViewRecipe?, ViewRecipe?, ViewRecipe?] = [],
  ): CaseDef => ({
    label: `${label}-${shapeText(c)}x${shapeText(a)}x${shapeText(b)}`,
    inputs: [input(c, 'bool', { view: views[0] }), input(a, dtype, { view: views[1] }), input(b, dtype, { view: views[2] })],
    tags: [...tags, ...views.flatMap(viewTag)],
  });
  const cs = [
    mk('same', [3, 4], [3, 4], [3, 4]),
    mk('bcast', [3, 1], [1, 4], [], ['broadcast', 'scalar', 'size1']),
    mk('bcast', [4], [2, 3, 4], [3, 1], ['broadcast', 'rank-mismatch']),
    mk('bcast', [2, 1, 3], [5, 1], [1], ['broadcast', 'rank-mismatch', 'size1']),
    mk('scalar-cond', [], [2, 3], [2, 3], ['scalar', 'broadcast']),
    mk('size0', [0, 3], [3], [0, 1], ['size0', 'broadcast']),
    mk('views', [4, 5], [4, 5], [4, 5], [], [{ kind: 'transpose', perm: [1, 0] }, { kind: 'step', step: 2 }, { kind: 'flip', axes: [0] }]),
    mk('broadcast-view', [4, 5], [4, 5], [4, 5], [], [{ kind: 'broadcast', from: [1, 5] }, { kind: 'offset' }, undefined]),
    mk('odd', [17, 33], [17, 33], [17, 33], ['odd']),
    mk('large', [100_000], [100_000], [100_000], ['large']),
  ];
  if (dtype === 'float32') {
    cs.push({
      label: 'number-operands-[3,4]',
      inputs: [input([3, 4], 'bool')],
      attrs: { numberA: 1.5, numberB: -2 },
      tags: ['number-operand'],
    });
    cs.push({
      label: 'special',
      inputs: [
        input([6], 'bool', { values: [1, 0, 1, 0, 1, 0] }),
        input([6], 'float32', { values: [NaN, 1, -0, 2, Infinity, 3] }),
        input([6], 'float32', { values: [4, NaN, 5, -0, 6, -Infinity] }),
      ],
      tags: ['special'],
      signedZeros: true,
    });
  }
  return cs;
}

const where: OpSpec = {
  name: 'where',
  family: 'compare',
  kind: 'primitive',
  op: 'where',
  kernels: ['where'],
  dtypes: ['float32', 'int32', 'bool'],
  run: (api, inputs, attrs) => {
    if (attrs.numberA !== undefined) return api.where(inputs[0], attrs.numberA as number, attrs.numberB as number);
    return api.where(inputs[0], inputs[1], inputs[2]);
  },
  ref64: (inputs, attrs) => {
    const c = inputs[0];
    const dtype: DType = attrs.numberA !== undefined ? 'float32' : inputs[1].dtype;
    const scalar = (v: number): HostTensor => ({ dtype, shape: [], data: Float64Array.of(Math.fround(v)) });
    const a = attrs.numberA !== undefined ? scalar(attrs.numberA as number) : inputs[1];
    const b = attrs.numberB !== undefined ? scalar(attrs.numberB as number) : inputs[2];
    const shape = broadcastShapes(broadcastShapes(c.shape, a.shape)!, b.shape)!;
    const [cc, aa, bb] = [c, a, b].map((t) => broadcastTo(t, shape).data);
    return { dtype, shape, data: cc.map((v, i) => (v ? aa[i] : bb[i])) };
  },
  cases: whereCases,
  errors: [
    {
      label: 'shapes-do-not-broadcast',
      inputs: [{ shape: [2, 3], dtype: 'bool' }, { shape: [4], dtype: 'float32' }, { shape: [3], dtype: 'float32' }],
      error: 'ShapeError',
    },
    disposedCase('bool', [[2], [2], [2]]),
  ],
  grad: { nondiff: [0] },
};

/** Comparisons and logic. */
export const compareSpecs: readonly OpSpec[] = [
  ...Object.entries(cmpTable).map(([n, f]) => compareOp(n, f)),
  logicalAnd,
  logicalOr,
  logicalNot,
  isNaN,
  isFinite,
  where,
];
