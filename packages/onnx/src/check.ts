/**
 * `checkOnnx`: the structural rules of the ONNX checker (onnx/checker.cc) that hold for any
 * graph, without operator schemas: what can go wrong in a writer. Operator semantics are left
 * to ONNX Runtime.
 * @module
 */
import { FormatError } from '@tessera/core';
import { DataType, decodeModel } from './proto/schema.js';

/** What {@link checkOnnx} found in a valid file. */
export interface OnnxModelInfo {
  irVersion: number;
  /** The default-domain opset. */
  opsetVersion: number;
  producerName: string;
  /** Graph inputs: name, element type (ONNX DataType) and dims (numbers, or names of symbolic dims). */
  inputs: { name: string; elemType: number; shape: (number | string)[] }[];
  outputs: { name: string; elemType: number; shape: (number | string)[] }[];
  nodeCount: number;
  initializerCount: number;
  /** Each op type used, with its count. */
  opTypes: Record<string, number>;
}

const ELEM_SIZE: Record<number, number> = { [DataType.FLOAT]: 4, [DataType.INT32]: 4, [DataType.INT64]: 8, [DataType.DOUBLE]: 8, [DataType.BOOL]: 1, [DataType.UINT8]: 1, [DataType.INT8]: 1 };

type Obj = Record<string, unknown>;

function fail(why: string): never {
  throw new FormatError('checkOnnx', why);
}

function list(o: Obj, key: string): Obj[] {
  return (o[key] as Obj[] | undefined) ?? [];
}

function valueInfos(vs: Obj[]): OnnxModelInfo['inputs'] {
  return vs.map((v) => {
    const tt = ((v.type as Obj | undefined)?.tensorType as Obj | undefined) ?? fail(`value "${String(v.name)}" has no tensor type`);
    const dim = list((tt.shape as Obj | undefined) ?? {}, 'dim');
    return { name: String(v.name), elemType: Number(tt.elemType ?? 0), shape: dim.map((d) => (d.dimParam !== undefined ? String(d.dimParam) : Number(d.dimValue ?? 0))) };
  });
}

/**
 * Decodes an ONNX file and checks its structure: an IR version and a default-domain opset;
 * unique, non-empty value names (SSA); nodes in topological order, each input defined by a
 * graph input, an initializer or an earlier node; every graph output produced; every
 * initializer's `raw_data` as long as its dims and type require. Throws FormatError naming
 * the first violation; returns a summary otherwise.
 * @example const info = checkOnnx(await exportOnnx(model)); info.opTypes.Conv // 2
 */
export function checkOnnx(bytes: Uint8Array): OnnxModelInfo {
  if (!(bytes instanceof Uint8Array)) fail(`expected the bytes of an .onnx file (Uint8Array), got ${bytes === null ? 'null' : typeof bytes}`);
  let m: Obj;
  try {
    m = decodeModel(bytes);
  } catch (e) {
    fail(`not a ModelProto: ${(e as Error).message}`);
  }
  const irVersion = Number(m.irVersion ?? 0);
  if (!(irVersion >= 3)) fail(`ir_version is ${irVersion}; expected >= 3`);
  const opset = list(m, 'opsetImport').find((o) => (o.domain ?? '') === '');
  if (opset === undefined) fail('no opset_import for the default domain ""');
  const g = (m.graph as Obj | undefined) ?? fail('the model has no graph');
  const defined = new Set<string>();
  const define = (name: unknown, what: string): void => {
    if (typeof name !== 'string' || name.length === 0) fail(`${what} has an empty name`);
    if (defined.has(name)) fail(`"${name}" (${what}) is defined twice; values must be assigned once`);
    defined.add(name);
  };
  const inputs = valueInfos(list(g, 'input'));
  for (const i of inputs) define(i.name, 'graph input');
  for (const t of list(g, 'initializer')) {
    const name = String(t.name);
    // An initializer may also be listed as a graph input (a default value); that is allowed.
    if (!inputs.some((i) => i.name === name)) define(name, 'initializer');
    const size = ELEM_SIZE[Number(t.dataType ?? 0)] ?? fail(`initializer "${name}" has unsupported data_type ${String(t.dataType)}`);
    const count = ((t.dims as number[] | undefined) ?? []).reduce((a, d) => a * Number(d), 1);
    const raw = t.rawData as Uint8Array | undefined;
    if (raw === undefined) fail(`initializer "${name}" has no raw_data`);
    if (raw.length !== count * size) fail(`initializer "${name}" has ${raw.length} bytes of raw_data; dims [${String(t.dims ?? [])}] of type ${String(t.dataType)} need ${count * size}`);
  }
  const opTypes: Record<string, number> = {};
  const nodes = list(g, 'node');
  nodes.forEach((n, k) => {
    const opType = String(n.opType ?? '');
    if (opType.length === 0) fail(`node ${k} ("${String(n.name)}") has no op_type`);
    for (const i of (n.input as string[] | undefined) ?? []) {
      if (i !== '' && !defined.has(i)) fail(`node ${k} ("${String(n.name)}", ${opType}) reads "${i}", which no graph input, initializer or earlier node defines`);
    }
    const outs = (n.output as string[] | undefined) ?? [];
    if (outs.length === 0) fail(`node ${k} ("${String(n.name)}", ${opType}) has no output`);
    for (const o of outs) if (o !== '') define(o, `output of node ${k} (${opType})`);
    opTypes[opType] = (opTypes[opType] ?? 0) + 1;
  });
  const outputs = valueInfos(list(g, 'output'));
  if (outputs.length === 0) fail('the graph has no outputs');
  for (const o of outputs) if (!defined.has(o.name)) fail(`graph output "${o.name}" is never produced`);
  return {
    irVersion,
    opsetVersion: Number(opset.version ?? 0),
    producerName: String(m.producerName ?? ''),
    inputs,
    outputs,
    nodeCount: nodes.length,
    initializerCount: list(g, 'initializer').length,
    opTypes,
  };
}
