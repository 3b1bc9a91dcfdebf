/**
 * A model as two in-memory artifacts — a JSON description (architecture, training config,
 * weights manifest with a checksum) and the weights as safetensors bytes — and back. Works
 * everywhere (browsers included); the Node file-system layer in `node.ts` stores the same
 * two artifacts as files.
 * @module
 */
import { ArgumentError, FormatError, tensor, type Tensor } from '@tessera/core';
import { fromHostArray, parseSafetensors, type SafeTensor, serializeSafetensors, toHostArray } from '@tessera/data';
import { getOptimizer } from '@tessera/optim';
import type { OptimizerLike } from '../engine/compile-utils.js';
import type { LayerClass } from '../engine/layer.js';
import { Model } from '../engine/model.js';
import { assignValue } from '../variables.js';
import { crc32 } from './crc32.js';
import { deserializeLayer, type LayerConfig } from './registry.js';

/** The current format version of `model.json` (files with a higher one are refused). @example json.formatVersion <= MODEL_FORMAT_VERSION */
export const MODEL_FORMAT_VERSION = 1;

/** One weight in the manifest. */
export interface WeightSpec {
  /** `layer/weight` (nested models add their names: `base/dense/kernel`). */
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32' | 'bool';
}

/** The JSON half of a saved model (`model.json`). */
export interface ModelJson {
  format: 'tessera-model';
  formatVersion: number;
  /** The architecture: `{ className: 'Sequential' | 'Functional', config }`. */
  modelConfig: LayerConfig;
  /** What `compile` was given (names only), or null. */
  trainingConfig: Record<string, unknown> | null;
  weightsManifest: {
    /** File name of the weights next to `model.json` (set by `save`; null in memory). */
    file: string | null;
    byteLength: number;
    /** CRC-32 of the weights bytes (8 hex digits). */
    crc32: string;
    tensors: WeightSpec[];
  };
}

/** A model in memory: its JSON description and its weights as safetensors bytes. */
export interface ModelArtifacts {
  /** The description (or its JSON text). */
  modelJson: ModelJson | string;
  /** safetensors bytes. */
  weights: Uint8Array;
}

/** Options of `loadModel` and {@link loadModelFromArtifacts}. */
export interface LoadOptions {
  /** Custom layer classes by `className` (see `registerLayer`). */
  customLayers?: Record<string, LayerClass>;
  /** Compile the model from its saved training config when it has one (default true). */
  compile?: boolean;
}

/**
 * Serialises a model: architecture, training config and weights (exact float32 bytes).
 * @example const artifacts = await modelToArtifacts(model); // { modelJson, weights }
 */
export async function modelToArtifacts(model: Model): Promise<{ modelJson: ModelJson; weights: Uint8Array }> {
  if (!model.built) throw new ArgumentError('toArtifacts', `model "${model.name}" is not built yet, so it has no weights; build it or give the first layer an inputShape`);
  const entries = model.weightEntries;
  const tensors = new Map<string, SafeTensor>();
  const specs: WeightSpec[] = [];
  const values = await Promise.all(entries.map((w) => w.variable.value.data()));
  entries.forEach((w, i) => {
    if (tensors.has(w.name)) throw new ArgumentError('toArtifacts', `two weights share the path '${w.name}'; give the layers unique names`);
    const shape = [...w.variable.shape];
    const dtype = w.variable.dtype;
    tensors.set(w.name, fromHostArray(values[i]!, shape, dtype));
    specs.push({ name: w.name, shape, dtype });
  });
  const weights = serializeSafetensors(tensors, { format: 'tessera-weights', model: model.name });
  const modelJson: ModelJson = {
    format: 'tessera-model',
    formatVersion: MODEL_FORMAT_VERSION,
    modelConfig: { className: model.className, config: model.getConfig() },
    trainingConfig: model.compiled ? { ...model.compiled.config, optimizer: model.compiled.optimizer.getConfig?.() ?? model.compiled.config.optimizer } : null,
    weightsManifest: { file: null, byteLength: weights.length, crc32: crc32(weights), tensors: specs },
  };
  return { modelJson, weights };
}

/** Parses and checks the structure of a model.json (text or object); FormatError on anything else. */
export function parseModelJson(op: string, src: ModelJson | string, what = 'model.json'): ModelJson {
  let j: unknown = src;
  if (typeof src === 'string') {
    try {
      j = JSON.parse(src);
    } catch (e) {
      throw new FormatError(op, `${what} is not valid JSON (truncated or corrupt?): ${(e as Error).message}`);
    }
  }
  const o = j as Partial<ModelJson> | null;
  if (o === null || typeof o !== 'object' || o.format !== 'tessera-model') throw new FormatError(op, `${what} is not a Tessera model file (no "format": "tessera-model")`);
  if (typeof o.formatVersion !== 'number' || o.formatVersion > MODEL_FORMAT_VERSION) {
    throw new FormatError(op, `${what} has format version ${String(o.formatVersion)}; this version of Tessera reads up to ${MODEL_FORMAT_VERSION}`);
  }
  const m = o.weightsManifest;
  if (
    o.modelConfig === null ||
    typeof o.modelConfig !== 'object' ||
    m === null ||
    typeof m !== 'object' ||
    typeof m.byteLength !== 'number' ||
    typeof m.crc32 !== 'string' ||
    !Array.isArray(m.tensors)
  ) {
    throw new FormatError(op, `${what} lacks modelConfig or a valid weightsManifest`);
  }
  return o as ModelJson;
}

/**
 * Checks weights bytes against the manifest (length and CRC-32), then parses them.
 * @internal
 */
export function checkWeights(op: string, json: ModelJson, bytes: Uint8Array, what = 'the weights'): Map<string, SafeTensor> {
  const m = json.weightsManifest;
  if (bytes.length !== m.byteLength) {
    throw new FormatError(op, `${what} ${bytes.length < m.byteLength ? 'are truncated' : 'are too long'}: ${bytes.length} bytes, the manifest says ${m.byteLength}`);
  }
  const sum = crc32(bytes);
  if (sum !== m.crc32) throw new FormatError(op, `${what} are corrupt: CRC-32 ${sum} does not match the manifest's ${m.crc32}`);
  return parseSafetensors(bytes).tensors;
}

/**
 * Rebuilds a model from artifacts (from `model.toArtifacts()`), checking the weights against
 * the manifest: a truncated or corrupt input raises a FormatError.
 * @example const m = await loadModelFromArtifacts(await model.toArtifacts());
 */
export async function loadModelFromArtifacts(artifacts: ModelArtifacts, opts: LoadOptions = {}): Promise<Model> {
  const op = 'loadModelFromArtifacts';
  if (artifacts === null || typeof artifacts !== 'object' || !(artifacts.weights instanceof Uint8Array)) {
    throw new ArgumentError(op, 'expected { modelJson, weights: Uint8Array }');
  }
  const json = parseModelJson(op, artifacts.modelJson);
  const tensors = checkWeights(op, json, artifacts.weights);
  return buildModel(op, json, tensors, opts);
}

/** Architecture + checked weights → model (compiled when asked and possible). @internal */
export async function buildModel(op: string, json: ModelJson, tensors: Map<string, SafeTensor>, opts: LoadOptions): Promise<Model> {
  const layer = deserializeLayer(json.modelConfig, opts.customLayers);
  if (!(layer instanceof Model)) throw new FormatError(op, `modelConfig describes a ${json.modelConfig.className}, not a model`);
  const model = layer;
  try {
    const entries = model.weightEntries;
    const want = new Set(entries.map((e) => e.name));
    for (const name of tensors.keys()) if (!want.has(name)) throw new FormatError(op, `the weights hold '${name}', which the model does not have`);
    for (const e of entries) {
      const t = tensors.get(e.name);
      if (t === undefined) throw new FormatError(op, `the weights lack '${e.name}'`);
      const shape = e.variable.shape;
      if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
        throw new FormatError(op, `weight '${e.name}' has shape [${t.shape.join(',')}] in the file but [${shape.join(',')}] in the model`);
      }
      const { dtype, data } = toHostArray(t);
      if (dtype !== e.variable.dtype) throw new FormatError(op, `weight '${e.name}' is ${dtype} in the file but ${e.variable.dtype} in the model`);
      const value: Tensor = tensor(data, shape, dtype);
      try {
        assignValue(e.variable, value);
      } finally {
        value.dispose();
      }
    }
    if (opts.compile !== false && json.trainingConfig) compileFromConfig(model, json.trainingConfig);
    return model;
  } catch (e) {
    model.dispose();
    throw e;
  }
}

/** Compiles from a saved training config when every part has a name (else leaves it uncompiled). */
function compileFromConfig(model: Model, tc: Record<string, unknown>): void {
  const loss = tc.loss as (string | null)[] | undefined;
  const opt = tc.optimizer as Record<string, unknown> | null | undefined;
  if (!Array.isArray(loss) || loss.some((l) => typeof l !== 'string') || opt === null || typeof opt !== 'object' || typeof opt.name !== 'string') return;
  const metrics = Array.isArray(tc.metrics) ? (tc.metrics as unknown[][]) : undefined;
  let optimizer: OptimizerLike;
  try {
    const { name, ...config } = opt;
    optimizer = getOptimizer(name as string, typeof config.learningRate === 'number' ? config : { ...config, learningRate: undefined }) as unknown as OptimizerLike;
  } catch {
    return; // An optimizer this version cannot rebuild: the model loads uncompiled.
  }
  try {
    model.compile({
      optimizer,
      loss: loss.length === 1 ? (loss[0] as string) : (loss as string[]),
      metrics: metrics === undefined ? undefined : metrics.length === 1 ? (metrics[0] as never) : (metrics as never),
      lossWeights: Array.isArray(tc.lossWeights) ? (tc.lossWeights as number[]) : undefined,
    });
    model.compiled!.ownsOptimizer = true;
  } catch {
    optimizer.dispose?.();
  }
}
