/**
 * Tessera's named activations as ONNX ops. Where Tessera composes an activation from
 * primitives (gelu, silu, mish, …) the graph composes it the same way, so the two agree to
 * float32 rounding. All are element-wise except softmax / log_softmax (last Tessera axis).
 * @module
 */
import type { ActivationIdentifier } from '@tessera/nn';
import { OnnxExportError } from '../errors.js';
import type { GraphBuilder } from '../graph-builder.js';
import { agnosticLayout, inLayout, mapAxis, type Value, valueIn } from '../layout.js';

/** Keras-3 / Tessera constants (core `selu`, `leakyRelu` defaults). */
const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;
const LEAKY_ALPHA = 0.2;

type Emit = (b: GraphBuilder, scope: string, x: string, axis: number) => string;

const mulSigmoid: Emit = (b, s, x) => b.op(s, 'Mul', [x, b.op(s, 'Sigmoid', [x])]);

/** The emitters by activation name (`axis` is the softmax axis in the value's layout). */
const EMIT: Record<string, Emit> = {
  relu: (b, s, x) => b.op(s, 'Relu', [x]),
  relu6: (b, s, x) => b.op(s, 'Clip', [x, b.constFloat(`${s}/zero`, [0], []), b.constFloat(`${s}/six`, [6], [])]),
  sigmoid: (b, s, x) => b.op(s, 'Sigmoid', [x]),
  tanh: (b, s, x) => b.op(s, 'Tanh', [x]),
  softmax: (b, s, x, axis) => b.op(s, 'Softmax', [x], { axis: { int: axis } }),
  log_softmax: (b, s, x, axis) => b.op(s, 'LogSoftmax', [x], { axis: { int: axis } }),
  // Exact GELU as core computes it: x · (erf(x / √2) + 1) · 0.5 (the Gelu op only exists from opset 20).
  gelu: (b, s, x) => {
    const e = b.op(s, 'Erf', [b.op(s, 'Mul', [x, b.constFloat(`${s}/sqrt1_2`, [Math.SQRT1_2], [])])]);
    const half = b.op(s, 'Mul', [b.op(s, 'Add', [e, b.constFloat(`${s}/one`, [1], [])]), b.constFloat(`${s}/half`, [0.5], [])]);
    return b.op(s, 'Mul', [x, half]);
  },
  // tanh approximation, in core's order: x · (tanh(√(2/π) · (x + 0.044715 x³)) + 1) · 0.5.
  gelu_tanh: (b, s, x) => {
    const x3 = b.op(s, 'Mul', [b.op(s, 'Mul', [x, x]), x]);
    const inner = b.op(s, 'Add', [x, b.op(s, 'Mul', [x3, b.constFloat(`${s}/c`, [0.044715], [])])]);
    const t = b.op(s, 'Tanh', [b.op(s, 'Mul', [inner, b.constFloat(`${s}/sqrt2_pi`, [Math.sqrt(2 / Math.PI)], [])])]);
    const half = b.op(s, 'Mul', [b.op(s, 'Add', [t, b.constFloat(`${s}/one`, [1], [])]), b.constFloat(`${s}/half`, [0.5], [])]);
    return b.op(s, 'Mul', [x, half]);
  },
  elu: (b, s, x) => b.op(s, 'Elu', [x], { alpha: { float: 1 } }),
  selu: (b, s, x) => b.op(s, 'Selu', [x], { alpha: { float: SELU_ALPHA }, gamma: { float: SELU_SCALE } }),
  leaky_relu: (b, s, x) => b.op(s, 'LeakyRelu', [x], { alpha: { float: LEAKY_ALPHA } }),
  silu: mulSigmoid,
  swish: mulSigmoid,
  softplus: (b, s, x) => b.op(s, 'Softplus', [x]),
  softsign: (b, s, x) => b.op(s, 'Softsign', [x]),
  // Keras 3: relu6(x + 3) / 6 = clip(x / 6 + 0.5, 0, 1).
  hard_sigmoid: (b, s, x) => b.op(s, 'HardSigmoid', [x], { alpha: { float: 1 / 6 }, beta: { float: 0.5 } }),
  hard_silu: (b, s, x) => b.op(s, 'HardSwish', [x]),
  hard_swish: (b, s, x) => b.op(s, 'HardSwish', [x]),
  mish: (b, s, x) => b.op(s, 'Mul', [x, b.op(s, 'Tanh', [b.op(s, 'Softplus', [x])])]),
  exponential: (b, s, x) => b.op(s, 'Exp', [x]),
};

/** Activation names the exporter can write. */
export function exportableActivations(): string[] {
  return ['linear', ...Object.keys(EMIT)];
}

/**
 * Applies `activation` to `v` (in the layout it already has, for element-wise activations)
 * and returns the result; `linear` returns `v` itself. A function or unknown name raises
 * OnnxExportError naming the layer.
 */
export function applyActivation(b: GraphBuilder, scope: string, activation: ActivationIdentifier | null | undefined, v: Value, layerName: string, className: string): Value {
  if (activation === null || activation === undefined || activation === 'linear') return v;
  if (typeof activation !== 'string') {
    throw new OnnxExportError(layerName, className, `its activation is a JavaScript function (${activation.name || 'anonymous'}), which has no ONNX form; use a named activation`);
  }
  const emit = EMIT[activation];
  if (emit === undefined) throw new OnnxExportError(layerName, className, `activation '${activation}' has no ONNX mapping (supported: ${exportableActivations().join(', ')})`);
  const layout = agnosticLayout([v]);
  const x = inLayout(b, v, layout, scope);
  const axis = mapAxis(-1, v.shape.length, layout);
  return valueIn(layout, emit(b, scope, x, axis), v.shape, 'float32');
}
