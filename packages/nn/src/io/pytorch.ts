/**
 * Loading a PyTorch `state_dict` (saved as safetensors) into a Tessera model: names are
 * mapped to layers, layouts converted (Linear [out, in] → Dense [in, out]; Conv2d OIHW →
 * HWIO; depthwise Conv2d [c·m, 1, kh, kw] → [kh, kw, c, m]; BatchNorm weight / bias /
 * running statistics; LayerNorm; Embedding), and every tensor that finds no home, every
 * weight left unset and every shape that does not fit is reported by name.
 * @module
 */
import { ArgumentError, FormatError, tensor } from '@tessera/core';
import { parseSafetensors, toHostArray, type SafeTensor, type SafetensorsFile } from '@tessera/data';
import { Container } from '../engine/container.js';
import { Layer } from '../engine/layer.js';
import { Conv2D, DepthwiseConv2D } from '../layers/convolutional.js';
import { Dense, Embedding } from '../layers/core.js';
import { BatchNormalization, LayerNormalization } from '../layers/normalization.js';
import { assignValue } from '../variables.js';

/** Where PyTorch state_dict tensors come from: safetensors bytes, a parsed file, or tensors by name. */
export type StateDictSource = Uint8Array | SafetensorsFile | Map<string, SafeTensor> | Record<string, SafeTensor>;

/**
 * Maps PyTorch names to Tessera weights. A record maps either a full tensor name to a weight
 * path (`'fc1.weight': 'dense_1/kernel'`) or a module prefix to a layer path (`'fc1': 'dense_1'`,
 * the weight then follows from the PyTorch suffix); a function gets each tensor name and
 * returns a weight path, a layer path, or null to skip the tensor.
 */
export type StateDictMapping = Record<string, string> | ((torchName: string) => string | null);

/** Options of {@link loadStateDict}. */
export interface LoadStateDictOptions {
  /** Explicit name mapping; default: by module name where it equals a layer's, else in order. */
  mapping?: StateDictMapping;
  /**
   * Default true: any unmatched tensor, unset weight or shape mismatch throws a FormatError
   * listing them all, and nothing is loaded. False: load what matches and return the report.
   */
  strict?: boolean;
}

/** What {@link loadStateDict} did: every tensor and weight accounted for, by name. */
export interface StateDictReport {
  /** PyTorch tensor → Tessera weight path, for each tensor loaded. */
  loaded: { source: string; target: string }[];
  /** PyTorch tensors that map to no weight of the model. */
  unexpected: string[];
  /** Tessera weight paths that no tensor set. */
  missing: string[];
  /** Tensors that map to a weight but cannot fill it (shape, dtype or kind), with the reason. */
  mismatched: { source: string; target: string; reason: string }[];
  /** Tensors ignored on purpose (BatchNorm `num_batches_tracked`, or mapped to null). */
  skipped: string[];
  /**
   * Modules the default mapping paired with layers by order (not by name), so you can check
   * them: order is only a guess when modules have names (give a `mapping` then).
   */
  pairedByOrder: { module: string; layer: string }[];
}

/** PyTorch parameter suffix → Tessera weight name, per layer class. */
const SUFFIXES: [new (...a: never[]) => Layer, Record<string, string>][] = [
  [Dense, { weight: 'kernel', bias: 'bias' }],
  [DepthwiseConv2D, { weight: 'depthwise_kernel', bias: 'bias' }],
  [Conv2D, { weight: 'kernel', bias: 'bias' }],
  [BatchNormalization, { weight: 'gamma', bias: 'beta', running_mean: 'moving_mean', running_var: 'moving_variance' }],
  [LayerNormalization, { weight: 'gamma', bias: 'beta' }],
  [Embedding, { weight: 'embeddings' }],
];

function suffixesOf(layer: Layer): Record<string, string> | null {
  for (const [cls, map] of SUFFIXES) if (layer instanceof cls) return map;
  return null;
}

/** Layers held in a (non-model) layer's own properties: a composite's sublayers, by property name. */
function childLayers(layer: Layer): [string, Layer][] {
  return Object.entries(layer).filter((e): e is [string, Layer] => e[1] instanceof Layer && e[1] !== layer && e[1].weightEntries.length > 0);
}

/**
 * Layers that own weights, by path: model layers by name (nested models add their name,
 * `encoder/dense_1`), sublayers of composite layers by property (`mha/queryDense`).
 */
function weightLayers(root: Layer): Map<string, Layer> {
  const out = new Map<string, Layer>();
  const walk = (layer: Layer, path: string): void => {
    if (layer instanceof Container) {
      const inner = layer === root ? '' : `${path}/`;
      for (const l of layer.layers) walk(l, inner + l.name);
      return;
    }
    const children = childLayers(layer);
    if (children.length === 0) {
      if (layer.weightEntries.length > 0) out.set(path, layer);
      return;
    }
    for (const [prop, l] of children) walk(l, `${path}/${prop}`);
  };
  walk(root, root.name);
  return out;
}

/** Natural order of dotted module paths: `features.2` before `features.10`. */
function naturalCompare(a: string, b: string): number {
  const pa = a.split('.');
  const pb = b.split('.');
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i]!;
    const y = pb[i]!;
    if (x === y) continue;
    const nx = /^\d+$/.test(x) ? Number(x) : NaN;
    const ny = /^\d+$/.test(y) ? Number(y) : NaN;
    if (!Number.isNaN(nx) && !Number.isNaN(ny)) return nx - ny;
    return x < y ? -1 : 1;
  }
  return pa.length - pb.length;
}

function splitName(name: string): [string, string] {
  const cut = name.lastIndexOf('.');
  return cut < 0 ? ['', name] : [name.slice(0, cut), name.slice(cut + 1)];
}

function toMap(op: string, source: StateDictSource): Map<string, SafeTensor> {
  if (source instanceof Uint8Array) return parseSafetensors(source).tensors;
  if (source instanceof Map) return source;
  if (source !== null && typeof source === 'object') {
    const f = source as SafetensorsFile;
    if (f.tensors instanceof Map) return f.tensors;
    return new Map(Object.entries(source as Record<string, SafeTensor>));
  }
  throw new ArgumentError(op, `expected safetensors bytes, a parsed file or tensors by name, got ${source === null ? 'null' : typeof source}`);
}

const fmt = (s: readonly number[]): string => `[${s.join(', ')}]`;

/**
 * Converts a PyTorch parameter to the Tessera layout of `weight` in `layer`, or explains why
 * it cannot. Returns host data in the target shape.
 */
function convert(layer: Layer, weight: string, t: SafeTensor, want: readonly number[]): { data: Float32Array } | { reason: string } {
  let host;
  try {
    host = toHostArray(t);
  } catch (e) {
    return { reason: (e as Error).message };
  }
  if (host.dtype !== 'float32') return { reason: `dtype ${t.dtype} is not a floating-point type (F32, F16, BF16, F64)` };
  const src = host.data as Float32Array;
  const s = t.shape;
  const mismatch = (expectTorch: readonly number[]) => ({ reason: `shape ${fmt(s)}; layer "${layer.name}" weight '${weight}' ${fmt(want)} needs PyTorch shape ${fmt(expectTorch)}` });
  if (layer instanceof Dense && weight === 'kernel') {
    const [inDim, out] = want as [number, number];
    if (s.length !== 2 || s[0] !== out || s[1] !== inDim) return mismatch([out, inDim]);
    const dst = new Float32Array(inDim * out);
    for (let o = 0; o < out; o++) for (let i = 0; i < inDim; i++) dst[i * out + o] = src[o * inDim + i]!;
    return { data: dst };
  }
  if (layer instanceof DepthwiseConv2D && weight === 'depthwise_kernel') {
    const [kh, kw, c, m] = want as [number, number, number, number];
    if (s.length !== 4 || s[0] !== c * m || s[1] !== 1 || s[2] !== kh || s[3] !== kw) return mismatch([c * m, 1, kh, kw]);
    // PyTorch output channel o = ci·m + mi (groups = c), the channel order Tessera uses too.
    const dst = new Float32Array(kh * kw * c * m);
    for (let ci = 0; ci < c; ci++)
      for (let mi = 0; mi < m; mi++)
        for (let h = 0; h < kh; h++) for (let w = 0; w < kw; w++) dst[((h * kw + w) * c + ci) * m + mi] = src[((ci * m + mi) * kh + h) * kw + w]!;
    return { data: dst };
  }
  if (layer instanceof Conv2D && weight === 'kernel') {
    const [kh, kw, cin, cout] = want as [number, number, number, number];
    if (s.length !== 4 || s[0] !== cout || s[1] !== cin || s[2] !== kh || s[3] !== kw) {
      const grouped = s.length === 4 && s[0] === cout && s[1] !== cin && cin % (s[1] || 1) === 0;
      const r = mismatch([cout, cin, kh, kw]);
      return grouped ? { reason: `${r.reason} (a grouped Conv2d, groups = ${cin / s[1]!}; map it to a DepthwiseConv2D when groups = in channels)` } : r;
    }
    const dst = new Float32Array(kh * kw * cin * cout);
    for (let o = 0; o < cout; o++)
      for (let i = 0; i < cin; i++)
        for (let h = 0; h < kh; h++) for (let w = 0; w < kw; w++) dst[((h * kw + w) * cin + i) * cout + o] = src[((o * cin + i) * kh + h) * kw + w]!;
    return { data: dst };
  }
  // Same layout: biases, normalisation parameters and statistics, embedding tables.
  if (s.length !== want.length || s.some((d, i) => d !== want[i])) return mismatch(want);
  return { data: src };
}

/**
 * Loads a PyTorch `state_dict` saved as safetensors into a Tessera model (or one layer).
 *
 * Names: with `mapping`, as it says. Otherwise PyTorch modules (the name before the last dot)
 * are matched to layers with weights by name first (`fc1` → a layer named `fc1`; dots may
 * be written `_`), and the rest in order: modules in natural path order (`0`, `2`, `10`;
 * right for `nn.Sequential` and numbered children) against layers in model order.
 * Layouts are converted per layer class: Dense (Linear weight transposed), Conv2D (OIHW →
 * HWIO), DepthwiseConv2D (grouped Conv2d with groups = in channels), BatchNormalization
 * (weight, bias, running_mean, running_var; `num_batches_tracked` skipped — set the layer's
 * `epsilon` to PyTorch's 1e-5), LayerNormalization, Embedding. F16, BF16 and F64 tensors are
 * converted to float32.
 *
 * Strict by default: if any tensor is unmatched, any weight left unset or any shape wrong,
 * a FormatError lists every one of them by name and the model is unchanged.
 * @example
 * const report = loadStateDict(model, await readFile('resnet.safetensors'));
 * // or, lenient, with names: loadStateDict(model, bytes, { mapping: { 'fc.weight': 'head/kernel', 'fc.bias': 'head/bias' }, strict: false })
 */
export function loadStateDict(model: Layer, source: StateDictSource, opts: LoadStateDictOptions = {}): StateDictReport {
  const op = 'loadStateDict';
  if (model === null || typeof model !== 'object' || typeof (model as Layer).weightEntries === 'undefined') {
    throw new ArgumentError(op, `expected a model or layer, got ${model === null ? 'null' : typeof model}`);
  }
  if (!model.built) throw new ArgumentError(op, `model "${model.name}" is not built, so its weights do not exist yet; give it an input shape or call it once first`);
  const tensors = toMap(op, source);
  const layers = weightLayers(model);
  const report: StateDictReport = { loaded: [], unexpected: [], missing: [], mismatched: [], skipped: [], pairedByOrder: [] };
  /** source tensor name → [layer path, weight name]. */
  const assignment = new Map<string, [string, string]>();

  const placeInLayer = (name: string, layerPath: string, suffix: string): void => {
    const layer = layers.get(layerPath);
    if (layer === undefined) {
      report.mismatched.push({ source: name, target: layerPath, reason: `the model has no layer with weights at "${layerPath}" (layers: ${[...layers.keys()].join(', ')})` });
      return;
    }
    const map = suffixesOf(layer);
    const weight = map?.[suffix] ?? (layer.weightEntries.some((w) => w.name === suffix) ? suffix : undefined);
    if (weight === undefined) {
      report.mismatched.push({ source: name, target: layerPath, reason: `layer "${layerPath}" (${layer.className}) has no weight for PyTorch parameter '${suffix}' (weights: ${layer.weightEntries.map((w) => w.name).join(', ')})` });
      return;
    }
    assignment.set(name, [layerPath, weight]);
  };

  const names = [...tensors.keys()];
  const mapping = opts.mapping;
  if (mapping !== undefined) {
    if (typeof mapping !== 'function' && (mapping === null || typeof mapping !== 'object')) throw new ArgumentError(op, 'mapping must be a record of names or a function');
    for (const name of names) {
      const [prefix, suffix] = splitName(name);
      let target: string | null | undefined;
      if (typeof mapping === 'function') target = mapping(name);
      else target = Object.prototype.hasOwnProperty.call(mapping, name) ? mapping[name] : Object.prototype.hasOwnProperty.call(mapping, prefix) ? mapping[prefix] : undefined;
      if (target === null) {
        report.skipped.push(name);
        continue;
      }
      if (target === undefined) {
        if (suffix === 'num_batches_tracked') report.skipped.push(name);
        else report.unexpected.push(name);
        continue;
      }
      if (typeof target !== 'string') throw new ArgumentError(op, `mapping gave ${typeof target} for "${name}"; expected a weight path, a layer path or null`);
      if (layers.has(target)) placeInLayer(name, target, suffix);
      else {
        const cut = target.lastIndexOf('/');
        const lp = target.slice(0, cut);
        const layer = layers.get(lp);
        if (cut > 0 && layer !== undefined && layer.weightEntries.some((w) => w.name === target.slice(cut + 1))) assignment.set(name, [lp, target.slice(cut + 1)]);
        else report.mismatched.push({ source: name, target, reason: `"${target}" is neither a layer with weights nor a weight of the model (layers: ${[...layers.keys()].join(', ')})` });
      }
    }
  } else {
    // Group by module; match by name, then in order.
    const modules = new Map<string, string[]>();
    for (const name of names) {
      const [prefix, suffix] = splitName(name);
      if (suffix === 'num_batches_tracked') {
        report.skipped.push(name);
        continue;
      }
      const list = modules.get(prefix);
      if (list === undefined) modules.set(prefix, [name]);
      else list.push(name);
    }
    const free = new Set(layers.keys());
    const byOrder: string[] = [];
    for (const prefix of modules.keys()) {
      const candidates = [prefix, prefix.replace(/\./g, '_'), prefix.replace(/\./g, '/')];
      const hit = candidates.find((c) => free.has(c));
      if (hit !== undefined) {
        free.delete(hit);
        for (const name of modules.get(prefix)!) placeInLayer(name, hit, splitName(name)[1]);
      } else byOrder.push(prefix);
    }
    byOrder.sort(naturalCompare);
    const rest = [...layers.keys()].filter((p) => free.has(p));
    byOrder.forEach((prefix, i) => {
      const lp = rest[i];
      if (lp !== undefined) report.pairedByOrder.push({ module: prefix, layer: lp });
      for (const name of modules.get(prefix)!) {
        if (lp === undefined) report.unexpected.push(name);
        else placeInLayer(name, lp, splitName(name)[1]);
      }
    });
  }

  // Convert and check every assigned tensor; collect the values to set.
  const values = new Map<string, { layer: Layer; weight: string; data: Float32Array; shape: number[]; source: string }>();
  for (const [name, [lp, weight]] of assignment) {
    const layer = layers.get(lp)!;
    const entry = layer.weightEntries.find((w) => w.name === weight)!;
    const target = `${lp}/${weight}`;
    if (values.has(target)) {
      report.mismatched.push({ source: name, target, reason: `weight already set from "${values.get(target)!.source}"` });
      continue;
    }
    const r = convert(layer, weight, tensors.get(name)!, entry.variable.shape);
    if ('reason' in r) report.mismatched.push({ source: name, target, reason: r.reason });
    else values.set(target, { layer, weight, data: r.data, shape: [...entry.variable.shape], source: name });
  }
  for (const [lp, layer] of layers) {
    for (const w of layer.weightEntries) {
      const target = `${lp}/${w.name}`;
      if (!values.has(target) && !report.mismatched.some((m) => m.target === target)) report.missing.push(target);
    }
  }

  const problems = report.unexpected.length + report.missing.length + report.mismatched.length;
  if (problems > 0 && opts.strict !== false) {
    const lines = [
      ...report.mismatched.map((m) => `  mis-matched: "${m.source}" -> ${m.target}: ${m.reason}`),
      ...report.unexpected.map((n) => `  unexpected: "${n}" maps to no weight of the model`),
      ...report.missing.map((n) => `  missing: weight ${n} is set by no tensor`),
    ];
    throw new FormatError(op, `state_dict does not fit model "${model.name}" (${problems} problem${problems === 1 ? '' : 's'}; nothing was loaded; pass { strict: false } to load what fits, or a mapping):\n${lines.join('\n')}`);
  }
  for (const [target, v] of values) {
    const entry = v.layer.weightEntries.find((w) => w.name === v.weight)!;
    const t = tensor(v.data, v.shape, 'float32');
    try {
      assignValue(entry.variable, t);
    } finally {
      t.dispose();
    }
    report.loaded.push({ source: v.source, target });
  }
  return report;
}
