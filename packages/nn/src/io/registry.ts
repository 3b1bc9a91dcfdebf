/**
 * The layer registry: class names in saved configs → classes. Built-in layers are known;
 * custom layers are registered with {@link registerLayer} or passed to `loadModel` as
 * `customLayers` (an explicit registry, so loading never depends on import side effects).
 * @module
 */
import { ArgumentError, FormatError, TesseraError } from '@tessera/core';
import { type Layer, type LayerClass, SymbolicTensor } from '../engine/layer.js';
import { Model, Sequential } from '../engine/model.js';
import { AveragePooling2D, Conv2D, DepthwiseConv2D, GlobalAveragePooling2D, GlobalMaxPooling2D, MaxPooling2D } from '../layers/convolutional.js';
import { Activation, Add, Concatenate, Dense, Dropout, Embedding, Flatten, InputLayer, Reshape } from '../layers/core.js';
import { BatchNormalization, LayerNormalization } from '../layers/normalization.js';
import { MultiHeadAttention } from '../layers/attention.js';
import { PositionEmbedding, RotaryEmbedding, SinusoidalPositionEncoding, TokenAndPositionEmbedding } from '../layers/position.js';
import { TransformerDecoder, TransformerEncoder } from '../layers/transformer.js';
import type { Shape } from '../util.js';

const custom = new Map<string, LayerClass>();

function builtins(): Record<string, LayerClass> {
  return {
    InputLayer,
    Dense,
    Flatten,
    Reshape,
    Dropout,
    Activation,
    Embedding,
    Add,
    Concatenate,
    BatchNormalization,
    LayerNormalization,
    Conv2D,
    DepthwiseConv2D,
    MaxPooling2D,
    AveragePooling2D,
    GlobalAveragePooling2D,
    GlobalMaxPooling2D,
    MultiHeadAttention,
    TransformerEncoder,
    TransformerDecoder,
    PositionEmbedding,
    SinusoidalPositionEncoding,
    TokenAndPositionEmbedding,
    RotaryEmbedding,
    Sequential: { className: 'Sequential', fromConfig: sequentialFromConfig },
    Functional: { className: 'Functional', fromConfig: functionalFromConfig },
    Model: { className: 'Model', fromConfig: functionalFromConfig },
  };
}

/**
 * Makes a custom layer class loadable by its `className` (the class needs a static
 * `className` and a static `fromConfig(config)`).
 * @example registerLayer(MyScale); const m = await loadModel('./model');
 */
export function registerLayer(cls: LayerClass): void {
  const c = cls as unknown as { fromConfig?: unknown; className?: unknown } | null;
  if (c === null || !['function', 'object'].includes(typeof c) || typeof c.fromConfig !== 'function' || typeof c.className !== 'string') {
    throw new ArgumentError('registerLayer', 'expected a layer class with a static className and a static fromConfig(config)');
  }
  custom.set(cls.className, cls);
}

/** A saved layer: its class name and constructor config. */
export interface LayerConfig {
  className: string;
  config: Record<string, unknown>;
}

/**
 * Recreates a layer (or model) from its saved config. Weights are not restored.
 * @example const layer = deserializeLayer({ className: 'Dense', config: { units: 3 } });
 */
export function deserializeLayer(cfg: LayerConfig, customLayers: Record<string, LayerClass> = {}): Layer {
  if (cfg === null || typeof cfg !== 'object' || typeof cfg.className !== 'string' || cfg.config === null || typeof cfg.config !== 'object') {
    throw new FormatError('deserializeLayer', `expected { className, config }, got ${JSON.stringify(cfg)?.slice(0, 200)}`);
  }
  const cls = customLayers[cfg.className] ?? custom.get(cfg.className) ?? builtins()[cfg.className];
  if (cls === undefined) {
    throw new ArgumentError('deserializeLayer', `unknown layer class '${cfg.className}'; register it with registerLayer(${cfg.className}) or pass { customLayers: { ${cfg.className} } }`);
  }
  try {
    return cls.fromConfig(cfg.config, customLayers);
  } catch (e) {
    // A config of the right shape but with values of the wrong type (a file edited or damaged
    // by hand) must give a typed error naming the layer, not a TypeError from deep inside it.
    if (e instanceof TesseraError) throw e;
    throw new FormatError('deserializeLayer', `invalid config for a ${cfg.className}${typeof cfg.config.name === 'string' ? ` ("${cfg.config.name}")` : ''}: ${(e as Error)?.message ?? String(e)}`);
  }
}

function sequentialFromConfig(config: Record<string, unknown>, customLayers?: Record<string, LayerClass>): Sequential {
  const layerCfgs = config.layers;
  if (!Array.isArray(layerCfgs)) throw new FormatError('loadModel', 'Sequential config has no layers list');
  const layers: Layer[] = [];
  try {
    for (const c of layerCfgs) layers.push(deserializeLayer(c as LayerConfig, customLayers));
    const m = new Sequential({ name: typeof config.name === 'string' ? config.name : undefined, layers });
    const shape = config.buildInputShape as Shape | null | undefined;
    if (!m.built && Array.isArray(shape) && layers.length > 0) m.ensureBuilt(shape);
    if (config.trainable === false) m.trainable = false;
    return m;
  } catch (e) {
    // The layers built before the failure own weights: free them, or a bad file leaks them.
    for (const l of layers) l.dispose();
    throw e;
  }
}

type Ref = [string, number, number];

interface FunctionalLayerConfig extends LayerConfig {
  name: string;
  inboundNodes: { inputs: Ref[]; asList: boolean; callOptions: Record<string, unknown> }[];
}

function functionalFromConfig(config: Record<string, unknown>, customLayers?: Record<string, LayerClass>): Model {
  const cfgs = config.layers as FunctionalLayerConfig[] | undefined;
  if (!Array.isArray(cfgs)) throw new FormatError('loadModel', 'functional model config has no layers list');
  const layers = new Map<string, Layer>();
  try {
    return functionalGraph(config, cfgs, layers, customLayers);
  } catch (e) {
    for (const l of layers.values()) l.dispose();
    throw e;
  }
}

function functionalGraph(config: Record<string, unknown>, cfgs: FunctionalLayerConfig[], layers: Map<string, Layer>, customLayers?: Record<string, LayerClass>): Model {
  const outputs = new Map<string, SymbolicTensor[][]>();
  const pending: { layer: Layer; specs: FunctionalLayerConfig['inboundNodes'] }[] = [];
  for (const c of cfgs) {
    const layer = deserializeLayer(c, customLayers);
    if (layers.has(layer.name)) {
      layer.dispose();
      throw new FormatError('loadModel', `layer name "${layer.name}" appears twice`);
    }
    layers.set(layer.name, layer);
    if (layer instanceof InputLayer) outputs.set(layer.name, [[layer.inboundNodes[0]!.outputs[0]!]]);
    else {
      outputs.set(layer.name, []);
      pending.push({ layer, specs: [...(c.inboundNodes ?? [])] });
    }
  }
  const lookup = (r: Ref): SymbolicTensor | undefined => outputs.get(r[0])?.[r[1]]?.[r[2]];
  let progress = true;
  while (progress) {
    progress = false;
    for (const p of pending) {
      while (p.specs.length > 0) {
        const spec = p.specs[0]!;
        const ins = spec.inputs.map(lookup);
        if (ins.some((t) => t === undefined)) break;
        const y = p.layer.applyAll(spec.asList ? (ins as SymbolicTensor[]) : ins[0]!, spec.callOptions) as SymbolicTensor | SymbolicTensor[];
        outputs.get(p.layer.name)!.push(Array.isArray(y) ? y : [y]);
        p.specs.shift();
        progress = true;
      }
    }
  }
  const stuck = pending.find((p) => p.specs.length > 0);
  if (stuck) throw new FormatError('loadModel', `cannot reconnect layer "${stuck.layer.name}": its inputs ${JSON.stringify(stuck.specs[0]!.inputs)} are missing from the config`);
  const refs = (what: string, v: unknown): SymbolicTensor[] => {
    if (!Array.isArray(v)) throw new FormatError('loadModel', `functional model config has no ${what}`);
    return v.map((r) => {
      const t = lookup(r as Ref);
      if (t === undefined) throw new FormatError('loadModel', `${what} refers to ${JSON.stringify(r)}, which the config does not define`);
      return t;
    });
  };
  const m = new Model({ name: typeof config.name === 'string' ? config.name : undefined, inputs: refs('inputLayers', config.inputLayers), outputs: refs('outputLayers', config.outputLayers) });
  if (config.trainable === false) m.trainable = false;
  return m;
}
