/**
 * Creation: `tensor scalar zeros ones fill zerosLike onesLike arange linspace eye`.
 * @module
 */
import type { DType } from '@tessera/core';
import { host, sizeOf, toDType } from '../host.js';
import type { KernelRef } from '../kernels.js';
import { input, shapeText } from '../shapes.js';
import { EXACT, F32 } from '../tolerance.js';
import type { Attrs, CaseDef, OpSpec, Tag } from '../types.js';
import type { CoreApi, Tensor } from '../api.js';
import type { TensorValues } from '@tessera/core';

const ALL: readonly DType[] = ['float32', 'int32', 'bool'];

function constantSpec(
  name: 'zeros' | 'ones' | 'fill',
  run: (api: CoreApi, a: Attrs) => Tensor,
  valueOf: (d: DType, a: Attrs) => number,
  kernels: KernelRef[],
): OpSpec {
  return {
    name,
    family: 'creation',
    kind: 'primitive',
    op: name,
    kernels,
    dtypes: ALL,
    run: (api, _xs, a) => run(api, a),
    ref64: (_xs, a) => {
      const shape = a.shape as number[];
      return host(a.dtype as DType, shape, new Float64Array(sizeOf(shape)).fill(valueOf(a.dtype as DType, a)));
    },
    cases: (dtype) => {
      const value = dtype === 'float32' ? -2.5 : dtype === 'int32' ? 7 : 1;
      const shapes: [number[], Tag[]][] = name === 'fill'
        ? [[[], ['scalar']], [[3], []], [[2, 3], []], [[0, 4], ['size0']], [[1, 1], ['size1']]]
        : [[[], ['scalar']], [[2, 3], []], [[0, 4], ['size0']]];
      const cs: CaseDef[] = shapes.map(([s, tags]) => ({
        label: shapeText(s), inputs: [], attrs: { shape: s, dtype, value }, tags,
      }));
      if (name === 'fill' && dtype === 'float32') {
        cs.push({ label: 'nan', inputs: [], attrs: { shape: [3], dtype, value: NaN }, tags: ['special'] });
        cs.push({ label: 'neg-zero', inputs: [], attrs: { shape: [3], dtype, value: -0 }, tags: ['special'], signedZeros: true });
        cs.push({ label: 'inf', inputs: [], attrs: { shape: [2], dtype, value: -Infinity }, tags: ['special'] });
        cs.push({ label: 'large', inputs: [], attrs: { shape: [100_000], dtype, value: 0.1 }, tags: ['large'] });
      }
      return cs;
    },
    tol: () => EXACT,
    errors: name === 'zeros'
      ? [{ label: 'negative-dim', inputs: [], attrs: { shape: [2, -1], dtype: 'float32' }, error: 'ArgumentError' }]
      : undefined,
    grad: 'none',
  };
}

const zeros = constantSpec('zeros', (api, a) => api.zeros(a.shape as number[], a.dtype as DType), () => 0, ['fill']);
const ones = constantSpec('ones', (api, a) => api.ones(a.shape as number[], a.dtype as DType), () => 1, ['fill']);
const fill = constantSpec(
  'fill', (api, a) => api.fill(a.shape as number[], a.value as number, a.dtype as DType),
  (d, a) => toDType(a.value as number, d), ['fill'],
);

function likeSpec(name: 'zerosLike' | 'onesLike', v: number): OpSpec {
  return {
    name,
    family: 'creation',
    kind: 'primitive',
    op: name,
    kernels: ['fill'],
    dtypes: ALL,
    run: (api, [x]) => api[name](x),
    ref64: ([x]) => host(x.dtype, x.shape, new Float64Array(x.data.length).fill(v)),
    cases: (dtype) => [
      { label: '[2,3]', inputs: [input([2, 3], dtype)] },
      { label: 'scalar', inputs: [input([], dtype)], tags: ['scalar'] },
      { label: 'size0', inputs: [input([0, 3], dtype)], tags: ['size0'] },
      { label: 'of-transposed', inputs: [input([3, 4], dtype, { view: { kind: 'transpose', perm: [1, 0] } })], tags: ['view:transpose'] },
    ],
    tol: () => EXACT,
    grad: 'none',
  };
}

/** `tensor(values, shape?, dtype?)` from nested arrays, typed arrays and booleans. */
const tensorSpec: OpSpec = {
  name: 'tensor',
  family: 'creation',
  kind: 'primitive',
  op: 'tensor',
  kernels: [],
  dtypes: ALL,
  run: (api, _xs, a) => {
    const v = a.typed ? typedOf(a.dtype as DType, a.flat as number[]) : (a.values as TensorValues);
    return api.tensor(v as TensorValues, a.shape as number[] | undefined, a.passDType ? (a.dtype as DType) : undefined);
  },
  ref64: (_xs, a) => host(a.dtype as DType, a.outShape as number[], (a.flat as number[]).map((x) => toDType(x, a.dtype as DType))),
  cases: (dtype) => {
    const cs: CaseDef[] = [];
    const c = (label: string, attrs: Attrs, tags: Tag[] = [], signedZeros = false) =>
      cs.push({ label, inputs: [], attrs: { dtype, ...attrs }, tags, signedZeros });
    if (dtype === 'float32') {
      c('nested', { values: [[1, 2], [3, 4.5]], flat: [1, 2, 3, 4.5], outShape: [2, 2] });
      c('flat-with-shape', { values: [1, 2, 3, 4, 5, 6], shape: [2, 3], flat: [1, 2, 3, 4, 5, 6], outShape: [2, 3], passDType: true });
      c('typed', { typed: true, flat: [0.1, -2, 3e-8], shape: [3], outShape: [3], passDType: true });
      c('number', { values: 3.5, flat: [3.5], outShape: [] }, ['scalar']);
      c('empty', { values: [], shape: [0], flat: [], outShape: [0], passDType: true }, ['size0']);
      c('special', { typed: true, flat: [NaN, -0, Infinity, -Infinity, 1e-40], shape: [5], outShape: [5], passDType: true }, ['special'], true);
      c('large', { typed: true, flat: Array.from({ length: 100_000 }, (_, i) => i / 7), shape: [100_000], outShape: [100_000], passDType: true }, ['large']);
    } else if (dtype === 'int32') {
      c('typed', { typed: true, flat: [1, -2, 2147483647, -2147483648], shape: [2, 2], outShape: [2, 2], passDType: true });
      c('nested', { values: [[1, 2, 3]], flat: [1, 2, 3], outShape: [1, 3], passDType: true });
    } else {
      c('booleans', { values: [true, false, true], flat: [1, 0, 1], outShape: [3], passDType: true });
      c('nested-booleans', { values: [[true], [false]], flat: [1, 0], outShape: [2, 1] });
    }
    return cs;
  },
  tol: () => EXACT,
  errors: [{ label: 'shape-mismatch', inputs: [], attrs: { values: [1, 2, 3], shape: [2, 2], flat: [], dtype: 'float32' }, error: 'ShapeError' }],
  grad: 'none',
};

function typedOf(dtype: DType, v: number[]) {
  return dtype === 'float32' ? Float32Array.from(v) : dtype === 'int32' ? Int32Array.from(v) : Uint8Array.from(v);
}

const scalarSpec: OpSpec = {
  name: 'scalar',
  family: 'creation',
  kind: 'primitive',
  op: 'scalar',
  kernels: [],
  dtypes: ALL,
  run: (api, _xs, a) => api.scalar(a.v as number, a.dtype as DType),
  ref64: (_xs, a) => host(a.dtype as DType, [], [toDType(a.v as number, a.dtype as DType)]),
  cases: (dtype) => [{ label: 'value', inputs: [], attrs: { dtype, v: dtype === 'float32' ? -1.25 : dtype === 'int32' ? 42 : 1 }, tags: ['scalar'] }],
  tol: () => EXACT,
  grad: 'none',
};

const arange: OpSpec = {
  name: 'arange',
  family: 'creation',
  kind: 'primitive',
  op: 'arange',
  kernels: [],
  dtypes: ['float32', 'int32'],
  run: (api, _xs, a) => api.arange(a.start as number, a.stop as number, a.step as number, a.dtype as DType),
  ref64: (_xs, a) => {
    const [start, stop, step] = [a.start as number, a.stop as number, a.step as number];
    const n = Math.max(0, Math.ceil((stop - start) / step));
    return host(a.dtype as DType, [n], Array.from({ length: n }, (_, i) => start + i * step));
  },
  cases: (dtype) => {
    const list: [string, number, number, number, Tag[]][] = dtype === 'float32'
      ? [['0-5', 0, 5, 1, []], ['down', 1, 0, -0.25, []], ['empty', 3, 3, 1, ['size0']], ['frac', -1, 1, 0.3, []], ['large', 0, 100_000, 1, ['large']]]
      : [['2-11-3', 2, 11, 3, []], ['down', 5, -5, -2, []], ['empty', 3, 1, 1, ['size0']]];
    return list.map(([label, start, stop, step, tags]) => ({ label, inputs: [], attrs: { start, stop, step, dtype }, tags }));
  },
  tol: () => F32,
  grad: 'none',
};

const linspace: OpSpec = {
  name: 'linspace',
  family: 'creation',
  kind: 'primitive',
  op: 'linspace',
  kernels: [],
  dtypes: ['float32'],
  run: (api, _xs, a) => api.linspace(a.start as number, a.stop as number, a.num as number),
  ref64: (_xs, a) => {
    const [start, stop, num] = [a.start as number, a.stop as number, a.num as number];
    const step = num > 1 ? (stop - start) / (num - 1) : 0;
    return host('float32', [num], Array.from({ length: num }, (_, i) => (i === num - 1 && num > 1 ? stop : start + i * step)));
  },
  cases: () =>
    ([['0-1-5', 0, 1, 5, []], ['single', -1, 1, 1, ['size1']], ['empty', 0, 1, 0, ['size0']], ['down', 2, -3, 7, []]] as [string, number, number, number, Tag[]][])
      .map(([label, start, stop, num, tags]) => ({ label, inputs: [], attrs: { start, stop, num }, tags })),
  tol: () => ({ rtol: 1e-6, atol: 1e-6 }),
  grad: 'none',
};

const eye: OpSpec = {
  name: 'eye',
  family: 'creation',
  kind: 'primitive',
  op: 'eye',
  kernels: ['fill'],
  dtypes: ['float32', 'int32'],
  run: (api, _xs, a) => api.eye(a.n as number, a.m as number | undefined, a.dtype as DType),
  ref64: (_xs, a) => {
    const n = a.n as number;
    const m = (a.m as number | undefined) ?? n;
    return host(a.dtype as DType, [n, m], Array.from({ length: n * m }, (_, i) => (Math.floor(i / m) === i % m ? 1 : 0)));
  },
  cases: (dtype) =>
    ([['3', 3, undefined, []], ['2x4', 2, 4, []], ['4x2', 4, 2, []], ['0', 0, undefined, ['size0']], ['1', 1, undefined, ['size1']]] as [string, number, number | undefined, Tag[]][])
      .map(([label, n, m, tags]) => ({ label, inputs: [], attrs: { n, m, dtype }, tags })),
  tol: () => EXACT,
  grad: 'none',
};

/** Tensor creation. */
export const creationSpecs: readonly OpSpec[] = [
  tensorSpec, scalarSpec, zeros, ones, fill, likeSpec('zerosLike', 0), likeSpec('onesLike', 1), arange, linspace, eye,
];
