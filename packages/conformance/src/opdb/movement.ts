/**
 * Movement: the strided views (`reshape expandDims squeeze transpose slice stridedSlice
 * broadcastTo flip`) and the copying ops (`concat stack split pad tile contiguous clone`).
 * They move bits, so they compare exactly, signs of zero and NaNs included.
 * @module
 */
import type { DType } from '@tessera/core';
import {
  broadcastTo, extract, flip, host, normAxis, place, sizeOf, transpose, unravel, type HostTensor,
} from '../host.js';
import type { KernelRef } from '../kernels.js';
import { input, shapeText, viewTag } from '../shapes.js';
import { EXACT } from '../tolerance.js';
import type { Attrs, CaseDef, InputDef, OpSpec, Tag, ViewRecipe } from '../types.js';
import type { CoreApi, Tensor } from '../api.js';
import { disposedCase } from './helpers.js';

/** A movement case: input shapes (+ views), attributes, tags. */
interface M {
  label: string;
  shapes: number[][];
  attrs?: Attrs;
  views?: (ViewRecipe | undefined)[];
  tags?: Tag[];
  /** Explicit values for every input (bit-preservation samples). */
  values?: number[][];
}

interface MoveDef {
  name: string;
  kernels: KernelRef[];
  run: (api: CoreApi, xs: Tensor[], a: Attrs) => Tensor | Tensor[];
  ref: (xs: HostTensor[], a: Attrs) => HostTensor | HostTensor[];
  cases: M[];
  /** How many of the cases also run on int32 and bool. */
  otherDTypes?: number;
  errors?: CaseDef[];
}

const SPECIAL_VALUES = [NaN, -0, Infinity, -Infinity, 0, 1.5, -2, 3.4e38, 1e-40, 7, -7, 0.25];

function moveSpec(d: MoveDef): OpSpec {
  const dtypes: DType[] = d.otherDTypes ? ['float32', 'int32', 'bool'] : ['float32'];
  return {
    name: d.name,
    family: 'movement',
    kind: 'primitive',
    op: d.name,
    kernels: d.kernels,
    dtypes,
    run: (api, xs, a) => d.run(api, xs, a),
    ref64: d.ref,
    cases: (dtype) => {
      const list = dtype === 'float32' ? d.cases : d.cases.slice(0, d.otherDTypes);
      return list.map((m): CaseDef => ({
        label: `${m.label}-${m.shapes.map(shapeText).join('x')}`,
        inputs: m.shapes.map((s, i): InputDef =>
          input(s, dtype, {
            view: m.views?.[i],
            values: dtype === 'float32' ? m.values?.[i] : undefined,
          })),
        attrs: m.attrs,
        tags: [...(m.tags ?? []), ...(m.views ?? []).flatMap(viewTag)],
        signedZeros: true,
      }));
    },
    tol: () => EXACT,
    errors: d.errors,
    grad: 'fd',
  };
}

const same = (x: HostTensor, shape: readonly number[]): HostTensor => ({ ...x, shape: [...shape] });

function resolveShape(size: number, shape: readonly number[]): number[] {
  const known = shape.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  return shape.map((d) => (d === -1 ? size / known : d));
}

const reshape = moveSpec({
  name: 'reshape',
  kernels: ['copy'],
  run: (api, [x], a) => api.reshape(x, a.shape as number[]),
  ref: ([x], a) => same(x, resolveShape(x.data.length, a.shape as number[])),
  cases: [
    { label: 'merge', shapes: [[2, 3, 4]], attrs: { shape: [6, 4] } },
    { label: 'flatten', shapes: [[2, 3, 4]], attrs: { shape: [-1] } },
    { label: 'infer', shapes: [[4, 6]], attrs: { shape: [4, -1, 2] } },
    { label: 'scalar-to-1x1', shapes: [[]], attrs: { shape: [1, 1] }, tags: ['scalar', 'size1'] },
    { label: 'to-scalar', shapes: [[1, 1]], attrs: { shape: [] }, tags: ['scalar', 'size1'] },
    { label: 'size0', shapes: [[0, 3]], attrs: { shape: [3, 0, 5] }, tags: ['size0'] },
    { label: 'of-transposed', shapes: [[4, 6]], attrs: { shape: [24] }, views: [{ kind: 'transpose', perm: [1, 0] }] },
    { label: 'of-stepped', shapes: [[3, 4]], attrs: { shape: [2, -1] }, views: [{ kind: 'step', step: 2 }] },
    { label: 'of-broadcast', shapes: [[3, 4]], attrs: { shape: [4, 3] }, views: [{ kind: 'broadcast', from: [3, 1] }] },
    { label: 'special', shapes: [[12]], attrs: { shape: [3, 4] }, values: [SPECIAL_VALUES], tags: ['special'] },
  ],
  otherDTypes: 2,
  errors: [
    { label: 'size-mismatch', inputs: [{ shape: [2, 3], dtype: 'float32' }], attrs: { shape: [4] }, error: 'ShapeError' },
    disposedCase('float32', [[2, 3]], { shape: [6] }),
  ],
});

const expandDims = moveSpec({
  name: 'expandDims',
  kernels: ['copy'],
  run: (api, [x], a) => api.expandDims(x, a.axis as number),
  ref: ([x], a) => {
    const s = [...x.shape];
    s.splice(normAxis(a.axis as number, x.shape.length + 1), 0, 1);
    return same(x, s);
  },
  cases: [
    { label: 'axis0', shapes: [[3, 4]], attrs: { axis: 0 } },
    { label: 'axis-1', shapes: [[3, 4]], attrs: { axis: -1 }, tags: ['neg-axis'] },
    { label: 'axis1', shapes: [[3, 4]], attrs: { axis: 1 } },
    { label: 'scalar', shapes: [[]], attrs: { axis: 0 }, tags: ['scalar'] },
    { label: 'of-flipped', shapes: [[3, 4]], attrs: { axis: 1 }, views: [{ kind: 'flip', axes: [0] }] },
  ],
  otherDTypes: 1,
});

const squeeze = moveSpec({
  name: 'squeeze',
  kernels: ['copy'],
  run: (api, [x], a) => api.squeeze(x, a.axis as number | number[] | undefined),
  ref: ([x], a) => {
    const ax = a.axis === undefined ? undefined : ([] as number[]).concat(a.axis as number).map((v) => normAxis(v, x.shape.length));
    return same(x, x.shape.filter((d, i) => !(d === 1 && (ax === undefined || ax.includes(i)))));
  },
  cases: [
    { label: 'all', shapes: [[1, 3, 1, 4]], tags: ['size1'] },
    { label: 'axis0', shapes: [[1, 3, 1]], attrs: { axis: 0 }, tags: ['size1'] },
    { label: 'axis-1', shapes: [[1, 3, 1]], attrs: { axis: -1 }, tags: ['size1', 'neg-axis'] },
    { label: 'axes', shapes: [[1, 3, 1, 1]], attrs: { axis: [0, 2] }, tags: ['size1', 'multi-axis'] },
    { label: 'to-scalar', shapes: [[1, 1]], tags: ['size1', 'scalar'] },
    { label: 'size0', shapes: [[1, 0, 1]], tags: ['size0', 'size1'] },
  ],
  otherDTypes: 1,
  errors: [{ label: 'axis-not-1', inputs: [{ shape: [2, 3], dtype: 'float32' }], attrs: { axis: 0 }, error: 'ShapeError' }],
});

const transposeSpec = moveSpec({
  name: 'transpose',
  kernels: ['copy'],
  run: (api, [x], a) => api.transpose(x, a.perm as number[] | undefined),
  ref: ([x], a) => transpose(x, (a.perm as number[] | undefined) ?? x.shape.map((_, i) => x.shape.length - 1 - i)),
  cases: [
    { label: 'default', shapes: [[3, 4]] },
    { label: 'default-rank3', shapes: [[2, 3, 4]] },
    { label: 'perm', shapes: [[2, 3, 4]], attrs: { perm: [2, 0, 1] } },
    { label: 'perm-rank4', shapes: [[2, 3, 4, 5]], attrs: { perm: [0, 2, 1, 3] } },
    { label: 'identity', shapes: [[5]], attrs: { perm: [0] } },
    { label: 'scalar', shapes: [[]], attrs: { perm: [] }, tags: ['scalar'] },
    { label: 'size0', shapes: [[0, 3]], attrs: { perm: [1, 0] }, tags: ['size0'] },
    { label: 'size1', shapes: [[1, 5, 1]], attrs: { perm: [2, 1, 0] }, tags: ['size1'] },
    { label: 'odd', shapes: [[17, 33]], tags: ['odd'] },
    { label: 'large', shapes: [[313, 321]], tags: ['large', 'odd'] },
    { label: 'of-stepped', shapes: [[3, 4]], views: [{ kind: 'step', step: 2 }] },
    { label: 'of-transposed', shapes: [[3, 4, 2]], attrs: { perm: [1, 0, 2] }, views: [{ kind: 'transpose', perm: [2, 0, 1] }] },
    { label: 'special', shapes: [[3, 4]], values: [SPECIAL_VALUES], tags: ['special'] },
  ],
  otherDTypes: 3,
  errors: [
    { label: 'bad-perm', inputs: [{ shape: [2, 3], dtype: 'float32' }], attrs: { perm: [0, 0] }, error: 'ArgumentError' },
    { label: 'perm-length', inputs: [{ shape: [2, 3], dtype: 'float32' }], attrs: { perm: [1, 0, 2] }, error: 'ArgumentError' },
  ],
});

const slice = moveSpec({
  name: 'slice',
  kernels: ['copy'],
  run: (api, [x], a) => api.slice(x, a.begin as number[], a.size as number[]),
  ref: ([x], a) => extract(x, a.begin as number[], a.size as number[]),
  cases: [
    { label: 'inner', shapes: [[5, 6]], attrs: { begin: [1, 2], size: [3, 3] } },
    { label: 'full', shapes: [[3, 4]], attrs: { begin: [0, 0], size: [3, 4] } },
    { label: 'rank3', shapes: [[4, 5, 6]], attrs: { begin: [1, 0, 3], size: [2, 5, 2] } },
    { label: 'empty', shapes: [[4, 5]], attrs: { begin: [2, 1], size: [0, 3] }, tags: ['size0'] },
    { label: 'single', shapes: [[4, 5]], attrs: { begin: [3, 4], size: [1, 1] }, tags: ['size1'] },
    { label: 'of-flipped', shapes: [[5, 6]], attrs: { begin: [1, 1], size: [3, 4] }, views: [{ kind: 'flip', axes: [0, 1] }] },
    { label: 'of-transposed', shapes: [[5, 6]], attrs: { begin: [0, 2], size: [5, 3] }, views: [{ kind: 'transpose', perm: [1, 0] }] },
  ],
  otherDTypes: 2,
  errors: [{ label: 'out-of-bounds', inputs: [{ shape: [4, 5], dtype: 'float32' }], attrs: { begin: [2, 0], size: [3, 5] }, error: 'ArgumentError' }],
});

const stridedSlice = moveSpec({
  name: 'stridedSlice',
  kernels: ['copy'],
  run: (api, [x], a) => api.stridedSlice(x, a.begin as number[], a.end as number[], a.strides as number[]),
  ref: ([x], a) => {
    const b = a.begin as number[];
    const e = a.end as number[];
    const s = a.strides as number[];
    return extract(x, b, b.map((v, i) => Math.max(0, Math.ceil((e[i] - v) / s[i]))), s);
  },
  cases: [
    { label: 'step3', shapes: [[10]], attrs: { begin: [1], end: [9], strides: [3] } },
    { label: 'step2x3', shapes: [[6, 8]], attrs: { begin: [0, 1], end: [6, 8], strides: [2, 3] } },
    { label: 'step1', shapes: [[4, 5]], attrs: { begin: [1, 1], end: [3, 4], strides: [1, 1] } },
    { label: 'empty', shapes: [[4, 5]], attrs: { begin: [2, 0], end: [2, 5], strides: [1, 2] }, tags: ['size0'] },
    { label: 'of-stepped', shapes: [[5, 7]], attrs: { begin: [0, 1], end: [5, 7], strides: [2, 2] }, views: [{ kind: 'step', step: 2 }] },
  ],
  otherDTypes: 1,
});

const broadcastToSpec = moveSpec({
  name: 'broadcastTo',
  kernels: ['copy'],
  run: (api, [x], a) => api.broadcastTo(x, a.shape as number[]),
  ref: ([x], a) => broadcastTo(x, a.shape as number[]),
  cases: [
    { label: 'rank-up', shapes: [[3]], attrs: { shape: [2, 3] }, tags: ['broadcast', 'rank-mismatch'] },
    { label: 'size1', shapes: [[1]], attrs: { shape: [4] }, tags: ['broadcast', 'size1'] },
    { label: 'column', shapes: [[3, 1]], attrs: { shape: [3, 4] }, tags: ['broadcast', 'size1'] },
    { label: 'scalar', shapes: [[]], attrs: { shape: [2, 2] }, tags: ['broadcast', 'scalar'] },
    { label: 'size0', shapes: [[1, 3]], attrs: { shape: [0, 3] }, tags: ['broadcast', 'size0'] },
    { label: 'of-transposed', shapes: [[3, 1]], attrs: { shape: [2, 3, 4] }, views: [{ kind: 'transpose', perm: [1, 0] }], tags: ['broadcast'] },
  ],
  otherDTypes: 2,
  errors: [{ label: 'incompatible', inputs: [{ shape: [3], dtype: 'float32' }], attrs: { shape: [2, 4] }, error: 'ShapeError' }],
});

const flipSpec = moveSpec({
  name: 'flip',
  kernels: ['copy'],
  run: (api, [x], a) => api.flip(x, a.axis as number | number[] | undefined),
  ref: ([x], a) => flip(x, a.axis === undefined ? x.shape.map((_, i) => i) : ([] as number[]).concat(a.axis as number)),
  cases: [
    { label: 'all', shapes: [[3, 4]] },
    { label: 'axis0', shapes: [[3, 4]], attrs: { axis: 0 } },
    { label: 'axis-1', shapes: [[2, 3, 4]], attrs: { axis: -1 }, tags: ['neg-axis'] },
    { label: 'axes', shapes: [[2, 3, 4]], attrs: { axis: [0, 2] }, tags: ['multi-axis'] },
    { label: 'size0', shapes: [[0, 4]], attrs: { axis: 1 }, tags: ['size0'] },
    { label: 'of-stepped', shapes: [[4, 5]], attrs: { axis: 1 }, views: [{ kind: 'step', step: 2 }] },
  ],
  otherDTypes: 2,
});

const concat = moveSpec({
  name: 'concat',
  kernels: ['copy'],
  run: (api, xs, a) => api.concat(xs, a.axis as number),
  ref: (xs, a) => {
    const ax = normAxis(a.axis as number, xs[0].shape.length);
    const shape = [...xs[0].shape];
    shape[ax] = xs.reduce((s, x) => s + x.shape[ax], 0);
    const out = host(xs[0].dtype, shape, new Float64Array(sizeOf(shape)));
    let off = 0;
    for (const x of xs) {
      place(out, x, shape.map((_, i) => (i === ax ? off : 0)));
      off += x.shape[ax];
    }
    return out;
  },
  cases: [
    { label: 'axis0', shapes: [[2, 3], [4, 3]], attrs: { axis: 0 } },
    { label: 'axis1', shapes: [[2, 3], [2, 5]], attrs: { axis: 1 } },
    { label: 'axis-1', shapes: [[2, 2, 3], [2, 2, 1], [2, 2, 4]], attrs: { axis: -1 }, tags: ['neg-axis'] },
    { label: 'with-empty', shapes: [[0, 3], [2, 3]], attrs: { axis: 0 }, tags: ['size0'] },
    { label: 'single', shapes: [[2, 3]], attrs: { axis: 0 } },
    { label: 'views', shapes: [[3, 4], [3, 4], [3, 4]], attrs: { axis: 1 }, views: [{ kind: 'transpose', perm: [1, 0] }, { kind: 'broadcast', from: [1, 4] }, { kind: 'flip', axes: [0] }] },
    { label: 'large', shapes: [[300, 200], [100, 200]], attrs: { axis: 0 }, tags: ['large'] },
  ],
  otherDTypes: 2,
  errors: [
    { label: 'shape-mismatch', inputs: [{ shape: [2, 3], dtype: 'float32' }, { shape: [2, 4], dtype: 'float32' }], attrs: { axis: 0 }, error: 'ShapeError' },
    { label: 'dtype-mismatch', inputs: [{ shape: [2, 3], dtype: 'float32' }, { shape: [2, 3], dtype: 'int32' }], attrs: { axis: 0 }, error: 'DTypeError' },
  ],
});

const stack = moveSpec({
  name: 'stack',
  kernels: ['copy'],
  run: (api, xs, a) => api.stack(xs, a.axis as number),
  ref: (xs, a) => {
    const r = xs[0].shape.length;
    const ax = normAxis(a.axis as number, r + 1);
    const shape = [...xs[0].shape];
    shape.splice(ax, 0, xs.length);
    const out = host(xs[0].dtype, shape, new Float64Array(sizeOf(shape)));
    xs.forEach((x, k) => {
      const s = [...x.shape];
      s.splice(ax, 0, 1);
      place(out, same(x, s), shape.map((_, i) => (i === ax ? k : 0)));
    });
    return out;
  },
  cases: [
    { label: 'axis0', shapes: [[2, 3], [2, 3], [2, 3]], attrs: { axis: 0 } },
    { label: 'axis1', shapes: [[2, 3], [2, 3]], attrs: { axis: 1 } },
    { label: 'axis-1', shapes: [[2, 3], [2, 3]], attrs: { axis: -1 }, tags: ['neg-axis'] },
    { label: 'scalars', shapes: [[], [], []], attrs: { axis: 0 }, tags: ['scalar'] },
    { label: 'size0', shapes: [[0, 2], [0, 2]], attrs: { axis: 1 }, tags: ['size0'] },
  ],
  otherDTypes: 1,
  errors: [{ label: 'shape-mismatch', inputs: [{ shape: [2, 3], dtype: 'float32' }, { shape: [3, 2], dtype: 'float32' }], attrs: { axis: 0 }, error: 'ShapeError' }],
});

const split = moveSpec({
  name: 'split',
  kernels: ['copy'],
  run: (api, [x], a) => api.split(x, a.split as number | number[], a.axis as number),
  ref: ([x], a) => {
    const ax = normAxis(a.axis as number, x.shape.length);
    const sizes = Array.isArray(a.split)
      ? (a.split as number[])
      : new Array<number>(a.split as number).fill(x.shape[ax] / (a.split as number));
    let off = 0;
    return sizes.map((n) => {
      const begin = x.shape.map((_, i) => (i === ax ? off : 0));
      off += n;
      return extract(x, begin, x.shape.map((d, i) => (i === ax ? n : d)));
    });
  },
  cases: [
    { label: 'even', shapes: [[6, 4]], attrs: { split: 3, axis: 0 } },
    { label: 'sizes', shapes: [[3, 4]], attrs: { split: [1, 2, 1], axis: 1 } },
    { label: 'axis-1', shapes: [[2, 3, 6]], attrs: { split: 2, axis: -1 }, tags: ['neg-axis'] },
    { label: 'with-empty', shapes: [[4, 3]], attrs: { split: [2, 0, 2], axis: 0 }, tags: ['size0'] },
    { label: 'of-transposed', shapes: [[4, 6]], attrs: { split: 2, axis: 1 }, views: [{ kind: 'transpose', perm: [1, 0] }] },
  ],
  otherDTypes: 1,
  errors: [{ label: 'uneven', inputs: [{ shape: [5, 2], dtype: 'float32' }], attrs: { split: 2, axis: 0 }, error: 'ArgumentError' }],
});

const pad = moveSpec({
  name: 'pad',
  kernels: ['fill', 'copy'],
  run: (api, [x], a) => api.pad(x, a.paddings as [number, number][], a.value as number | undefined),
  ref: ([x], a) => {
    const p = a.paddings as [number, number][];
    const shape = x.shape.map((d, i) => d + p[i][0] + p[i][1]);
    const out = host(x.dtype, shape, new Float64Array(sizeOf(shape)).fill((a.value as number | undefined) ?? 0));
    place(out, x, p.map((q) => q[0]));
    return out;
  },
  cases: [
    { label: 'zeros', shapes: [[2, 3]], attrs: { paddings: [[1, 2], [0, 1]] } },
    { label: 'value', shapes: [[2, 3]], attrs: { paddings: [[0, 0], [2, 2]], value: -1.5 } },
    { label: 'rank3', shapes: [[2, 2, 3]], attrs: { paddings: [[1, 0], [0, 1], [1, 1]] } },
    { label: 'of-empty', shapes: [[0, 2]], attrs: { paddings: [[1, 1], [0, 0]] }, tags: ['size0'] },
    { label: 'nothing', shapes: [[3]], attrs: { paddings: [[0, 0]] } },
    { label: 'of-flipped', shapes: [[3, 4]], attrs: { paddings: [[2, 0], [1, 3]], value: 0.25 }, views: [{ kind: 'flip', axes: [1] }] },
  ],
  otherDTypes: 1,
});

const tile = moveSpec({
  name: 'tile',
  kernels: ['copy'],
  run: (api, [x], a) => api.tile(x, a.reps as number[]),
  ref: ([x], a) => {
    const reps = a.reps as number[];
    const shape = x.shape.map((d, i) => d * reps[i]);
    const n = sizeOf(shape);
    const data = new Float64Array(n);
    const src = (idx: number[]) => idx.map((v, i) => v % x.shape[i]);
    for (let f = 0; f < n; f++) {
      const s = src(unravel(f, shape));
      data[f] = extract(x, s, s.map(() => 1)).data[0];
    }
    return host(x.dtype, shape, data);
  },
  cases: [
    { label: 'rows', shapes: [[2, 3]], attrs: { reps: [2, 1] } },
    { label: 'vec', shapes: [[3]], attrs: { reps: [4] } },
    { label: 'rank3', shapes: [[2, 1, 2]], attrs: { reps: [1, 3, 2] }, tags: ['size1'] },
    { label: 'zero-reps', shapes: [[2, 3]], attrs: { reps: [0, 2] }, tags: ['size0'] },
    { label: 'of-transposed', shapes: [[2, 3]], attrs: { reps: [2, 2] }, views: [{ kind: 'transpose', perm: [1, 0] }] },
  ],
  otherDTypes: 1,
});

const contiguous = moveSpec({
  name: 'contiguous',
  kernels: ['copy'],
  run: (api, [x]) => api.contiguous(x),
  ref: ([x]) => x,
  cases: [
    { label: 'transposed', shapes: [[4, 6]], views: [{ kind: 'transpose', perm: [1, 0] }] },
    { label: 'stepped', shapes: [[3, 4, 2]], views: [{ kind: 'step', step: 2 }] },
    { label: 'flipped', shapes: [[3, 4]], views: [{ kind: 'flip', axes: [0, 1] }] },
    { label: 'broadcast', shapes: [[5, 4]], views: [{ kind: 'broadcast', from: [1, 4] }] },
    { label: 'offset', shapes: [[3, 4]], views: [{ kind: 'offset' }] },
    { label: 'already', shapes: [[3, 4]] },
    { label: 'large-transposed', shapes: [[401, 257]], views: [{ kind: 'transpose', perm: [1, 0] }], tags: ['large', 'odd'] },
  ],
  otherDTypes: 5,
});

const clone = moveSpec({
  name: 'clone',
  kernels: ['copy'],
  run: (api, [x]) => api.clone(x),
  ref: ([x]) => x,
  cases: [
    { label: 'mat', shapes: [[3, 4]] },
    { label: 'special', shapes: [[12]], values: [SPECIAL_VALUES], tags: ['special'] },
    { label: 'size0', shapes: [[0, 2]], tags: ['size0'] },
    { label: 'scalar', shapes: [[]], tags: ['scalar'] },
    { label: 'of-stepped', shapes: [[3, 3]], views: [{ kind: 'step', step: 2 }] },
  ],
  otherDTypes: 2,
});

/** Views and copies. */
export const movementSpecs: readonly OpSpec[] = [
  reshape, expandDims, squeeze, transposeSpec, slice, stridedSlice, broadcastToSpec, flipSpec,
  concat, stack, split, pad, tile, contiguous, clone,
];
