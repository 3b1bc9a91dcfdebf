/**
 * Training callbacks: the `Callback` base class with Keras's hooks, the list that `fit` drives,
 * `History`, and custom callbacks from plain objects of hooks.
 * @module
 */
import { ArgumentError } from '@tessera/core';
import type { Model } from '../engine/model.js';

/** Numbers by name: `loss`, `accuracy`, `val_loss`, `learning_rate`, … */
export type Logs = Record<string, number>;

/** What `fit` tells callbacks about the run. */
export interface TrainingParams {
  /** Index one past the last epoch (`fit`'s `epochs`). */
  epochs: number;
  /** The first epoch (`fit`'s `initialEpoch`). */
  initialEpoch: number;
  /** Batches per epoch, or null when unknown (a dataset without a size). */
  steps: number | null;
  /** Samples per epoch, when known. */
  samples: number | null;
  batchSize: number | null;
  /** 0 silent, 1 progress bar, 2 one line per epoch. */
  verbose: 0 | 1 | 2;
  /** The log keys of one epoch (`loss`, metrics, and their `val_` forms when validating). */
  metrics: string[];
  doValidation: boolean;
}

const RESOLVE = Symbol.for('tessera.nn.resolveLogs');

/**
 * The values of batch logs, read asynchronously (works on backends without synchronous
 * reads, such as WebGPU). Batch logs from `fit` compute their values lazily when a property
 * is read; this reads them all with one await.
 * @example async onBatchEnd(batch, logs) { const { loss } = await resolveLogs(logs); }
 */
export async function resolveLogs(logs: Logs | undefined): Promise<Logs> {
  if (logs === undefined) return {};
  const r = (logs as unknown as Record<symbol, (() => Promise<Logs>) | undefined>)[RESOLVE];
  if (typeof r === 'function') return r();
  return { ...logs };
}

const ASYNC_BATCH_LOGS = Symbol.for('tessera.nn.asyncBatchLogs');

/**
 * Marks an `onBatchEnd` implementation as reading batch log values only through
 * {@link resolveLogs}. When every batch-end hook of a `fit` is marked, `fit` can hand out lazy
 * logs even on a backend without synchronous reads (no device read per batch); otherwise it
 * reads the values asynchronously before calling the hooks there. A subclass that overrides
 * the method is unmarked again.
 * @internal
 */
export function readsBatchLogsAsync<F extends (...args: never[]) => unknown>(fn: F): F {
  Object.defineProperty(fn, ASYNC_BATCH_LOGS, { value: true });
  return fn;
}

/**
 * Batch logs whose values are read from the device only when a property is accessed
 * (`fit` makes these, so a batch without a reader costs no device read).
 * @internal
 */
export function lazyLogs(base: Logs, readers: Record<string, () => number>, resolve: () => Promise<Logs>): Logs {
  const logs: Logs = { ...base };
  for (const [k, read] of Object.entries(readers)) Object.defineProperty(logs, k, { get: read, enumerable: true, configurable: true });
  Object.defineProperty(logs, RESOLVE, { value: async () => ({ ...base, ...(await resolve()) }), enumerable: false });
  return logs;
}

/**
 * Base class of callbacks: override any hook. Hooks may be async; `fit` awaits them. Batch
 * logs hold the running (epoch-so-far) averages, read lazily; `batchLoss` is the loss of the
 * batch alone. On a backend without synchronous reads (WebGPU) `fit` reads them with one
 * await before calling `onBatchEnd`, so plain property reads work on every backend. Set
 * `this.model.stopTraining = true` to stop after the current batch.
 * @example
 * class Printer extends Callback {
 *   override onEpochEnd(epoch: number, logs?: Logs) { console.log(epoch, logs?.loss); }
 * }
 */
export class Callback {
  /** The model being trained (set by `fit`). */
  model!: Model;
  /** The run's parameters (set by `fit`). */
  params!: TrainingParams;
  setModel(model: Model): void {
    this.model = model;
  }
  setParams(params: TrainingParams): void {
    this.params = params;
  }
  onTrainBegin(logs?: Logs): void | Promise<void> {
    void logs;
  }
  onTrainEnd(logs?: Logs): void | Promise<void> {
    void logs;
  }
  onEpochBegin(epoch: number, logs?: Logs): void | Promise<void> {
    void epoch;
    void logs;
  }
  onEpochEnd(epoch: number, logs?: Logs): void | Promise<void> {
    void epoch;
    void logs;
  }
  onBatchBegin(batch: number, logs?: Logs): void | Promise<void> {
    void batch;
    void logs;
  }
  onBatchEnd(batch: number, logs?: Logs): void | Promise<void> {
    void batch;
    void logs;
  }
}

/** Hooks of a custom callback given as a plain object. */
export interface CallbackHooks {
  onTrainBegin?: (logs?: Logs) => void | Promise<void>;
  onTrainEnd?: (logs?: Logs) => void | Promise<void>;
  onEpochBegin?: (epoch: number, logs?: Logs) => void | Promise<void>;
  onEpochEnd?: (epoch: number, logs?: Logs) => void | Promise<void>;
  onBatchBegin?: (batch: number, logs?: Logs) => void | Promise<void>;
  onBatchEnd?: (batch: number, logs?: Logs) => void | Promise<void>;
}

const HOOKS = ['onTrainBegin', 'onTrainEnd', 'onEpochBegin', 'onEpochEnd', 'onBatchBegin', 'onBatchEnd'] as const;

/**
 * A callback from a plain object of hooks (Keras `LambdaCallback`). `fit` wraps plain
 * objects in it automatically.
 * @example model.fit(x, y, { callbacks: [{ onEpochEnd: (epoch, logs) => console.log(epoch, logs) }] });
 */
export class LambdaCallback extends Callback {
  constructor(hooks: CallbackHooks) {
    super();
    if (hooks === null || typeof hooks !== 'object') throw new ArgumentError('LambdaCallback', 'expected an object of hooks');
    for (const h of HOOKS) {
      const f = hooks[h];
      if (f !== undefined) {
        if (typeof f !== 'function') throw new ArgumentError('LambdaCallback', `${h} must be a function`);
        (this as unknown as Record<string, unknown>)[h] = f;
      }
    }
  }
}

/**
 * Records the epoch logs of a `fit` run; `fit` returns it (and sets `model.history`).
 * @example const h = await model.fit(x, y, { epochs: 5 }); h.history.loss // five numbers
 */
export class History extends Callback {
  /** The epoch indices recorded. */
  epoch: number[] = [];
  /** Each log key's value per epoch. */
  history: Record<string, number[]> = {};
  override onTrainBegin(): void {
    this.epoch = [];
    this.history = {};
  }
  override onEpochEnd(epoch: number, logs: Logs = {}): void {
    this.epoch.push(epoch);
    for (const [k, v] of Object.entries(logs)) (this.history[k] ??= []).push(v);
  }
}

/** Whether `cb` overrides `hook` (so `fit` can skip per-batch calls nobody listens to). */
function overrides(cb: Callback, hook: (typeof HOOKS)[number]): boolean {
  return (cb as unknown as Record<string, unknown>)[hook] !== (Callback.prototype as unknown as Record<string, unknown>)[hook];
}

/**
 * The callbacks of one `fit`, called in order.
 * @internal
 */
export class CallbackList {
  readonly callbacks: Callback[];
  private readonly batchBegin: Callback[];
  private readonly batchEnd: Callback[];
  constructor(callbacks: readonly (Callback | CallbackHooks)[]) {
    this.callbacks = callbacks.map((c, i) => {
      if (c instanceof Callback) return c;
      if (c !== null && typeof c === 'object') return new LambdaCallback(c);
      throw new ArgumentError('fit', `callbacks[${i}] must be a Callback or an object of hooks, got ${c === null ? 'null' : typeof c}`);
    });
    this.batchBegin = this.callbacks.filter((c) => overrides(c, 'onBatchBegin'));
    this.batchEnd = this.callbacks.filter((c) => overrides(c, 'onBatchEnd'));
  }
  /** True when some callback listens to batch ends (then `fit` builds batch logs). */
  get wantsBatchEnd(): boolean {
    return this.batchEnd.length > 0;
  }
  /**
   * True when some batch-end hook may read log values as plain properties (it is not marked
   * with {@link readsBatchLogsAsync}); on a backend without synchronous reads `fit` then reads
   * the values before calling the hooks.
   */
  get readsBatchValues(): boolean {
    return this.batchEnd.some((c) => (c.onBatchEnd as unknown as Record<symbol, unknown>)[ASYNC_BATCH_LOGS] !== true);
  }
  setModel(m: Model): void {
    for (const c of this.callbacks) c.setModel(m);
  }
  setParams(p: TrainingParams): void {
    for (const c of this.callbacks) c.setParams(p);
  }
  async onTrainBegin(logs?: Logs): Promise<void> {
    for (const c of this.callbacks) await c.onTrainBegin(logs);
  }
  async onTrainEnd(logs?: Logs): Promise<void> {
    for (const c of this.callbacks) await c.onTrainEnd(logs);
  }
  async onEpochBegin(epoch: number, logs?: Logs): Promise<void> {
    for (const c of this.callbacks) await c.onEpochBegin(epoch, logs);
  }
  async onEpochEnd(epoch: number, logs?: Logs): Promise<void> {
    for (const c of this.callbacks) await c.onEpochEnd(epoch, logs);
  }
  async onBatchBegin(batch: number, logs?: Logs): Promise<void> {
    for (const c of this.batchBegin) await c.onBatchBegin(batch, logs);
  }
  async onBatchEnd(batch: number, logs?: Logs): Promise<void> {
    for (const c of this.batchEnd) await c.onBatchEnd(batch, logs);
  }
}
