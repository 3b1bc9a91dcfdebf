/**
 * Converters for the NHWC image layers: Conv2D, DepthwiseConv2D, MaxPooling2D,
 * AveragePooling2D and the global poolings. They read the channels-first form of their input
 * and produce a channels-first value (see layout.ts); kernels are converted to OIHW here.
 * @module
 */
import type { AveragePooling2D, Conv2D, DepthwiseConv2D, GlobalAveragePooling2D, GlobalMaxPooling2D, MaxPooling2D, PaddingMode } from '@tessera/nn';
import type { Attr } from '../graph-builder.js';
import { nchwOf } from '../layout.js';
import { applyActivation } from './activations.js';
import { type Converter, type LayerCall, one } from './context.js';

/** Conv2D kernel [kh, kw, in, out] → ONNX [out, in, kh, kw]. */
export function hwioToOihw(k: Float32Array, kh: number, kw: number, cin: number, cout: number): Float32Array {
  const out = new Float32Array(k.length);
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      for (let ci = 0; ci < cin; ci++) {
        const src = ((i * kw + j) * cin + ci) * cout;
        for (let o = 0; o < cout; o++) out[((o * cin + ci) * kh + i) * kw + j] = k[src + o]!;
      }
    }
  }
  return out;
}

/**
 * DepthwiseConv2D kernel [kh, kw, C, M] → grouped-Conv weight [C·M, 1, kh, kw]: Tessera's
 * output channel c·M + m is group c's m-th filter, which is exactly ONNX's channel order.
 */
export function depthwiseToOihw(k: Float32Array, kh: number, kw: number, c: number, m: number): Float32Array {
  const out = new Float32Array(k.length);
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      for (let ci = 0; ci < c; ci++) {
        for (let mi = 0; mi < m; mi++) out[((ci * m + mi) * kh + i) * kw + j] = k[((i * kw + j) * c + ci) * m + mi]!;
      }
    }
  }
  return out;
}

/**
 * Padding attributes of a window op. `same` follows TensorFlow (the extra row/column at the
 * bottom/right); with known spatial sizes the pads are written out (ONNX order: top, left,
 * bottom, right), otherwise `auto_pad = SAME_UPPER`, which is the same rule.
 */
function padAttrs(c: LayerCall, padding: PaddingMode, window: readonly [number, number], strides: readonly [number, number], dilations: readonly [number, number]): Record<string, Attr> {
  if (padding === 'valid') return { pads: { ints: [0, 0, 0, 0] } };
  const [, h, w] = one(c).shape;
  if (h === null || w === null || h === undefined || w === undefined) return { auto_pad: { str: 'SAME_UPPER' } };
  const total = (size: number, k: number, s: number, d: number): number => Math.max((Math.ceil(size / s) - 1) * s + (k - 1) * d + 1 - size, 0);
  const th = total(h, window[0], strides[0], dilations[0]);
  const tw = total(w, window[1], strides[1], dilations[1]);
  return { pads: { ints: [Math.floor(th / 2), Math.floor(tw / 2), th - Math.floor(th / 2), tw - Math.floor(tw / 2)] } };
}

export const conv2d: Converter<Conv2D> = (c) => {
  const { b, layer, scope } = c;
  const x = nchwOf(b, one(c), scope);
  const [kh, kw, cin, cout] = layer.kernel!.shape as [number, number, number, number];
  const w = b.weight(`${scope}/kernel`, layer.kernel!.value, 'oihw', [cout, cin, kh, kw], (k) => hwioToOihw(k, kh, kw, cin, cout));
  const ins = layer.bias ? [x, w, b.weight(`${scope}/bias`, layer.bias.value)] : [x, w];
  const y = b.op(scope, 'Conv', ins, {
    kernel_shape: { ints: [kh, kw] },
    strides: { ints: layer.strides },
    dilations: { ints: layer.dilationRate },
    group: { int: 1 },
    ...padAttrs(c, layer.padding, [kh, kw], layer.strides, layer.dilationRate),
  });
  return [applyActivation(b, scope, layer.activation, { nchw: y, shape: c.outputShapes[0]!, dtype: 'float32' }, layer.name, layer.className)];
};

export const depthwiseConv2d: Converter<DepthwiseConv2D> = (c) => {
  const { b, layer, scope } = c;
  const x = nchwOf(b, one(c), scope);
  const [kh, kw, ch, m] = layer.depthwiseKernel!.shape as [number, number, number, number];
  const w = b.weight(`${scope}/depthwise_kernel`, layer.depthwiseKernel!.value, 'oihw', [ch * m, 1, kh, kw], (k) => depthwiseToOihw(k, kh, kw, ch, m));
  const ins = layer.bias ? [x, w, b.weight(`${scope}/bias`, layer.bias.value)] : [x, w];
  const y = b.op(scope, 'Conv', ins, {
    kernel_shape: { ints: [kh, kw] },
    strides: { ints: layer.strides },
    dilations: { ints: layer.dilationRate },
    group: { int: ch },
    ...padAttrs(c, layer.padding, [kh, kw], layer.strides, layer.dilationRate),
  });
  return [applyActivation(b, scope, layer.activation, { nchw: y, shape: c.outputShapes[0]!, dtype: 'float32' }, layer.name, layer.className)];
};

/** Max / average pooling; average pooling ignores padded cells (count_include_pad 0), as Tessera does. */
function pool(opType: 'MaxPool' | 'AveragePool'): Converter<MaxPooling2D | AveragePooling2D> {
  return (c) => {
    const { b, layer, scope } = c;
    const x = nchwOf(b, one(c), scope);
    const attrs: Record<string, Attr> = {
      kernel_shape: { ints: layer.poolSize },
      strides: { ints: layer.strides },
      ...padAttrs(c, layer.padding, layer.poolSize, layer.strides, [1, 1]),
    };
    if (opType === 'AveragePool') attrs.count_include_pad = { int: 0 };
    return [{ nchw: b.op(scope, opType, [x], attrs), shape: c.outputShapes[0]!, dtype: 'float32' }];
  };
}

export const maxPooling2d = pool('MaxPool') as Converter<MaxPooling2D>;
export const averagePooling2d = pool('AveragePool') as Converter<AveragePooling2D>;

/** Global pooling gives [N, C, 1, 1]: that is the channels-first form of keepdims' [N, 1, 1, C], or flattens to [N, C]. */
function globalPool(opType: 'GlobalMaxPool' | 'GlobalAveragePool'): Converter<GlobalMaxPooling2D | GlobalAveragePooling2D> {
  return (c) => {
    const { b, layer, scope } = c;
    const y = b.op(scope, opType, [nchwOf(b, one(c), scope)]);
    if (layer.keepdims) return [{ nchw: y, shape: c.outputShapes[0]!, dtype: 'float32' }];
    return [{ nhwc: b.op(scope, 'Flatten', [y], { axis: { int: 1 } }), shape: c.outputShapes[0]!, dtype: 'float32' }];
  };
}

export const globalMaxPooling2d = globalPool('GlobalMaxPool') as Converter<GlobalMaxPooling2D>;
export const globalAveragePooling2d = globalPool('GlobalAveragePool') as Converter<GlobalAveragePooling2D>;
