/**
 * The Layer base class, symbolic tensors and the graph nodes that functional models are
 * made of. A layer builds its weights lazily from the first input shape it sees, holds them
 * as named autograd variables, and computes in `call`; `apply` is the entry point that
 * builds, checks the input shape and, given symbolic tensors, records a graph node instead.
 * @module
 */
import { noGrad, type Variable } from '@tessera/autograd';
import { ArgumentError, BackendError, type DType, ShapeError, Tensor, tidy, zeros } from '@tessera/core';
import { getInitializer, type InitializerIdentifier } from '../initializers.js';
import { getRegularizer, type Regularizer, type RegularizerIdentifier } from '../regularizers.js';
import { accumulate, fmtShapeN, type Shape, toSnakeCase, uniqueName } from '../util.js';
import { assignValue, newVariable, readValue } from '../variables.js';
// Type-only (erased at run time), so no module cycle: the engine's options name the layers' ones.
import type { PositionCallOptions } from '../layers/position.js';
import type { TransformerCallOptions } from '../layers/transformer.js';

/**
 * The call options every layer understands. Layer-specific options extend it
 * (`AttentionCallOptions`, `TransformerCallOptions`, `PositionCallOptions`); {@link CallOptions}
 * joins them all.
 */
export interface CommonCallOptions {
  /** True while `fit` trains: dropout drops, batch normalisation uses batch statistics. */
  training?: boolean;
  /**
   * Padding mask(s) of the inputs (bool `[batch, T]`, true = a real position), passed by models
   * to layers with `supportsMasking` (one per input for list inputs). See {@link Layer.computeMask}.
   */
  mask?: Tensor | null | readonly (Tensor | null)[];
}

/**
 * Options a layer's `call` receives: the common ones plus every layer-specific option Tessera
 * knows. Models hand the options they are called with to every layer, so layer-specific ones
 * (MultiHeadAttention's `useCausalMask` and `cache`, the position layers' `startIndex`) reach
 * the layers that read them; others ignore them. There is deliberately no index signature, so
 * a misspelt option (`{ trainng: true }`) is a type error. A custom layer with options of its
 * own adds them by declaration merging, which also lets models forward them:
 * @example
 * declare module '@tessera/nn' {
 *   interface CallOptions { temperature?: number }
 * }
 */
export interface CallOptions extends TransformerCallOptions, PositionCallOptions {}

/** Options common to every layer. */
export interface LayerArgs {
  /** Unique within a model; default the snake_case class name plus a counter (`dense_1`). */
  name?: string;
  /** False freezes the layer's weights (and puts BatchNormalization in inference mode). */
  trainable?: boolean;
  /** Input shape without the batch axis; makes a Sequential model build at once. */
  inputShape?: readonly (number | null)[];
  /** Fixed batch size to go with `inputShape`. */
  batchSize?: number;
  /** Input shape with the batch axis (`null` for unknown). */
  batchInputShape?: readonly (number | null)[];
  /** Element type of the input when this layer starts a model (default float32). */
  dtype?: DType;
}

/** What a layer accepts: rank and fixed axis sizes. Checked on every call once built. */
export interface InputSpec {
  ndim?: number;
  minNdim?: number;
  /** Axis (negative counts from the end) → required size. */
  axes?: Record<number, number>;
  /** Full shape; null dimensions match anything. */
  shape?: Shape;
}

/** Options of {@link Layer.addWeight}. */
export interface AddWeightOptions {
  initializer?: InitializerIdentifier;
  regularizer?: RegularizerIdentifier | null;
  /** Default true; BatchNormalization's moving statistics are non-trainable. */
  trainable?: boolean;
  dtype?: DType;
}

/** A weight of a layer: its local name, variable, trainability and penalty. */
export interface LayerWeight {
  /** The name within the layer, e.g. `kernel`. */
  readonly name: string;
  readonly variable: Variable;
  /** Whether the weight is trained at all (the layer's own `trainable` flag applies on top). */
  readonly trainable: boolean;
  readonly regularizer: Regularizer | null;
}

let nextSymbolicId = 1;

/**
 * A placeholder for a tensor in a functional model graph: a shape with unknown (`null`)
 * dimensions, produced by `input()` and by calling layers on other symbolic tensors.
 * @example const x = input({ shape: [784] }); const h = layers.dense({ units: 64 }).apply(x); h.shape // [null, 64]
 */
export class SymbolicTensor {
  /** A process-unique id. */
  readonly id = nextSymbolicId++;
  /** @internal */
  constructor(
    readonly shape: Shape,
    readonly dtype: DType,
    /** The layer whose output this is. */
    readonly sourceLayer: Layer,
    /** Which call of `sourceLayer` produced it. */
    readonly nodeIndex: number,
    /** Which output of that call. */
    readonly tensorIndex: number,
  ) {}
  /** Number of axes. */
  get rank(): number {
    return this.shape.length;
  }
  /** `layer_name/node:index`, as Keras names graph tensors. */
  get name(): string {
    return `${this.sourceLayer.name}/${this.nodeIndex}:${this.tensorIndex}`;
  }
  toString(): string {
    return `SymbolicTensor ${this.dtype} ${fmtShapeN(this.shape)} from ${this.sourceLayer.name}`;
  }
}

/**
 * One call of a layer in a graph: the symbolic tensors it read and produced.
 * @example model.layers[1].inboundNodes[0].inputs[0].sourceLayer.name
 */
export class Node {
  /** @internal */
  constructor(
    readonly layer: Layer,
    readonly inputs: readonly SymbolicTensor[],
    readonly outputs: readonly SymbolicTensor[],
    readonly callOptions: CallOptions,
    /** Whether the layer was called with a list (multi-input layers) rather than one tensor. */
    readonly asList: boolean = false,
  ) {}
}

/** A layer class as the registry stores it. */
export interface LayerClass {
  readonly className: string;
  fromConfig(config: Record<string, unknown>, custom?: Record<string, LayerClass>): Layer;
}

/** A class's own static `className`, else its JS name (a subclass does not inherit its parent's). */
function classNameOf(obj: object): string {
  const cls = obj.constructor as unknown as { className?: string; name: string };
  return Object.prototype.hasOwnProperty.call(cls, 'className') && typeof cls.className === 'string' ? cls.className : cls.name;
}

function isShapeList(s: Shape | Shape[]): s is Shape[] {
  return s.length > 0 && Array.isArray(s[0]);
}

/** Checks a shape against an input spec; returns a description of the mismatch or null. */
export function specMismatch(spec: InputSpec, shape: readonly (number | null)[]): string | null {
  if (spec.ndim !== undefined && shape.length !== spec.ndim) return `expected rank ${spec.ndim}`;
  if (spec.minNdim !== undefined && shape.length < spec.minNdim) return `expected rank >= ${spec.minNdim}`;
  if (spec.shape !== undefined) {
    if (shape.length !== spec.shape.length) return `expected shape ${fmtShapeN(spec.shape)}`;
    for (let i = 0; i < shape.length; i++) {
      const want = spec.shape[i];
      if (want !== null && want !== undefined && shape[i] !== null && shape[i] !== want) return `expected shape ${fmtShapeN(spec.shape)}`;
    }
  }
  for (const [k, want] of Object.entries(spec.axes ?? {})) {
    const axis = Number(k);
    const i = axis < 0 ? shape.length + axis : axis;
    const got = shape[i];
    if (i < 0 || i >= shape.length || (got !== null && got !== want)) return `expected axis ${axis} of the input shape to be ${want}`;
  }
  return null;
}

/**
 * Base class of every layer (and of models). Subclasses implement `call` and usually
 * `build` (to create weights with `addWeight`), `computeOutputShape` and `getConfig`.
 * @example
 * class Scale extends Layer {
 *   static readonly className = 'Scale';
 *   private w!: Variable;
 *   build(shape: Shape) { this.w = this.addWeight('w', [shape[shape.length - 1]!], { initializer: 'ones' }); }
 *   call(x: Tensor) { return mul(x, this.w.value); }
 *   static fromConfig(c: Record<string, unknown>) { return new Scale(c); }
 * }
 */
export abstract class Layer {
  /** The class name used in saved configs (set it on custom layers). */
  static readonly className: string = 'Layer';
  /** The layer's name: unique within a model, used in weight names and summaries. */
  readonly name: string;
  /** True once the weights exist. */
  built = false;
  /** The input shape this layer was built for (set by `build`), batch axis included. */
  buildInputShape: Shape | Shape[] | null = null;
  /** Input shape (batch axis included) given at construction, if any. */
  readonly batchInputShape: Shape | null;
  /** Element type of the input when this layer starts a model. */
  readonly inputDType: DType;
  /** The specs the inputs are checked against once built (one per input). */
  inputSpec: InputSpec[] | null = null;
  /**
   * Whether the layer accepts padding masks: models pass it the inputs' masks as the `mask`
   * call option, and (by default) hand its first input's mask on to the next layer.
   */
  readonly supportsMasking: boolean = false;
  /** @internal Calls of this layer in graphs. */
  readonly inboundNodes: Node[] = [];
  /** @internal */
  protected readonly weightList: LayerWeight[] = [];
  private trainableFlag: boolean;
  private disposedFlag = false;

  constructor(args: LayerArgs = {}) {
    const className = classNameOf(this);
    if (args.name !== undefined && (typeof args.name !== 'string' || args.name.length === 0 || args.name.includes('/'))) {
      throw new ArgumentError(className, `name must be a non-empty string without '/', got ${JSON.stringify(args.name)}`);
    }
    this.name = args.name ?? uniqueName(toSnakeCase(className));
    this.trainableFlag = args.trainable ?? true;
    this.inputDType = args.dtype ?? 'float32';
    if (args.batchInputShape !== undefined) this.batchInputShape = [...args.batchInputShape];
    else if (args.inputShape !== undefined) this.batchInputShape = [args.batchSize ?? null, ...args.inputShape];
    else this.batchInputShape = null;
    if (this.batchInputShape !== null) {
      for (const d of this.batchInputShape) {
        if (d !== null && (!Number.isInteger(d) || d < 0)) throw new ArgumentError(this.name, `inputShape must hold non-negative integers or null, got ${fmtShapeN(this.batchInputShape)}`);
      }
    }
  }

  /** The class name used in saved configs. */
  get className(): string {
    return classNameOf(this);
  }

  /**
   * Whether the layer's weights are trained. Setting it to false freezes them (they leave
   * `trainableWeights`) and puts BatchNormalization in inference mode, as in Keras.
   */
  get trainable(): boolean {
    return this.trainableFlag;
  }
  set trainable(value: boolean) {
    this.trainableFlag = Boolean(value);
    this.syncVariableFlags();
  }

  /**
   * Mirrors the effective trainability (layer flag and weight flag) onto each variable, so
   * code that trains "every trainable variable" (`optimizer.minimize(fn)`, `variableGrads(fn)`)
   * leaves frozen weights alone too, not only `fit`.
   */
  private syncVariableFlags(): void {
    for (const w of this.weightList) w.variable.trainable = this.trainableFlag && w.trainable;
  }

  /**
   * Freezes or unfreezes one weight of the layer (the layer's own `trainable` flag still
   * applies on top), e.g. the base kernel under a LoRA adapter, or a bias you keep fixed.
   * @example dense.setWeightTrainable('bias', false);
   */
  setWeightTrainable(name: string, trainable: boolean): void {
    const i = this.weightList.findIndex((w) => w.name === name);
    if (i < 0) throw new ArgumentError(this.name, `setWeightTrainable: no weight named '${name}' (weights: ${this.weightList.map((w) => w.name).join(', ') || 'none'})`);
    this.weightList[i] = { ...this.weightList[i]!, trainable: Boolean(trainable) };
    this.syncVariableFlags();
  }

  /**
   * Removes a weight from the layer and returns its variable (now the caller's to dispose).
   * For layer extensions that add and later drop weights (LoRA adapters after `merge`).
   * @internal
   */
  removeWeight(name: string): Variable {
    const i = this.weightList.findIndex((w) => w.name === name);
    if (i < 0) throw new ArgumentError(this.name, `removeWeight: no weight named '${name}'`);
    return this.weightList.splice(i, 1)[0]!.variable;
  }

  /** True after `dispose()`. */
  get isDisposed(): boolean {
    return this.disposedFlag;
  }

  // ---------------------------------------------------------------------------------------
  // Weights

  /**
   * Creates a weight (an autograd variable named `<layer>/<name>`); call it from `build`.
   * @example this.kernel = this.addWeight('kernel', [inDim, units], { initializer: 'glorot_uniform' });
   */
  addWeight(name: string, shape: readonly number[], opts: AddWeightOptions = {}): Variable {
    if (this.weightList.some((w) => w.name === name)) throw new ArgumentError(this.name, `a weight named '${name}' already exists`);
    for (const d of shape) {
      if (!Number.isInteger(d) || d < 0) throw new ShapeError(this.name, `weight '${name}' needs a fully known shape, got ${fmtShapeN(shape)}`);
    }
    const init = getInitializer(opts.initializer ?? 'glorot_uniform');
    const value = noGrad(() => tidy(() => init.apply(shape, opts.dtype ?? 'float32')));
    const trainable = opts.trainable ?? true;
    const v = newVariable(value, `${this.name}/${name}`, trainable && this.trainableFlag);
    this.weightList.push({ name, variable: v, trainable, regularizer: getRegularizer(opts.regularizer) });
    return v;
  }

  /** Every weight with its local name, trainable ones first (the order of `getWeights`). */
  get weightEntries(): LayerWeight[] {
    return [...this.weightList.filter((w) => w.trainable), ...this.weightList.filter((w) => !w.trainable)];
  }

  /** All weights (trainable first, then non-trainable), as autograd variables. */
  get weights(): Variable[] {
    return this.weightEntries.map((w) => w.variable);
  }

  /** The weights the optimizer updates: none while the layer is frozen. */
  get trainableWeights(): Variable[] {
    return this.trainable ? this.weightList.filter((w) => w.trainable).map((w) => w.variable) : [];
  }

  /** The weights the optimizer leaves alone (all of them while the layer is frozen). */
  get nonTrainableWeights(): Variable[] {
    return this.trainable ? this.weightList.filter((w) => !w.trainable).map((w) => w.variable) : this.weights;
  }

  /**
   * Copies of the weight values, in `weights` order (dispose them when done).
   * @example const [kernel, bias] = layer.getWeights();
   */
  getWeights(): Tensor[] {
    return this.weights.map((v) => readValue(v));
  }

  /**
   * Overwrites the weights with copies of `values` (in `weights` order, shapes must match).
   * @example dense.setWeights([kernel, bias]);
   */
  setWeights(values: readonly Tensor[]): void {
    const ws = this.weightEntries;
    if (!this.built) throw new ArgumentError(this.name, `setWeights: the layer is not built yet; call it on an input (or build the model) first`);
    if (!Array.isArray(values) || values.length !== ws.length) {
      throw new ArgumentError(this.name, `setWeights: expected ${ws.length} tensors (${ws.map((w) => w.name).join(', ')}), got ${Array.isArray(values) ? values.length : typeof values}`);
    }
    ws.forEach((w, i) => {
      const t = values[i]!;
      if (!(t instanceof Tensor)) throw new ArgumentError(this.name, `setWeights: value ${i} (${w.name}) is not a Tensor`);
      const want = w.variable.shape;
      if (t.shape.length !== want.length || t.shape.some((d, j) => d !== want[j])) {
        throw new ShapeError(this.name, `setWeights: weight '${w.name}' has shape ${fmtShapeN(want)}, got ${fmtShapeN(t.shape)}`);
      }
    });
    ws.forEach((w, i) => assignValue(w.variable, values[i]!));
  }

  /**
   * Number of scalars in the layer's weights. The layer must be built.
   * @example layers.dense({ units: 10, inputShape: [784] }).countParams() // after build: 7850
   */
  countParams(): number {
    if (!this.built) throw new ArgumentError(this.name, `countParams: the layer is not built yet, so its weights do not exist; build it (call it on an input or give inputShape)`);
    return this.weights.reduce((n, v) => n + v.shape.reduce((a, b) => a * b, 1), 0);
  }

  /**
   * The sum of this layer's regularization penalties (null when it has none). Training adds
   * it to the loss.
   * @example const p = layer.regularizationLoss(); // scalar Tensor or null
   */
  regularizationLoss(): Tensor | null {
    let total: Tensor | null = null;
    for (const w of this.weightList) {
      if (w.regularizer === null || !(this.trainable && w.trainable)) continue;
      const p = w.regularizer.apply(w.variable.value);
      total = accumulate(total, p);
    }
    return total;
  }

  /**
   * Frees the layer's weights. The layer cannot be used afterwards.
   * @example model.dispose();
   */
  dispose(): void {
    if (this.disposedFlag) return;
    this.disposedFlag = true;
    for (const w of this.weightList) w.variable.dispose();
  }

  // ---------------------------------------------------------------------------------------
  // Building and calling

  /**
   * Creates the weights for an input of `inputShape` (batch axis included, `null` where
   * unknown). The default creates none.
   */
  build(inputShape: Shape | Shape[]): void {
    void inputShape;
  }

  /**
   * The computation. `inputs` is one tensor, or an array for layers with several inputs.
   * `opts` is declared with the common options only: an override may declare a wider options
   * type (`opts: AttentionCallOptions`, or a custom layer's own) because parameters are checked
   * contravariantly, and every all-optional options type accepts the common ones. At run time
   * the layer gets whatever `apply` was given, which models forward from their own call.
   */
  abstract call(inputs: Tensor | Tensor[], opts: CommonCallOptions): Tensor | Tensor[];

  /**
   * The output shape for an input shape (batch axis included, `null` where unknown). The
   * default traces `call` on zeros, so simple custom layers need not implement it.
   */
  computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    const shapes = isShapeList(inputShape) ? inputShape : [inputShape];
    return tidy(() =>
      noGrad(() => {
        const xs = shapes.map((s) => zeros(s.map((d) => d ?? 1)));
        const y = this.call(xs.length === 1 ? xs[0]! : xs, { training: false });
        const ys = Array.isArray(y) ? y : [y];
        const out = ys.map((t) => t.shape.map((d, i) => (i === 0 && shapes[0]![0] === null ? null : d)) as Shape);
        return (Array.isArray(y) ? out : out[0]!) as never;
      }),
    ) as Shape | Shape[];
  }

  /**
   * The padding mask of the output (bool, true = a real position) given the inputs and their
   * masks, or null for none (Keras `compute_mask`). The default passes the first input's mask
   * through when the layer `supportsMasking` and drops it otherwise; Embedding with
   * `maskZero` makes one. A returned mask that is not one of `mask` is the caller's to dispose.
   * @example const m = embedding.computeMask(ids, null); // ids != 0
   */
  computeMask(inputs: Tensor | Tensor[], mask: Tensor | null | readonly (Tensor | null)[] | undefined): Tensor | null {
    void inputs;
    if (!this.supportsMasking || mask === null || mask === undefined) return null;
    return Array.isArray(mask) ? ((mask as readonly (Tensor | null)[])[0] ?? null) : (mask as Tensor);
  }

  /** Element type of the output; the default is the first input's. */
  computeOutputDType(inputDTypes: readonly DType[]): DType {
    return inputDTypes[0] ?? 'float32';
  }

  /**
   * Builds the layer for `inputShape` if it is not built yet (what `apply` does on first use).
   * @example layer.ensureBuilt([null, 784]);
   */
  ensureBuilt(inputShape: Shape | Shape[]): void {
    if (this.built) return;
    if (this.disposedFlag) throw new ArgumentError(this.name, 'the layer was disposed');
    noGrad(() => this.build(inputShape));
    this.buildInputShape = isShapeList(inputShape) ? inputShape.map((s) => [...s]) : [...inputShape];
    this.built = true;
  }

  /** @internal Throws a ShapeError naming the layer when an input does not fit its spec. */
  assertInputCompatible(shapes: readonly (readonly (number | null)[])[]): void {
    const specs = this.inputSpec;
    if (specs === null) return;
    if (specs.length !== shapes.length && specs.length > 1) {
      throw new ArgumentError(this.name, `layer "${this.name}" expects ${specs.length} inputs, got ${shapes.length}`);
    }
    shapes.forEach((s, i) => {
      const spec = specs[Math.min(i, specs.length - 1)]!;
      const why = specMismatch(spec, s);
      if (why !== null) {
        throw new ShapeError(this.name, `Input ${i} of layer "${this.name}" is incompatible with the layer: ${why}, but received input with shape ${fmtShapeN(s)}`);
      }
    });
  }

  /**
   * Calls the layer: builds it on first use, checks the input shape, then runs `call`.
   * Given symbolic tensors (from `input()`), it records a graph node and returns symbolic
   * outputs instead.
   * @example const y = layers.dense({ units: 3 }).apply(x); // Tensor in, Tensor out
   */
  apply(inputs: SymbolicTensor | readonly SymbolicTensor[], opts?: CallOptions): SymbolicTensor;
  apply(inputs: Tensor | readonly Tensor[], opts?: CallOptions): Tensor;
  apply(inputs: Tensor | SymbolicTensor | readonly (Tensor | SymbolicTensor)[], opts: CallOptions = {}): Tensor | SymbolicTensor {
    return this.applyAll(inputs as never, opts) as never;
  }

  /**
   * Like `apply`, but returns every output (an array for multi-output layers and models).
   * @example const [a, b] = twoHeadModel.applyAll(x) as Tensor[];
   */
  applyAll(inputs: Tensor | SymbolicTensor | readonly (Tensor | SymbolicTensor)[], opts: CallOptions = {}): Tensor | Tensor[] | SymbolicTensor | SymbolicTensor[] {
    if (this.disposedFlag) throw new ArgumentError(this.name, 'the layer was disposed');
    const list = (Array.isArray(inputs) ? inputs : [inputs]) as (Tensor | SymbolicTensor)[];
    if (list.length === 0) throw new ArgumentError(this.name, 'called with no inputs');
    const symbolic = list.some((x) => x instanceof SymbolicTensor);
    if (symbolic) {
      if (!list.every((x) => x instanceof SymbolicTensor)) throw new ArgumentError(this.name, 'cannot mix symbolic tensors (from input()) and concrete tensors in one call');
      return this.applySymbolic(list as SymbolicTensor[], Array.isArray(inputs), opts);
    }
    list.forEach((x, i) => {
      if (!(x instanceof Tensor)) {
        throw new ArgumentError(this.name, `input ${i} must be a Tensor or a SymbolicTensor, got ${x === null ? 'null' : Array.isArray(x) ? 'a nested array (wrap it with tensor())' : typeof x}`);
      }
      // Checked here, before the layer computes anything, so a bad input leaks no intermediate.
      if (x.isDisposed) x.assertLive(this.name);
    });
    const tensors = list as Tensor[];
    if (!this.built) {
      const shapes = tensors.map((t) => [null, ...t.shape.slice(1)] as Shape);
      this.ensureBuilt(shapes.length === 1 && !Array.isArray(inputs) ? shapes[0]! : shapes);
    }
    const home = this.weightList[0]?.variable.value.backend;
    const stranger = home === undefined ? undefined : tensors.find((t) => t.backend !== home);
    if (stranger !== undefined) {
      throw new BackendError(this.name, `input on backend '${stranger.backend.name}' but the layer's weights live on '${home!.name}'; move it with moveTo()`);
    }
    this.assertInputCompatible(tensors.map((t) => t.shape));
    return this.call(Array.isArray(inputs) ? tensors : tensors[0]!, opts);
  }

  private applySymbolic(inputs: SymbolicTensor[], asList: boolean, opts: CallOptions): SymbolicTensor | SymbolicTensor[] {
    const shapes = inputs.map((s) => s.shape);
    const shapeArg: Shape | Shape[] = asList ? shapes : shapes[0]!;
    this.ensureBuilt(shapeArg);
    this.assertInputCompatible(shapes);
    const out = this.computeOutputShape(shapeArg);
    const outShapes = isShapeList(out) ? out : [out];
    const dtype = this.computeOutputDType(inputs.map((s) => s.dtype));
    const nodeIndex = this.inboundNodes.length;
    const outputs = outShapes.map((s, i) => new SymbolicTensor([...s], dtype, this, nodeIndex, i));
    this.inboundNodes.push(new Node(this, inputs, outputs, { ...opts }, asList));
    return isShapeList(out) ? outputs : outputs[0]!;
  }

  /**
   * The output shape of the layer's first call in a graph (batch axis `null`).
   * @example model.layers[0].outputShape // [null, 784]
   */
  get outputShape(): Shape | Shape[] {
    const node = this.inboundNodes[0];
    if (node === undefined) throw new ArgumentError(this.name, `layer "${this.name}" has not been called on a symbolic input, so it has no defined output shape`);
    return node.outputs.length === 1 ? node.outputs[0]!.shape : node.outputs.map((o) => o.shape);
  }

  /** The symbolic output of the layer's first call in a graph. */
  get output(): SymbolicTensor | SymbolicTensor[] {
    const node = this.inboundNodes[0];
    if (node === undefined) throw new ArgumentError(this.name, `layer "${this.name}" has not been called on a symbolic input`);
    return node.outputs.length === 1 ? node.outputs[0]! : [...node.outputs];
  }

  // ---------------------------------------------------------------------------------------
  // Serialisation

  /**
   * The constructor options that recreate this layer (weights excluded), as plain JSON.
   * Subclasses add their own and call `super.getConfig()`.
   */
  getConfig(): Record<string, unknown> {
    const c: Record<string, unknown> = { name: this.name, trainable: this.trainable, dtype: this.inputDType };
    if (this.batchInputShape !== null) c.batchInputShape = this.batchInputShape;
    return c;
  }
}

/** Common options from a saved config (name, trainable, input shape, dtype). */
export function baseArgs(config: Record<string, unknown>): LayerArgs {
  const a: LayerArgs = {};
  if (typeof config.name === 'string') a.name = config.name;
  if (typeof config.trainable === 'boolean') a.trainable = config.trainable;
  if (Array.isArray(config.batchInputShape)) a.batchInputShape = config.batchInputShape as Shape;
  if (typeof config.dtype === 'string') a.dtype = config.dtype as DType;
  return a;
}
