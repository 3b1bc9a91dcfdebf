/**
 * The graph side of models: a functional model is a DAG of layer calls (nodes) from symbolic
 * inputs to outputs; `Container` runs it, propagates shapes through it, aggregates the
 * weights of its layers and checks inputs. Training lives in `model.ts` on top.
 * @module
 */
import type { Variable } from '@tessera/autograd';
import { ArgumentError, type DType, ShapeError, Tensor } from '@tessera/core';
import { accumulate, fmtShapeN, type Shape } from '../util.js';
import { type CallOptions, type CommonCallOptions, Layer, type LayerArgs, type LayerWeight, Node, specMismatch, SymbolicTensor } from './layer.js';
import { InputLayer } from '../layers/core.js';

/** Options of {@link model} (functional models). */
export interface FunctionalArgs {
  /** The symbolic input(s) from `input()`. */
  inputs: SymbolicTensor | readonly SymbolicTensor[];
  /** The symbolic output(s): layers applied to the inputs. */
  outputs: SymbolicTensor | readonly SymbolicTensor[];
  name?: string;
  trainable?: boolean;
}

function asList<T>(x: T | readonly T[]): T[] {
  return Array.isArray(x) ? [...(x as T[])] : [x as T];
}

/**
 * A layer made of layers: the graph machinery shared by functional and Sequential models.
 * @internal Use {@link Model} (or `model()` / `sequential()`).
 */
export abstract class Container extends Layer {
  /** The symbolic inputs (empty until the model is built). */
  inputs: SymbolicTensor[] = [];
  /** The symbolic outputs (empty until the model is built). */
  outputs: SymbolicTensor[] = [];
  /** @internal The nodes to run, in topological order (input layers excluded). */
  protected graphNodes: Node[] = [];
  /** @internal Every layer of the graph, in topological order (input layers included). */
  protected graphLayers: Layer[] = [];

  constructor(args: LayerArgs = {}) {
    super(args);
  }

  /** Builds the graph from symbolic inputs to outputs; throws when they are not connected. */
  protected initGraph(inputsArg: SymbolicTensor | readonly SymbolicTensor[], outputsArg: SymbolicTensor | readonly SymbolicTensor[]): void {
    const inputs = asList(inputsArg);
    const outputs = asList(outputsArg);
    if (inputs.length === 0 || outputs.length === 0) throw new ArgumentError(this.name, 'a model needs at least one input and one output');
    inputs.forEach((s, i) => {
      if (!(s instanceof SymbolicTensor)) throw new ArgumentError(this.name, `inputs[${i}] must be a symbolic tensor from input(), got ${s === null ? 'null' : typeof s}`);
      if (!(s.sourceLayer instanceof InputLayer)) {
        throw new ArgumentError(this.name, `inputs[${i}] must come straight from input(); it is the output of layer "${s.sourceLayer.name}"`);
      }
    });
    outputs.forEach((s, i) => {
      if (!(s instanceof SymbolicTensor)) throw new ArgumentError(this.name, `outputs[${i}] must be a symbolic tensor (a layer applied to input()), got ${s === null ? 'null' : typeof s}`);
    });
    const inputIds = new Set(inputs.map((s) => s.id));
    const order: Node[] = [];
    const state = new Map<Node, 'visiting' | 'done'>();
    const visit = (t: SymbolicTensor, consumer: string): void => {
      const node = t.sourceLayer.inboundNodes[t.nodeIndex];
      if (node === undefined) throw new ArgumentError(this.name, `tensor ${t.name} has no producing node`);
      if (node.layer instanceof InputLayer) {
        if (!inputIds.has(t.id)) {
          throw new ArgumentError(
            this.name,
            `Graph disconnected: cannot obtain value for input "${t.sourceLayer.name}" needed by layer "${consumer}"; pass it in \`inputs\``,
          );
        }
        return;
      }
      const s = state.get(node);
      if (s === 'done') return;
      if (s === 'visiting') throw new ArgumentError(this.name, `the graph has a cycle through layer "${node.layer.name}"`);
      state.set(node, 'visiting');
      for (const i of node.inputs) visit(i, node.layer.name);
      state.set(node, 'done');
      order.push(node);
    };
    for (const o of outputs) visit(o, '(model output)');
    const layers: Layer[] = [];
    const seen = new Set<Layer>();
    for (const s of inputs) {
      if (!seen.has(s.sourceLayer)) {
        seen.add(s.sourceLayer);
        layers.push(s.sourceLayer);
      }
    }
    for (const n of order) {
      if (!seen.has(n.layer)) {
        seen.add(n.layer);
        layers.push(n.layer);
      }
    }
    const names = new Map<string, Layer>();
    for (const l of layers) {
      const other = names.get(l.name);
      if (other !== undefined && other !== l) throw new ArgumentError(this.name, `layer names must be unique within a model; "${l.name}" is used twice`);
      names.set(l.name, l);
    }
    this.inputs = inputs;
    this.outputs = outputs;
    this.graphNodes = order;
    this.graphLayers = layers;
    this.inputSpec = inputs.map((s) => ({ shape: [...s.shape] }));
    this.built = true;
    this.buildInputShape = inputs.length === 1 ? [...inputs[0]!.shape] : inputs.map((s) => [...s.shape]);
  }

  /** The model's layers in topological order. */
  get layers(): Layer[] {
    return [...(this.graphLayers ?? [])];
  }

  /**
   * A layer by name or index.
   * @example model.getLayer('dense_1').trainable = false;
   */
  getLayer(nameOrIndex: string | number): Layer {
    const layers = this.layers;
    const l = typeof nameOrIndex === 'number' ? layers[nameOrIndex] : layers.find((x) => x.name === nameOrIndex);
    if (l === undefined) {
      throw new ArgumentError(this.name, `no layer ${typeof nameOrIndex === 'number' ? `at index ${nameOrIndex} (the model has ${layers.length})` : `named "${nameOrIndex}" (layers: ${layers.map((x) => x.name).join(', ')})`}`);
    }
    return l;
  }

  /** Unique layers that own weights, in order. */
  private uniqueLayers(): Layer[] {
    return this.layers.filter((l, i, all) => all.indexOf(l) === i);
  }

  override get trainable(): boolean {
    return super.trainable;
  }
  /** Setting it sets every layer's flag too (Keras semantics): `base.trainable = false` freezes the whole base. */
  override set trainable(value: boolean) {
    super.trainable = value;
    for (const l of this.layers) l.trainable = value;
  }

  /** Every weight of every layer, with paths `layer/weight` (nested models add their name). */
  override get weightEntries(): LayerWeight[] {
    const out: LayerWeight[] = [];
    const seen = new Set<Variable>();
    for (const l of this.uniqueLayers()) {
      for (const w of l.weightEntries) {
        if (seen.has(w.variable)) continue;
        seen.add(w.variable);
        out.push({ ...w, name: `${l.name}/${w.name}` });
      }
    }
    return out;
  }

  override get trainableWeights(): Variable[] {
    if (!this.trainable) return [];
    const out: Variable[] = [];
    const seen = new Set<Variable>();
    for (const l of this.uniqueLayers()) {
      for (const v of l.trainableWeights) {
        if (!seen.has(v)) {
          seen.add(v);
          out.push(v);
        }
      }
    }
    return out;
  }

  override get nonTrainableWeights(): Variable[] {
    const t = new Set(this.trainableWeights);
    return this.weights.filter((v) => !t.has(v));
  }

  override regularizationLoss(): Tensor | null {
    let total: Tensor | null = null;
    for (const l of this.uniqueLayers()) {
      const p = l.regularizationLoss();
      if (p === null) continue;
      total = accumulate(total, p);
    }
    return total;
  }

  override dispose(): void {
    if (this.isDisposed) return;
    super.dispose();
    for (const l of this.uniqueLayers()) l.dispose();
  }

  /** @internal Checks concrete input shapes against the model inputs, naming the consuming layer. */
  checkInputs(shapes: readonly (readonly number[])[]): void {
    if (shapes.length !== this.inputs.length) {
      throw new ArgumentError(this.name, `model "${this.name}" expects ${this.inputs.length} input${this.inputs.length === 1 ? '' : 's'}, got ${shapes.length}`);
    }
    shapes.forEach((s, i) => {
      const want = this.inputs[i]!;
      const why = specMismatch({ shape: want.shape }, s);
      if (why !== null) {
        const consumer = this.consumerOf(want);
        throw new ShapeError(this.name, `Input ${i} of layer "${consumer}" is incompatible with the layer: ${why}, but received input with shape ${fmtShapeN(s)}`);
      }
    });
  }

  /** The first layer reading a symbolic input (for error messages). */
  protected consumerOf(s: SymbolicTensor): string {
    for (const n of this.graphNodes) if (n.inputs.includes(s)) return n.layer.name;
    return s.sourceLayer.name;
  }

  override assertInputCompatible(shapes: readonly (readonly (number | null)[])[]): void {
    if (this.inputs.length === 0) return;
    shapes.forEach((s, i) => {
      const want = this.inputs[i];
      if (want === undefined) throw new ArgumentError(this.name, `model "${this.name}" expects ${this.inputs.length} inputs, got ${shapes.length}`);
      const why = specMismatch({ shape: want.shape }, s);
      if (why !== null) throw new ShapeError(this.name, `Input ${i} of layer "${this.consumerOf(want)}" is incompatible with the layer: ${why}, but received input with shape ${fmtShapeN(s)}`);
    });
  }

  /**
   * Runs the graph on concrete tensors and returns every output (in `outputs` order).
   * Intermediate tensors are disposed; the inputs stay the caller's.
   * @internal
   */
  runGraph(xs: readonly Tensor[], opts: CallOptions): Tensor[] {
    const values = new Map<number, Tensor>();
    this.inputs.forEach((s, i) => values.set(s.id, xs[i]!));
    const owned: Tensor[] = [];
    const inputSet = new Set(xs);
    // Padding masks by symbolic tensor id (Keras masking): made by Embedding({ maskZero }),
    // passed to layers that support masking, disposed at the end.
    const masks = new Map<number, Tensor>();
    const ownedMasks: Tensor[] = [];
    const { mask: _outer, ...outer } = opts;
    void _outer;
    try {
      for (const node of this.graphNodes) {
        const args = node.inputs.map((s) => values.get(s.id)!);
        const inMasks = node.inputs.map((s) => masks.get(s.id) ?? null);
        const mask = inMasks.some((m) => m !== null) ? (node.asList ? inMasks : inMasks[0]!) : null;
        // The options given when the graph was built (e.g. useCausalMask) replay on every run.
        const callOpts: CallOptions = { ...outer, ...node.callOptions, training: node.callOptions.training ?? opts.training };
        if (mask !== null && node.layer.supportsMasking) callOpts.mask = mask;
        const input = node.asList ? args : args[0]!;
        const y = node.layer.applyAll(input, callOpts) as Tensor | Tensor[];
        const ys = Array.isArray(y) ? y : [y];
        ys.forEach((t, i) => {
          values.set(node.outputs[i]!.id, t);
          if (!inputSet.has(t) && !owned.includes(t)) owned.push(t);
        });
        const outMask = node.layer.computeMask(input, mask);
        if (outMask !== null) {
          masks.set(node.outputs[0]!.id, outMask);
          if (!inMasks.includes(outMask) && !ownedMasks.includes(outMask)) ownedMasks.push(outMask);
        }
      }
      const outs = this.outputs.map((s) => values.get(s.id)!);
      const keepSet = new Set(outs);
      for (const t of owned) if (!keepSet.has(t)) t.dispose();
      return outs;
    } catch (e) {
      for (const t of owned) t.dispose();
      throw e;
    } finally {
      for (const m of ownedMasks) m.dispose();
    }
  }

  call(inputs: Tensor | Tensor[], opts: CommonCallOptions): Tensor | Tensor[] {
    const xs = Array.isArray(inputs) ? inputs : [inputs];
    const ys = this.runGraph(xs, opts);
    return ys.length === 1 ? ys[0]! : ys;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    const shapes = this.inputs.length === 1 && !(Array.isArray(inputShape[0]) && this.inputs.length > 1) ? [inputShape as Shape] : (inputShape as Shape[]);
    const known = new Map<number, Shape>();
    this.inputs.forEach((s, i) => known.set(s.id, shapes[i] ?? s.shape));
    for (const node of this.graphNodes) {
      const ins = node.inputs.map((s) => known.get(s.id)!);
      const out = node.layer.computeOutputShape(node.asList ? ins : ins[0]!);
      const outs = node.outputs.length === 1 ? [out as Shape] : (out as Shape[]);
      node.outputs.forEach((s, i) => known.set(s.id, outs[i]!));
    }
    const res = this.outputs.map((s) => known.get(s.id)!);
    return res.length === 1 ? res[0]! : res;
  }

  override computeOutputDType(): DType {
    return this.outputs[0]?.dtype ?? 'float32';
  }

  /** Names of the outputs (the producing layers' names), used as prefixes in multi-output logs. */
  get outputNames(): string[] {
    return this.outputs.map((s) => s.sourceLayer.name);
  }
}
