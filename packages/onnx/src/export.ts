/**
 * `exportOnnx`: walks a built Sequential or functional model's graph (nested models inlined)
 * and writes each layer call with its converter, then assembles and serializes the
 * `ModelProto`.
 * @module
 */
import { ArgumentError, type DType } from '@tessera/core';
import { InputLayer, type Layer, Model, type Node, type Shape, type SymbolicTensor } from '@tessera/nn';
import type { LayerCall } from './convert/context.js';
import { converterFor, supportedLayers } from './convert/registry.js';
import { OnnxExportError } from './errors.js';
import { GraphBuilder } from './graph-builder.js';
import { type Mask, nhwcOf, type Value } from './layout.js';
import { DataType, type DimMsg, encodeModel, type ModelMsg, type TensorMsg, type ValueInfoMsg } from './proto/schema.js';
import { VERSION } from './version.js';

/** Options of {@link exportOnnx}. */
export interface ExportOptions {
  /** Default-domain opset, 17–21 (default 17, the first with LayerNormalization). */
  opset?: number;
  /** Graph input names, one per model input (default: the input layers' names). */
  inputNames?: readonly string[];
  /** Graph output names, one per model output (default: the output layers' names). */
  outputNames?: readonly string[];
  /** Make the batch axis the symbolic dimension `batch` (default true). */
  dynamicBatch?: boolean;
  /** The fixed batch size when `dynamicBatch` is false and the model does not fix one. */
  batchSize?: number;
  /** `ModelProto.producer_name` (default 'tessera'). */
  producerName?: string;
  /** `ModelProto.producer_version` (default this package's version). */
  producerVersion?: string;
  /** `ModelProto.doc_string`. */
  docString?: string;
}

/** IR version that goes with each supported opset (onnx/helper.py VERSION_TABLE). */
const IR_VERSION: Record<number, number> = { 17: 8, 18: 8, 19: 9, 20: 9, 21: 10 };

const ELEM_TYPE: Record<DType, number> = { float32: DataType.FLOAT, int32: DataType.INT32, bool: DataType.BOOL };

interface Resolved {
  opset: number;
  dynamicBatch: boolean;
  batchSize: number | null;
  producerName: string;
  producerVersion: string;
  docString: string | undefined;
}

function checkNames(what: string, names: readonly string[] | undefined, count: number): string[] | undefined {
  if (names === undefined) return undefined;
  if (!Array.isArray(names) || names.length !== count || names.some((n) => typeof n !== 'string' || n.length === 0)) {
    throw new ArgumentError('exportOnnx', `${what} must be ${count} non-empty string${count === 1 ? '' : 's'} (one per model ${what === 'inputNames' ? 'input' : 'output'}), got ${JSON.stringify(names)}`);
  }
  if (new Set(names).size !== names.length) throw new ArgumentError('exportOnnx', `${what} must be unique, got ${JSON.stringify(names)}`);
  return [...names];
}

function resolveOptions(opts: ExportOptions): Resolved {
  if (opts === null || typeof opts !== 'object') throw new ArgumentError('exportOnnx', `options must be an object, got ${opts === null ? 'null' : typeof opts}`);
  const opset = opts.opset ?? 17;
  if (IR_VERSION[opset] === undefined) throw new ArgumentError('exportOnnx', `opset must be an integer from 17 to 21, got ${JSON.stringify(opts.opset)}`);
  const bs = opts.batchSize;
  if (bs !== undefined && (!Number.isInteger(bs) || bs < 1)) throw new ArgumentError('exportOnnx', `batchSize must be a positive integer, got ${JSON.stringify(bs)}`);
  return {
    opset,
    dynamicBatch: opts.dynamicBatch ?? true,
    batchSize: bs ?? null,
    producerName: opts.producerName ?? 'tessera',
    producerVersion: opts.producerVersion ?? VERSION,
    docString: opts.docString,
  };
}

/** The nodes of `model` from its inputs to its outputs, in topological order. */
function graphNodes(model: Model): Node[] {
  const order: Node[] = [];
  const done = new Set<Node>();
  const inputIds = new Set(model.inputs.map((s) => s.id));
  const visit = (t: SymbolicTensor): void => {
    if (inputIds.has(t.id)) return;
    const node = t.sourceLayer.inboundNodes[t.nodeIndex]!;
    if (done.has(node)) return;
    done.add(node);
    for (const i of node.inputs) visit(i);
    order.push(node);
  };
  for (const o of model.outputs) visit(o);
  return order;
}

/** The ONNX shape of a Tessera shape: the batch axis `batch` (or fixed), other unknown axes named. */
function dims(shape: Shape, r: Resolved, prefix: string): DimMsg[] {
  return shape.map((d, i): DimMsg => {
    if (i === 0) {
      if (r.dynamicBatch) return { dimParam: 'batch' };
      return { dimValue: d ?? r.batchSize! };
    }
    return d === null ? { dimParam: `${prefix}_d${i}` } : { dimValue: d };
  });
}

function valueInfo(name: string, dtype: DType, shape: Shape, r: Resolved): ValueInfoMsg {
  return { name, type: { tensorType: { elemType: ELEM_TYPE[dtype], shape: { dim: dims(shape, r, name) } } } };
}

/**
 * Writes the calls of `model`'s graph into `b`, given the values of its inputs; returns its
 * outputs. Padding masks flow as in Tessera's graph runner: made by maskZero embeddings,
 * handed to layers that support masking, passed on by their default `computeMask` (the first
 * input's mask), dropped by the rest; a nested model starts without masks.
 */
function emitModel(b: GraphBuilder, model: Model, inputs: readonly Value[], prefix: string, opset: number, training: boolean | undefined): Value[] {
  const values = new Map<number, Value>();
  const masks = new Map<number, Mask>();
  model.inputs.forEach((s, i) => values.set(s.id, inputs[i]!));
  for (const node of graphNodes(model)) {
    const layer: Layer = node.layer;
    const ins = node.inputs.map((s) => values.get(s.id)!);
    const scope = `${prefix}${layer.name}`;
    const nodeTraining = node.callOptions.training ?? training;
    const inMasks = node.inputs.map((s) => masks.get(s.id) ?? null);
    const layerMasks = layer.supportsMasking && inMasks.some((m) => m !== null) ? inMasks : null;
    let outs: Value[];
    let outMask: Mask | null = layerMasks?.[0] ?? null;
    if (layer instanceof Model) {
      outs = emitModel(b, layer, ins, `${scope}/`, opset, nodeTraining);
    } else if (layer instanceof InputLayer) {
      outs = ins;
    } else {
      const convert = converterFor(layer);
      if (convert === undefined) {
        throw new OnnxExportError(layer.name, layer.className, `no ONNX converter for this layer class (supported: ${supportedLayers().join(', ')})`);
      }
      const call: LayerCall = {
        b,
        layer,
        scope,
        inputs: ins,
        outputShapes: node.outputs.map((s) => s.shape),
        outputDTypes: node.outputs.map((s) => s.dtype),
        training: nodeTraining,
        callOptions: node.callOptions as Record<string, unknown>,
        masks: layerMasks,
        opset,
      };
      outs = convert(call);
      if (call.outMask !== undefined) outMask = call.outMask;
      if (outs.length !== node.outputs.length) {
        throw new OnnxExportError(layer.name, layer.className, `the call has ${node.outputs.length} outputs; the converter writes ${outs.length}`);
      }
    }
    node.outputs.forEach((s, i) => values.set(s.id, outs[i]!));
    if (outMask !== null) masks.set(node.outputs[0]!.id, outMask);
  }
  return model.outputs.map((s) => values.get(s.id)!);
}

/** Builds the graph and everything of the model but the weight bytes. */
function build(model: Model, opts: ExportOptions): { b: GraphBuilder; assemble: (initializers: TensorMsg[]) => Uint8Array } {
  if (!(model instanceof Model)) throw new ArgumentError('exportOnnx', `expected a Sequential or functional Model from @tessera/nn, got ${model === null ? 'null' : typeof model === 'object' ? (model as object).constructor?.name : typeof model}`);
  if (model.isDisposed) throw new ArgumentError('exportOnnx', `model "${model.name}" is disposed`);
  if (!model.built || model.inputs.length === 0) {
    throw new ArgumentError('exportOnnx', `model "${model.name}" is not built: give its first layer an inputShape, or call build() / predict() once, before exporting`);
  }
  const r = resolveOptions(opts);
  const inputNames = checkNames('inputNames', opts.inputNames, model.inputs.length) ?? model.inputs.map((s) => s.sourceLayer.name);
  const outputNames = checkNames('outputNames', opts.outputNames, model.outputs.length) ?? uniqueOutputNames(model, inputNames);
  for (const n of outputNames) {
    if (inputNames.includes(n)) throw new ArgumentError('exportOnnx', `output name "${n}" is also an input name; pass distinct inputNames / outputNames`);
  }
  if (!r.dynamicBatch) {
    // One batch size for every batch axis (outputs included): the option, or the model's own.
    const fixed = model.inputs.find((s) => s.shape[0] !== null);
    if (r.batchSize !== null && fixed !== undefined && fixed.shape[0] !== r.batchSize) {
      throw new ArgumentError('exportOnnx', `batchSize ${r.batchSize} contradicts input "${fixed.sourceLayer.name}", whose batch size is fixed at ${fixed.shape[0]}`);
    }
    r.batchSize ??= fixed?.shape[0] ?? null;
    if (r.batchSize === null) throw new ArgumentError('exportOnnx', 'dynamicBatch is false but the model has no fixed batch size; pass batchSize');
  }
  const b = new GraphBuilder();
  const graphInputs = model.inputs.map((s, i) => {
    const name = inputNames[i]!;
    b.reserve(name);
    return valueInfo(name, s.dtype, s.shape, r);
  });
  for (const n of outputNames) b.reserve(n);
  const ins: Value[] = model.inputs.map((s, i) => ({ nhwc: inputNames[i]!, shape: s.shape, dtype: s.dtype }));
  const outs = emitModel(b, model, ins, '', r.opset, undefined);
  // Graph outputs get their chosen names through Identity nodes: the value may also feed
  // other nodes or be a graph input itself, so it cannot simply be renamed.
  const graphOutputs = outs.map((v, i) => {
    const name = outputNames[i]!;
    b.op(name, 'Identity', [nhwcOf(b, v, name)], {}, name);
    return valueInfo(name, model.outputs[i]!.dtype, model.outputs[i]!.shape, r);
  });
  const assemble = (initializer: TensorMsg[]): Uint8Array => {
    const msg: ModelMsg = {
      irVersion: IR_VERSION[r.opset]!,
      opsetImport: [{ domain: '', version: r.opset }],
      producerName: r.producerName,
      producerVersion: r.producerVersion,
      ...(r.docString !== undefined ? { docString: r.docString } : {}),
      graph: { name: model.name, node: b.nodes, initializer, input: graphInputs, output: graphOutputs },
    };
    return encodeModel(msg);
  };
  return { b, assemble };
}

/** The output layers' names, made unique (and distinct from the inputs). */
function uniqueOutputNames(model: Model, inputNames: readonly string[]): string[] {
  const taken = new Set(inputNames);
  return model.outputs.map((s) => {
    let name = s.sourceLayer.name;
    for (let k = 1; taken.has(name); k++) name = `${s.sourceLayer.name}_${k}`;
    taken.add(name);
    return name;
  });
}

/**
 * Exports a built Sequential or functional model as an ONNX file (the bytes of a
 * `ModelProto`). The exported graph takes and returns the same tensors as `model.predict`
 * (NHWC images; see the README on layouts). Weights are read with `await tensor.data()`, so
 * this works on every backend.
 * Throws OnnxExportError for a layer it cannot express, ArgumentError for an unbuilt or
 * disposed model and bad options.
 * @example
 * const bytes = await exportOnnx(model, { producerName: 'my-app' });
 * const session = await ort.InferenceSession.create(bytes);
 */
export async function exportOnnx(model: Model, opts: ExportOptions = {}): Promise<Uint8Array> {
  const { b, assemble } = build(model, opts);
  return assemble(await b.initializers());
}

/**
 * {@link exportOnnx} for backends that read synchronously (js, wasm, native; not WebGPU).
 * @example const bytes = exportOnnxSync(model, { opset: 18 });
 */
export function exportOnnxSync(model: Model, opts: ExportOptions = {}): Uint8Array {
  const { b, assemble } = build(model, opts);
  return assemble(b.initializersSync());
}
