/**
 * Models: the functional `Model` (a graph from `input()` to outputs), `Sequential`, and
 * training: `compile`, `fit`, `evaluate`, `predict`, `trainOnBatch`.
 *
 * The training step is one `variableGrads` per batch inside `tidy`, then the optimizer step.
 * The loss and metrics accumulate in device tensors; nothing is read back per batch unless
 * a callback asks (the progress bar on a terminal reads at most every 100 ms).
 * @module
 */
import { noGrad, type Variable, variableGrads } from '@tessera/autograd';
import { add, ArgumentError, concat, keep, mul, slice, Tensor, tidy } from '@tessera/core';
import { Callback, type CallbackHooks, CallbackList, History, lazyLogs, type Logs, type TrainingParams } from '../callbacks/base.js';
import { ProgressBar } from '../callbacks/progress.js';
import { InputLayer, input as makeInput, single } from '../layers/core.js';
import { layerSeedState, restoreLayerSeedState, setLayerSeed } from '../layers/random-context.js';
import type { Metric } from '../metrics.js';
import { type Shape, uniqueName } from '../util.js';
import { applyLoss, type CompileArgs, type CompiledState, type OptimizerLike, resolveCompile } from './compile-utils.js';
import { Container, type FunctionalArgs } from './container.js';
import { type Batch, type BatchDataset, datasetBatch, isDataset, sampleCount, type TensorData, tensorBatches, toTensorList } from './data-adapter.js';
import { type CommonCallOptions, Layer, type LayerArgs, SymbolicTensor } from './layer.js';
import { summarize, type SummaryOptions } from './summary.js';

/** `0` silent, `1` progress bar, `2` one line per epoch, `'auto'` (1 on a terminal, else 2). */
export type Verbosity = 0 | 1 | 2 | 'auto';

/** Options of `fit`. */
export interface FitArgs {
  /** Index of the last epoch + 1 (default 1). */
  epochs?: number;
  /** Samples per batch (default 32; ignored for datasets, which are batched already). */
  batchSize?: number;
  /** Default 'auto'. */
  verbose?: Verbosity;
  /** Callbacks (instances or objects of hooks). A `ProgressBar` among them replaces the default one. */
  callbacks?: readonly (Callback | CallbackHooks)[];
  /** Fraction of the samples, taken from the end before shuffling, to validate on (tensors only). */
  validationSplit?: number;
  /** `[x, y]`, `[x, y, sampleWeight]` or a dataset of batches to validate on after each epoch. */
  validationData?: readonly [TensorData, TensorData] | readonly [TensorData, TensorData, Tensor] | BatchDataset;
  /** Shuffle the samples every epoch (default true; tensors only). */
  shuffle?: boolean;
  /** Weight of each class in the loss: `{ 0: 1, 1: 5 }`. */
  classWeight?: Record<number, number>;
  /** Weight of each sample in the loss, shape `[samples]`. */
  sampleWeight?: Tensor;
  /** Epoch to start from (for resuming; default 0). */
  initialEpoch?: number;
  /** Makes the run reproducible: seeds the shuffling and the masks of unseeded Dropout layers. */
  seed?: number;
  /** Batches per epoch when iterating a dataset (default: the whole dataset). */
  stepsPerEpoch?: number;
  /** Batch size for validation on tensors (default `batchSize`). */
  validationBatchSize?: number;
  /** Validate every n epochs (default 1). */
  validationFreq?: number;
}

/** Options of `evaluate`. */
export interface EvaluateArgs {
  /** Default 32. */
  batchSize?: number;
  /** Default 0 (silent); 1 or 2 print one summary line. */
  verbose?: Verbosity;
  sampleWeight?: Tensor;
  /** Batches to take from a dataset (default all). */
  steps?: number;
}

/** Options of `predict`. */
export interface PredictArgs {
  /** Default 32. */
  batchSize?: number;
}

/** Options of `trainOnBatch`. */
export interface TrainOnBatchArgs {
  sampleWeight?: Tensor;
  classWeight?: Record<number, number>;
  /** Reset the metrics first, so the logs describe this batch only (default true). */
  resetMetrics?: boolean;
}

/** Running mean of a scalar tensor weighted by sample counts, kept across tidy scopes. */
class RunningMean {
  private total: Tensor | null = null;
  private count = 0;
  add(v: Tensor, weight: number): void {
    noGrad(() => {
      const w = weight === 1 ? v : mul(v, weight);
      const next = keep(this.total === null ? add(w, 0) : add(this.total, w));
      if (w !== v) w.dispose();
      this.total?.dispose();
      this.total = next;
    });
    this.count += weight;
  }
  /** The accumulated tensor (null before the first `add`). */
  get tensor(): Tensor | null {
    return this.total;
  }
  readSync(): number {
    return this.total === null ? 0 : (this.total.dataSync()[0] as number) / this.count;
  }
  async read(): Promise<number> {
    return this.total === null ? 0 : ((await this.total.data())[0] as number) / this.count;
  }
  reset(): void {
    this.total?.dispose();
    this.total = null;
    this.count = 0;
  }
}

/** The accumulators of one epoch (or evaluation): total loss, per-output losses, metrics. */
class Trackers {
  readonly loss = new RunningMean();
  readonly outputLosses: RunningMean[];
  lastBatchLoss: Tensor | null = null;
  constructor(
    readonly outputNames: readonly string[],
    readonly metrics: readonly (readonly Metric[])[],
  ) {
    this.outputLosses = outputNames.length > 1 ? outputNames.map(() => new RunningMean()) : [];
  }
  reset(): void {
    this.loss.reset();
    for (const l of this.outputLosses) l.reset();
    for (const ms of this.metrics) for (const m of ms) m.reset();
    this.lastBatchLoss?.dispose();
    this.lastBatchLoss = null;
  }
  keys(prefix = ''): string[] {
    return [`${prefix}loss`, ...this.outputNames.slice(0, this.outputLosses.length).map((n) => `${prefix}${n}_loss`), ...this.metrics.flat().map((m) => `${prefix}${m.name}`)];
  }
  readers(): Record<string, () => number> {
    const r: Record<string, () => number> = { loss: () => this.loss.readSync() };
    this.outputLosses.forEach((l, i) => (r[`${this.outputNames[i]}_loss`] = () => l.readSync()));
    for (const m of this.metrics.flat()) r[m.name] = () => readMetricSync(m);
    r.batchLoss = () => (this.lastBatchLoss === null ? NaN : (this.lastBatchLoss.dataSync()[0] as number));
    return r;
  }
  /** Whether the accumulators' backend reads synchronously (so lazy batch logs work). */
  canReadSync(): boolean {
    const t = this.lastBatchLoss ?? this.loss.tensor;
    return t === null || t.backend.caps.syncRead;
  }
  /** Batch logs read asynchronously: the running values and `batchLoss`, as the readers give them. */
  async readBatch(): Promise<Logs> {
    const logs = await this.read();
    logs.batchLoss = this.lastBatchLoss === null ? NaN : ((await this.lastBatchLoss.data())[0] as number);
    return logs;
  }
  async read(prefix = ''): Promise<Logs> {
    const logs: Logs = {};
    logs[`${prefix}loss`] = await this.loss.read();
    for (let i = 0; i < this.outputLosses.length; i++) logs[`${prefix}${this.outputNames[i]}_loss`] = await this.outputLosses[i]!.read();
    const ms = this.metrics.flat();
    const results = ms.map((m) => m.result());
    try {
      const values = await Promise.all(results.map((t) => t.data()));
      ms.forEach((m, i) => (logs[`${prefix}${m.name}`] = values[i]![0] as number));
    } finally {
      for (const t of results) t.dispose();
    }
    return logs;
  }
}

function readMetricSync(m: Metric): number {
  const t = m.result();
  try {
    return t.dataSync()[0] as number;
  } finally {
    t.dispose();
  }
}

function checkVerbose(op: string, v: Verbosity | undefined, fallback: Verbosity): 0 | 1 | 2 {
  const x = v ?? fallback;
  if (x === 'auto') {
    const out = (globalThis as { process?: { stdout?: { isTTY?: boolean } } }).process?.stdout;
    return out?.isTTY ? 1 : 2;
  }
  if (x !== 0 && x !== 1 && x !== 2) throw new ArgumentError(op, `verbose must be 0, 1, 2 or 'auto', got ${JSON.stringify(v)}`);
  return x;
}

function checkInt(op: string, what: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new ArgumentError(op, `${what} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  return v;
}

function disposeBatch(b: Batch, keepers: ReadonlySet<Tensor>): void {
  for (const t of [...b.xs, ...b.ys]) if (!keepers.has(t)) t.dispose();
  if (b.sampleWeight && !keepers.has(b.sampleWeight)) b.sampleWeight.dispose();
}

/** Gives the event loop a turn (so browsers repaint and Node handles I/O) at most every 100 ms. */
class Yielder {
  private last = Date.now();
  async maybe(): Promise<void> {
    const t = Date.now();
    if (t - this.last < 100) return;
    this.last = t;
    await new Promise<void>((r) => (typeof setImmediate === 'function' ? setImmediate(r) : setTimeout(r, 0)));
  }
}

/**
 * A model: layers connected from inputs to outputs, trainable with `compile` + `fit`.
 * Functional models come from {@link model}; {@link Sequential} is the linear special case.
 * @example
 * const x = input({ shape: [784] });
 * const h = layers.dense({ units: 64, activation: 'relu' }).apply(x);
 * const m = model({ inputs: x, outputs: layers.dense({ units: 10, activation: 'softmax' }).apply(h) });
 * m.compile({ optimizer: 'adam', loss: 'categorical_crossentropy', metrics: ['accuracy'] });
 * await m.fit(xTrain, yTrain, { epochs: 5, batchSize: 32 });
 */
export class Model extends Container {
  static override readonly className: string = 'Functional';
  /** Set to true (from a callback) to stop `fit` after the current batch. */
  stopTraining = false;
  /** The History of the last `fit`. */
  history: History | null = null;
  /** @internal */
  compiled: CompiledState | null = null;
  /**
   * Where the next `fit` resumes: a callback sets it in `onTrainBegin` (BackupAndRestore), and
   * `fit` starts at that epoch, skipping the first `step` batches of it (same order: the
   * shuffle of an epoch depends only on `seed` and the epoch). @internal
   */
  resumeAt: { epoch: number; step: number; layerSeed?: { seed: number; counter: number } | null } | null = null;
  /** The position of the running `fit`'s dropout stream after its last step (for checkpoints). @internal */
  layerSeedPosition: { seed: number; counter: number } | null = null;

  constructor(args: FunctionalArgs | LayerArgs = {}) {
    super({ name: args.name ?? uniqueName('functional'), trainable: args.trainable });
    const f = args as FunctionalArgs;
    if (f.inputs !== undefined || f.outputs !== undefined) this.initGraph(f.inputs, f.outputs);
  }

  /** The optimizer given to `compile` (null before). */
  get optimizer(): OptimizerLike | null {
    return this.compiled?.optimizer ?? null;
  }

  /** The names of the model's inputs (their input layers' names). */
  get inputNames(): string[] {
    return this.inputs.map((s) => s.sourceLayer.name);
  }

  /** The log keys `fit` reports for one epoch (`loss` and the metrics). */
  get metricsNames(): string[] {
    if (this.compiled === null) return [];
    return new Trackers(this.outputNames, this.compiled.metrics).keys();
  }

  // ---------------------------------------------------------------------------------------
  // Building

  /** Builds a model that has no input shape yet from the first batch it sees. */
  protected ensureBuiltFor(op: string, xs: readonly Tensor[]): void {
    if (!this.built || this.inputs.length === 0) {
      if (xs.length !== 1) throw new ArgumentError(op, `model "${this.name}" is not built and got ${xs.length} inputs`);
      this.ensureBuilt([null, ...xs[0]!.shape.slice(1)]);
    }
  }

  /** Runs the model, returning every output as a list. @internal */
  forward(xs: readonly Tensor[], training: boolean): Tensor[] {
    const y = this.call(xs.length === 1 ? xs[0]! : [...xs], { training });
    return Array.isArray(y) ? y : [y];
  }

  // ---------------------------------------------------------------------------------------
  // Compile

  /**
   * Configures training: the optimizer, the loss (per output if several) and metrics.
   * Strings resolve to Keras names: `'adam'`, `'categorical_crossentropy'`, `'accuracy'`.
   * @example model.compile({ optimizer: adam({ learningRate: 1e-3 }), loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
   */
  compile(args: CompileArgs): void {
    if (!this.built || this.outputs.length === 0) {
      // A Sequential model without an input shape: outputs are known to be one.
      const c = resolveCompile(args, ['output']);
      this.replaceCompiled(c);
      return;
    }
    this.replaceCompiled(resolveCompile(args, this.outputNames));
  }

  private replaceCompiled(c: CompiledState): void {
    if (this.compiled !== null) {
      for (const ms of this.compiled.metrics) for (const m of ms) if (!c.metrics.flat().includes(m)) m.dispose();
      if (this.compiled.ownsOptimizer && this.compiled.optimizer !== c.optimizer) this.compiled.optimizer.dispose?.();
    }
    this.compiled = c;
  }

  private requireCompiled(op: string): CompiledState {
    if (this.compiled === null) throw new ArgumentError(op, `model "${this.name}" must be compiled first: call model.compile({ optimizer, loss, metrics })`);
    return this.compiled;
  }

  // ---------------------------------------------------------------------------------------
  // One step

  /** Loss of every output (weighted) plus regularization; also returns the per-output losses. */
  private totalLoss(c: CompiledState, ys: readonly Tensor[], preds: readonly Tensor[], sw: Tensor | null): { total: Tensor; perOutput: Tensor[] } {
    const perOutput: Tensor[] = [];
    let total: Tensor | null = null;
    preds.forEach((p, i) => {
      const l = applyLoss(c.losses[i]!, ys[i]!, p, sw);
      perOutput.push(l);
      const w = c.lossWeights[i]!;
      const lw = w === 1 ? l : mul(l, w);
      total = total === null ? lw : add(total, lw);
    });
    const reg = this.regularizationLoss();
    if (reg !== null) total = add(total!, reg);
    return { total: total!, perOutput };
  }

  /** One optimisation step on a batch, accumulating into `trackers`. No device reads. */
  private trainStep(c: CompiledState, batch: Batch, trackers: Trackers, vars: readonly Variable[]): void {
    tidy(() => {
      let preds: Tensor[] = [];
      let perOutput: Tensor[] = [];
      const f = (): Tensor => {
        const out = this.forward(batch.xs, true);
        preds = out.map((p) => keep(p));
        const r = this.totalLoss(c, batch.ys, out, batch.sampleWeight);
        perOutput = trackers.outputLosses.length > 0 ? r.perOutput.map((p) => keep(p)) : [];
        return r.total;
      };
      try {
        let loss: Tensor;
        if (vars.length > 0) {
          const r = variableGrads(f, vars);
          loss = r.value;
          c.optimizer.applyGradients(r.grads);
        } else loss = noGrad(f);
        noGrad(() => {
          trackers.loss.add(loss, batch.size);
          perOutput.forEach((l, i) => trackers.outputLosses[i]!.add(l, batch.size));
          trackers.lastBatchLoss?.dispose();
          trackers.lastBatchLoss = keep(add(loss, 0));
          preds.forEach((p, i) => {
            for (const m of c.metrics[i]!) m.update(batch.ys[i]!, p);
          });
        });
      } finally {
        for (const t of [...preds, ...perOutput]) t.dispose();
      }
    });
  }

  /** Forward pass without gradients on a batch, accumulating loss and metrics. */
  private testStep(c: CompiledState, batch: Batch, trackers: Trackers): void {
    tidy(() =>
      noGrad(() => {
        const preds = this.forward(batch.xs, false);
        const { total, perOutput } = this.totalLoss(c, batch.ys, preds, batch.sampleWeight);
        trackers.loss.add(total, batch.size);
        perOutput.forEach((l, i) => trackers.outputLosses[i]?.add(l, batch.size));
        preds.forEach((p, i) => {
          for (const m of c.metrics[i]!) m.update(batch.ys[i]!, p);
        });
      }),
    );
  }

  private collectTrainable(): Variable[] {
    return this.trainableWeights;
  }

  // ---------------------------------------------------------------------------------------
  // fit

  /**
   * Trains the model. `x`/`y` are tensors (or lists/maps of them for several inputs or
   * outputs), or `x` is a dataset of `{ xs, ys }` / `[x, y]` batches. Returns the History
   * of epoch logs (`loss`, metrics, `val_*`).
   * @example
   * const history = await model.fit(xTrain, yTrain, { epochs: 10, batchSize: 32, validationSplit: 0.2 });
   * console.log(history.history.val_accuracy);
   */
  async fit(x: TensorData | BatchDataset, y?: TensorData | FitArgs, args: FitArgs = {}): Promise<History> {
    const op = 'fit';
    if (isDataset(x)) {
      if (y !== undefined && !(y !== null && typeof y === 'object' && !(y instanceof Tensor) && !Array.isArray(y) && Object.keys(y).every((k) => FIT_KEYS.has(k)))) {
        throw new ArgumentError(op, 'with a dataset, pass the options as the second argument: fit(dataset, { epochs })');
      }
      args = (y as FitArgs | undefined) ?? args;
    }
    const c = this.requireCompiled(op);
    const epochs = checkInt(op, 'epochs', args.epochs ?? 1, 0);
    const initialEpoch = checkInt(op, 'initialEpoch', args.initialEpoch ?? 0, 0);
    const batchSize = checkInt(op, 'batchSize', args.batchSize ?? 32, 1);
    const verbose = checkVerbose(op, args.verbose, 'auto');
    const shuffle = args.shuffle ?? true;
    const validationFreq = checkInt(op, 'validationFreq', args.validationFreq ?? 1, 1);
    if (args.seed !== undefined) checkInt(op, 'seed', args.seed, 0);
    const split = args.validationSplit ?? 0;
    if (typeof split !== 'number' || !(split >= 0 && split < 1)) throw new ArgumentError(op, `validationSplit must be in [0, 1), got ${JSON.stringify(split)}`);

    const owned: Tensor[] = [];
    let train: { xs: Tensor[]; ys: Tensor[]; sw: Tensor | null; n: number } | null = null;
    let trainDs: BatchDataset | null = null;
    let val: { xs: Tensor[]; ys: Tensor[]; sw: Tensor | null; n: number } | null = null;
    let valDs: BatchDataset | null = null;
    try {
      if (isDataset(x)) {
        if (split > 0) throw new ArgumentError(op, 'validationSplit needs tensors; with a dataset pass validationData');
        trainDs = x;
      } else {
        const xs = toTensorList(op, 'x', x, this.built && this.inputs.length > 0 ? this.inputNames : ['input']);
        this.ensureBuiltFor(op, xs);
        if (c.losses.length !== this.outputs.length) throw new ArgumentError(op, `model "${this.name}" has ${this.outputs.length} outputs but was compiled for ${c.losses.length}; compile it again`);
        const ys = toTensorList(op, 'y', y as TensorData, this.outputNames);
        const n = sampleCount(op, [['x', xs], ['y', ys], ...(args.sampleWeight ? [['sampleWeight', [args.sampleWeight]] as [string, Tensor[]]] : [])]);
        this.checkInputs(xs.map((t) => t.shape));
        const nVal = split > 0 ? Math.floor(n * split) : 0;
        if (split > 0 && (nVal === 0 || nVal === n)) throw new ArgumentError(op, `validationSplit ${split} of ${n} samples leaves ${nVal === 0 ? 'no validation' : 'no training'} samples`);
        const cut = (t: Tensor, start: number, size: number): Tensor => {
          const s = slice(t, [start, ...t.shape.slice(1).map(() => 0)], [size, ...t.shape.slice(1)]);
          owned.push(s);
          return s;
        };
        if (nVal > 0) {
          const nTrain = n - nVal;
          train = { xs: xs.map((t) => cut(t, 0, nTrain)), ys: ys.map((t) => cut(t, 0, nTrain)), sw: args.sampleWeight ? cut(args.sampleWeight, 0, nTrain) : null, n: nTrain };
          val = { xs: xs.map((t) => cut(t, nTrain, nVal)), ys: ys.map((t) => cut(t, nTrain, nVal)), sw: args.sampleWeight ? cut(args.sampleWeight, nTrain, nVal) : null, n: nVal };
        } else train = { xs, ys, sw: args.sampleWeight ?? null, n };
      }
      if (args.validationData !== undefined) {
        if (val !== null) throw new ArgumentError(op, 'give validationSplit or validationData, not both');
        if (isDataset(args.validationData)) valDs = args.validationData;
        else {
          const vd = args.validationData as readonly unknown[];
          if (!Array.isArray(vd) || vd.length < 2) throw new ArgumentError(op, 'validationData must be [x, y], [x, y, sampleWeight] or a dataset');
          const vx = toTensorList(op, 'validationData x', vd[0] as TensorData, this.inputNames.length ? this.inputNames : ['input']);
          const vy = toTensorList(op, 'validationData y', vd[1] as TensorData, this.outputNames);
          const vsw = vd[2] instanceof Tensor ? vd[2] : null;
          val = { xs: vx, ys: vy, sw: vsw, n: sampleCount(op, [['validationData x', vx], ['validationData y', vy]]) };
        }
      }

      const steps = train !== null ? Math.ceil(train.n / batchSize) : (args.stepsPerEpoch ?? (Number.isFinite(trainDs!.size) ? (trainDs!.size ?? null) : null));
      const userCallbacks = args.callbacks ?? [];
      const history = new History();
      // Keras's order: the progress bar first, the user's callbacks, History last.
      const list: (Callback | CallbackHooks)[] = [];
      if (verbose > 0 && !userCallbacks.some((cb) => cb instanceof ProgressBar)) list.push(new ProgressBar());
      list.push(...userCallbacks, history);
      const cbs = new CallbackList(list);
      const trackers = new Trackers(this.outputNames, c.metrics);
      const doValidation = val !== null || valDs !== null;
      const params: TrainingParams = {
        epochs,
        initialEpoch,
        steps,
        samples: train?.n ?? null,
        batchSize: train !== null ? batchSize : null,
        verbose,
        metrics: [...trackers.keys(), ...(doValidation ? trackers.keys('val_') : [])],
        doValidation,
      };
      cbs.setModel(this);
      cbs.setParams(params);
      this.stopTraining = false;
      this.history = history;
      setLayerSeed(args.seed ?? null);
      const yielder = new Yielder();
      const readers = trackers.readers();
      const resolve = (): Promise<Logs> => trackers.readBatch();
      let epochLogs: Logs = {};
      try {
        this.resumeAt = null;
        this.layerSeedPosition = args.seed === undefined ? null : { seed: args.seed, counter: 0 };
        await cbs.onTrainBegin();
        const resume = this.resumeAt as { epoch: number; step: number; layerSeed?: { seed: number; counter: number } | null } | null;
        this.resumeAt = null;
        // This run's dropout stream. The layer-seed context is global, and another model may
        // train concurrently (both awaiting in turn), so each step swaps this run's position in.
        let seedState = resume?.layerSeed !== undefined ? resume.layerSeed : this.layerSeedPosition;
        this.layerSeedPosition = seedState;
        for (let epoch = resume?.epoch ?? initialEpoch; epoch < epochs; epoch++) {
          trackers.reset();
          await cbs.onEpochBegin(epoch);
          let vars = this.collectTrainable();
          const batches = train !== null
            ? tensorBatches(train.xs, train.ys, train.n, { batchSize, shuffle, seed: args.seed ?? null, epoch, sampleWeight: train.sw, classWeight: args.classWeight ?? null })
            : this.datasetBatches(op, trainDs!, args.classWeight ?? null, args.stepsPerEpoch ?? null);
          const sources = new Set<Tensor>(train !== null ? [...train.xs, ...train.ys] : []);
          let step = 0;
          const skip = resume !== null && epoch === resume.epoch ? resume.step : 0;
          for await (const batch of batches) {
            if (step < skip) {
              // Already trained on before the checkpoint this run resumed from.
              disposeBatch(batch, sources);
              step++;
              continue;
            }
            try {
              if (train === null) {
                if (!this.built || this.inputs.length === 0) {
                  this.ensureBuiltFor(op, batch.xs);
                  vars = this.collectTrainable();
                }
                this.checkInputs(batch.xs.map((t) => t.shape));
              }
              await cbs.onBatchBegin(step, { batch: step, size: batch.size });
              restoreLayerSeedState(seedState);
              try {
                this.trainStep(c, batch, trackers, vars);
              } finally {
                seedState = layerSeedState();
                this.layerSeedPosition = seedState;
              }
            } finally {
              disposeBatch(batch, sources);
            }
            if (cbs.wantsBatchEnd) {
              // Lazy logs read the device only when a hook reads a value. On a backend without
              // synchronous reads (WebGPU) a plain property read cannot work, so unless every
              // hook reads through resolveLogs, the values are read here, asynchronously.
              const base = { batch: step, size: batch.size };
              const logs = cbs.readsBatchValues && !trackers.canReadSync() ? { ...base, ...(await trackers.readBatch()) } : lazyLogs(base, readers, resolve);
              await cbs.onBatchEnd(step, logs);
            }
            step++;
            if (this.stopTraining) break;
            await yielder.maybe();
          }
          epochLogs = await trackers.read();
          if (doValidation && (epoch - initialEpoch + 1) % validationFreq === 0) {
            const v = await this.runEvaluation(op, c, trackers, val, valDs, args.validationBatchSize ?? batchSize, null);
            epochLogs = { ...epochLogs, ...prefixLogs(v, 'val_') };
          }
          await cbs.onEpochEnd(epoch, epochLogs);
          if (this.stopTraining) break;
        }
        await cbs.onTrainEnd(epochLogs);
      } finally {
        trackers.reset();
        setLayerSeed(null);
      }
      return history;
    } finally {
      for (const t of owned) t.dispose();
    }
  }

  private async *datasetBatches(op: string, ds: BatchDataset, classWeight: Record<number, number> | null, steps: number | null): AsyncGenerator<Batch> {
    let k = 0;
    if (steps !== null && steps <= 0) return;
    for await (const el of ds) {
      yield datasetBatch(op, el, this.inputNames, this.outputNames, true, classWeight);
      if (steps !== null && ++k >= steps) break;
    }
  }

  /** Runs loss and metrics over data (resetting `trackers`) and reads them once. */
  private async runEvaluation(op: string, c: CompiledState, trackers: Trackers, data: { xs: Tensor[]; ys: Tensor[]; sw: Tensor | null; n: number } | null, ds: BatchDataset | null, batchSize: number, steps: number | null): Promise<Logs> {
    trackers.reset();
    const yielder = new Yielder();
    const batches = data !== null ? tensorBatches(data.xs, data.ys, data.n, { batchSize, shuffle: false, seed: null, epoch: 0, sampleWeight: data.sw }) : this.datasetBatches(op, ds!, null, steps);
    const sources = new Set<Tensor>(data !== null ? [...data.xs, ...data.ys] : []);
    for await (const batch of batches) {
      try {
        this.testStep(c, batch, trackers);
      } finally {
        disposeBatch(batch, sources);
      }
      await yielder.maybe();
    }
    try {
      return await trackers.read();
    } finally {
      trackers.reset();
    }
  }

  // ---------------------------------------------------------------------------------------
  // evaluate, predict, trainOnBatch

  /**
   * Loss and metrics over data, as `{ loss, accuracy, … }`.
   * @example const { loss, accuracy } = await model.evaluate(xTest, yTest);
   */
  async evaluate(x: TensorData | BatchDataset, y?: TensorData | EvaluateArgs, args: EvaluateArgs = {}): Promise<Logs> {
    const op = 'evaluate';
    const c = this.requireCompiled(op);
    let data: { xs: Tensor[]; ys: Tensor[]; sw: Tensor | null; n: number } | null = null;
    let ds: BatchDataset | null = null;
    if (isDataset(x)) {
      ds = x;
      if (y !== undefined) args = y as EvaluateArgs;
    } else {
      const xs = toTensorList(op, 'x', x, this.built && this.inputs.length > 0 ? this.inputNames : ['input']);
      this.ensureBuiltFor(op, xs);
      const ys = toTensorList(op, 'y', y as TensorData, this.outputNames);
      const n = sampleCount(op, [['x', xs], ['y', ys]]);
      this.checkInputs(xs.map((t) => t.shape));
      data = { xs, ys, sw: args.sampleWeight ?? null, n };
    }
    const batchSize = checkInt(op, 'batchSize', args.batchSize ?? 32, 1);
    const verbose = checkVerbose(op, args.verbose, 0);
    const trackers = new Trackers(this.outputNames, c.metrics);
    const t0 = Date.now();
    const logs = await this.runEvaluation(op, c, trackers, data, ds, batchSize, args.steps ?? null);
    if (verbose > 0) {
      const { formatLogs, defaultStream, formatDuration } = await import('../callbacks/progress.js');
      const steps = data !== null ? Math.ceil(data.n / batchSize) : '?';
      defaultStream().write(`${steps}/${steps} - ${formatDuration((Date.now() - t0) / 1000)}${formatLogs(logs)}\n`);
    }
    return logs;
  }

  /**
   * Outputs for inputs, computed in batches (inference mode: no dropout, moving statistics).
   * Returns one tensor, or a list for several outputs; dispose them when done.
   * @example const probs = model.predict(xTest); const labels = argmax(probs, -1);
   */
  predict(x: TensorData, args: PredictArgs = {}): Tensor | Tensor[] {
    const op = 'predict';
    if (isDataset(x)) throw new ArgumentError(op, 'predict takes tensors; for a dataset, iterate it and call predictOnBatch');
    const xs = toTensorList(op, 'x', x, this.built && this.inputs.length > 0 ? this.inputNames : ['input']);
    this.ensureBuiltFor(op, xs);
    const n = sampleCount(op, [['x', xs]]);
    this.checkInputs(xs.map((t) => t.shape));
    const batchSize = checkInt(op, 'batchSize', args.batchSize ?? 32, 1);
    if (n <= batchSize) return this.predictOnBatch(xs);
    const parts: Tensor[][] = this.outputs.map(() => []);
    try {
      for (const b of tensorBatches(xs, [], n, { batchSize, shuffle: false, seed: null, epoch: 0 })) {
        const outs = tidy(() => noGrad(() => this.forward(b.xs, false)));
        for (const t of b.xs) t.dispose();
        outs.forEach((o, i) => parts[i]!.push(o));
      }
      const res = parts.map((ps) => concat(ps, 0));
      return res.length === 1 ? res[0]! : res;
    } finally {
      for (const ps of parts) for (const t of ps) t.dispose();
    }
  }

  /**
   * Outputs for one batch (no batching, inference mode).
   * @example const y = model.predictOnBatch(x.slice(0, 8));
   */
  predictOnBatch(x: TensorData): Tensor | Tensor[] {
    const op = 'predictOnBatch';
    const xs = toTensorList(op, 'x', x, this.built && this.inputs.length > 0 ? this.inputNames : ['input']);
    this.ensureBuiltFor(op, xs);
    this.checkInputs(xs.map((t) => t.shape));
    const outs = tidy(() => noGrad(() => this.forward(xs, false)));
    return outs.length === 1 ? outs[0]! : outs;
  }

  /**
   * One optimisation step on one batch; returns the logs for that batch.
   * @example const { loss } = await model.trainOnBatch(xb, yb);
   */
  async trainOnBatch(x: TensorData, y: TensorData, args: TrainOnBatchArgs = {}): Promise<Logs> {
    const op = 'trainOnBatch';
    const c = this.requireCompiled(op);
    const xs = toTensorList(op, 'x', x, this.built && this.inputs.length > 0 ? this.inputNames : ['input']);
    this.ensureBuiltFor(op, xs);
    const ys = toTensorList(op, 'y', y, this.outputNames);
    const n = sampleCount(op, [['x', xs], ['y', ys]]);
    this.checkInputs(xs.map((t) => t.shape));
    const trackers = new Trackers(this.outputNames, c.metrics);
    if (args.resetMetrics ?? true) trackers.reset();
    const batches = [...tensorBatches(xs, ys, n, { batchSize: n, shuffle: false, seed: null, epoch: 0, sampleWeight: args.sampleWeight ?? null, classWeight: args.classWeight ?? null })];
    const sources = new Set([...xs, ...ys]);
    try {
      for (const b of batches) {
        try {
          this.trainStep(c, b, trackers, this.collectTrainable());
        } finally {
          disposeBatch(b, sources);
        }
      }
      return await trackers.read();
    } finally {
      trackers.reset();
    }
  }

  /**
   * Loss and metrics on one batch, without training.
   * @example const { loss } = await model.testOnBatch(xb, yb);
   */
  async testOnBatch(x: TensorData, y: TensorData): Promise<Logs> {
    const c = this.requireCompiled('testOnBatch');
    const xs = toTensorList('testOnBatch', 'x', x, this.inputNames);
    const ys = toTensorList('testOnBatch', 'y', y, this.outputNames);
    const n = sampleCount('testOnBatch', [['x', xs], ['y', ys]]);
    this.checkInputs(xs.map((t) => t.shape));
    return this.runEvaluation('testOnBatch', c, new Trackers(this.outputNames, c.metrics), { xs, ys, sw: null, n }, null, n, null);
  }

  // ---------------------------------------------------------------------------------------
  // Summary, disposal, config

  /**
   * A Keras-like table of the layers, output shapes and parameter counts; printed with
   * `printFn` (default `console.log`) and returned.
   * @example model.summary();
   */
  summary(opts: SummaryOptions | ((line: string) => void) = {}): string {
    const o = typeof opts === 'function' ? { printFn: opts } : opts;
    const text = summarize(this, o);
    (o.printFn ?? console.log)(text);
    return text;
  }

  /**
   * Saves the model (architecture, training config, weights and — when compiled — the
   * optimizer's state, so `loadModel` resumes training where it stopped) to directory `dir` in
   * Node: `model.json` and a safetensors weights file, each written atomically.
   * @example await model.save('./mnist-model'); const again = await loadModel('./mnist-model');
   */
  async save(dir: string, opts: { includeOptimizer?: boolean } = {}): Promise<void> {
    const { saveModel } = await import('../io/node.js');
    await saveModel(this, dir, { includeOptimizer: opts.includeOptimizer });
  }

  /**
   * The model as in-memory artifacts `{ modelJson, weights }` (works in browsers); rebuild it
   * with `loadModelFromArtifacts`.
   * @example const a = await model.toArtifacts(); localStorage.setItem('m', JSON.stringify(a.modelJson));
   */
  async toArtifacts(): Promise<{ modelJson: import('../io/artifacts.js').ModelJson; weights: Uint8Array }> {
    const { modelToArtifacts } = await import('../io/artifacts.js');
    return modelToArtifacts(this);
  }

  /** Frees the weights, the metric accumulators and an optimizer `compile` created from a name. */
  override dispose(): void {
    if (this.isDisposed) return;
    if (this.compiled !== null) {
      for (const ms of this.compiled.metrics) for (const m of ms) m.dispose();
      if (this.compiled.ownsOptimizer) this.compiled.optimizer.dispose?.();
    }
    super.dispose();
  }

  override getConfig(): Record<string, unknown> {
    const nodeIndex = new Map<unknown, number>();
    const inGraph = new Set(this.graphNodes);
    for (const l of this.layers) {
      let k = 0;
      for (const n of l.inboundNodes) if (inGraph.has(n) || l instanceof InputLayer) nodeIndex.set(n, k++);
    }
    const ref = (s: SymbolicTensor): [string, number, number] => [s.sourceLayer.name, nodeIndex.get(s.sourceLayer.inboundNodes[s.nodeIndex]!) ?? 0, s.tensorIndex];
    const layers = this.layers.map((l) => ({
      className: l.className,
      name: l.name,
      config: l.getConfig(),
      inboundNodes: l.inboundNodes.filter((n) => inGraph.has(n)).map((n) => ({ inputs: n.inputs.map(ref), asList: n.asList, callOptions: n.callOptions })),
    }));
    return {
      name: this.name,
      trainable: this.trainable,
      layers,
      inputLayers: this.inputs.map(ref),
      outputLayers: this.outputs.map(ref),
    };
  }
}

const FIT_KEYS = new Set([
  'epochs',
  'batchSize',
  'verbose',
  'callbacks',
  'validationSplit',
  'validationData',
  'shuffle',
  'classWeight',
  'sampleWeight',
  'initialEpoch',
  'seed',
  'stepsPerEpoch',
  'validationBatchSize',
  'validationFreq',
  'steps',
]);

function prefixLogs(logs: Logs, prefix: string): Logs {
  const out: Logs = {};
  for (const [k, v] of Object.entries(logs)) out[`${prefix}${k}`] = v;
  return out;
}

/** Options of {@link sequential}. */
export interface SequentialArgs {
  /** The layers, in order (more can be added with `add`). */
  layers?: readonly Layer[];
  name?: string;
  trainable?: boolean;
}

/**
 * A linear stack of layers. It builds as soon as the input shape is known (from the first
 * layer's `inputShape`, or the first batch it sees).
 * @example
 * const m = sequential([
 *   layers.flatten({ inputShape: [28, 28] }),
 *   layers.dense({ units: 128, activation: 'relu' }),
 *   layers.dense({ units: 10, activation: 'softmax' }),
 * ]);
 */
export class Sequential extends Model {
  static override readonly className: string = 'Sequential';
  private readonly stack: Layer[] = [];
  private declaredInput: Shape | null = null;

  constructor(args: SequentialArgs = {}) {
    super({ name: args.name ?? uniqueName('sequential'), trainable: args.trainable });
    for (const l of args.layers ?? []) this.add(l);
  }

  /** The layers in order (the internal input layer excluded). */
  override get layers(): Layer[] {
    return [...(this.stack ?? [])];
  }

  /**
   * Appends a layer (rebuilding the model if it is built).
   * @example m.add(layers.dense({ units: 10 }));
   */
  add(layer: Layer): void {
    if (!(layer instanceof Layer)) throw new ArgumentError(this.name, `add: expected a Layer, got ${layer === null ? 'null' : typeof layer}`);
    if (this.stack.includes(layer)) throw new ArgumentError(this.name, `add: layer "${layer.name}" is already in the model`);
    if (this.stack.some((l) => l.name === layer.name)) throw new ArgumentError(this.name, `add: layer names must be unique; "${layer.name}" is already used`);
    if (layer instanceof InputLayer) {
      if (this.stack.length > 0 || this.declaredInput !== null) throw new ArgumentError(this.name, 'add: an InputLayer can only come first');
      this.declaredInput = [...layer.batchInputShape!];
      this.rebuild();
      return;
    }
    if (this.stack.length === 0 && this.declaredInput === null) {
      if (layer.batchInputShape !== null) this.declaredInput = [...layer.batchInputShape];
      else if (layer instanceof Container && layer.inputs.length === 1) this.declaredInput = [...layer.inputs[0]!.shape];
    }
    this.stack.push(layer);
    this.rebuild();
  }

  /**
   * Removes the last layer.
   * @example m.pop();
   */
  pop(): Layer {
    const l = this.stack.pop();
    if (l === undefined) throw new ArgumentError(this.name, 'pop: the model has no layers');
    this.rebuild();
    return l;
  }

  private rebuild(): void {
    const shape = this.declaredInput ?? (this.inputs.length > 0 ? this.inputs[0]!.shape : null);
    if (shape === null || this.stack.length === 0) return;
    this.buildGraph(shape);
  }

  private buildGraph(shape: Shape): void {
    const inp = makeInput({ shape: shape.slice(1), batchSize: shape[0] ?? undefined, name: `${this.name}_input`, dtype: this.stack[0]?.inputDType });
    let x: SymbolicTensor = inp;
    for (const l of this.stack) {
      const y = l.applyAll(x) as SymbolicTensor | SymbolicTensor[];
      if (Array.isArray(y)) throw new ArgumentError(this.name, `layer "${l.name}" has ${y.length} outputs; Sequential needs single-output layers (use a functional model)`);
      x = y;
    }
    this.initGraph(inp, x);
  }

  override build(inputShape: Shape | Shape[]): void {
    const s = Array.isArray(inputShape[0]) ? (inputShape as Shape[])[0]! : (inputShape as Shape);
    if (this.stack.length === 0) throw new ArgumentError(this.name, 'cannot build a Sequential model with no layers');
    this.buildGraph([...s]);
  }

  override call(inputs: Tensor | Tensor[], opts: CommonCallOptions): Tensor {
    let x = single(this, inputs);
    if (!this.built) this.ensureBuilt([null, ...x.shape.slice(1)]);
    const orig = x;
    // The padding mask flows from layer to layer (Keras masking); see Layer.computeMask.
    let mask: Tensor | null = null;
    const ownedMasks: Tensor[] = [];
    try {
      for (const l of this.stack) {
        const y = l.applyAll(x, mask !== null && l.supportsMasking ? { ...opts, mask } : opts) as Tensor;
        const next = l.computeMask(x, mask);
        if (next !== null && next !== mask) ownedMasks.push(next);
        mask = next;
        if (x !== orig && y !== x) x.dispose();
        x = y;
      }
    } finally {
      for (const m of ownedMasks) m.dispose();
    }
    return x;
  }

  override getConfig(): Record<string, unknown> {
    return {
      name: this.name,
      trainable: this.trainable,
      buildInputShape: this.inputs.length > 0 ? this.inputs[0]!.shape : this.declaredInput,
      inputDType: this.inputs[0]?.dtype ?? null,
      layers: this.stack.map((l) => ({ className: l.className, config: l.getConfig() })),
    };
  }
}

/**
 * A functional model from symbolic inputs to outputs.
 * @example
 * const inp = input({ shape: [32] });
 * const out = layers.dense({ units: 1, activation: 'sigmoid' }).apply(layers.dense({ units: 16, activation: 'relu' }).apply(inp));
 * const m = model({ inputs: inp, outputs: out });
 */
export function model(args: FunctionalArgs): Model {
  if (args === null || typeof args !== 'object') throw new ArgumentError('model', 'expected { inputs, outputs }');
  return new Model(args);
}

/**
 * A Sequential model from a list of layers.
 * @example const m = sequential([layers.dense({ units: 10, inputShape: [4] })]);
 */
export function sequential(layersOrArgs: readonly Layer[] | SequentialArgs = []): Sequential {
  return new Sequential(Array.isArray(layersOrArgs) ? { layers: layersOrArgs as Layer[] } : (layersOrArgs as SequentialArgs));
}

