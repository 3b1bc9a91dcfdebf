/**
 * `softmax`, `logSoftmax`, `layerNorm` and `softmaxCrossEntropy`: fused kernels with a
 * reference decomposition in core, so every case runs both paths.
 * @module
 */
import { uniform } from '../domains.js';
import { alongAxis, host, normAxis, sizeOf, type HostTensor } from '../host.js';
import { kahanSum } from '../refmath.js';
import { Rng } from '../rng.js';
import { input, shapeText, viewTag } from '../shapes.js';
import { accumulating, TRANSCENDENTAL, U32 } from '../tolerance.js';
import type { CaseDef, OpSpec, Tag, ViewRecipe } from '../types.js';
import { disposedCase } from './helpers.js';

function softmaxRow(log: boolean) {
  return (v: number[]): number[] => {
    const m = v.length ? Math.max(...v) : 0;
    const e = v.map((x) => Math.exp(x - m));
    const s = kahanSum(e);
    return log ? v.map((x) => x - m - Math.log(s)) : e.map((x) => x / s);
  };
}

interface S {
  label: string;
  shape: number[];
  axis?: number;
  view?: ViewRecipe;
  tags?: Tag[];
  values?: number[];
}

const SOFTMAX_CASES: readonly S[] = [
  { label: 'vec', shape: [7] },
  { label: 'rows', shape: [3, 5] },
  { label: 'rank3', shape: [2, 3, 4] },
  { label: 'axis1', shape: [2, 3, 4], axis: 1 },
  { label: 'axis0', shape: [3, 4], axis: 0 },
  { label: 'axis-2', shape: [2, 3, 4], axis: -2, tags: ['neg-axis'] },
  { label: 'size0', shape: [0, 5], tags: ['size0'] },
  { label: 'size1', shape: [4, 1], tags: ['size1'] },
  { label: 'odd', shape: [17, 33], tags: ['odd'] },
  { label: 'large', shape: [64, 1000], tags: ['large'] },
  { label: 'transposed', shape: [5, 6], view: { kind: 'transpose', perm: [1, 0] } },
  { label: 'broadcast', shape: [3, 6], view: { kind: 'broadcast', from: [1, 6] } },
  { label: 'stable', shape: [2, 3], values: [1000, 0, -1000, -500, -500, -499], tags: ['special'] },
  { label: 'special', shape: [3, 3], values: [-Infinity, 0, 1, NaN, 1, 2, -Infinity, -Infinity, 5], tags: ['special'] },
];

function softmaxSpec(log: boolean): OpSpec {
  const name = log ? 'logSoftmax' : 'softmax';
  return {
    name,
    family: 'nn',
    kind: 'fused',
    op: name,
    kernels: ['softmax', 'reduce:max', 'reduce:sum', 'unary:exp', log ? 'unary:log' : 'binary:div'],
    dtypes: ['float32'],
    run: (api, [x], a) => (a.axis === undefined ? api[name](x) : api[name](x, a.axis as number)),
    ref64: ([x], a) => alongAxis(x, (a.axis as number | undefined) ?? -1, softmaxRow(log)),
    cases: () =>
      SOFTMAX_CASES.map((s): CaseDef => ({
        label: `${s.label}-${shapeText(s.shape)}`,
        inputs: [input(s.shape, 'float32', { view: s.view, values: s.values })],
        attrs: { axis: s.axis },
        tags: [...(s.tags ?? []), ...viewTag(s.view)],
      })),
    domain: () => uniform(-8, 8),
    tol: (_d, c) => {
      const sh = c.inputs[0].shape;
      const k = sh.length ? sh[normAxis((c.attrs?.axis as number | undefined) ?? -1, sh.length)] : 1;
      return accumulating(TRANSCENDENTAL, k, 0.1);
    },
    errors: log ? undefined : [
      { label: 'axis-out-of-range', inputs: [{ shape: [2, 3], dtype: 'float32' }], attrs: { axis: 2 }, error: 'ArgumentError' },
      { label: 'int32', inputs: [{ shape: [2, 3], dtype: 'int32' }], error: 'DTypeError' },
    ],
    grad: 'fd',
  };
}

function layerNormRef([x, gamma, beta]: HostTensor[], eps: number): HostTensor {
  const n = x.shape[x.shape.length - 1];
  return alongAxis(x, -1, (v) => {
    const m = kahanSum(v) / n;
    const varc = kahanSum(v.map((t) => (t - m) * (t - m))) / n;
    const r = 1 / Math.sqrt(varc + eps);
    return v.map((t, i) => (t - m) * r * gamma.data[i] + beta.data[i]);
  });
}

const LN: readonly { label: string; shape: number[]; eps?: number; view?: ViewRecipe; tags?: Tag[]; shifted?: boolean }[] = [
  { label: 'rows', shape: [4, 8] },
  { label: 'rank3', shape: [2, 3, 16] },
  { label: 'single', shape: [5, 1], tags: ['size1'] },
  { label: 'odd', shape: [17, 33], tags: ['odd'] },
  { label: 'eps', shape: [3, 10], eps: 1e-3 },
  { label: 'shifted', shape: [4, 32], shifted: true },
  { label: 'size0', shape: [0, 8], tags: ['size0'] },
  { label: 'transposed', shape: [6, 5], view: { kind: 'transpose', perm: [1, 0] } },
  { label: 'large', shape: [256, 512], tags: ['large'] },
];

const layerNorm: OpSpec = {
  name: 'layerNorm',
  family: 'nn',
  kind: 'fused',
  op: 'layerNorm',
  kernels: ['layerNorm', 'reduce:sum', 'binary:sub', 'binary:mul', 'unary:rsqrt'],
  dtypes: ['float32'],
  run: (api, [x, g, b], a) => api.layerNorm(x, g, b, a.eps as number),
  ref64: (xs, a) => layerNormRef(xs, a.eps as number),
  cases: () =>
    LN.map((l): CaseDef => {
      const n = l.shape[l.shape.length - 1];
      return {
        label: `${l.label}-${shapeText(l.shape)}`,
        inputs: [
          input(l.shape, 'float32', { view: l.view, domain: l.shifted ? uniform(4, 6) : undefined }),
          input([n], 'float32', { domain: uniform(0.5, 1.5) }),
          input([n], 'float32', { domain: uniform(-1, 1) }),
        ],
        attrs: { eps: l.eps ?? 1e-5 },
        tags: [...(l.tags ?? []), ...viewTag(l.view)],
      };
    }),
  tol: (_d, c) => {
    const sh = c.inputs[0].shape;
    const k = sh[sh.length - 1];
    return { rtol: 1e-4 + 8 * U32 * Math.sqrt(k), atol: 1e-4 };
  },
  errors: [
    {
      label: 'gamma-shape',
      inputs: [{ shape: [4, 8], dtype: 'float32' }, { shape: [7], dtype: 'float32' }, { shape: [8], dtype: 'float32' }],
      attrs: { eps: 1e-5 },
      error: 'ShapeError',
    },
  ],
  grad: 'fd',
};

/** Rows of probabilities (each sums to 1), one-hot when `oneHot`. */
function labelRows(seed: string, shape: readonly number[], oneHot: boolean): number[] {
  const rng = new Rng(seed);
  const n = shape[shape.length - 1];
  const rows = sizeOf(shape) / Math.max(1, n);
  const out: number[] = [];
  for (let r = 0; r < rows; r++) {
    if (oneHot) {
      const k = rng.int(0, n - 1);
      for (let i = 0; i < n; i++) out.push(i === k ? 1 : 0);
    } else {
      const w = Array.from({ length: n }, () => Math.fround(rng.float() + 0.01));
      const s = w.reduce((p, q) => p + q, 0);
      for (const x of w) out.push(Math.fround(x / s));
    }
  }
  return out;
}

const SCE: readonly { label: string; shape: number[]; oneHot?: boolean; view?: ViewRecipe; tags?: Tag[]; scale?: number }[] = [
  { label: 'onehot', shape: [4, 5], oneHot: true },
  { label: 'soft', shape: [4, 5] },
  { label: 'rank3', shape: [2, 3, 10] },
  { label: 'single-class', shape: [3, 1], oneHot: true, tags: ['size1'] },
  { label: 'size0', shape: [0, 5], tags: ['size0'] },
  { label: 'odd', shape: [17, 33], tags: ['odd'] },
  { label: 'large-logits', shape: [4, 6], scale: 60, tags: ['special'] },
  { label: 'transposed', shape: [6, 5], view: { kind: 'transpose', perm: [1, 0] } },
  { label: 'large', shape: [512, 100], oneHot: true, tags: ['large'] },
];

const softmaxCrossEntropy: OpSpec = {
  name: 'softmaxCrossEntropy',
  family: 'nn',
  kind: 'fused',
  op: 'softmaxCrossEntropy',
  kernels: ['softmaxCrossEntropy', 'softmax', 'reduce:sum', 'binary:mul'],
  dtypes: ['float32'],
  run: (api, [logits, labels]) => api.softmaxCrossEntropy(logits, labels),
  ref64: ([logits, labels]) => {
    const lsm = alongAxis(logits, -1, softmaxRow(true));
    const prod = host('float32', lsm.shape, lsm.data.map((v, i) => labels.data[i] * v));
    const r = alongAxis(prod, -1, (v) => [-kahanSum(v)]);
    return { ...r, shape: r.shape.slice(0, -1) };
  },
  cases: () =>
    SCE.map((s): CaseDef => ({
      label: `${s.label}-${shapeText(s.shape)}`,
      inputs: [
        input(s.shape, 'float32', { view: s.view, domain: uniform(-(s.scale ?? 4), s.scale ?? 4) }),
        input(s.shape, 'float32', { values: labelRows(`sce/${s.label}`, s.shape, !!s.oneHot) }),
      ],
      tags: [...(s.tags ?? []), ...viewTag(s.view)],
    })),
  tol: (_d, c) => accumulating(TRANSCENDENTAL, c.inputs[0].shape[c.inputs[0].shape.length - 1], 1),
  errors: [
    {
      label: 'shape-mismatch',
      inputs: [{ shape: [4, 5], dtype: 'float32' }, { shape: [4, 6], dtype: 'float32' }],
      error: 'ShapeError',
    },
    disposedCase('float32', [[4, 5], [4, 5]]),
  ],
  grad: { nondiff: [1] },
};

/** Softmax, log-softmax, layer norm, softmax cross-entropy. */
export const normSpecs: readonly OpSpec[] = [softmaxSpec(false), softmaxSpec(true), layerNorm, softmaxCrossEntropy];
