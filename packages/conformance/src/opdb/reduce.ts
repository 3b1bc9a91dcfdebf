/**
 * Reductions (`sum mean max min prod any all logSumExp variance std`), `argmax`/`argmin`
 * and the cumulative ops.
 * @module
 */
import type { DType } from '@tessera/core';
import { bools, grid, ints, uniform } from '../domains.js';
import { alongAxis, normAxis, reduceAxes, sizeOf, type HostTensor } from '../host.js';
import type { KernelRef } from '../kernels.js';
import { kahanSum } from '../refmath.js';
import { input, shapeText, valuesCase, viewTag } from '../shapes.js';
import { accumulating, EXACT, F32, TRANSCENDENTAL, U32 } from '../tolerance.js';
import type { Attrs, CaseDef, Domain, OpSpec, Tag, Tol, ViewRecipe } from '../types.js';
import { disposedCase } from './helpers.js';

/** Axes of a reduction case as a list (undefined = all). */
function axesOf(a: Attrs): number[] | undefined {
  const ax = a.axis as number | number[] | undefined;
  return ax === undefined ? undefined : Array.isArray(ax) ? ax : [ax];
}

/**
 * How many elements each output of a reduction case combines.
 * @example
 * reducedCount([2, 3, 4], { axis: [0, -1] }); // 8
 */
export function reducedCount(shape: readonly number[], a: Attrs): number {
  const axes = axesOf(a);
  if (!axes) return sizeOf(shape);
  return axes.reduce((k, ax) => k * shape[normAxis(ax, shape.length)], 1);
}

interface RCase {
  label: string;
  shape: number[];
  axis?: number | number[];
  keepDims?: boolean;
  view?: ViewRecipe;
  tags?: Tag[];
}

const REDUCE_SHAPES: readonly RCase[] = [
  { label: 'all', shape: [], tags: ['scalar', 'all-axes'] },
  { label: 'all', shape: [7], tags: ['all-axes'] },
  { label: 'all', shape: [3, 4], tags: ['all-axes'] },
  { label: 'axis0', shape: [3, 4], axis: 0 },
  { label: 'axis1', shape: [3, 4], axis: 1 },
  { label: 'axis-1', shape: [2, 3, 4], axis: -1, tags: ['neg-axis'] },
  { label: 'axes0,2', shape: [2, 3, 4], axis: [0, 2], tags: ['multi-axis'] },
  { label: 'axes-1,-3', shape: [2, 3, 4], axis: [-1, -3], tags: ['multi-axis', 'neg-axis'] },
  { label: 'keepdims-axis1', shape: [3, 4], axis: 1, keepDims: true, tags: ['keepdims'] },
  { label: 'keepdims-all', shape: [2, 3], keepDims: true, tags: ['keepdims', 'all-axes'] },
  { label: 'keepdims-axes0,-1', shape: [2, 3, 4], axis: [0, -1], keepDims: true, tags: ['keepdims', 'multi-axis', 'neg-axis'] },
  { label: 'size0-reduced', shape: [0, 3], axis: 0, tags: ['size0'] },
  { label: 'size0-kept', shape: [0, 3], axis: 1, tags: ['size0'] },
  { label: 'size0-all', shape: [2, 0], tags: ['size0', 'all-axes'] },
  { label: 'size1', shape: [3, 1, 4], axis: 1, tags: ['size1'] },
  { label: 'odd', shape: [17, 33], axis: 0, tags: ['odd'] },
  { label: 'large-all', shape: [100_000], tags: ['large', 'all-axes'] },
  { label: 'large-rows', shape: [300, 257], axis: -1, tags: ['large', 'odd', 'neg-axis'] },
  { label: 'transposed', shape: [5, 6], axis: 1, view: { kind: 'transpose', perm: [1, 0] } },
  { label: 'stepped', shape: [4, 5], axis: 0, view: { kind: 'step', step: 2 } },
  { label: 'flipped', shape: [3, 7], axis: -1, view: { kind: 'flip', axes: [1] }, tags: ['neg-axis'] },
  { label: 'broadcast', shape: [4, 5], axis: 0, view: { kind: 'broadcast', from: [1, 5] } },
  { label: 'offset', shape: [3, 4], view: { kind: 'offset' }, tags: ['all-axes'] },
];

/** The reduction shapes every op runs; `sum` and `max` run all of {@link REDUCE_SHAPES}. */
const CORE_REDUCE = [
  'all-[3,4]', 'axis0-', 'axis-1-', 'axes-1,-3-', 'keepdims-axes0,-1-', 'size0-', 'size1-', 'odd-', 'large-all-',
  'transposed-', 'stepped-', 'broadcast-', 'all-[]',
];

/** The reduction shapes int32 and bool run. */
const INT_REDUCE = ['all-[3,4]', 'axis-1-', 'keepdims-axes0,-1-', 'size0-', 'large-all-', 'transposed-', 'broadcast-'];

function reduceCases(dtype: DType, keep: (r: RCase) => boolean, domain?: Domain, full = false): CaseDef[] {
  const isCore = (r: RCase) => full || CORE_REDUCE.some((p) => `${r.label}-${shapeText(r.shape)}`.startsWith(p));
  return REDUCE_SHAPES.filter((r) => keep(r) && isCore(r)).map((r) => ({
    label: `${r.label}-${shapeText(r.shape)}`,
    inputs: [input(r.shape, dtype, { view: r.view, domain })],
    attrs: { axis: r.axis, keepDims: r.keepDims ?? false },
    tags: [...(r.tags ?? []), ...viewTag(r.view)],
  }));
}

interface R {
  f: (v: number[]) => number;
  /** int32/bool reference when it differs. */
  fInt?: (v: number[]) => number;
  kernels: KernelRef[];
  dtypes: DType[];
  outDType?: (d: DType) => DType;
  tol: (k: number) => Tol;
  domain?: (d: DType) => Domain | undefined;
  /** Leave out the large and odd cases (prod overflows). */
  small?: boolean;
  /** Leave out cases reducing an empty axis. */
  noEmpty?: boolean;
  specials?: readonly number[][];
}

const nanAware = (f: (v: number[]) => number) => (v: number[]) => (v.some(Number.isNaN) ? NaN : f(v));
const mean = (v: number[]) => kahanSum(v) / v.length;
const variance = (v: number[]) => {
  const m = mean(v);
  return kahanSum(v.map((x) => (x - m) * (x - m))) / v.length;
};
const logSumExp = (v: number[]) => {
  if (v.length === 0) return -Infinity;
  const m = Math.max(...v);
  if (m === Infinity) return Infinity;
  if (m === -Infinity) return -Infinity;
  return m + Math.log(kahanSum(v.map((x) => Math.exp(x - m))));
};
const statTol = (k: number): Tol => ({ rtol: 1e-4 + 4 * U32 * Math.sqrt(k), atol: 1e-5 + 8 * U32 * Math.sqrt(k) * 3 });

const REDUCE_SPECIALS = [[NaN, 1, 2], [Infinity, 1, -2], [-Infinity, 1, 2], [Infinity, -Infinity, 0], [-0, 0, -0]];

const reduceTable: Record<string, R> = {
  sum: {
    f: kahanSum, kernels: ['reduce:sum'], dtypes: ['float32', 'int32'],
    tol: (k) => accumulating(F32, k, 3), specials: REDUCE_SPECIALS,
  },
  mean: {
    f: mean, kernels: ['reduce:sum', 'binary:div'], dtypes: ['float32'],
    tol: statTol, specials: REDUCE_SPECIALS,
  },
  max: {
    f: nanAware((v) => (v.length ? Math.max(...v) : -Infinity)),
    kernels: ['reduce:max'], dtypes: ['float32', 'int32'], tol: () => EXACT, specials: REDUCE_SPECIALS, noEmpty: true,
  },
  min: {
    f: nanAware((v) => (v.length ? Math.min(...v) : Infinity)),
    kernels: ['reduce:min'], dtypes: ['float32', 'int32'], tol: () => EXACT, specials: REDUCE_SPECIALS, noEmpty: true,
  },
  prod: {
    f: (v) => v.reduce((p, x) => p * x, 1),
    fInt: (v) => v.reduce((p, x) => Math.imul(p, x), 1),
    kernels: ['reduce:prod'], dtypes: ['float32', 'int32'],
    tol: (k) => ({ rtol: 1e-5 + 4 * U32 * k, atol: 1e-6 }),
    domain: (d) => (d === 'int32' ? ints(-3, 3) : uniform(-1.6, 1.6)),
    small: true, specials: REDUCE_SPECIALS,
  },
  any: {
    f: (v) => (v.some((x) => x !== 0) ? 1 : 0), kernels: ['reduce:max'], dtypes: ['bool'], tol: () => EXACT,
  },
  all: {
    f: (v) => (v.every((x) => x !== 0) ? 1 : 0), kernels: ['reduce:min'], dtypes: ['bool'], tol: () => EXACT,
  },
  logSumExp: {
    f: logSumExp, kernels: ['reduce:max', 'reduce:sum', 'unary:exp', 'unary:log'], dtypes: ['float32'],
    tol: (k) => accumulating(TRANSCENDENTAL, k, 1), specials: [[NaN, 1], [Infinity, 1], [-Infinity, -Infinity], [1000, 1000], [-1000, -999]],
    domain: () => uniform(-10, 10),
  },
  variance: {
    f: variance, kernels: ['reduce:sum', 'binary:sub', 'binary:mul'], dtypes: ['float32'],
    tol: (k) => ({ rtol: 1e-4 + 4 * U32 * Math.sqrt(k), atol: 1e-5 }), noEmpty: true,
  },
  std: {
    f: (v) => Math.sqrt(variance(v)), kernels: ['reduce:sum', 'unary:sqrt'], dtypes: ['float32'],
    tol: (k) => ({ rtol: 1e-4 + 4 * U32 * Math.sqrt(k), atol: 1e-5 }), noEmpty: true,
  },
};

function reduceOp(name: string, r: R): OpSpec {
  return {
    name,
    family: 'reduce',
    kind: r.kernels.length > 1 ? 'composite' : 'primitive',
    op: name,
    kernels: r.kernels,
    dtypes: r.dtypes,
    run: (api, [x], a) => api[name as 'sum'](x, a.axis as number | number[] | undefined, a.keepDims as boolean),
    ref64: ([x], a) => {
      const f = x.dtype === 'float32' ? r.f : (r.fInt ?? r.f);
      return reduceAxes(x, axesOf(a), !!a.keepDims, f, r.outDType?.(x.dtype) ?? x.dtype);
    },
    cases: (dtype) => {
      const keep = (c: RCase) =>
        !(r.small && (c.tags?.includes('large') || c.tags?.includes('odd'))) &&
        !(r.noEmpty && c.label === 'size0-reduced') &&
        !(r.noEmpty && c.label === 'size0-all') &&
        !(dtype !== 'float32' && c.tags?.includes('large') && c.label !== 'large-all');
      const full = (name === 'sum' || name === 'max') && dtype === 'float32';
      const all = reduceCases(dtype, keep, r.domain?.(dtype) ?? (dtype === 'bool' ? bools() : undefined), full);
      const cs = dtype === 'float32' ? all : all.filter((c) => INT_REDUCE.some((p) => c.label.startsWith(p)));
      if (dtype === 'float32' && r.specials) {
        cs.push(valuesCase('special', 'float32', [r.specials.flat()], ['special'], {
          inputs: [input([r.specials.length, r.specials[0].length], 'float32', { values: r.specials.flat() })],
          attrs: { axis: -1, keepDims: false },
        }));
      }
      if (dtype === 'bool') {
        cs.push(valuesCase('constant-rows', 'bool', [[]], ['special'], {
          inputs: [input([3, 4], 'bool', { values: [1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 1, 1] })],
          attrs: { axis: 1, keepDims: false },
        }));
      }
      return cs;
    },
    tol: (dtype, c) => (dtype === 'float32' ? r.tol(reducedCount(c.inputs[0].shape, c.attrs ?? {})) : EXACT),
    errors: name === 'sum'
      ? [
          { label: 'axis-out-of-range', inputs: [{ shape: [2, 3], dtype: 'float32' }], attrs: { axis: 2 }, error: 'ArgumentError' },
          { label: 'neg-axis-out-of-range', inputs: [{ shape: [2, 3], dtype: 'float32' }], attrs: { axis: -3 }, error: 'ArgumentError' },
          disposedCase('float32', [[2, 3]], { axis: 0 }),
        ]
      : undefined,
    grad: name === 'any' || name === 'all' ? 'none' : 'fd',
  };
}

/** First index of the max (or min); a NaN wins at its first position. */
function argRef(isMax: boolean) {
  return (v: number[]): number[] => {
    let best = 0;
    for (let i = 0; i < v.length; i++) {
      if (Number.isNaN(v[i])) return [i];
      if (isMax ? v[i] > v[best] : v[i] < v[best]) best = i;
    }
    return [best];
  };
}

const ARG_SHAPES: readonly RCase[] = [
  { label: 'vec', shape: [7], axis: 0 },
  { label: 'flat', shape: [3, 4], tags: ['all-axes'] },
  { label: 'axis0', shape: [3, 4], axis: 0 },
  { label: 'axis1', shape: [3, 4], axis: 1 },
  { label: 'axis-1', shape: [2, 3, 4], axis: -1, tags: ['neg-axis'] },
  { label: 'axis1', shape: [2, 3, 4], axis: 1 },
  { label: 'size0-kept', shape: [0, 3], axis: 1, tags: ['size0'] },
  { label: 'size1', shape: [3, 1], axis: 1, tags: ['size1'] },
  { label: 'odd', shape: [17, 33], axis: 0, tags: ['odd'] },
  { label: 'large', shape: [100_000], axis: 0, tags: ['large'] },
  { label: 'transposed', shape: [5, 6], axis: 1, view: { kind: 'transpose', perm: [1, 0] } },
  { label: 'flipped', shape: [4, 6], axis: -1, view: { kind: 'flip', axes: [-1] }, tags: ['neg-axis'] },
  { label: 'stepped', shape: [4, 5], axis: 0, view: { kind: 'step', step: 3 } },
];

/** The index-reduction and cumulative shapes int32 runs. */
const INT_ARG = ['vec', 'flat', 'axis1', 'size0-kept', 'transposed', 'exclusive-reverse'];

function argOp(name: 'argmax' | 'argmin'): OpSpec {
  const isMax = name === 'argmax';
  return {
    name,
    family: 'reduce',
    kind: 'primitive',
    op: name,
    kernels: [`argReduce:${name}`],
    dtypes: ['float32', 'int32'],
    run: (api, [x], a) => api[name](x, a.axis as number | undefined),
    ref64: ([x], a) => {
      // No axis: over the flattened tensor.
      const src = a.axis === undefined ? { ...x, shape: [x.data.length] } : x;
      const axis = (a.axis as number | undefined) ?? 0;
      const r = alongAxis(src, axis, argRef(isMax), 'int32');
      return { ...r, shape: r.shape.filter((_, i) => i !== normAxis(axis, src.shape.length)) };
    },
    cases: (dtype) => {
      // Coarse values: ties are common, and the first index must win.
      const domain = dtype === 'float32' ? grid(-2, 2, 0.5) : ints(-3, 3);
      const shapes = dtype === 'float32' ? ARG_SHAPES : ARG_SHAPES.filter((r) => INT_ARG.includes(r.label));
      const cs: CaseDef[] = shapes.map((r) => ({
        label: `${r.label}-${shapeText(r.shape)}`,
        inputs: [input(r.shape, dtype, { view: r.view, domain })],
        attrs: { axis: r.axis },
        tags: [...(r.tags ?? []), ...viewTag(r.view), 'ties'],
      }));
      if (dtype === 'float32') {
        cs.push({
          label: 'special',
          inputs: [input([4, 4], 'float32', { values: [1, NaN, 3, NaN, -Infinity, -Infinity, 2, 2, Infinity, 1, Infinity, 0, -0, 0, -1, -1] })],
          attrs: { axis: 1 },
          tags: ['special', 'ties'],
        });
      }
      return cs;
    },
    tol: () => EXACT,
    errors: name === 'argmax'
      ? [
          { label: 'axis-out-of-range', inputs: [{ shape: [2, 3], dtype: 'float32' }], attrs: { axis: 2 }, error: 'ArgumentError' },
          { label: 'empty-axis', inputs: [{ shape: [0, 3], dtype: 'float32' }], attrs: { axis: 0 }, error: 'ArgumentError' },
        ]
      : undefined,
    grad: 'none',
  };
}

function cumRef(isSum: boolean, exclusive: boolean, reverse: boolean, int: boolean) {
  const op = isSum ? (a: number, b: number) => (int ? (a + b) | 0 : a + b) : (a: number, b: number) => (int ? Math.imul(a, b) : a * b);
  return (v: number[]): number[] => {
    const n = v.length;
    const out = new Array<number>(n);
    let acc = isSum ? 0 : 1;
    for (let j = 0; j < n; j++) {
      const i = reverse ? n - 1 - j : j;
      if (exclusive) {
        out[i] = acc;
        acc = op(acc, v[i]);
      } else {
        acc = op(acc, v[i]);
        out[i] = acc;
      }
    }
    return out;
  };
}

const CUM_SHAPES: readonly (RCase & { exclusive?: boolean; reverse?: boolean })[] = [
  { label: 'vec', shape: [7], axis: 0 },
  { label: 'axis1', shape: [3, 4], axis: 1 },
  { label: 'axis0', shape: [3, 4], axis: 0 },
  { label: 'exclusive', shape: [3, 5], axis: -1, exclusive: true, tags: ['neg-axis'] },
  { label: 'reverse', shape: [3, 5], axis: 1, reverse: true },
  { label: 'exclusive-reverse', shape: [2, 3, 4], axis: 1, exclusive: true, reverse: true },
  { label: 'default-axis', shape: [6], tags: [] },
  { label: 'size0', shape: [0, 3], axis: 0, tags: ['size0'] },
  { label: 'size0-kept', shape: [3, 0], axis: 0, tags: ['size0'] },
  { label: 'size1', shape: [1, 4], axis: 0, tags: ['size1'] },
  { label: 'odd', shape: [17, 33], axis: 0, tags: ['odd'] },
  { label: 'large', shape: [100_000], axis: 0, tags: ['large'] },
  { label: 'transposed', shape: [4, 6], axis: 1, view: { kind: 'transpose', perm: [1, 0] } },
  { label: 'flipped', shape: [4, 6], axis: 1, view: { kind: 'flip', axes: [1] }, reverse: true },
];

function cumOp(name: 'cumsum' | 'cumprod'): OpSpec {
  const isSum = name === 'cumsum';
  return {
    name,
    family: 'reduce',
    kind: 'primitive',
    op: name,
    kernels: [`cumulative:${isSum ? 'sum' : 'prod'}`],
    dtypes: ['float32', 'int32'],
    run: (api, [x], a) =>
      a.axis === undefined
        ? api[name](x)
        : api[name](x, a.axis as number, { exclusive: a.exclusive as boolean, reverse: a.reverse as boolean }),
    ref64: ([x], a): HostTensor =>
      alongAxis(x, (a.axis as number | undefined) ?? 0,
        cumRef(isSum, !!a.exclusive, !!a.reverse, x.dtype !== 'float32')),
    cases: (dtype) =>
      CUM_SHAPES.filter((r) => isSum || !(r.tags?.includes('large') || r.tags?.includes('odd')))
        .filter((r) => dtype === 'float32' || INT_ARG.includes(r.label))
        .map((r) => ({
          label: `${r.label}-${shapeText(r.shape)}`,
          inputs: [input(r.shape, dtype, {
            view: r.view,
            domain: isSum ? undefined : dtype === 'int32' ? ints(-2, 2) : uniform(0.5, 1.5),
          })],
          attrs: { axis: r.axis, exclusive: r.exclusive ?? false, reverse: r.reverse ?? false },
          tags: [...(r.tags ?? []), ...viewTag(r.view)],
        })),
    tol: (dtype, c) => {
      if (dtype !== 'float32') return EXACT;
      const k = c.inputs[0].shape[normAxis((c.attrs?.axis as number | undefined) ?? 0, c.inputs[0].shape.length)] ?? 1;
      return isSum ? accumulating(F32, k, 3) : { rtol: 1e-5 + 4 * U32 * k, atol: 1e-6 };
    },
    grad: 'fd',
  };
}

/** Reductions, index reductions and running reductions. */
export const reduceSpecs: readonly OpSpec[] = [
  ...Object.entries(reduceTable).map(([n, r]) => reduceOp(n, r)),
  argOp('argmax'),
  argOp('argmin'),
  cumOp('cumsum'),
  cumOp('cumprod'),
];
