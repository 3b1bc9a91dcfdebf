/**
 * A model as two in-memory artifacts — a JSON description (architecture, training config,
 * weights manifest with a checksum) and the weights as safetensors bytes — and back. Works
 * everywhere (browsers included); the Node file-system layer in `node.ts` stores the same
 * two artifacts as files.
 * @module
 */
import { ArgumentError, dispose, FormatError, tensor, type Tensor, withAllocationLimit } from '@tessera/core';
import type { Variable } from '@tessera/autograd';
import { fromHostArray, parseSafetensors, type SafeTensor, serializeSafetensors, toHostArray } from '@tessera/data';
import { getOptimizer } from '@tessera/optim';
import type { OptimizerLike } from '../engine/compile-utils.js';
import type { LayerClass } from '../engine/layer.js';
import { Model } from '../engine/model.js';
import { loraState, type LoraState, restoreLoraState } from '../layers/lora.js';
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
  /**
   * The optimizer's state when the model was saved compiled (Keras's `include_optimizer`):
   * its numbers (`iterations`, `learningRate`, …) and the slot tensors, stored in the weights
   * file as `optimizer/<weight path>/<slot>` — keyed by weight path, which is stable across
   * processes, unlike variable names. Absent in files without one.
   */
  optimizerState?: { numbers: Record<string, number>; tensors: WeightSpec[] } | null;
  /** Where a training run stood (epoch, step, random-stream state), written by `BackupAndRestore`. */
  trainingState?: Record<string, unknown> | null;
  /**
   * The model's active (unmerged) LoRA adapters and the trainable flags around them, so that it
   * loads with the adapters attached (their `A` and `B` are in the weights like any weight).
   * Absent when the model has no active adapter.
   */
  lora?: LoraState | null;
}

/** Options of {@link modelToArtifacts} and `saveModel`. */
export interface SaveOptions {
  /** Store the optimizer's state (slots and step count) with a compiled model (default true). */
  includeOptimizer?: boolean;
  /** Extra JSON stored as `trainingState` (used by `BackupAndRestore`). @internal */
  trainingState?: Record<string, unknown>;
}

/** Prefix of the optimizer's slot tensors in a weights file. */
const OPT_PREFIX = 'optimizer/';

/** The optimizer of a compiled model when it can save and restore its state. */
interface StatefulOptimizer {
  getState(keys?: ReadonlyMap<Variable, string>): { tensors: Record<string, Tensor>; numbers: Record<string, number> };
  setState(state: { tensors: Record<string, Tensor>; numbers: Record<string, number> }, variables?: readonly Variable[], keys?: ReadonlyMap<Variable, string>): void;
}

function statefulOptimizer(model: Model): StatefulOptimizer | null {
  const o = model.compiled?.optimizer as Partial<StatefulOptimizer> | undefined;
  return o !== undefined && typeof o.getState === 'function' && typeof o.setState === 'function' ? (o as StatefulOptimizer) : null;
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
export async function modelToArtifacts(model: Model, opts: SaveOptions = {}): Promise<{ modelJson: ModelJson; weights: Uint8Array }> {
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
  let optimizerState: ModelJson['optimizerState'] = null;
  const opt = opts.includeOptimizer === false ? null : statefulOptimizer(model);
  if (opt !== null) {
    const state = opt.getState(new Map(entries.map((e) => [e.variable, e.name])));
    try {
      const names = Object.keys(state.tensors);
      const data = await Promise.all(names.map((k) => state.tensors[k]!.data()));
      const optSpecs: WeightSpec[] = [];
      names.forEach((k, i) => {
        const t = state.tensors[k]!;
        const shape = [...t.shape];
        tensors.set(OPT_PREFIX + k, fromHostArray(data[i]!, shape, t.dtype));
        optSpecs.push({ name: OPT_PREFIX + k, shape, dtype: t.dtype });
      });
      optimizerState = { numbers: { ...state.numbers }, tensors: optSpecs };
    } finally {
      dispose(Object.values(state.tensors));
    }
  }
  const weights = serializeSafetensors(tensors, { format: 'tessera-weights', model: model.name });
  const modelJson: ModelJson = {
    format: 'tessera-model',
    formatVersion: MODEL_FORMAT_VERSION,
    modelConfig: { className: model.className, config: model.getConfig() },
    trainingConfig: model.compiled ? { ...model.compiled.config, optimizer: model.compiled.optimizer.getConfig?.() ?? model.compiled.config.optimizer } : null,
    weightsManifest: { file: null, byteLength: weights.length, crc32: crc32(weights), tensors: specs },
    optimizerState,
  };
  if (opts.trainingState !== undefined) modelJson.trainingState = opts.trainingState;
  const lora = loraState(model);
  if (lora !== null) modelJson.lora = lora;
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
  const os = o.optimizerState;
  if (os !== undefined && os !== null && (typeof os !== 'object' || os.numbers === null || typeof os.numbers !== 'object' || !Array.isArray(os.tensors) || os.tensors.some((t) => t === null || typeof t !== 'object' || typeof t.name !== 'string' || !t.name.startsWith(OPT_PREFIX)))) {
    throw new FormatError(op, `${what} has an invalid optimizerState (expected { numbers, tensors: [{ name: 'optimizer/…' }] })`);
  }
  // Only the outline here; restoreLoraState checks the entries against the model it builds.
  if (o.lora !== undefined && o.lora !== null && (typeof o.lora !== 'object' || Array.isArray(o.lora))) {
    throw new FormatError(op, `${what} has an invalid lora entry (expected { adapters, trainable, frozenWeights })`);
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
  // The weights the config makes the layers build must all be in the file, so building may
  // allocate a few times the file's size (initializer temporaries) and no more: a hostile
  // number in the config (units: 1e8) is refused before it can take gigabytes.
  const limit = 8 * json.weightsManifest.byteLength + (32 << 20);
  let layer;
  try {
    layer = withAllocationLimit(limit, 'the layers model.json describes', () => deserializeLayer(json.modelConfig, opts.customLayers));
  } catch (e) {
    if (e instanceof ArgumentError && e.op === 'alloc') throw new FormatError(op, `model.json describes layers far larger than its ${json.weightsManifest.byteLength}-byte weights file (${e.message})`);
    throw e;
  }
  if (!(layer instanceof Model)) throw new FormatError(op, `modelConfig describes a ${json.modelConfig.className}, not a model`);
  const model = layer;
  try {
    // Adapters first, so their A and B are weights of the model when the weights are restored.
    if (json.lora !== undefined && json.lora !== null) restoreLoraState(op, model, json.lora);
    const keys = restoreWeights(op, model, json, tensors, false);
    if (opts.compile !== false && json.trainingConfig) {
      compileFromConfig(model, json.trainingConfig);
      restoreOptimizerState(op, model, json, tensors, keys);
    }
    return model;
  } catch (e) {
    model.dispose();
    throw e;
  }
}

/**
 * Writes the weights of a file into an existing model (checked: every weight present, shapes
 * and dtypes equal) and returns each variable's key in the file. Weights are matched by path;
 * with `byPosition`, a model whose layer names differ from the file's (automatic names such
 * as `dense_3` depend on what a process built before) is matched by order instead, when the
 * count and every shape agree. Tensors under `optimizer/` are left to
 * {@link restoreOptimizerState}. @internal
 */
export function restoreWeights(op: string, model: Model, json: ModelJson, tensors: Map<string, SafeTensor>, byPosition: boolean): Map<Variable, string> {
  const entries = model.weightEntries;
  const optNames = new Set((json.optimizerState?.tensors ?? []).map((t) => t.name));
  const fileNames = [...tensors.keys()].filter((n) => !optNames.has(n));
  const want = new Set(entries.map((e) => e.name));
  let names = entries.map((e) => e.name);
  if (byPosition && fileNames.some((n) => !want.has(n))) {
    const manifest = json.weightsManifest.tensors.map((t) => t?.name);
    const sameShapes = manifest.length === entries.length && manifest.every((n, i) => {
      const t = typeof n === 'string' ? tensors.get(n) : undefined;
      const shape = entries[i]!.variable.shape;
      return t !== undefined && t.shape.length === shape.length && t.shape.every((d, k) => d === shape[k]);
    });
    if (sameShapes) names = manifest as string[];
  }
  const known = new Set(names);
  for (const name of fileNames) if (!known.has(name)) throw new FormatError(op, `the weights hold '${name}', which the model does not have`);
  entries.forEach((e, i) => {
    const name = names[i]!;
    const t = tensors.get(name);
    if (t === undefined) throw new FormatError(op, `the weights lack '${name}'`);
    const shape = e.variable.shape;
    if (t.shape.length !== shape.length || t.shape.some((d, k) => d !== shape[k])) {
      throw new FormatError(op, `weight '${name}' has shape [${t.shape.join(',')}] in the file but [${shape.join(',')}] in the model`);
    }
    const { dtype, data } = toHostArray(t);
    if (dtype !== e.variable.dtype) throw new FormatError(op, `weight '${name}' is ${dtype} in the file but ${e.variable.dtype} in the model`);
    const value: Tensor = tensor(data, shape, dtype);
    try {
      assignValue(e.variable, value);
    } finally {
      value.dispose();
    }
  });
  return new Map(entries.map((e, i) => [e.variable, names[i]!]));
}

/**
 * Restores the optimizer state a file holds into the compiled model's optimizer (when both
 * exist), keyed by the weight paths `restoreWeights` matched. @internal
 */
export function restoreOptimizerState(op: string, model: Model, json: ModelJson, tensors: Map<string, SafeTensor>, keys: Map<Variable, string>): void {
  const os = json.optimizerState;
  const opt = statefulOptimizer(model);
  if (os === undefined || os === null || opt === null) return;
  const state: Record<string, Tensor> = {};
  try {
    for (const spec of os.tensors) {
      const t = tensors.get(spec.name);
      if (t === undefined) throw new FormatError(op, `the weights lack the optimizer slot '${spec.name}' the manifest lists`);
      const { dtype, data } = toHostArray(t);
      state[spec.name.slice(OPT_PREFIX.length)] = tensor(data, [...t.shape], dtype);
    }
    const numbers: Record<string, number> = {};
    for (const [k, v] of Object.entries(os.numbers)) {
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new FormatError(op, `optimizerState.numbers.${k} is ${JSON.stringify(v)}; expected a finite number`);
      numbers[k] = v;
    }
    const trainable = new Set(model.trainableWeights);
    try {
      opt.setState({ tensors: state, numbers }, [...keys.keys()].filter((v) => trainable.has(v)), keys);
    } catch (e) {
      throw e instanceof FormatError ? e : new FormatError(op, `the saved optimizer state does not fit the model's optimizer: ${(e as Error).message}`);
    }
  } finally {
    dispose(Object.values(state));
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
