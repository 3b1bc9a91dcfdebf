/**
 * `matmul` (batched, broadcast batch axes, 1-D operands, transposes), `dot` and `linear`
 * (the fused bias + activation epilogue).
 * @module
 */
import { uniform } from '../domains.js';
import { broadcastShapes, host, sizeOf, stridesOf, transpose, unravel, type HostTensor } from '../host.js';
import type { KernelRef } from '../kernels.js';
import { gelu, sigmoid } from '../refmath.js';
import { input, shapeText, viewTag } from '../shapes.js';
import { accumulating, F32, TRANSCENDENTAL, looser } from '../tolerance.js';
import type { CaseDef, OpSpec, Tag, Tol, ViewRecipe } from '../types.js';
import { disposedCase } from './helpers.js';

const swapLast = (t: HostTensor): HostTensor => {
  const r = t.shape.length;
  if (r < 2) return t;
  const perm = t.shape.map((_, i) => i);
  [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
  return transpose(t, perm);
};

/**
 * Float64 reference matmul with NumPy semantics: 1-D operands are promoted and the added
 * axis removed again; batch axes broadcast.
 * @example
 * matmulRef(host('float32', [1, 2], [1, 2]), host('float32', [2, 1], [3, 4])).data; // [11]
 */
export function matmulRef(a0: HostTensor, b0: HostTensor, transposeA = false, transposeB = false): HostTensor {
  let a = transposeA ? swapLast(a0) : a0;
  let b = transposeB ? swapLast(b0) : b0;
  const aVec = a.shape.length === 1;
  const bVec = b.shape.length === 1;
  if (aVec) a = { ...a, shape: [1, a.shape[0]] };
  if (bVec) b = { ...b, shape: [b.shape[0], 1] };
  const [m, k] = a.shape.slice(-2);
  const n = b.shape[b.shape.length - 1];
  const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2))!;
  const nb = sizeOf(batch);
  const out = new Float64Array(nb * m * n);
  const aBatch = a.shape.slice(0, -2);
  const bBatch = b.shape.slice(0, -2);
  const batchIndex = (idx: number[], shape: number[]) => {
    const s = stridesOf(shape);
    const off = idx.length - shape.length;
    return shape.reduce((acc, d, i) => acc + (d === 1 ? 0 : idx[i + off] * s[i]), 0);
  };
  for (let p = 0; p < nb; p++) {
    const bi = unravel(p, batch);
    const ao = batchIndex(bi, aBatch) * m * k;
    const bo = batchIndex(bi, bBatch) * k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let q = 0; q < k; q++) s += a.data[ao + i * k + q] * b.data[bo + q * n + j];
        out[(p * m + i) * n + j] = s;
      }
    }
  }
  const shape = [...batch, ...(aVec ? [] : [m]), ...(bVec ? [] : [n])];
  return host('float32', shape, out);
}

interface MM {
  label: string;
  a: number[];
  b: number[];
  transposeA?: boolean;
  transposeB?: boolean;
  views?: [ViewRecipe?, ViewRecipe?];
  tags?: Tag[];
}

const MM_CASES: readonly MM[] = [
  { label: '1x1x1', a: [1, 1], b: [1, 1], tags: ['size1'] },
  { label: '2x3x4', a: [2, 3], b: [3, 4] },
  { label: '17x33x65', a: [17, 33], b: [33, 65], tags: ['odd'] },
  { label: '130x67x129', a: [130, 67], b: [67, 129], tags: ['large', 'odd'] },
  { label: '64x64x64', a: [64, 64], b: [64, 64] },
  { label: '1x100x1', a: [1, 100], b: [100, 1], tags: ['size1'] },
  { label: 'k1', a: [5, 1], b: [1, 7], tags: ['size1'] },
  { label: 'm0', a: [0, 3], b: [3, 4], tags: ['size0'] },
  { label: 'k0', a: [3, 0], b: [0, 4], tags: ['size0'] },
  { label: 'n0', a: [3, 4], b: [4, 0], tags: ['size0'] },
  { label: 'batched', a: [2, 3, 4], b: [2, 4, 5] },
  { label: 'batch-bcast', a: [2, 1, 3, 4], b: [5, 4, 2], tags: ['broadcast', 'rank-mismatch', 'size1'] },
  { label: 'batch-rank-mismatch', a: [3, 4], b: [2, 4, 5], tags: ['broadcast', 'rank-mismatch'] },
  { label: 'batch0', a: [0, 3, 4], b: [4, 5], tags: ['size0', 'broadcast'] },
  { label: 'vec-mat', a: [4], b: [4, 3] },
  { label: 'mat-vec', a: [3, 4], b: [4] },
  { label: 'vec-vec', a: [4], b: [4], tags: ['scalar'] },
  { label: 'batched-mat-vec', a: [2, 3, 4], b: [4] },
  { label: 'transposeA', a: [4, 3], b: [4, 5], transposeA: true },
  { label: 'transposeB', a: [3, 4], b: [5, 4], transposeB: true },
  { label: 'transposeAB', a: [2, 4, 3], b: [2, 5, 4], transposeA: true, transposeB: true },
  { label: 'transposeB-odd', a: [17, 33], b: [65, 33], transposeB: true, tags: ['odd'] },
  { label: 'view-a-transposed', a: [6, 5], b: [5, 4], views: [{ kind: 'transpose', perm: [1, 0] }] },
  { label: 'view-b-stepped', a: [3, 4], b: [4, 5], views: [undefined, { kind: 'step', step: 2 }] },
  { label: 'view-flipped', a: [3, 4], b: [4, 5], views: [{ kind: 'flip', axes: [0] }, { kind: 'flip', axes: [1] }] },
  { label: 'view-b-broadcast-batch', a: [3, 2, 4], b: [3, 4, 5], views: [undefined, { kind: 'broadcast', from: [1, 4, 5] }] },
  { label: 'view-offset', a: [3, 4], b: [4, 2], views: [{ kind: 'offset' }, { kind: 'offset' }] },
];

const DOMAIN = uniform(-1, 1);

function mmTol(k: number): Tol {
  return accumulating(F32, k, 1);
}

function kOf(c: CaseDef): number {
  const a = c.inputs[0].shape;
  const t = c.attrs?.transposeA as boolean | undefined;
  return a.length === 1 ? a[0] : t ? a[a.length - 2] : a[a.length - 1];
}

const matmul: OpSpec = {
  name: 'matmul',
  family: 'matmul',
  kind: 'primitive',
  op: 'matmul',
  kernels: ['matmul'],
  dtypes: ['float32'],
  run: (api, [a, b], at) => api.matmul(a, b, { transposeA: !!at.transposeA, transposeB: !!at.transposeB }),
  ref64: ([a, b], at) => matmulRef(a, b, !!at.transposeA, !!at.transposeB),
  cases: () => [
    ...MM_CASES.map((m): CaseDef => ({
      label: `${m.label}-${shapeText(m.a)}x${shapeText(m.b)}`,
      inputs: [input(m.a, 'float32', { view: m.views?.[0] }), input(m.b, 'float32', { view: m.views?.[1] })],
      attrs: { transposeA: m.transposeA ?? false, transposeB: m.transposeB ?? false },
      tags: [...(m.tags ?? []), ...(m.views ?? []).flatMap(viewTag)],
    })),
    {
      label: 'special',
      inputs: [
        input([3, 2], 'float32', { values: [NaN, 1, 1, 2, Infinity, 0] }),
        input([2, 3], 'float32', { values: [1, 2, 3, 4, 5, -6] }),
      ],
      tags: ['special'],
    },
  ],
  domain: () => DOMAIN,
  tol: (_d, c) => mmTol(kOf(c)),
  errors: [
    { label: 'inner-mismatch', inputs: [{ shape: [2, 3], dtype: 'float32' }, { shape: [4, 5], dtype: 'float32' }], error: 'ShapeError' },
    { label: 'batch-mismatch', inputs: [{ shape: [2, 2, 3], dtype: 'float32' }, { shape: [3, 3, 4], dtype: 'float32' }], error: 'ShapeError' },
    { label: 'int32', inputs: [{ shape: [2, 3], dtype: 'int32' }, { shape: [3, 4], dtype: 'int32' }], error: 'DTypeError' },
    { label: 'scalar-operand', inputs: [{ shape: [], dtype: 'float32' }, { shape: [3, 4], dtype: 'float32' }], error: 'ShapeError' },
    disposedCase('float32', [[2, 3], [3, 4]]),
  ],
  grad: 'fd',
};

const dot: OpSpec = {
  name: 'dot',
  family: 'matmul',
  kind: 'primitive',
  op: 'dot',
  kernels: ['matmul'],
  dtypes: ['float32'],
  run: (api, [a, b]) => api.dot(a, b),
  ref64: ([a, b]) => matmulRef(a, b),
  cases: () =>
    ([[[5], [5]], [[3, 4], [4]], [[4], [4, 3]], [[2, 3], [3, 4]], [[0], [0]], [[33], [33, 17]]] as const).map(
      ([a, b]): CaseDef => ({
        label: `${shapeText(a)}x${shapeText(b)}`,
        inputs: [input(a, 'float32'), input(b, 'float32')],
        tags: a[0] === 0 ? ['size0'] : a.length === 1 && b.length === 1 ? ['scalar'] : [],
      }),
    ),
  domain: () => DOMAIN,
  tol: (_d, c) => mmTol(c.inputs[0].shape[c.inputs[0].shape.length - 1]),
  errors: [{ label: 'mismatch', inputs: [{ shape: [3], dtype: 'float32' }, { shape: [4], dtype: 'float32' }], error: 'ShapeError' }],
  grad: 'fd',
};

const ACTIVATIONS = ['linear', 'relu', 'sigmoid', 'tanh', 'gelu'] as const;
type Act = (typeof ACTIVATIONS)[number];

const actRef: Record<Act, (x: number) => number> = {
  linear: (x) => x,
  relu: (x) => (Number.isNaN(x) ? NaN : Math.max(0, x)),
  sigmoid,
  tanh: Math.tanh,
  gelu: (x) => gelu(x),
};

const linear: OpSpec = {
  name: 'linear',
  family: 'matmul',
  kind: 'fused',
  op: 'linear',
  kernels: ['matmulFused', 'matmul', 'binary:add'],
  dtypes: ['float32'],
  run: (api, [x, w, bias], a) => api.linear(x, w, bias ?? null, a.activation as Act),
  ref64: ([x, w, bias], a) => {
    const y = matmulRef(x, w);
    const n = y.shape[y.shape.length - 1];
    const f = actRef[a.activation as Act];
    return { ...y, data: y.data.map((v, i) => f(v + (bias ? bias.data[i % n] : 0))) };
  },
  cases: () => {
    const cs: CaseDef[] = [];
    for (const act of ACTIVATIONS) {
      cs.push({
        label: `${act}-bias-[5,4]x[4,3]`,
        inputs: [input([5, 4], 'float32'), input([4, 3], 'float32'), input([3], 'float32')],
        attrs: { activation: act },
        kernels: [`matmulFused:${act}` as KernelRef, 'matmul', 'binary:add'],
      });
      cs.push({
        label: `${act}-nobias-[2,5,4]x[4,3]`,
        inputs: [input([2, 5, 4], 'float32'), input([4, 3], 'float32')],
        attrs: { activation: act },
        kernels: [`matmulFused:${act}` as KernelRef, 'matmul', 'binary:add'],
      });
    }
    cs.push({
      label: 'relu-bias-odd-[17,33]x[33,65]',
      inputs: [input([17, 33], 'float32'), input([33, 65], 'float32'), input([65], 'float32')],
      attrs: { activation: 'relu' },
      tags: ['odd'],
    });
    cs.push({
      label: 'gelu-bias-large-[130,67]x[67,129]',
      inputs: [input([130, 67], 'float32'), input([67, 129], 'float32'), input([129], 'float32')],
      attrs: { activation: 'gelu' },
      tags: ['large', 'odd'],
    });
    cs.push({
      label: 'tanh-views-[6,5]x[5,4]',
      inputs: [
        input([6, 5], 'float32', { view: { kind: 'transpose', perm: [1, 0] } }),
        input([5, 4], 'float32', { view: { kind: 'flip', axes: [0] } }),
        input([4], 'float32', { view: { kind: 'step', step: 2 } }),
      ],
      attrs: { activation: 'tanh' },
      tags: ['view:transpose', 'view:flip', 'view:step'],
    });
    cs.push({
      label: 'sigmoid-size0-[0,4]x[4,3]',
      inputs: [input([0, 4], 'float32'), input([4, 3], 'float32'), input([3], 'float32')],
      attrs: { activation: 'sigmoid' },
      tags: ['size0'],
    });
    return cs;
  },
  domain: () => DOMAIN,
  tol: (_d, c) => looser(mmTol(kOf(c)), (c.attrs?.activation ?? 'linear') === 'linear' ? F32 : TRANSCENDENTAL),
  errors: [
    {
      label: 'bias-shape',
      inputs: [{ shape: [5, 4], dtype: 'float32' }, { shape: [4, 3], dtype: 'float32' }, { shape: [4], dtype: 'float32' }],
      attrs: { activation: 'linear' },
      error: 'ShapeError',
    },
  ],
  grad: 'fd',
};

/** Matrix products. */
export const matmulSpecs: readonly OpSpec[] = [matmul, dot, linear];
