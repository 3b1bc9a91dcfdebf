/**
 * What a layer converter receives and returns.
 * @module
 */
import type { Layer, Shape } from '@tessera/nn';
import type { DType } from '@tessera/core';
import type { GraphBuilder } from '../graph-builder.js';
import type { Mask, Value } from '../layout.js';

/** One call of one layer, to be written into the graph. */
export interface LayerCall<L extends Layer = Layer> {
  b: GraphBuilder;
  layer: L;
  /** Prefix of node and value names: the layer's name (nested models prepend theirs). */
  scope: string;
  inputs: Value[];
  /** Tessera's shapes and dtypes of the call's outputs (from the symbolic graph). */
  outputShapes: Shape[];
  outputDTypes: DType[];
  /** `training` given at call time in the graph (`layer.apply(x, { training: true })`), if any. */
  training: boolean | undefined;
  /** The options the call was recorded with (`useCausalMask`, `startIndex`, …). */
  callOptions: Readonly<Record<string, unknown>>;
  /**
   * The padding masks of the inputs (one per input) when some input has one and the layer
   * supports masking, as Tessera's graph runner hands them to `call`; otherwise null.
   */
  masks: (Mask | null)[] | null;
  /** A converter whose layer makes its own mask (Embedding with maskZero) sets it here. */
  outMask?: Mask | null;
  opset: number;
}

/** Writes one layer call and returns its outputs. */
export type Converter<L extends Layer = Layer> = (call: LayerCall<L>) => Value[];

/** The single input of a one-input layer. */
export function one(call: LayerCall): Value {
  return call.inputs[0]!;
}
