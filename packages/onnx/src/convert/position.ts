/**
 * Converters for the position layers: PositionEmbedding (learned), SinusoidalPositionEncoding
 * (fixed) and TokenAndPositionEmbedding. Positions `startIndex … startIndex + T − 1` are sliced
 * from a table with the runtime length T, so exported models accept any length up to the
 * table's (ONNX Slice clamps past its end where Tessera raises a ShapeError).
 * @module
 */
import type { PositionEmbedding, SinusoidalPositionEncoding, TokenAndPositionEmbedding } from '@tessera/nn';
import { OnnxExportError } from '../errors.js';
import type { GraphBuilder } from '../graph-builder.js';
import { nhwcOf, type Value } from '../layout.js';
import { type Converter, type LayerCall, one } from './context.js';
import { emitGather, zeroMask } from './core-layers.js';

function startIndex(c: LayerCall): number {
  const s = (c.callOptions.startIndex as number | undefined) ?? 0;
  if (!Number.isInteger(s) || s < 0) throw new OnnxExportError(c.layer.name, c.layer.className, `startIndex must be a non-negative integer, got ${String(s)}`);
  return s;
}

/** Rows `start … start + T − 1` of `table`, T being axis −2 of `x` at run time. */
function positionRows(b: GraphBuilder, scope: string, table: string, x: string, rank: number, start: number): string {
  const startT = b.constInt64(`${scope}/start`, [start]);
  const end = b.op(scope, 'Add', [b.shapeSlice(scope, x, rank - 2, rank - 1), startT]);
  return b.op(scope, 'Slice', [table, startT, end, b.constInt64(`${scope}/axes`, [0])]);
}

/** The rows broadcast to the input's shape (as Tessera's `broadcastTo`); rank-2 inputs get the rows themselves. */
function expandTo(b: GraphBuilder, scope: string, rows: string, x: string, rank: number): string {
  return rank === 2 ? rows : b.op(scope, 'Expand', [rows, b.op(scope, 'Shape', [x])]);
}

export const positionEmbedding: Converter<PositionEmbedding> = (c) => {
  const { b, layer, scope } = c;
  const v = one(c);
  const x = nhwcOf(b, v, scope);
  const rows = positionRows(b, scope, b.weight(`${scope}/embeddings`, layer.embeddings!.value), x, v.shape.length, startIndex(c));
  return [{ nhwc: expandTo(b, scope, rows, x, v.shape.length), shape: c.outputShapes[0]!, dtype: 'float32' }];
};

/**
 * The sin/cos table, computed here exactly as Tessera computes it (float64, then float32), for
 * `maxLength` positions — or, without maxLength, for the model's fixed sequence length.
 */
export const sinusoidalPositionEncoding: Converter<SinusoidalPositionEncoding> = (c) => {
  const { b, layer, scope } = c;
  const v = one(c);
  const rank = v.shape.length;
  const dim = v.shape[rank - 1];
  const start = startIndex(c);
  const t = v.shape[rank - 2];
  const length = layer.maxLength ?? (t === null || t === undefined ? null : start + t);
  if (length === null || dim === null || dim === undefined) {
    throw new OnnxExportError(layer.name, layer.className, 'the table size is unknown: give the layer a maxLength (or the model a fixed sequence length and feature size)');
  }
  const data = new Array<number>(length * dim);
  for (let p = 0; p < length; p++) {
    for (let i = 0; i < dim; i++) {
      const angle = p / layer.maxWavelength ** ((2 * Math.floor(i / 2)) / dim);
      data[p * dim + i] = i % 2 === 0 ? Math.sin(angle) : Math.cos(angle);
    }
  }
  const x = nhwcOf(b, v, scope);
  const rows = positionRows(b, scope, b.constFloat(`${scope}/table`, data, [length, dim]), x, rank, start);
  return [{ nhwc: expandTo(b, scope, rows, x, rank), shape: c.outputShapes[0]!, dtype: 'float32' }];
};

/** Token embedding plus learned positions; with maskZero the output carries the `ids != 0` mask. */
export const tokenAndPositionEmbedding: Converter<TokenAndPositionEmbedding> = (c) => {
  const { b, layer, scope } = c;
  const v = one(c);
  const tokScope = `${scope}/${layer.tokenEmbedding.name}`;
  const tok = emitGather(b, tokScope, layer.tokenEmbedding, v, c.outputShapes[0]!);
  const pe = layer.positionEmbedding;
  const posScope = `${scope}/${pe.name}`;
  const rows = positionRows(b, posScope, b.weight(`${posScope}/embeddings`, pe.embeddings!.value), tok.nhwc!, 3, startIndex(c));
  c.outMask = layer.maskZero ? zeroMask(b, tokScope, v) : null;
  return [{ nhwc: b.op(scope, 'Add', [tok.nhwc!, rows]), shape: c.outputShapes[0]!, dtype: 'float32' } satisfies Value];
};
