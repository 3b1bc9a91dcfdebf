/**
 * Indexing: `gather`, `scatterAdd`, `oneHot`.
 * @module
 */
import type { DType } from '@tessera/core';
import { ints } from '../domains.js';
import { host, normAxis, sizeOf, stridesOf, unravel, type HostTensor } from '../host.js';
import { input, shapeText, viewTag } from '../shapes.js';
import { accumulating, EXACT, F32 } from '../tolerance.js';
import type { CaseDef, OpSpec, Tag, ViewRecipe } from '../types.js';

/**
 * Reference gather: out shape `x.shape[:axis] ++ idx.shape ++ x.shape[axis+1:]`; an index
 * outside `[0, n)` yields 0.
 * @example
 * gatherRef(host('float32', [3], [1, 2, 3]), host('int32', [2], [2, 0]), 0).data; // [3, 1]
 */
export function gatherRef(x: HostTensor, idx: HostTensor, axis: number): HostTensor {
  const ax = normAxis(axis, x.shape.length);
  const shape = [...x.shape.slice(0, ax), ...idx.shape, ...x.shape.slice(ax + 1)];
  const xs = stridesOf(x.shape);
  const out = new Float64Array(sizeOf(shape));
  const r = idx.shape.length;
  for (let f = 0; f < out.length; f++) {
    const o = unravel(f, shape);
    const ii = o.slice(ax, ax + r);
    const k = idx.data[ii.reduce((acc, v, i) => acc + v * stridesOf(idx.shape)[i], 0)];
    if (k < 0 || k >= x.shape[ax]) continue;
    const src = [...o.slice(0, ax), k, ...o.slice(ax + r)];
    out[f] = x.data[src.reduce((acc, v, i) => acc + v * xs[i], 0)];
  }
  return host(x.dtype, shape, out);
}

/**
 * Reference scatter-add: `out = x`, then `out[.., idx[j], ..] += updates[.., j, ..]`.
 * @example
 * scatterAddRef(host('float32', [2], [0, 0]), host('int32', [2], [1, 1]), host('float32', [2], [1, 2]), 0).data; // [0, 3]
 */
export function scatterAddRef(x: HostTensor, idx: HostTensor, upd: HostTensor, axis: number): HostTensor {
  const ax = normAxis(axis, x.shape.length);
  const out = new Float64Array(x.data);
  const xs = stridesOf(x.shape);
  const is = stridesOf(idx.shape);
  const r = idx.shape.length;
  for (let f = 0; f < upd.data.length; f++) {
    const u = unravel(f, upd.shape);
    const k = idx.data[u.slice(ax, ax + r).reduce((acc, v, i) => acc + v * is[i], 0)];
    if (k < 0 || k >= x.shape[ax]) continue;
    const dst = [...u.slice(0, ax), k, ...u.slice(ax + r)];
    const d = dst.reduce((acc, v, i) => acc + v * xs[i], 0);
    out[d] = x.dtype === 'int32' ? (out[d] + upd.data[f]) | 0 : out[d] + upd.data[f];
  }
  return host(x.dtype, x.shape, out);
}

interface G {
  label: string;
  x: number[];
  idx: number[];
  axis: number;
  xView?: ViewRecipe;
  idxView?: ViewRecipe;
  tags?: Tag[];
}

const GATHER: readonly G[] = [
  { label: 'rows', x: [5, 3], idx: [2], axis: 0 },
  { label: 'idx-2d', x: [5, 3], idx: [2, 3], axis: 0 },
  { label: 'axis1', x: [4, 6], idx: [3], axis: 1 },
  { label: 'axis-1-repeats', x: [2, 3, 4], idx: [9], axis: -1, tags: ['neg-axis'] },
  { label: 'scalar-idx', x: [5, 3], idx: [], axis: 0, tags: ['scalar'] },
  { label: 'empty-idx', x: [5, 3], idx: [0], axis: 0, tags: ['size0'] },
  { label: 'empty-x', x: [3, 0], idx: [2], axis: 0, tags: ['size0'] },
  { label: 'x-transposed', x: [6, 5], idx: [4], axis: 0, xView: { kind: 'transpose', perm: [1, 0] } },
  { label: 'idx-flipped', x: [6, 5], idx: [7], axis: 1, idxView: { kind: 'flip', axes: [0] } },
  { label: 'x-broadcast', x: [4, 5], idx: [3], axis: 0, xView: { kind: 'broadcast', from: [1, 5] } },
  { label: 'large', x: [1000, 64], idx: [500], axis: 0, tags: ['large'] },
];

const gather: OpSpec = {
  name: 'gather',
  family: 'indexing',
  kind: 'primitive',
  op: 'gather',
  kernels: ['gather'],
  dtypes: ['float32', 'int32', 'bool'],
  run: (api, [x, idx], a) => api.gather(x, idx, a.axis as number),
  ref64: ([x, idx], a) => gatherRef(x, idx, a.axis as number),
  cases: (dtype) => {
    const list = dtype === 'float32' ? GATHER : GATHER.slice(0, 3);
    const cs: CaseDef[] = list.map((g) => {
      const n = g.x[normAxis(g.axis, g.x.length)];
      return {
        label: `${g.label}-${shapeText(g.x)}[${shapeText(g.idx)}]`,
        inputs: [input(g.x, dtype, { view: g.xView }), input(g.idx, 'int32', { view: g.idxView, domain: ints(0, Math.max(0, n - 1)) })],
        attrs: { axis: g.axis },
        tags: [...(g.tags ?? []), ...viewTag(g.xView), ...viewTag(g.idxView)],
      };
    });
    if (dtype === 'float32') {
      cs.push({
        label: 'out-of-range-yields-zero',
        inputs: [input([3], 'float32'), input([3], 'int32', { values: [5, -1, 1] })],
        attrs: { axis: 0 },
        requires: { syncRead: false },
      });
    }
    return cs;
  },
  tol: () => EXACT,
  errors: [
    {
      label: 'index-out-of-range',
      inputs: [{ shape: [3, 2], dtype: 'float32' }, { shape: [2], dtype: 'int32', values: [0, 3] }],
      attrs: { axis: 0 },
      error: 'IndexError',
      requires: { syncRead: true },
    },
    {
      label: 'float-indices',
      inputs: [{ shape: [3, 2], dtype: 'float32' }, { shape: [2], dtype: 'float32', values: [0, 1] }],
      attrs: { axis: 0 },
      error: 'DTypeError',
    },
    {
      label: 'axis-out-of-range',
      inputs: [{ shape: [3, 2], dtype: 'float32' }, { shape: [2], dtype: 'int32', values: [0, 1] }],
      attrs: { axis: 2 },
      error: 'ArgumentError',
    },
  ],
  grad: { nondiff: [1] },
};

interface S {
  label: string;
  x: number[];
  idx: number[];
  axis: number;
  updView?: ViewRecipe;
  tags?: Tag[];
}

const SCATTER: readonly S[] = [
  { label: 'rows-repeats', x: [5, 3], idx: [8], axis: 0 },
  { label: 'axis1', x: [3, 5], idx: [4], axis: 1 },
  { label: 'idx-2d', x: [4, 3], idx: [2, 2], axis: 0 },
  { label: 'axis-1', x: [2, 3, 4], idx: [6], axis: -1, tags: ['neg-axis'] },
  { label: 'empty-updates', x: [4, 3], idx: [0], axis: 0, tags: ['size0'] },
  { label: 'updates-transposed', x: [5, 4], idx: [6], axis: 0, updView: { kind: 'transpose', perm: [1, 0] } },
  { label: 'large', x: [1000, 16], idx: [4000], axis: 0, tags: ['large'] },
];

const scatterAdd: OpSpec = {
  name: 'scatterAdd',
  family: 'indexing',
  kind: 'primitive',
  op: 'scatterAdd',
  kernels: ['scatterAdd'],
  dtypes: ['float32', 'int32'],
  run: (api, [x, idx, upd], a) => api.scatterAdd(x, idx, upd, a.axis as number),
  ref64: ([x, idx, upd], a) => scatterAddRef(x, idx, upd, a.axis as number),
  cases: (dtype: DType) =>
    (dtype === 'float32' ? SCATTER : SCATTER.slice(0, 3)).map((s): CaseDef => {
      const ax = normAxis(s.axis, s.x.length);
      const upd = [...s.x.slice(0, ax), ...s.idx, ...s.x.slice(ax + 1)];
      return {
        label: `${s.label}-${shapeText(s.x)}[${shapeText(s.idx)}]`,
        inputs: [
          input(s.x, dtype),
          input(s.idx, 'int32', { domain: ints(0, s.x[ax] - 1) }),
          input(upd, dtype, { view: s.updView }),
        ],
        attrs: { axis: s.axis },
        tags: [...(s.tags ?? []), ...viewTag(s.updView)],
      };
    }),
  tol: () => accumulating(F32, 8, 3),
  errors: [
    {
      label: 'updates-shape',
      inputs: [{ shape: [5, 3], dtype: 'float32' }, { shape: [4], dtype: 'int32', values: [0, 1, 2, 3] }, { shape: [4, 2], dtype: 'float32' }],
      attrs: { axis: 0 },
      error: 'ShapeError',
    },
  ],
  grad: { nondiff: [1] },
};

const oneHot: OpSpec = {
  name: 'oneHot',
  family: 'indexing',
  kind: 'composite',
  op: 'oneHot',
  kernels: ['compare:equal', 'where'],
  dtypes: ['int32'],
  run: (api, [idx], a) => api.oneHot(idx, a.depth as number),
  ref64: ([idx], a) => {
    const depth = a.depth as number;
    const out = new Float64Array(idx.data.length * depth);
    idx.data.forEach((k, i) => (out[i * depth + k] = 1));
    return host('float32', [...idx.shape, depth], out);
  },
  cases: () =>
    ([[[4], 5, []], [[2, 3], 3, []], [[], 4, ['scalar']], [[0], 3, ['size0']], [[6], 1, ['size1']], [[1000], 10, ['large']]] as [number[], number, Tag[]][])
      .map(([shape, depth, tags]) => ({
        label: `${shapeText(shape)}-depth${depth}`,
        inputs: [input(shape, 'int32', { domain: ints(0, depth - 1) })],
        attrs: { depth },
        tags,
      })),
  tol: () => EXACT,
  errors: [
    { label: 'depth-0', inputs: [{ shape: [2], dtype: 'int32', values: [0, 0] }], attrs: { depth: 0 }, error: 'ArgumentError' },
    { label: 'float-indices', inputs: [{ shape: [2], dtype: 'float32', values: [0, 1] }], attrs: { depth: 3 }, error: 'DTypeError' },
    {
      label: 'index-out-of-range',
      inputs: [{ shape: [2], dtype: 'int32', values: [0, 3] }],
      attrs: { depth: 3 },
      error: 'IndexError',
      requires: { syncRead: true },
    },
  ],
  grad: 'none',
};

/** Gather, scatter-add, one-hot. */
export const indexingSpecs: readonly OpSpec[] = [gather, scatterAdd, oneHot];
