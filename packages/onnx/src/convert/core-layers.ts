/**
 * Converters for nn's core layers: Dense, Activation, Flatten, Reshape, Dropout, Embedding,
 * Add and Concatenate.
 * @module
 */
import { type Activation, type Add, type Concatenate, type Dense, type Dropout, type Embedding, type Flatten, loraAdapterOf, type Reshape } from '@tessera/nn';
import { OnnxExportError } from '../errors.js';
import type { GraphBuilder } from '../graph-builder.js';
import { agnosticLayout, inLayout, lazyMask, mapAxis, type Mask, nhwcOf, type Value, valueIn } from '../layout.js';
import { DataType } from '../proto/schema.js';
import { applyActivation } from './activations.js';
import { type Converter, one } from './context.js';

/**
 * `activation(x @ kernel + bias)` on the last axis, at any rank (MatMul broadcasts like core
 * `linear`). With a LoRA adapter attached, `scale · (x·A)·B` is added before the activation,
 * as Tessera computes it (adapters stay separate in the graph; `merge()` first for one MatMul).
 * Also used for the Dense sublayers of attention and transformer blocks.
 */
export function emitDense(b: GraphBuilder, scope: string, layer: Dense, v: Value, shape = v.shape.slice(0, -1).concat(layer.units)): Value {
  const x = nhwcOf(b, v, scope);
  let y = b.op(scope, 'MatMul', [x, b.weight(`${scope}/kernel`, layer.kernel!.value)]);
  if (layer.bias) y = b.op(scope, 'Add', [y, b.weight(`${scope}/bias`, layer.bias.value)]);
  if (layer.kernelDelta !== null) {
    const adapter = loraAdapterOf(layer);
    if (adapter === null || !adapter.active) throw new OnnxExportError(layer.name, layer.className, 'a kernelDelta hook that is not a LoRA adapter is attached; it has no ONNX form');
    let delta = b.op(scope, 'MatMul', [b.op(scope, 'MatMul', [x, b.weight(`${scope}/lora_a`, adapter.a.value)]), b.weight(`${scope}/lora_b`, adapter.b.value)]);
    if (adapter.scale !== 1) delta = b.op(scope, 'Mul', [delta, b.constFloat(`${scope}/lora_scale`, [adapter.scale], [])]);
    y = b.op(scope, 'Add', [y, delta]);
  }
  return applyActivation(b, scope, layer.activation, { nhwc: y, shape, dtype: 'float32' }, layer.name, layer.className);
}

export const dense: Converter<Dense> = (c) => [emitDense(c.b, c.scope, c.layer, one(c), c.outputShapes[0]!)];

/** Tessera's `maskZero` mask, `ids != 0`, on the raw input (before any cast). */
export function zeroMask(b: GraphBuilder, scope: string, v: Value): Mask {
  return lazyMask(() => {
    const ids = nhwcOf(b, v, scope);
    const zero = v.dtype === 'int32' ? b.constInt32(`${scope}/zero`, [0], []) : b.constFloat(`${scope}/zero`, [0], []);
    return b.op(scope, 'Not', [b.op(scope, 'Equal', [ids, zero])]);
  });
}

/** Gathers rows of `table`; float indices are cast to int32 first, as Tessera's Embedding does. */
export function emitGather(b: GraphBuilder, scope: string, layer: Embedding, v: Value, shape: Value['shape']): Value {
  if (v.dtype === 'bool') throw new OnnxExportError(layer.name, layer.className, 'its input is bool; Embedding needs int32 (or float32) indices');
  let idx = nhwcOf(b, v, scope);
  if (v.dtype !== 'int32') idx = b.op(scope, 'Cast', [idx], { to: { int: DataType.INT32 } });
  const table = b.weight(`${scope}/embeddings`, layer.embeddings!.value);
  return { nhwc: b.op(scope, 'Gather', [table, idx], { axis: { int: 0 } }), shape, dtype: 'float32' };
}

export const activation: Converter<Activation> = (c) => [applyActivation(c.b, c.scope, c.layer.activation, one(c), c.layer.name, c.layer.className)];

/** Row-major over every axis but the batch one, so it reads the NHWC form. */
export const flatten: Converter<Flatten> = (c) => {
  const x = nhwcOf(c.b, one(c), c.scope);
  return [{ nhwc: c.b.op(c.scope, 'Flatten', [x], { axis: { int: 1 } }), shape: c.outputShapes[0]!, dtype: c.outputDTypes[0]! }];
};

/** `[0, …targetShape]`: 0 copies the batch axis from the input, so the batch stays dynamic. */
export const reshape: Converter<Reshape> = (c) => {
  const { b, layer, scope } = c;
  if (layer.targetShape.includes(0)) throw new OnnxExportError(layer.name, layer.className, 'a 0 in targetShape would mean "copy the input axis" to ONNX Reshape');
  const x = nhwcOf(b, one(c), scope);
  const shape = b.constInt64(`${scope}/shape`, [0, ...layer.targetShape]);
  return [{ nhwc: b.op(scope, 'Reshape', [x, shape]), shape: c.outputShapes[0]!, dtype: c.outputDTypes[0]! }];
};

/** Identity at inference: the input value itself (in whatever layouts it has). */
export const dropout: Converter<Dropout> = (c) => {
  if (c.training === true && c.layer.rate > 0) {
    throw new OnnxExportError(c.layer.name, c.layer.className, 'it is called with training: true (always-on dropout), which an inference graph cannot reproduce');
  }
  return [one(c)];
};

/** Gather rows of the table; with maskZero the output carries the `ids != 0` padding mask. */
export const embedding: Converter<Embedding> = (c) => {
  const v = one(c);
  const out = emitGather(c.b, c.scope, c.layer, v, c.outputShapes[0]!);
  c.outMask = c.layer.maskZero ? zeroMask(c.b, c.scope, v) : null;
  return [out];
};

/** Element-wise sum, left to right like Tessera, in a layout every input has if possible. */
export const add: Converter<Add> = (c) => {
  const ranks = new Set(c.inputs.map((v) => v.shape.length));
  const layout = ranks.size === 1 ? agnosticLayout(c.inputs) : 'nhwc';
  const xs = c.inputs.map((v) => inLayout(c.b, v, layout, c.scope));
  let acc = c.b.op(c.scope, 'Add', [xs[0]!, xs[1]!]);
  for (let i = 2; i < xs.length; i++) acc = c.b.op(c.scope, 'Add', [acc, xs[i]!]);
  return [valueIn(layout, acc, c.outputShapes[0]!, c.outputDTypes[0]!)];
};

/** Concat along the layer's axis, remapped when the inputs are channels-first images. */
export const concatenate: Converter<Concatenate> = (c) => {
  const rank = c.inputs[0]!.shape.length;
  const layout = c.inputs.every((v) => v.shape.length === rank) ? agnosticLayout(c.inputs) : 'nhwc';
  const xs = c.inputs.map((v) => inLayout(c.b, v, layout, c.scope));
  const y = c.b.op(c.scope, 'Concat', xs, { axis: { int: mapAxis(c.layer.axis, rank, layout) } });
  return [valueIn(layout, y, c.outputShapes[0]!, c.outputDTypes[0]!)];
};
