/**
 * Values in the graph being built and the layouts they are available in. Tessera's images
 * are NHWC; ONNX's Conv and pooling want NCHW. Each value remembers the name of its NHWC form
 * and/or its NCHW form, and a transpose is emitted only when a consumer asks for a form that
 * does not exist yet (then cached), so chains of convolutional layers stay in NCHW.
 * @module
 */
import type { DType } from '@tessera/core';
import type { Shape } from '@tessera/nn';
import type { GraphBuilder } from './graph-builder.js';

/** A tensor of the Tessera graph as it exists in the ONNX graph. */
export interface Value {
  /** Name of the value in Tessera's own layout (NHWC for images), if emitted. */
  nhwc?: string;
  /** Name of the channels-first form (rank 4 only), if emitted. */
  nchw?: string;
  /** The Tessera (NHWC) shape, batch axis included; null for unknown axes. */
  shape: Shape;
  dtype: DType;
}

/**
 * A padding mask (Keras masking: bool `[batch, positions]`, true = real position), emitted
 * into the graph only when a layer that reads masks (attention) asks for it.
 */
export interface Mask {
  /** The mask's value name (emits its nodes on first use). */
  name(): string;
}

/** A mask whose nodes `emit` writes on first use (then cached). */
export function lazyMask(emit: () => string): Mask {
  let name: string | null = null;
  return { name: () => (name ??= emit()) };
}

/** Which form a layer works on. */
export type Layout = 'nhwc' | 'nchw';

const TO_NCHW = [0, 3, 1, 2];
const TO_NHWC = [0, 2, 3, 1];

/** The value's Tessera-layout name, transposing from NCHW (once) if needed. */
export function nhwcOf(b: GraphBuilder, v: Value, scope: string): string {
  if (v.nhwc === undefined) v.nhwc = b.op(scope, 'Transpose', [v.nchw!], { perm: { ints: TO_NHWC } });
  return v.nhwc;
}

/** The value's channels-first name, transposing from NHWC (once) if needed. */
export function nchwOf(b: GraphBuilder, v: Value, scope: string): string {
  if (v.nchw === undefined) v.nchw = b.op(scope, 'Transpose', [v.nhwc!], { perm: { ints: TO_NCHW } });
  return v.nchw;
}

/** The value in `layout`. */
export function inLayout(b: GraphBuilder, v: Value, layout: Layout, scope: string): string {
  return layout === 'nhwc' ? nhwcOf(b, v, scope) : nchwOf(b, v, scope);
}

/**
 * The layout an element-wise or single-axis op should run in for these inputs: NCHW when
 * every input is rank 4 and already has an NCHW form while one of them lacks the NHWC form
 * (so no transpose is added), NHWC otherwise.
 */
export function agnosticLayout(vs: readonly Value[]): Layout {
  const allNchw = vs.every((v) => v.shape.length === 4 && v.nchw !== undefined);
  const someOnlyNchw = vs.some((v) => v.nhwc === undefined);
  return allNchw && someOnlyNchw ? 'nchw' : 'nhwc';
}

/** A Tessera (NHWC) axis, normalised, as an index in `layout`. */
export function mapAxis(axis: number, rank: number, layout: Layout): number {
  const a = axis < 0 ? axis + rank : axis;
  return layout === 'nhwc' ? a : TO_NCHW.indexOf(a);
}

/** A value that exists in one layout. */
export function valueIn(layout: Layout, name: string, shape: Shape, dtype: DType): Value {
  return layout === 'nhwc' ? { nhwc: name, shape, dtype } : { nchw: name, shape, dtype };
}
