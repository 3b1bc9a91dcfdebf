/**
 * Converters for MultiHeadAttention and the transformer blocks, written with opset-17 ops
 * (MatMul, Softmax, Where, …) in the same order as Tessera's `scaledDotProductAttention`
 * reference: scores `q·kᵀ · scale`, masked scores set to -1e30, softmax, masked weights set to
 * exactly 0. Causal masks are built from the runtime sequence lengths (`Range`), so exported
 * models accept any length. Padding masks come from Embedding / TokenAndPositionEmbedding with
 * `maskZero`, as Tessera's graph runner passes them.
 * @module
 */
import type { Dense, LayerNormalization, MultiHeadAttention, TransformerDecoder, TransformerEncoder } from '@tessera/nn';
import { OnnxExportError } from '../errors.js';
import type { GraphBuilder } from '../graph-builder.js';
import { type Mask, nhwcOf, type Value } from '../layout.js';
import { emitDense } from './core-layers.js';
import type { Converter, LayerCall } from './context.js';
import { emitLayerNorm } from './norm-layers.js';

/** Tessera's fill value for masked scores (core attention.ts). */
const NEG = -1e30;

/** Rejects call options an inference graph cannot carry, naming the layer. */
function checkCallOptions(c: LayerCall, rate: number): void {
  const { layer, callOptions: o } = c;
  if (o.attentionMask !== undefined && o.attentionMask !== null) {
    throw new OnnxExportError(layer.name, layer.className, 'it was called with an attentionMask tensor; pass padding masks through Embedding({ maskZero }) or use useCausalMask instead');
  }
  if ((o as { memoryMask?: unknown }).memoryMask !== undefined) throw new OnnxExportError(layer.name, layer.className, 'it was called with a memoryMask tensor, which cannot be baked into the graph');
  if (o.cache !== undefined && o.cache !== null) throw new OnnxExportError(layer.name, layer.className, 'it was called with a KV cache; export the model without one');
  if (c.training === true && rate > 0) throw new OnnxExportError(layer.name, layer.className, 'it is called with training: true (dropout on), which an inference graph cannot reproduce');
}

/** The length of axis `axis` of `x` as an int64 scalar. */
function dimScalar(b: GraphBuilder, scope: string, x: string, axis: number): string {
  return b.op(scope, 'Squeeze', [b.shapeSlice(scope, x, axis, axis + 1), b.constInt64(`${scope}/axis0`, [0])]);
}

/** `[Tq, Tk]` bool: query i sees keys j ≤ i + (Tk − Tq) (core `causalMask`), from the runtime lengths. */
function causalMask(b: GraphBuilder, scope: string, query: string, key: string): string {
  const tq = dimScalar(b, scope, query, 1);
  const tk = dimScalar(b, scope, key, 1);
  const zero = b.constInt64(`${scope}/zero`, [0], []);
  const one = b.constInt64(`${scope}/one`, [1], []);
  const rows = b.op(scope, 'Range', [zero, tq, one]);
  const cols = b.op(scope, 'Range', [zero, tk, one]);
  const last = b.op(scope, 'Add', [b.op(scope, 'Unsqueeze', [rows, b.constInt64(`${scope}/axis1`, [1])]), b.op(scope, 'Sub', [tk, tq])]);
  return b.op(scope, 'LessOrEqual', [b.op(scope, 'Unsqueeze', [cols, b.constInt64(`${scope}/axis0`, [0])]), last]);
}

/** `[b, t, h·d]` → `[b, h, t, d]` (or `[b, h, d, t]` for keys, ready for q·kᵀ). */
function heads(b: GraphBuilder, scope: string, x: string, numHeads: number, d: number, perm: number[]): string {
  const r = b.op(scope, 'Reshape', [x, b.constInt64(`${scope}/heads_shape`, [0, 0, numHeads, d])]);
  return b.op(scope, 'Transpose', [r], { perm: { ints: perm } });
}

interface AttentionArgs {
  query: Value;
  value: Value;
  key: Value;
  queryMask: Mask | null;
  keyMask: Mask | null;
  causal: boolean;
}

/** One MultiHeadAttention call; returns the output and the attention weights `[b, h, Tq, Tk]`. */
export function emitAttention(b: GraphBuilder, scope: string, mha: MultiHeadAttention, a: AttentionArgs, outShape: Value['shape']): { out: Value; scores: string } {
  const { numHeads, keyDim, valueDim } = mha;
  const sub = (d: Dense | null): Dense => {
    if (d === null) throw new OnnxExportError(mha.name, mha.className, 'the layer is not built');
    return d;
  };
  const proj = (d: Dense | null, v: Value): string => {
    const dense = sub(d);
    return nhwcOf(b, emitDense(b, `${scope}/${dense.name}`, dense, v), scope);
  };
  const q = heads(b, scope, proj(mha.queryDense, a.query), numHeads, keyDim, [0, 2, 1, 3]);
  const kT = heads(b, scope, proj(mha.keyDense, a.key), numHeads, keyDim, [0, 2, 3, 1]);
  const v = heads(b, scope, proj(mha.valueDense, a.value), numHeads, valueDim, [0, 2, 1, 3]);
  const raw = b.op(scope, 'MatMul', [q, kT]);
  let s = b.op(scope, 'Mul', [raw, b.constFloat(`${scope}/scale`, [1 / Math.sqrt(keyDim)], [])]);
  const parts: string[] = [];
  if (a.queryMask !== null) parts.push(b.op(scope, 'Reshape', [a.queryMask.name(), b.constInt64(`${scope}/query_mask_shape`, [0, 1, -1, 1])]));
  if (a.keyMask !== null) parts.push(b.op(scope, 'Reshape', [a.keyMask.name(), b.constInt64(`${scope}/key_mask_shape`, [0, 1, 1, -1])]));
  if (a.causal) parts.push(causalMask(b, scope, nhwcOf(b, a.query, scope), nhwcOf(b, a.key, scope)));
  let allowed: string | null = parts[0] ?? null;
  for (const p of parts.slice(1)) allowed = b.op(scope, 'And', [allowed!, p]);
  if (allowed !== null) s = b.op(scope, 'Where', [allowed, s, b.constFloat(`${scope}/neg`, [NEG], [])]);
  let w = b.op(scope, 'Softmax', [s], { axis: { int: -1 } });
  // Rows with no visible key become all-zero weights instead of uniform ones (a no-op elsewhere).
  if (allowed !== null) w = b.op(scope, 'Where', [allowed, w, b.constFloat(`${scope}/zero_f`, [0], [])]);
  const o = b.op(scope, 'Transpose', [b.op(scope, 'MatMul', [w, v])], { perm: { ints: [0, 2, 1, 3] } });
  const merged = b.op(scope, 'Reshape', [o, b.constInt64(`${scope}/merge_shape`, [0, 0, numHeads * valueDim])]);
  const outDense = sub(mha.outputDense);
  const out = emitDense(b, `${scope}/${outDense.name}`, outDense, { nhwc: merged, shape: [...a.query.shape.slice(0, 2), numHeads * valueDim], dtype: 'float32' }, outShape);
  return { out, scores: w };
}

/** `apply(query)`, `apply([query, value])` or `apply([query, value, key])`, masks as Tessera's `parts()` picks them. */
export const multiHeadAttention: Converter<MultiHeadAttention> = (c) => {
  const { b, layer, scope } = c;
  checkCallOptions(c, layer.dropout);
  const [query, value = query, key = value] = c.inputs as [Value, Value?, Value?];
  const masks = c.masks ?? [null];
  const queryMask = masks[0] ?? null;
  const valueMask = c.inputs.length === 1 ? queryMask : (masks[1] ?? null);
  const keyMask = c.inputs.length === 3 ? (masks[2] ?? valueMask) : valueMask;
  const { out, scores } = emitAttention(b, scope, layer, { query, value: value!, key: key!, queryMask, keyMask, causal: c.callOptions.useCausalMask === true }, c.outputShapes[0]!);
  if (c.outputShapes.length === 2) return [out, { nhwc: scores, shape: c.outputShapes[1]!, dtype: 'float32' }];
  return [out];
};

/** `norm(x + f(x))` (post-norm) or `x + f(norm(x))` (pre-norm); dropout is off at inference. */
function residual(b: GraphBuilder, scope: string, normFirst: boolean, x: Value, norm: LayerNormalization, f: (h: Value) => Value): Value {
  const h = normFirst ? emitLayerNorm(b, `${scope}/${norm.name}`, norm, x) : x;
  const y = f(h);
  const sum: Value = { nhwc: b.op(scope, 'Add', [nhwcOf(b, x, scope), nhwcOf(b, y, scope)]), shape: x.shape, dtype: 'float32' };
  return normFirst ? sum : emitLayerNorm(b, `${scope}/${norm.name}`, norm, sum);
}

function mlp(b: GraphBuilder, scope: string, block: TransformerEncoder | TransformerDecoder, h: Value): Value {
  const inter = block.ffnIntermediate!;
  const out = block.ffnOutput!;
  return emitDense(b, `${scope}/${out.name}`, out, emitDense(b, `${scope}/${inter.name}`, inter, h));
}

/** Self-attention (causal with `useCausalMask: true`) and the MLP, each in a residual branch. */
export const transformerEncoder: Converter<TransformerEncoder> = (c) => {
  const { b, layer, scope } = c;
  checkCallOptions(c, layer.dropout);
  const x = c.inputs[0]!;
  const mask = c.masks?.[0] ?? null;
  const mha = layer.selfAttention!;
  const attended = residual(b, scope, layer.normFirst, x, layer.selfAttentionNorm!, (h) =>
    emitAttention(b, `${scope}/${mha.name}`, mha, { query: h, value: h, key: h, queryMask: mask, keyMask: mask, causal: c.callOptions.useCausalMask === true }, h.shape).out,
  );
  return [residual(b, scope, layer.normFirst, attended, layer.ffnNorm!, (h) => mlp(b, scope, layer, h))];
};

/** Causal self-attention (unless `useCausalMask: false`), cross-attention to `memory` when given, and the MLP. */
export const transformerDecoder: Converter<TransformerDecoder> = (c) => {
  const { b, layer, scope } = c;
  checkCallOptions(c, layer.dropout);
  const [x, memory] = c.inputs as [Value, Value?];
  const xMask = c.masks?.[0] ?? null;
  const memMask = c.masks?.[1] ?? null;
  const causal = (c.callOptions.useCausalMask as boolean | undefined) ?? true;
  const self = layer.selfAttention!;
  let h = residual(b, scope, layer.normFirst, x, layer.selfAttentionNorm!, (q) =>
    emitAttention(b, `${scope}/${self.name}`, self, { query: q, value: q, key: q, queryMask: xMask, keyMask: xMask, causal }, q.shape).out,
  );
  if (memory !== undefined) {
    const cross = layer.crossAttention!;
    h = residual(b, scope, layer.normFirst, h, layer.crossAttentionNorm!, (q) =>
      emitAttention(b, `${scope}/${cross.name}`, cross, { query: q, value: memory, key: memory, queryMask: xMask, keyMask: memMask, causal: false }, q.shape).out,
    );
  }
  return [residual(b, scope, layer.normFirst, h, layer.ffnNorm!, (q) => mlp(b, scope, layer, q))];
};
