/**
 * Factory functions for every built-in layer (`layers.dense({ units: 10 })` is
 * `new Dense({ units: 10 })`), grouped as the `layers` namespace.
 * @module
 */
import type { LayerArgs } from '../engine/layer.js';
import {
  AveragePooling2D,
  Conv2D,
  type Conv2DArgs,
  DepthwiseConv2D,
  type DepthwiseConv2DArgs,
  GlobalAveragePooling2D,
  GlobalMaxPooling2D,
  type GlobalPooling2DArgs,
  MaxPooling2D,
  type Pooling2DArgs,
} from './convolutional.js';
import {
  Activation,
  type ActivationArgs,
  Add,
  Concatenate,
  Dense,
  type DenseArgs,
  Dropout,
  type DropoutArgs,
  Embedding,
  type EmbeddingArgs,
  Flatten,
  InputLayer,
  Reshape,
  type ReshapeArgs,
} from './core.js';
import { BatchNormalization, type BatchNormalizationArgs, LayerNormalization, type LayerNormalizationArgs } from './normalization.js';
import { MultiHeadAttention, type MultiHeadAttentionArgs } from './attention.js';
import {
  PositionEmbedding,
  type PositionEmbeddingArgs,
  RotaryEmbedding,
  type RotaryEmbeddingArgs,
  SinusoidalPositionEncoding,
  type SinusoidalPositionEncodingArgs,
  TokenAndPositionEmbedding,
  type TokenAndPositionEmbeddingArgs,
} from './position.js';
import { type TransformerArgs, TransformerDecoder, TransformerEncoder } from './transformer.js';

/**
 * A Dense layer, from its options or Keras-style positionally.
 * @example layers.dense({ units: 10, activation: 'softmax' }); dense(128, 'relu')
 */
export function dense(units: number | DenseArgs, activation?: DenseArgs['activation'], args: Omit<DenseArgs, 'units' | 'activation'> = {}): Dense {
  if (typeof units !== 'number') return new Dense(units);
  return new Dense(activation === undefined ? { ...args, units } : { ...args, units, activation });
}
/** @example layers.flatten({ inputShape: [28, 28] }) */
export const flatten = (args: LayerArgs = {}): Flatten => new Flatten(args);
/** @example layers.reshape({ targetShape: [28, 28, 1], inputShape: [784] }) */
export const reshape = (args: ReshapeArgs): Reshape => new Reshape(args);
/** @example layers.dropout({ rate: 0.5 }); dropout(0.5) */
export const dropout = (rate: number | DropoutArgs): Dropout => new Dropout(typeof rate === 'number' ? { rate } : rate);
/** @example layers.activation({ activation: 'relu' }) */
export const activation = (args: ActivationArgs): Activation => new Activation(args);
/** @example layers.embedding({ inputDim: 1000, outputDim: 16 }) */
export const embedding = (args: EmbeddingArgs): Embedding => new Embedding(args);
/** @example layers.batchNormalization() */
export const batchNormalization = (args: BatchNormalizationArgs = {}): BatchNormalization => new BatchNormalization(args);
/** @example layers.layerNormalization({ epsilon: 1e-5 }) */
export const layerNormalization = (args: LayerNormalizationArgs = {}): LayerNormalization => new LayerNormalization(args);
/** @example layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu' }) */
export const conv2d = (args: Conv2DArgs): Conv2D => new Conv2D(args);
/** @example layers.depthwiseConv2d({ kernelSize: 3, padding: 'same' }) */
export const depthwiseConv2d = (args: DepthwiseConv2DArgs): DepthwiseConv2D => new DepthwiseConv2D(args);
/** @example layers.maxPooling2d({ poolSize: 2 }) */
export const maxPooling2d = (args: Pooling2DArgs = {}): MaxPooling2D => new MaxPooling2D(args);
/** @example layers.averagePooling2d({ poolSize: 2 }) */
export const averagePooling2d = (args: Pooling2DArgs = {}): AveragePooling2D => new AveragePooling2D(args);
/** @example layers.globalAveragePooling2d() */
export const globalAveragePooling2d = (args: GlobalPooling2DArgs = {}): GlobalAveragePooling2D => new GlobalAveragePooling2D(args);
/** @example layers.globalMaxPooling2d() */
export const globalMaxPooling2d = (args: GlobalPooling2DArgs = {}): GlobalMaxPooling2D => new GlobalMaxPooling2D(args);
/** @example layers.add().apply([a, b]) */
export const add = (args: LayerArgs = {}): Add => new Add(args);
/** @example layers.concatenate({ axis: -1 }).apply([a, b]) */
export const concatenate = (args: LayerArgs & { axis?: number } = {}): Concatenate => new Concatenate(args);
/** @example layers.inputLayer({ batchInputShape: [null, 784] }) */
export const inputLayer = (args: LayerArgs & { batchInputShape: readonly (number | null)[] }): InputLayer => new InputLayer(args);
/** @example layers.multiHeadAttention({ numHeads: 4, keyDim: 16 }).apply(x, { useCausalMask: true }) */
export const multiHeadAttention = (args: MultiHeadAttentionArgs): MultiHeadAttention => new MultiHeadAttention(args);
/** @example layers.transformerEncoder({ numHeads: 4, intermediateDim: 128, normFirst: true }).apply(x, { useCausalMask: true }) */
export const transformerEncoder = (args: TransformerArgs): TransformerEncoder => new TransformerEncoder(args);
/** @example layers.transformerDecoder({ numHeads: 4, intermediateDim: 128 }).apply([x, memory]) */
export const transformerDecoder = (args: TransformerArgs): TransformerDecoder => new TransformerDecoder(args);
/** @example layers.positionEmbedding({ maxLength: 128 }).apply(tokenVectors) // [batch, T, dim] position vectors */
export const positionEmbedding = (args: PositionEmbeddingArgs): PositionEmbedding => new PositionEmbedding(args);
/** @example layers.sinusoidalPositionEncoding().apply(tokenVectors, { startIndex: 0 }) */
export const sinusoidalPositionEncoding = (args: SinusoidalPositionEncodingArgs = {}): SinusoidalPositionEncoding => new SinusoidalPositionEncoding(args);
/** @example layers.tokenAndPositionEmbedding({ vocabSize: 30, maxLength: 64, embeddingDim: 32, maskZero: true }) */
export const tokenAndPositionEmbedding = (args: TokenAndPositionEmbeddingArgs): TokenAndPositionEmbedding => new TokenAndPositionEmbedding(args);
/** @example layers.rotaryEmbedding().apply(x, { startIndex: 0 }) // x [batch, T, d], d even */
export const rotaryEmbedding = (args: RotaryEmbeddingArgs = {}): RotaryEmbedding => new RotaryEmbedding(args);
