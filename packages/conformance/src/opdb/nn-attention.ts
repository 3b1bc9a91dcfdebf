/**
 * `scaledDotProductAttention` (a fused kernel with a reference decomposition in core, so every
 * case runs both paths) and `attentionWeights` (its softmax weights, composed of primitives):
 * batch broadcasting, padding masks (bool and 0/1), causal masks with `Tq != Tk` (decoding with
 * a KV cache), fully masked rows (zeros, never NaN), size-0 axes and strided views.
 * @module
 */
import { uniform } from '../domains.js';
import { broadcastShapes, broadcastTo, host, sizeOf, type HostTensor } from '../host.js';
import { kahanSum } from '../refmath.js';
import { input, shapeText, viewTag } from '../shapes.js';
import { accumulating, TRANSCENDENTAL } from '../tolerance.js';
import type { Attrs, CaseDef, InputDef, OpSpec, Tag, ViewRecipe } from '../types.js';
import { disposedCase } from './helpers.js';

/** Broadcast batch axes of q, k, v (and the mask's), with the geometry. */
function geometry([q, k, v]: HostTensor[]) {
  const d = q.shape[q.shape.length - 1];
  const tq = q.shape[q.shape.length - 2];
  const tk = k.shape[k.shape.length - 2];
  const dv = v.shape[v.shape.length - 1];
  const b1 = broadcastShapes(q.shape.slice(0, -2), k.shape.slice(0, -2));
  const batch = b1 && broadcastShapes(b1, v.shape.slice(0, -2));
  if (!batch) throw new Error('attention reference: batch axes do not broadcast');
  return { d, tq, tk, dv, batch };
}

/** Float64 attention weights `[...batch, tq, tk]`: masked entries exactly 0, fully masked rows all 0. */
function weightsRef(inputs: HostTensor[], a: Attrs): HostTensor {
  const [q, k] = inputs;
  const mask = a.mask ? inputs[3] : undefined;
  const g = geometry(inputs);
  const nb = sizeOf(g.batch);
  const qb = broadcastTo(q, [...g.batch, g.tq, g.d]).data;
  const kb = broadcastTo(k, [...g.batch, g.tk, g.d]).data;
  const mb = mask ? broadcastTo(mask, [...g.batch, g.tq, g.tk]).data : null;
  const scale = (a.scale as number | undefined) ?? 1 / Math.sqrt(g.d);
  const out = new Float64Array(nb * g.tq * g.tk);
  for (let b = 0; b < nb; b++) {
    for (let i = 0; i < g.tq; i++) {
      const row = b * g.tq * g.tk + i * g.tk;
      const keep: boolean[] = [];
      const s: number[] = [];
      for (let j = 0; j < g.tk; j++) {
        keep.push((mb === null || mb[row + j] !== 0) && (!a.causal || j <= i + (g.tk - g.tq)));
        const dots: number[] = [];
        for (let p = 0; p < g.d; p++) dots.push(qb[(b * g.tq + i) * g.d + p] * kb[(b * g.tk + j) * g.d + p]);
        s.push(kahanSum(dots) * scale);
      }
      const live = s.filter((_, j) => keep[j]);
      if (live.length === 0) continue;
      const m = Math.max(...live);
      const e = s.map((x, j) => (keep[j] ? Math.exp(x - m) : 0));
      const z = kahanSum(e);
      e.forEach((x, j) => (out[row + j] = x / z));
    }
  }
  return host('float32', [...g.batch, g.tq, g.tk], out);
}

/** Float64 attention output `[...batch, tq, dv]`. */
function attentionRef(inputs: HostTensor[], a: Attrs): HostTensor {
  const v = inputs[2];
  const g = geometry(inputs);
  const w = weightsRef(inputs, a).data;
  const vb = broadcastTo(v, [...g.batch, g.tk, g.dv]).data;
  const nb = sizeOf(g.batch);
  const out = new Float64Array(nb * g.tq * g.dv);
  for (let b = 0; b < nb; b++) {
    for (let i = 0; i < g.tq; i++) {
      for (let c = 0; c < g.dv; c++) {
        const terms: number[] = [];
        for (let j = 0; j < g.tk; j++) terms.push(w[(b * g.tq + i) * g.tk + j] * vb[(b * g.tk + j) * g.dv + c]);
        out[(b * g.tq + i) * g.dv + c] = kahanSum(terms);
      }
    }
  }
  return host('float32', [...g.batch, g.tq, g.dv], out);
}

interface A {
  label: string;
  q: number[];
  k: number[];
  v: number[];
  /** Mask shape and its 0/1 values (a function of the flat index), as bool or float32. */
  mask?: { shape: number[]; dtype: 'bool' | 'float32'; at: (i: number) => number };
  causal?: boolean;
  scale?: number;
  views?: (ViewRecipe | undefined)[];
  tags?: Tag[];
  /** q/k domain half-width (default 1.5). */
  spread?: number;
}

const CASES: readonly A[] = [
  { label: 'basic', q: [2, 3, 4], k: [2, 5, 4], v: [2, 5, 6] },
  { label: 'heads', q: [2, 2, 4, 8], k: [2, 2, 4, 8], v: [2, 2, 4, 8] },
  { label: 'causal', q: [2, 5, 4], k: [2, 5, 4], v: [2, 5, 3], causal: true },
  { label: 'causal-cache-step', q: [1, 2, 1, 4], k: [1, 2, 6, 4], v: [1, 2, 6, 4], causal: true },
  { label: 'causal-tq>tk', q: [1, 4, 3], k: [1, 2, 3], v: [1, 2, 2], causal: true, tags: ['special'] },
  { label: 'pad-mask-bool', q: [2, 3, 4], k: [2, 5, 4], v: [2, 5, 3], mask: { shape: [2, 1, 5], dtype: 'bool', at: (i) => (i % 5 < (i < 5 ? 3 : 5) ? 1 : 0) }, tags: ['broadcast'] },
  { label: 'mask-float01', q: [3, 4], k: [5, 4], v: [5, 2], mask: { shape: [3, 5], dtype: 'float32', at: (i) => ((i * 7) % 3 === 0 ? 0 : 1) } },
  { label: 'mask-and-causal', q: [2, 4, 4], k: [2, 4, 4], v: [2, 4, 4], causal: true, mask: { shape: [2, 1, 4], dtype: 'bool', at: (i) => (i === 7 ? 0 : 1) } },
  { label: 'fully-masked-row', q: [2, 3, 4], k: [2, 3, 4], v: [2, 3, 5], mask: { shape: [2, 3, 3], dtype: 'bool', at: (i) => (i >= 3 && i < 6 ? 0 : (i + 1) % 4 === 0 ? 0 : 1) }, tags: ['special'] },
  { label: 'bcast-batch', q: [2, 3, 4], k: [1, 5, 4], v: [5, 6], tags: ['broadcast', 'rank-mismatch'] },
  { label: 'scale', q: [2, 3, 8], k: [2, 3, 8], v: [2, 3, 8], scale: 0.3 },
  { label: 'single', q: [1, 1, 1], k: [1, 1, 1], v: [1, 1, 1], tags: ['size1'] },
  { label: 'tk0', q: [2, 3, 4], k: [2, 0, 4], v: [2, 0, 5], tags: ['size0'] },
  { label: 'tq0', q: [2, 0, 4], k: [2, 3, 4], v: [2, 3, 5], causal: true, tags: ['size0'] },
  { label: 'odd', q: [3, 17, 33], k: [3, 19, 33], v: [3, 19, 7], causal: true, tags: ['odd'] },
  { label: 'large', q: [2, 4, 64, 32], k: [2, 4, 128, 32], v: [2, 4, 128, 32], causal: true, tags: ['large'] },
  { label: 'peaked', q: [2, 4, 8], k: [2, 6, 8], v: [2, 6, 4], spread: 6, tags: ['special'] },
  { label: 'transposed', q: [2, 3, 4], k: [2, 5, 4], v: [2, 5, 3], views: [{ kind: 'transpose', perm: [0, 2, 1] }, { kind: 'transpose', perm: [1, 0, 2] }] },
  { label: 'broadcast-view', q: [2, 3, 4], k: [2, 5, 4], v: [2, 5, 3], views: [undefined, { kind: 'broadcast', from: [1, 5, 4] }, { kind: 'broadcast', from: [1, 5, 3] }] },
];

function caseDefs(): CaseDef[] {
  return CASES.map((c): CaseDef => {
    const spread = c.spread ?? 1.5;
    const inputs: InputDef[] = [
      input(c.q, 'float32', { view: c.views?.[0], domain: uniform(-spread, spread) }),
      input(c.k, 'float32', { view: c.views?.[1], domain: uniform(-spread, spread) }),
      input(c.v, 'float32', { view: c.views?.[2] }),
    ];
    if (c.mask) inputs.push(input(c.mask.shape, c.mask.dtype, { values: Array.from({ length: sizeOf(c.mask.shape) }, (_, i) => c.mask!.at(i)) }));
    return {
      label: `${c.label}-${shapeText(c.q)}x${shapeText(c.k)}`,
      inputs,
      attrs: { causal: c.causal === true, scale: c.scale, mask: c.mask !== undefined },
      tags: [...(c.tags ?? []), ...(c.views ?? []).flatMap((v) => viewTag(v))],
    };
  });
}

const ERRORS: CaseDef[] = [
  { label: 'd-mismatch', inputs: [{ shape: [2, 3, 4], dtype: 'float32' }, { shape: [2, 5, 3], dtype: 'float32' }, { shape: [2, 5, 3], dtype: 'float32' }], attrs: {}, error: 'ShapeError' },
  { label: 'kv-positions', inputs: [{ shape: [2, 3, 4], dtype: 'float32' }, { shape: [2, 5, 4], dtype: 'float32' }, { shape: [2, 4, 3], dtype: 'float32' }], attrs: {}, error: 'ShapeError' },
  { label: 'rank1', inputs: [{ shape: [4], dtype: 'float32' }, { shape: [4], dtype: 'float32' }, { shape: [4], dtype: 'float32' }], attrs: {}, error: 'ShapeError' },
  { label: 'batch', inputs: [{ shape: [2, 3, 4], dtype: 'float32' }, { shape: [3, 5, 4], dtype: 'float32' }, { shape: [3, 5, 4], dtype: 'float32' }], attrs: {}, error: 'ShapeError' },
  { label: 'int32-q', inputs: [{ shape: [2, 3, 4], dtype: 'int32' }, { shape: [2, 5, 4], dtype: 'float32' }, { shape: [2, 5, 4], dtype: 'float32' }], attrs: {}, error: 'DTypeError' },
  {
    label: 'mask-shape',
    inputs: [{ shape: [2, 3, 4], dtype: 'float32' }, { shape: [2, 5, 4], dtype: 'float32' }, { shape: [2, 5, 4], dtype: 'float32' }, { shape: [2, 3, 4], dtype: 'bool' }],
    attrs: { mask: true },
    error: 'ShapeError',
  },
  {
    label: 'mask-grows-output',
    inputs: [{ shape: [3, 4], dtype: 'float32' }, { shape: [5, 4], dtype: 'float32' }, { shape: [5, 4], dtype: 'float32' }, { shape: [2, 3, 5], dtype: 'bool' }],
    attrs: { mask: true },
    error: 'ShapeError',
  },
  { label: 'scale-nan', inputs: [{ shape: [2, 3, 4], dtype: 'float32' }, { shape: [2, 5, 4], dtype: 'float32' }, { shape: [2, 5, 4], dtype: 'float32' }], attrs: { scale: NaN }, error: 'ArgumentError' },
  disposedCase('float32', [[2, 3, 4], [2, 5, 4], [2, 5, 4]], {}),
];

/** Accumulates d products into each score and tk terms into each output. */
function tol(c: CaseDef) {
  const q = c.inputs[0].shape;
  const k = c.inputs[1].shape;
  return accumulating(TRANSCENDENTAL, q[q.length - 1] + k[k.length - 2], 4);
}

const opts = (a: Attrs, mask: unknown) => ({ mask: a.mask ? (mask as never) : null, causal: a.causal as boolean, scale: a.scale as number | undefined });

const scaledDotProductAttention: OpSpec = {
  name: 'scaledDotProductAttention',
  family: 'nn',
  kind: 'fused',
  op: 'scaledDotProductAttention',
  kernels: ['scaledDotProductAttention', 'matmul', 'softmax', 'where'],
  dtypes: ['float32'],
  run: (api, [q, k, v, m], a) => api.scaledDotProductAttention(q, k, v, opts(a, m)),
  ref64: attentionRef,
  cases: () => caseDefs(),
  tol: (_d, c) => tol(c),
  errors: ERRORS,
  grad: { nondiff: [3] },
};

const attentionWeights: OpSpec = {
  name: 'attentionWeights',
  family: 'nn',
  kind: 'composite',
  op: 'attentionWeights',
  kernels: ['matmul', 'softmax', 'where', 'binary:mul'],
  dtypes: ['float32'],
  run: (api, [q, k, _v, m], a) => api.attentionWeights(q, k, opts(a, m)),
  ref64: weightsRef,
  // The weights do not read v, but the cases keep it so that both ops share one table.
  cases: () => caseDefs(),
  tol: (_d, c) => tol(c),
  grad: { nondiff: [2, 3] },
};

/** Scaled dot-product attention and its weights. */
export const attentionSpecs: readonly OpSpec[] = [scaledDotProductAttention, attentionWeights];
