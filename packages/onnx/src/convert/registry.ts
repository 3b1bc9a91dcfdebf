/**
 * Which converter writes which layer class. Lookup is by the layer's exact class name *and*
 * class, so a subclass (say, a LoRA-wrapped Dense with its own `call`) is never exported as
 * its parent — it is reported as unsupported instead.
 * @module
 */
import {
  Activation,
  Add,
  AveragePooling2D,
  BatchNormalization,
  Concatenate,
  Conv2D,
  Dense,
  DepthwiseConv2D,
  Dropout,
  Embedding,
  Flatten,
  GlobalAveragePooling2D,
  GlobalMaxPooling2D,
  type Layer,
  LayerNormalization,
  MaxPooling2D,
  MultiHeadAttention,
  PositionEmbedding,
  Reshape,
  SinusoidalPositionEncoding,
  TokenAndPositionEmbedding,
  TransformerDecoder,
  TransformerEncoder,
} from '@tessera/nn';
import { multiHeadAttention, transformerDecoder, transformerEncoder } from './attention.js';
import { positionEmbedding, sinusoidalPositionEncoding, tokenAndPositionEmbedding } from './position.js';
import type { Converter } from './context.js';
import { activation, add, concatenate, dense, dropout, embedding, flatten, reshape } from './core-layers.js';
import { averagePooling2d, conv2d, depthwiseConv2d, globalAveragePooling2d, globalMaxPooling2d, maxPooling2d } from './conv-layers.js';
import { batchNormalization, layerNormalization } from './norm-layers.js';

type AnyClass = abstract new (...args: never[]) => Layer;

const TABLE: [AnyClass, Converter<never>][] = [
  [Dense, dense],
  [Activation, activation],
  [Flatten, flatten],
  [Reshape, reshape],
  [Dropout, dropout],
  [Embedding, embedding],
  [Add, add],
  [Concatenate, concatenate],
  [Conv2D, conv2d],
  [DepthwiseConv2D, depthwiseConv2d],
  [MaxPooling2D, maxPooling2d],
  [AveragePooling2D, averagePooling2d],
  [GlobalAveragePooling2D, globalAveragePooling2d],
  [GlobalMaxPooling2D, globalMaxPooling2d],
  [BatchNormalization, batchNormalization],
  [LayerNormalization, layerNormalization],
  [MultiHeadAttention, multiHeadAttention],
  [TransformerEncoder, transformerEncoder],
  [TransformerDecoder, transformerDecoder],
  [PositionEmbedding, positionEmbedding],
  [SinusoidalPositionEncoding, sinusoidalPositionEncoding],
  [TokenAndPositionEmbedding, tokenAndPositionEmbedding],
];

/** The converter for this layer, or undefined when the exporter has none. */
export function converterFor(layer: Layer): Converter | undefined {
  for (const [cls, conv] of TABLE) {
    if (layer.constructor === cls) return conv as unknown as Converter;
  }
  return undefined;
}

/** Class names of the layers the exporter supports. */
export function supportedLayers(): string[] {
  return TABLE.map(([cls]) => (cls as unknown as { className: string }).className);
}
