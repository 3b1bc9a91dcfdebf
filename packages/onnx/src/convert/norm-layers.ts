/**
 * Converters for BatchNormalization (inference) and LayerNormalization.
 * @module
 */
import type { BatchNormalization, LayerNormalization } from '@tessera/nn';
import { OnnxExportError } from '../errors.js';
import type { GraphBuilder } from '../graph-builder.js';
import { agnosticLayout, inLayout, mapAxis, nhwcOf, type Value, valueIn } from '../layout.js';
import { type Converter, one } from './context.js';

/**
 * Inference batch norm with the moving statistics, in Tessera's own order —
 * `(x − mean) · (1/√(var + ε)) · γ + β` — rather than ONNX BatchNormalization, which wants
 * the channel on axis 1: written this way it works on any axis and either layout, with the
 * parameters shaped `[C, 1, …, 1]` to broadcast along the normalised axis.
 */
export const batchNormalization: Converter<BatchNormalization> = (c) => {
  const { b, layer, scope } = c;
  if (c.training === true && layer.trainable) {
    throw new OnnxExportError(layer.name, layer.className, 'it is called with training: true (batch statistics), which an inference graph cannot reproduce');
  }
  const v = one(c);
  const rank = v.shape.length;
  const layout = agnosticLayout([v]);
  const axis = mapAxis(layer.axis, rank, layout);
  const dim = layer.movingMean!.shape[0]!;
  const dims = [dim, ...new Array<number>(rank - 1 - axis).fill(1)];
  const key = `bn${dims.length}`;
  const param = (name: string, t: NonNullable<BatchNormalization['gamma']>): string => b.weight(`${scope}/${name}`, t.value, key, dims);
  const x = inLayout(b, v, layout, scope);
  const centered = b.op(scope, 'Sub', [x, param('moving_mean', layer.movingMean!)]);
  const std = b.op(scope, 'Sqrt', [b.op(scope, 'Add', [param('moving_variance', layer.movingVariance!), b.constFloat(`${scope}/epsilon`, [layer.epsilon], [])])]);
  let y = b.op(scope, 'Mul', [centered, b.op(scope, 'Reciprocal', [std])]);
  if (layer.gamma) y = b.op(scope, 'Mul', [y, param('gamma', layer.gamma)]);
  if (layer.beta) y = b.op(scope, 'Add', [y, param('beta', layer.beta)]);
  return [valueIn(layout, y, c.outputShapes[0]!, 'float32')];
};

/** ONNX LayerNormalization (opset 17) over the last axis; missing γ / β become ones / nothing. */
export function emitLayerNorm(b: GraphBuilder, scope: string, layer: LayerNormalization, v: Value): Value {
  const x = nhwcOf(b, v, scope);
  const dim = v.shape[v.shape.length - 1]!;
  const scale = layer.gamma ? b.weight(`${scope}/gamma`, layer.gamma.value) : b.constFloat(`${scope}/gamma`, new Array<number>(dim).fill(1));
  const ins = layer.beta ? [x, scale, b.weight(`${scope}/beta`, layer.beta.value)] : [x, scale];
  const y = b.op(scope, 'LayerNormalization', ins, { axis: { int: -1 }, epsilon: { float: layer.epsilon } });
  return { nhwc: y, shape: v.shape, dtype: 'float32' };
}

export const layerNormalization: Converter<LayerNormalization> = (c) => [emitLayerNorm(c.b, c.scope, c.layer, one(c))];
