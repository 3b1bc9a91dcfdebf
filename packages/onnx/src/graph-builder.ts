/**
 * Accumulates an ONNX graph: nodes in topological order, unique value names, constants and
 * weight initializers. Weights are recorded as references to Tessera tensors (plus a host-side
 * layout transform) and read only at the end, so one builder serves the synchronous and the
 * asynchronous export.
 * @module
 */
import type { Tensor } from '@tessera/core';
import { type AttributeMsg, AttributeType, DataType, type NodeMsg, type TensorMsg } from './proto/schema.js';

/** An attribute value: tagged so ints and floats stay distinct on the wire. */
export type Attr = { int: number } | { float: number } | { ints: readonly number[] } | { floats: readonly number[] } | { str: string };

/** A host-side rewrite of a weight's float32 values (a layout change); `dims` are the result's. */
export type WeightTransform = (data: Float32Array) => Float32Array;

interface PendingWeight {
  name: string;
  dims: number[];
  tensor: Tensor;
  transform: WeightTransform | undefined;
}

function attrMsg(name: string, a: Attr): AttributeMsg {
  if ('int' in a) return { name, type: AttributeType.INT, i: a.int };
  if ('float' in a) return { name, type: AttributeType.FLOAT, f: a.float };
  if ('ints' in a) return { name, type: AttributeType.INTS, ints: [...a.ints] };
  if ('floats' in a) return { name, type: AttributeType.FLOATS, floats: [...a.floats] };
  return { name, type: AttributeType.STRING, s: new TextEncoder().encode(a.str) };
}

/** Whether this host stores numbers little-endian (every platform Tessera runs on, in practice). */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Little-endian bytes of a typed array (a copy, so the view's offset and the host's endianness never matter). */
export function leBytes(data: Float32Array | Int32Array | BigInt64Array | Uint8Array): Uint8Array {
  if (data instanceof Uint8Array || LITTLE_ENDIAN) return new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
  const out = new Uint8Array(data.length * data.BYTES_PER_ELEMENT);
  const view = new DataView(out.buffer);
  if (data instanceof Float32Array) data.forEach((v, i) => view.setFloat32(i * 4, v, true));
  else if (data instanceof Int32Array) data.forEach((v, i) => view.setInt32(i * 4, v, true));
  else data.forEach((v, i) => view.setBigInt64(i * 8, v, true));
  return out;
}

/** Builds one graph. */
export class GraphBuilder {
  readonly nodes: NodeMsg[] = [];
  private readonly constants: TensorMsg[] = [];
  private readonly weights: PendingWeight[] = [];
  private readonly weightCache = new Map<string, string>();
  private readonly constCache = new Map<string, string>();
  private readonly used = new Set<string>();
  private readonly counters = new Map<string, number>();

  /** Marks a name (a graph input) as taken. Returns false if it already was. */
  reserve(name: string): boolean {
    if (this.used.has(name)) return false;
    this.used.add(name);
    return true;
  }

  /** A fresh value or node name based on `hint` (`dense/MatMul`, `dense/MatMul_1`, …). */
  fresh(hint: string): string {
    let n = this.counters.get(hint) ?? 0;
    let name = n === 0 ? hint : `${hint}_${n}`;
    while (this.used.has(name)) name = `${hint}_${++n}`;
    this.counters.set(hint, n + 1);
    this.used.add(name);
    return name;
  }

  /**
   * Appends a node with one output (named from `scope/opType` unless `output` is given) and
   * returns the output's name.
   */
  op(scope: string, opType: string, inputs: readonly string[], attrs: Record<string, Attr> = {}, output?: string): string {
    const out = output ?? this.fresh(`${scope}/${opType}`);
    this.nodes.push({
      name: this.fresh(`${scope}/${opType}_node`),
      opType,
      input: [...inputs],
      output: [out],
      attribute: Object.entries(attrs).map(([k, v]) => attrMsg(k, v)),
    });
    return out;
  }

  /** `Shape(x)[start:end]` as a 1-D int64 value (Shape's start/end attributes, opset 15). */
  shapeSlice(scope: string, x: string, start: number, end: number): string {
    return this.op(scope, 'Shape', [x], { start: { int: start }, end: { int: end } });
  }

  /** A float32 constant initializer. */
  constFloat(hint: string, values: readonly number[], dims: readonly number[] = [values.length]): string {
    return this.constant(hint, DataType.FLOAT, leBytes(Float32Array.from(values)), dims);
  }

  /** An int64 constant initializer (shapes, axes). */
  constInt64(hint: string, values: readonly number[], dims: readonly number[] = [values.length]): string {
    return this.constant(hint, DataType.INT64, leBytes(BigInt64Array.from(values.map((v) => BigInt(v)))), dims);
  }

  /** An int32 constant initializer. */
  constInt32(hint: string, values: readonly number[], dims: readonly number[] = [values.length]): string {
    return this.constant(hint, DataType.INT32, leBytes(Int32Array.from(values)), dims);
  }

  /** Equal constants (same type, dims and bytes) are stored once. */
  private constant(hint: string, dataType: number, rawData: Uint8Array, dims: readonly number[]): string {
    const key = `${dataType}|${dims.join(',')}|${rawData.length <= 64 ? rawData.join(',') : ''}`;
    const hit = rawData.length <= 64 ? this.constCache.get(key) : undefined;
    if (hit !== undefined) return hit;
    const name = this.fresh(hint);
    this.constants.push({ name, dims: [...dims], dataType, rawData });
    if (rawData.length <= 64) this.constCache.set(key, name);
    return name;
  }

  /**
   * A float32 initializer holding a weight tensor's values, optionally rewritten by
   * `transform` (whose result has `dims`). The same tensor with the same `key` (a layout
   * tag) is stored once, so shared layers share their initializers.
   */
  weight(hint: string, tensor: Tensor, key = '', dims: readonly number[] = tensor.shape, transform?: WeightTransform): string {
    const cacheKey = `${tensor.id}|${key}`;
    const hit = this.weightCache.get(cacheKey);
    if (hit !== undefined) return hit;
    const name = this.fresh(hint);
    this.weights.push({ name, dims: [...dims], tensor, transform });
    this.weightCache.set(cacheKey, name);
    return name;
  }

  /** Every initializer, reading the weights synchronously. */
  initializersSync(): TensorMsg[] {
    return [...this.constants, ...this.weights.map((w) => this.weightMsg(w, w.tensor.dataSync()))];
  }

  /** Every initializer, reading the weights asynchronously (works on every backend). */
  async initializers(): Promise<TensorMsg[]> {
    const data = await Promise.all(this.weights.map((w) => w.tensor.data()));
    return [...this.constants, ...this.weights.map((w, i) => this.weightMsg(w, data[i]!))];
  }

  private weightMsg(w: PendingWeight, raw: ArrayLike<number>): TensorMsg {
    const f32 = raw instanceof Float32Array ? raw : Float32Array.from(raw);
    const data = w.transform ? w.transform(f32) : f32;
    return { name: w.name, dims: w.dims, dataType: DataType.FLOAT, rawData: leBytes(data) };
  }
}
