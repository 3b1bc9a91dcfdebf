/**
 * `model.summary()`: a Keras-like table of layers, output shapes and parameter counts.
 * @module
 */
import type { Container } from './container.js';
import { InputLayer } from '../layers/core.js';
import type { Layer, Node } from './layer.js';
import { fmtBytes, pyShape, type Shape, withCommas } from '../util.js';

/** Options of `model.summary()`. */
export interface SummaryOptions {
  /** Total width of the table (default 65, or 98 with a "Connected to" column). */
  lineLength?: number;
  /** Where lines go (default `console.log`). */
  printFn?: (text: string) => void;
}

function shapeText(s: Shape | Shape[] | null): string {
  if (s === null) return '?';
  if (s.length > 0 && Array.isArray(s[0])) return (s as Shape[]).map(pyShape).join(', ');
  return pyShape(s as Shape);
}

function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * The summary table of a model as text.
 * @example console.log(summarize(model));
 */
export function summarize(model: Container, opts: SummaryOptions = {}): string {
  const layers = model.layers;
  const nodes = (model as unknown as { graphNodes: Node[] }).graphNodes ?? [];
  const nodeOf = (l: Layer): Node | undefined => nodes.find((n) => n.layer === l) ?? (l instanceof InputLayer ? l.inboundNodes[0] : undefined);
  const sequentialLike = nodes.every((n) => n.inputs.length <= 1) && model.inputs.length <= 1 && model.outputs.length <= 1 && model.className === 'Sequential';
  const headers = sequentialLike ? ['Layer (type)', 'Output Shape', 'Param #'] : ['Layer (type)', 'Output Shape', 'Param #', 'Connected to'];
  const rows = layers.map((l) => {
    const n = nodeOf(l);
    const out: Shape | Shape[] | null = n ? (n.outputs.length === 1 ? n.outputs[0]!.shape : n.outputs.map((o) => o.shape)) : null;
    const params = l.built ? withCommas(l.countParams()) : '0 (unbuilt)';
    const row = [`${l.name} (${l.className})`, shapeText(out), params];
    if (!sequentialLike) {
      const conn = n ? n.inputs.map((s) => `${s.sourceLayer.name}[${s.nodeIndex}][${s.tensorIndex}]`).join(', ') : '';
      row.push(conn || '-');
    }
    return row;
  });
  const total = opts.lineLength ?? (sequentialLike ? 65 : 98);
  const fractions = sequentialLike ? [0.45, 0.85, 1] : [0.33, 0.55, 0.67, 1];
  const widths: number[] = [];
  let prev = 0;
  fractions.forEach((f, i) => {
    const end = Math.round(total * f);
    const needed = Math.max(headers[i]!.length, ...rows.map((r) => r[i]!.length)) + 2;
    widths.push(Math.max(end - prev, needed));
    prev = end;
  });
  const width = widths.reduce((a, b) => a + b, 0);
  const line = (cells: string[]): string => cells.map((c, i) => ` ${c}`.padEnd(widths[i]!)).join('').trimEnd();
  const weights = model.weights;
  const trainableSet = new Set(model.trainableWeights);
  const count = (vs: typeof weights): number => vs.reduce((a, v) => a + sizeOf(v.shape), 0);
  const totalParams = count(weights);
  const trainable = count(weights.filter((v) => trainableSet.has(v)));
  const bytes = (n: number): string => `${withCommas(n)} (${fmtBytes(n * 4)})`;
  const out = [
    `Model: "${model.name}"`,
    '_'.repeat(width),
    line(headers),
    '='.repeat(width),
    ...rows.map(line),
    '='.repeat(width),
    `Total params: ${bytes(totalParams)}`,
    `Trainable params: ${bytes(trainable)}`,
    `Non-trainable params: ${bytes(totalParams - trainable)}`,
    '_'.repeat(width),
  ];
  return out.join('\n');
}
