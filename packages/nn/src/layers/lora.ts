/**
 * LoRA (low-rank adaptation, Hu et al. 2021) for Dense layers — and so for the attention
 * projections, which are Dense sublayers (`mha.queryDense` …). An adapter adds
 * `scale · (x·A)·B` to a Dense layer's pre-activation output (`A` [in, rank], `B` [rank, out],
 * `scale = alpha / rank`) and freezes the layer's kernel and bias, so training moves only A
 * and B. `B` starts at zero: attaching an adapter leaves the output unchanged. `merge()`
 * folds `scale·A·B` into the kernel; adapters save and load on their own as safetensors, and
 * with the model (`model.save` records them, `loadModel` re-attaches them; see {@link LoraState}).
 *
 * The adapter patches the layer in place (its weights join the layer's, as Keras's
 * `Dense.enable_lora` does), so it works wherever the layer sits — in a Sequential or
 * functional model or inside another layer — without rebuilding the model.
 * @module
 */
import type { Variable } from '@tessera/autograd';
import { noGrad } from '@tessera/autograd';
import { add, ArgumentError, FormatError, linear, matmul, mul, ShapeError, tensor, type Tensor } from '@tessera/core';
import { fromHostArray, parseSafetensors, serializeSafetensors, toHostArray, type SafeTensor } from '@tessera/data';
import { Container } from '../engine/container.js';
import { Layer } from '../engine/layer.js';
import { heUniform, type InitializerIdentifier } from '../initializers.js';
import { assignValue } from '../variables.js';
import { Dense } from './core.js';

/** Options of {@link loraAdapter}. */
export interface LoraOptions {
  /** The rank `r` of the update (a positive integer, at most min(in, out)). */
  rank: number;
  /** The update is scaled by `alpha / rank` (default `alpha = rank`, scale 1). */
  alpha?: number;
  /** Initializer of `A` (default He-uniform, as PEFT's Kaiming-uniform); `B` is always zeros. */
  aInitializer?: InitializerIdentifier;
  /** Seed of `A`'s default initializer, for reproducible adapters. */
  seed?: number;
}

const attached = new WeakMap<Dense, LoraAdapter>();

/**
 * A LoRA adapter attached to a Dense layer (made by {@link loraAdapter}).
 * @example
 * const ad = loraAdapter(model.getLayer('dense_1') as Dense, { rank: 4, alpha: 8 });
 * await model.fit(x, y, { epochs: 3 });   // only ad.a and ad.b move
 * ad.merge();                              // kernel += (alpha/rank)·A·B; the layer is plain again
 */
export class LoraAdapter {
  /** The rank of the update. */
  readonly rank: number;
  /** The scaling numerator: the update is `(alpha / rank) · A·B`. */
  readonly alpha: number;
  private aVar: Variable | null;
  private bVar: Variable | null;
  /** The base weights' trainable flags before attaching, restored on merge/remove (and saved with the model). @internal */
  readonly baseFlags: readonly [string, boolean][];

  /** @internal Use {@link loraAdapter}. */
  constructor(
    /** The adapted layer. */
    readonly layer: Dense,
    opts: LoraOptions,
  ) {
    const op = 'loraAdapter';
    if (!(layer instanceof Dense)) throw new ArgumentError(op, `expected a Dense layer (or an attention projection such as mha.queryDense), got ${layer === null ? 'null' : (layer as object)?.constructor?.name ?? typeof layer}`);
    if (layer.isDisposed) throw new ArgumentError(op, `layer "${layer.name}" was disposed`);
    if (!layer.built || layer.kernel === null) {
      throw new ArgumentError(op, `layer "${layer.name}" is not built yet, so its input size is unknown; build the model (or call the layer) first`);
    }
    if (attached.has(layer)) throw new ArgumentError(op, `layer "${layer.name}" already has a LoRA adapter; merge() or remove() it first`);
    const [inDim, outDim] = layer.kernel.shape as [number, number];
    const rank = opts?.rank;
    if (!Number.isInteger(rank) || rank < 1) throw new ArgumentError(op, `rank must be a positive integer, got ${String(rank)}`);
    if (rank > Math.min(inDim, outDim)) {
      throw new ArgumentError(op, `rank ${rank} exceeds min(in, out) = ${Math.min(inDim, outDim)} of layer "${layer.name}" (kernel [${inDim}, ${outDim}]); a low-rank update needs rank <= both`);
    }
    const alpha = opts.alpha ?? rank;
    if (typeof alpha !== 'number' || !Number.isFinite(alpha)) throw new ArgumentError(op, `alpha must be a finite number, got ${String(alpha)}`);
    this.rank = rank;
    this.alpha = alpha;
    this.baseFlags = layer.weightEntries.map((w) => [w.name, w.trainable]);
    this.aVar = layer.addWeight('lora_a', [inDim, rank], { initializer: opts.aInitializer ?? heUniform({ seed: opts.seed }), regularizer: null });
    this.bVar = layer.addWeight('lora_b', [rank, outDim], { initializer: 'zeros', regularizer: null });
    for (const [name] of this.baseFlags) layer.setWeightTrainable(name, false);
    layer.kernelDelta = (x) => this.delta(x);
    attached.set(layer, this);
  }

  /** `alpha / rank`. */
  get scale(): number {
    return this.alpha / this.rank;
  }

  /** True until `merge()` or `remove()`. */
  get active(): boolean {
    return this.aVar !== null;
  }

  /** The down-projection `A` [in, rank]. */
  get a(): Variable {
    return this.require('a').aVar!;
  }

  /** The up-projection `B` [rank, out] (zeros at first). */
  get b(): Variable {
    return this.require('b').bVar!;
  }

  /** The adapter's trainable variables, `[A, B]`. */
  get trainableWeights(): Variable[] {
    return this.active ? [this.aVar!, this.bVar!] : [];
  }

  private require(op: string): this {
    if (!this.active) throw new ArgumentError(`LoraAdapter.${op}`, `the adapter of layer "${this.layer.name}" was merged or removed`);
    return this;
  }

  /** `scale · (x·A)·B`, intermediates freed. */
  private delta(x: Tensor): Tensor {
    const h = linear(x, this.aVar!.value, null);
    const d = linear(h, this.bVar!.value, null);
    h.dispose();
    if (this.scale === 1) return d;
    const out = mul(d, this.scale);
    d.dispose();
    return out;
  }

  /**
   * Folds the update into the base kernel (`kernel += scale·A·B`), detaches the adapter and
   * restores the base weights' trainable flags. The layer computes the same function as
   * before, as a plain Dense layer.
   * @example ad.merge(); await model.save('./merged');
   */
  merge(): void {
    this.require('merge');
    const kernel = this.layer.kernel!;
    noGrad(() => {
      const ab = matmul(this.aVar!.value, this.bVar!.value);
      const scaled = mul(ab, this.scale);
      const next = add(kernel.value, scaled);
      assignValue(kernel, next);
      for (const t of [ab, scaled, next]) t.dispose();
    });
    this.detach();
  }

  /**
   * Detaches the adapter without merging it (the layer returns to its base weights).
   * @example ad.remove();
   */
  remove(): void {
    this.require('remove');
    this.detach();
  }

  private detach(): void {
    const layer = this.layer;
    layer.kernelDelta = null;
    layer.removeWeight('lora_a').dispose();
    layer.removeWeight('lora_b').dispose();
    for (const [name, flag] of this.baseFlags) layer.setWeightTrainable(name, flag);
    this.aVar = null;
    this.bVar = null;
    attached.delete(layer);
  }
}

/**
 * Attaches a LoRA adapter to a built Dense layer (or an attention projection such as
 * `mha.queryDense`): freezes its kernel and bias and adds trainable `A` [in, rank] (He-uniform)
 * and `B` [rank, out] (zeros), so the output is unchanged until training moves them.
 * The adapter's weights appear in the layer's (and model's) `trainableWeights` as
 * `<layer>/lora_a` and `<layer>/lora_b`; `model.save` keeps them (the loaded model has the adapter).
 * @example
 * base.trainable = false;                             // freeze everything else
 * const head = model.getLayer('dense_2') as Dense;
 * head.trainable = true;
 * const ad = loraAdapter(head, { rank: 4, alpha: 8 });
 */
export function loraAdapter(layer: Dense, opts: LoraOptions): LoraAdapter {
  return new LoraAdapter(layer, opts);
}

/** The adapter attached to `layer`, or null. @example loraAdapterOf(dense)?.merge() */
export function loraAdapterOf(layer: Dense): LoraAdapter | null {
  return attached.get(layer) ?? null;
}

/**
 * Layers held in a (non-model) layer's own properties — a composite's sublayers, such as an
 * attention layer's `queryDense` or a transformer block's attention layer — by property name.
 */
function childLayers(layer: Layer): [string, Layer][] {
  return Object.entries(layer).filter((e): e is [string, Layer] => e[1] instanceof Layer && e[1] !== layer);
}

/**
 * Every layer reachable from `root` (root excluded), parents before their children, by path:
 * model layers by name (nested models add their name, `encoder/dense_1`) and sublayers by
 * property (`mha/queryDense`, `block/attention/valueDense`). Dense layers are leaves.
 */
function layerPaths(root: Layer): Map<string, Layer> {
  const out = new Map<string, Layer>();
  const seen = new Set<Layer>();
  const walk = (layer: Layer, path: string): void => {
    if (seen.has(layer)) return;
    seen.add(layer);
    if (layer !== root) out.set(path, layer);
    if (layer instanceof Dense) return;
    if (layer instanceof Container) {
      const inner = layer === root ? '' : `${path}/`;
      for (const l of layer.layers) walk(l, inner + l.name);
      return;
    }
    for (const [prop, l] of childLayers(layer)) walk(l, `${path}/${prop}`);
  };
  walk(root, root.name);
  return out;
}

/**
 * Every Dense layer reachable from `root` by path: model layers by name (nested models add
 * their name, `encoder/dense_1`) and Dense sublayers by property (`mha/queryDense`,
 * `block/attention/valueDense`).
 * @example for (const [path, dense] of loraTargets(model)) console.log(path, dense.units);
 */
export function loraTargets(root: Layer): Map<string, Dense> {
  const out = new Map<string, Dense>();
  // A Dense root is its own only target (the walk lists what lies below the root).
  if (root instanceof Dense) return out.set(root.name, root);
  for (const [path, layer] of layerPaths(root)) if (layer instanceof Dense) out.set(path, layer);
  return out;
}

/** Options of {@link applyLora}. */
export interface ApplyLoraOptions extends LoraOptions {
  /**
   * Which Dense layers get adapters (paths as {@link loraTargets} names them): a list of
   * paths, a pattern, or a predicate. Default: every Dense layer.
   */
  targets?: readonly string[] | RegExp | ((path: string, layer: Dense) => boolean);
  /** Freeze every other layer of the model (default true), so only adapters train. */
  freezeOthers?: boolean;
}

/**
 * Attaches adapters to the chosen Dense layers of a model and (by default) freezes every
 * other layer, so `fit` trains only the adapters. Returns the adapters in path order.
 * @example
 * const adapters = applyLora(model, { rank: 4, alpha: 8, targets: /queryDense|valueDense/ });
 * model.compile({ optimizer: adam({ learningRate: 1e-3 }), loss: 'sparse_categorical_crossentropy' });
 */
export function applyLora(model: Layer, opts: ApplyLoraOptions): LoraAdapter[] {
  const all = loraTargets(model);
  const t = opts.targets;
  if (Array.isArray(t)) {
    for (const p of t) if (!all.has(p)) throw new ArgumentError('applyLora', `no Dense layer at path "${p}" (Dense layers: ${[...all.keys()].join(', ') || 'none'})`);
  }
  const chosen = [...all].filter(([path, layer]) => (t === undefined ? true : Array.isArray(t) ? t.includes(path) : t instanceof RegExp ? t.test(path) : (t as (p: string, l: Dense) => boolean)(path, layer)));
  if (chosen.length === 0) throw new ArgumentError('applyLora', `no Dense layer matches targets (Dense layers: ${[...all.keys()].join(', ') || 'none'})`);
  const chosenSet = new Set(chosen.map(([, l]) => l));
  if (opts.freezeOthers !== false) {
    const holdsTarget = (layer: Layer): boolean => [...loraTargets(layer).values()].some((d) => chosenSet.has(d));
    const freeze = (layer: Layer): void => {
      if (layer instanceof Container) {
        for (const l of layer.layers) freeze(l);
      } else if (!holdsTarget(layer)) {
        layer.trainable = false;
      } else if (!(layer instanceof Dense)) {
        // A composite holding a target stays trainable: freeze its own weights and recurse.
        for (const w of layer.weightEntries) if (!w.name.includes('/')) layer.setWeightTrainable(w.name, false);
        for (const [, l] of childLayers(layer)) freeze(l);
      }
    };
    freeze(model);
  }
  return chosen.map(([, layer]) => loraAdapter(layer, opts));
}

/**
 * Serialises the active adapters of a model (or a list of adapters) alone — a few KiB instead
 * of the whole model — as safetensors: `<path>/lora_a`, `<path>/lora_b` (F32) and metadata
 * `{ format: 'tessera-lora', adapters: JSON { path: { rank, alpha } } }`.
 * @example await writeFile('adapters.safetensors', await saveLoraAdapters(model));
 */
export async function saveLoraAdapters(model: Layer): Promise<Uint8Array> {
  const tensors: Record<string, SafeTensor> = {};
  const info: Record<string, { rank: number; alpha: number }> = {};
  for (const [path, layer] of loraTargets(model)) {
    const ad = attached.get(layer);
    if (ad === undefined) continue;
    for (const [suffix, v] of [['lora_a', ad.a], ['lora_b', ad.b]] as const) {
      tensors[`${path}/${suffix}`] = fromHostArray((await v.value.data()) as Float32Array, [...v.shape], 'float32');
    }
    info[path] = { rank: ad.rank, alpha: ad.alpha };
  }
  if (Object.keys(info).length === 0) throw new ArgumentError('saveLoraAdapters', `model "${model.name}" has no active LoRA adapter`);
  return serializeSafetensors(tensors, { format: 'tessera-lora', adapters: JSON.stringify(info) });
}

/**
 * Loads adapters saved by {@link saveLoraAdapters} into a model with the same layers:
 * attaches an adapter (rank and alpha from the file) to each named layer that has none,
 * checks shapes, and sets A and B. Returns the adapters. A file naming a missing layer, or
 * with wrong shapes or a malformed header, raises a FormatError / ShapeError naming it.
 * @example const adapters = loadLoraAdapters(model, await readFile('adapters.safetensors'));
 */
export function loadLoraAdapters(model: Layer, bytes: Uint8Array): LoraAdapter[] {
  const op = 'loadLoraAdapters';
  const file = parseSafetensors(bytes);
  if (file.metadata.format !== 'tessera-lora' || typeof file.metadata.adapters !== 'string') {
    throw new FormatError(op, `not a LoRA adapter file: metadata.format is ${JSON.stringify(file.metadata.format)}, expected "tessera-lora" with an "adapters" entry`);
  }
  let info: Record<string, { rank: number; alpha: number }>;
  try {
    info = JSON.parse(file.metadata.adapters) as typeof info;
  } catch {
    throw new FormatError(op, 'metadata.adapters is not valid JSON');
  }
  if (info === null || typeof info !== 'object' || Array.isArray(info)) throw new FormatError(op, 'metadata.adapters must be an object { path: { rank, alpha } }');
  const targets = loraTargets(model);
  const expected = new Set<string>();
  const plan: [Dense, string, { rank: number; alpha: number }][] = [];
  for (const [path, meta] of Object.entries(info)) {
    const layer = targets.get(path);
    if (layer === undefined) throw new FormatError(op, `adapter for "${path}": the model has no Dense layer there (Dense layers: ${[...targets.keys()].join(', ') || 'none'})`);
    if (meta === null || typeof meta !== 'object' || !Number.isInteger(meta.rank) || typeof meta.alpha !== 'number') {
      throw new FormatError(op, `adapter for "${path}": expected { rank: integer, alpha: number }, got ${JSON.stringify(meta)}`);
    }
    for (const s of ['lora_a', 'lora_b']) {
      if (!file.tensors.has(`${path}/${s}`)) throw new FormatError(op, `adapter for "${path}": tensor "${path}/${s}" is missing`);
      expected.add(`${path}/${s}`);
    }
    plan.push([layer, path, meta]);
  }
  for (const name of file.tensors.keys()) if (!expected.has(name)) throw new FormatError(op, `tensor "${name}" belongs to no adapter listed in the metadata`);
  // Check every shape before changing the model, so a bad file leaves it untouched.
  for (const [layer, path, meta] of plan) {
    const [inDim, outDim] = layer.kernel!.shape as [number, number];
    const want: Record<string, number[]> = { lora_a: [inDim, meta.rank], lora_b: [meta.rank, outDim] };
    for (const s of ['lora_a', 'lora_b']) {
      const t = file.tensors.get(`${path}/${s}`)!;
      if (t.shape.length !== 2 || t.shape[0] !== want[s]![0] || t.shape[1] !== want[s]![1]) {
        throw new ShapeError(op, `tensor "${path}/${s}" has shape [${t.shape.join(', ')}]; layer "${layer.name}" (kernel [${inDim}, ${outDim}]) with rank ${meta.rank} needs [${want[s]!.join(', ')}]`);
      }
    }
    const existing = attached.get(layer);
    if (existing !== undefined && (existing.rank !== meta.rank || existing.alpha !== meta.alpha)) {
      throw new ArgumentError(op, `layer "${path}" already has an adapter of rank ${existing.rank}, alpha ${existing.alpha}; the file's is rank ${meta.rank}, alpha ${meta.alpha} (remove() it first)`);
    }
  }
  return plan.map(([layer, path, meta]) => {
    const ad = attached.get(layer) ?? loraAdapter(layer, { rank: meta.rank, alpha: meta.alpha });
    for (const [s, v] of [['lora_a', ad.a], ['lora_b', ad.b]] as const) {
      const host = toHostArray(file.tensors.get(`${path}/${s}`)!);
      const value = tensor(host.data as Float32Array, [...v.shape], 'float32');
      assignValue(v, value);
      value.dispose();
    }
    return ad;
  });
}

/** One active adapter as a saved model records it. */
export interface SavedLoraAdapter {
  /** The rank of the update. */
  rank: number;
  /** The scaling numerator (`scale = alpha / rank`). */
  alpha: number;
  /** The adapted layer's own weights' trainable flags before the adapter froze them (restored by `merge`/`remove`). */
  baseTrainable: Record<string, boolean>;
}

/**
 * What a saved model (`model.json`'s `lora` entry) records so that it loads with its active
 * LoRA adapters: the adapters by Dense path (as {@link loraTargets} names them; their `A` and
 * `B` are ordinary weights of the file, `<layer>/lora_a` and `<layer>/lora_b`), and the
 * fine-tuning setup around them — every layer's trainable flag by path and the individually
 * frozen weights — because a layer's config does not record its sublayers' flags (an
 * attention layer's frozen `keyDense`), and without them training after loading would move
 * weights that training before saving left alone.
 */
export interface LoraState {
  /** Active adapters by Dense path. */
  adapters: Record<string, SavedLoraAdapter>;
  /** Each layer's `trainable` flag by path (sublayers included), parents first. */
  trainable: Record<string, boolean>;
  /** Own weights frozen with `setWeightTrainable` (`<layer path>/<weight>`), adapted layers' base weights excluded. */
  frozenWeights: string[];
}

/** The own weights of a layer (a composite's sublayers' entries carry a `/`). */
function ownWeights(layer: Layer): { name: string; trainable: boolean }[] {
  return layer instanceof Container ? [] : layer.weightEntries.filter((w) => !w.name.includes('/'));
}

/**
 * The LoRA state to save with a model, or null when no adapter is active (the model then
 * saves exactly as a model without LoRA). @internal
 */
export function loraState(model: Layer): LoraState | null {
  const paths = layerPaths(model);
  const adapters: Record<string, SavedLoraAdapter> = {};
  for (const [path, layer] of paths) {
    const ad = layer instanceof Dense ? attached.get(layer) : undefined;
    if (ad !== undefined) adapters[path] = { rank: ad.rank, alpha: ad.alpha, baseTrainable: Object.fromEntries(ad.baseFlags) };
  }
  if (Object.keys(adapters).length === 0) return null;
  const trainable: Record<string, boolean> = {};
  const frozenWeights: string[] = [];
  for (const [path, layer] of paths) {
    trainable[path] = layer.trainable;
    if (path in adapters) continue;
    for (const w of ownWeights(layer)) if (!w.trainable) frozenWeights.push(`${path}/${w.name}`);
  }
  return { adapters, trainable, frozenWeights };
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Re-attaches the adapters a saved model records (see {@link LoraState}) to a freshly built
 * model and restores its trainable flags, before the weights are restored (which then fill
 * `A` and `B` like any other weight). Everything is checked before the model changes; a
 * malformed entry or a path the model lacks is a FormatError naming it. @internal
 */
export function restoreLoraState(op: string, model: Layer, state: unknown): LoraAdapter[] {
  const where = 'model.json lora';
  if (!isRecord(state) || !isRecord(state.adapters) || !isRecord(state.trainable) || !Array.isArray(state.frozenWeights)) {
    throw new FormatError(op, `${where} must be { adapters: { path: { rank, alpha, baseTrainable } }, trainable: { path: boolean }, frozenWeights: string[] }`);
  }
  const paths = layerPaths(model);
  const targets = loraTargets(model);
  const plan: [Dense, number, number, [string, boolean][]][] = [];
  for (const [path, meta] of Object.entries(state.adapters)) {
    const layer = targets.get(path);
    if (layer === undefined) throw new FormatError(op, `${where}: adapter for "${path}", but the model has no Dense layer there (Dense layers: ${[...targets.keys()].join(', ') || 'none'})`);
    if (!isRecord(meta) || !isRecord(meta.baseTrainable)) throw new FormatError(op, `${where}: adapter for "${path}" must be { rank, alpha, baseTrainable }, got ${JSON.stringify(meta)}`);
    const { rank, alpha } = meta;
    const [inDim, outDim] = layer.kernel!.shape as [number, number];
    if (typeof rank !== 'number' || !Number.isInteger(rank) || rank < 1 || rank > Math.min(inDim, outDim)) {
      throw new FormatError(op, `${where}: adapter for "${path}" has rank ${JSON.stringify(rank)}; layer "${layer.name}" (kernel [${inDim}, ${outDim}]) takes an integer in 1..${Math.min(inDim, outDim)}`);
    }
    if (typeof alpha !== 'number' || !Number.isFinite(alpha)) throw new FormatError(op, `${where}: adapter for "${path}" has alpha ${JSON.stringify(alpha)}; expected a finite number`);
    const names = layer.weightEntries.map((w) => w.name);
    const flags = Object.entries(meta.baseTrainable);
    if (flags.length !== names.length || flags.some(([n, f]) => !names.includes(n) || typeof f !== 'boolean')) {
      throw new FormatError(op, `${where}: adapter for "${path}" has baseTrainable ${JSON.stringify(meta.baseTrainable)}; expected a boolean for each of ${names.join(', ')}`);
    }
    if (attached.has(layer)) throw new FormatError(op, `${where}: layer "${path}" already has an adapter`);
    plan.push([layer, rank, alpha, flags as [string, boolean][]]);
  }
  for (const [path, flag] of Object.entries(state.trainable)) {
    if (!paths.has(path)) throw new FormatError(op, `${where}: trainable flag for "${path}", but the model has no layer there`);
    if (typeof flag !== 'boolean') throw new FormatError(op, `${where}: trainable flag for "${path}" is ${JSON.stringify(flag)}; expected a boolean`);
  }
  const frozen: [Layer, string][] = state.frozenWeights.map((p: unknown) => {
    const cut = typeof p === 'string' ? p.lastIndexOf('/') : -1;
    const layer = cut > 0 ? paths.get((p as string).slice(0, cut)) : undefined;
    const name = cut > 0 ? (p as string).slice(cut + 1) : '';
    if (layer === undefined || !ownWeights(layer).some((w) => w.name === name)) throw new FormatError(op, `${where}: frozen weight ${JSON.stringify(p)} is not a weight of the model`);
    return [layer, name];
  });
  // Parents first (the map's order), so a parent's cascade never overrides a child's own flag.
  for (const [path, layer] of paths) {
    const flag = state.trainable[path];
    if (typeof flag === 'boolean') layer.trainable = flag;
  }
  for (const [layer, name] of frozen) layer.setWeightTrainable(name, false);
  return plan.map(([layer, rank, alpha, flags]) => {
    for (const [name, flag] of flags) layer.setWeightTrainable(name, flag);
    return loraAdapter(layer, { rank, alpha });
  });
}
