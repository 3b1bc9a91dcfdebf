/**
 * Keras's standard callbacks: EarlyStopping, ModelCheckpoint, ReduceLROnPlateau,
 * TerminateOnNaN, CSVLogger and LearningRateScheduler.
 * @module
 */
import { ArgumentError, type Tensor } from '@tessera/core';
import { Callback, type Logs } from './base.js';

type Mode = 'auto' | 'min' | 'max';

function better(monitor: string, mode: Mode): (a: number, b: number, delta: number) => boolean {
  const max = mode === 'max' || (mode === 'auto' && /acc|auc|precision|recall|f1/.test(monitor));
  return max ? (a, b, d) => a - d > b : (a, b, d) => a + d < b;
}

function checkMode(op: string, mode: unknown): Mode {
  if (mode !== 'auto' && mode !== 'min' && mode !== 'max') throw new ArgumentError(op, `mode must be 'auto', 'min' or 'max', got ${JSON.stringify(mode)}`);
  return mode;
}

/** Options of {@link EarlyStopping}. */
export interface EarlyStoppingOptions {
  /** Log key to watch (default `val_loss`). */
  monitor?: string;
  /** Smallest change that counts as an improvement (default 0). */
  minDelta?: number;
  /** Epochs without improvement before stopping (default 0). */
  patience?: number;
  /** `min`, `max`, or `auto` (max for accuracy-like keys). */
  mode?: Mode;
  /** Stop unless the monitored value beats this. */
  baseline?: number;
  /** At the end of training, put back the weights of the best epoch (default false). */
  restoreBestWeights?: boolean;
  /** Epochs to wait before watching (default 0). */
  startFromEpoch?: number;
  /** 1 prints when it stops and restores (default 0). */
  verbose?: 0 | 1;
  printFn?: (line: string) => void;
}

/**
 * Stops training when a monitored value stops improving (Keras semantics); optionally
 * restores the best epoch's weights at the end.
 * @example model.fit(x, y, { epochs: 100, validationSplit: 0.2, callbacks: [new EarlyStopping({ patience: 3, restoreBestWeights: true })] });
 */
export class EarlyStopping extends Callback {
  readonly monitor: string;
  readonly minDelta: number;
  readonly patience: number;
  readonly mode: Mode;
  readonly baseline: number | null;
  readonly restoreBestWeights: boolean;
  readonly startFromEpoch: number;
  private readonly verbose: number;
  private readonly print: (line: string) => void;
  /** The epoch training stopped at (0 if it ran to the end). */
  stoppedEpoch = 0;
  /** The best epoch seen. */
  bestEpoch = 0;
  best = Infinity;
  private wait = 0;
  private bestWeights: Tensor[] | null = null;
  private isBetter: (a: number, b: number, d: number) => boolean;
  private warned = false;

  constructor(opts: EarlyStoppingOptions = {}) {
    super();
    this.monitor = opts.monitor ?? 'val_loss';
    this.minDelta = Math.abs(opts.minDelta ?? 0);
    this.patience = opts.patience ?? 0;
    this.mode = checkMode('EarlyStopping', opts.mode ?? 'auto');
    this.baseline = opts.baseline ?? null;
    this.restoreBestWeights = opts.restoreBestWeights ?? false;
    this.startFromEpoch = opts.startFromEpoch ?? 0;
    this.verbose = opts.verbose ?? 0;
    this.print = opts.printFn ?? console.log;
    this.isBetter = better(this.monitor, this.mode);
  }

  override onTrainBegin(): void {
    this.wait = 0;
    this.stoppedEpoch = 0;
    this.bestEpoch = 0;
    this.isBetter = better(this.monitor, this.mode);
    this.best = this.isBetter(1, 0, 0) ? -Infinity : Infinity;
    this.dropBest();
  }

  private dropBest(): void {
    for (const t of this.bestWeights ?? []) t.dispose();
    this.bestWeights = null;
  }

  private snapshot(): void {
    this.dropBest();
    this.bestWeights = this.model.getWeights().map((t) => keepTensor(t));
  }

  override onEpochEnd(epoch: number, logs: Logs = {}): void {
    const current = logs[this.monitor];
    if (current === undefined) {
      if (!this.warned) console.warn(`EarlyStopping: '${this.monitor}' is not in the logs (available: ${Object.keys(logs).join(', ')})`);
      this.warned = true;
      return;
    }
    if (epoch < this.startFromEpoch) return;
    if (this.restoreBestWeights && this.bestWeights === null) {
      this.snapshot();
      this.bestEpoch = epoch;
    }
    this.wait++;
    if (this.isBetter(current, this.best, this.minDelta)) {
      this.best = current;
      this.bestEpoch = epoch;
      if (this.restoreBestWeights) this.snapshot();
      if (this.baseline === null || this.isBetter(current, this.baseline, 0)) this.wait = 0;
      return;
    }
    if (this.wait >= this.patience && epoch > 0) {
      this.stoppedEpoch = epoch;
      this.model.stopTraining = true;
    }
  }

  override onTrainEnd(): void {
    if (this.stoppedEpoch > 0 && this.verbose > 0) this.print(`Epoch ${this.stoppedEpoch + 1}: early stopping`);
    if (this.restoreBestWeights && this.bestWeights !== null) {
      if (this.verbose > 0) this.print(`Restoring model weights from the end of the best epoch: ${this.bestEpoch + 1}.`);
      this.model.setWeights(this.bestWeights);
    }
    this.dropBest();
  }
}

function keepTensor(t: Tensor): Tensor {
  t.kept = true;
  return t;
}

/** Options of {@link ModelCheckpoint}. */
export interface ModelCheckpointOptions {
  /**
   * Directory to save to; `{epoch}`, `{epoch:02d}` and log keys such as `{val_loss:.4f}` are
   * filled in (epochs count from 1).
   */
  filepath: string;
  /** Default `val_loss`. */
  monitor?: string;
  /** Save only when the monitored value improves (default false). */
  saveBestOnly?: boolean;
  mode?: Mode;
  /** Save every n epochs (default 1). */
  saveFreq?: number;
  verbose?: 0 | 1;
  printFn?: (line: string) => void;
}

/**
 * Fills `{key}` and `{key:fmt}` placeholders (`02d`, `.4f`) from the epoch and logs.
 * @example formatPath('ckpt-{epoch:02d}-{val_loss:.2f}', 3, { val_loss: 0.1234 }) // 'ckpt-04-0.12'
 */
export function formatPath(template: string, epoch: number, logs: Logs): string {
  const values: Record<string, number> = { ...logs, epoch: epoch + 1 };
  return template.replace(/\{(\w+)(?::([^}]*))?\}/g, (whole, key: string, fmt: string | undefined) => {
    const v = values[key];
    if (v === undefined) return whole;
    if (fmt === undefined) return String(v);
    const d = /^0?(\d+)d$/.exec(fmt);
    if (d) return String(Math.round(v)).padStart(Number(d[1]), '0');
    const f = /^\.(\d+)f$/.exec(fmt);
    if (f) return v.toFixed(Number(f[1]));
    const e = /^\.(\d+)e$/.exec(fmt);
    if (e) return v.toExponential(Number(e[1]));
    return String(v);
  });
}

/**
 * Saves the model (Node: `model.save(dir)`) after epochs, optionally only when the monitored
 * value improves.
 * @example new ModelCheckpoint({ filepath: 'checkpoints/epoch-{epoch:02d}', saveBestOnly: true })
 */
export class ModelCheckpoint extends Callback {
  readonly filepath: string;
  readonly monitor: string;
  readonly saveBestOnly: boolean;
  readonly saveFreq: number;
  /** Paths written, in order. */
  readonly saved: string[] = [];
  private best = NaN;
  private isBetter: (a: number, b: number, d: number) => boolean;
  private readonly verbose: number;
  private readonly print: (line: string) => void;
  constructor(opts: ModelCheckpointOptions) {
    super();
    if (opts === null || typeof opts !== 'object' || typeof opts.filepath !== 'string' || opts.filepath.length === 0) {
      throw new ArgumentError('ModelCheckpoint', 'filepath (a directory path template) is required');
    }
    this.filepath = opts.filepath;
    this.monitor = opts.monitor ?? 'val_loss';
    this.saveBestOnly = opts.saveBestOnly ?? false;
    this.saveFreq = opts.saveFreq ?? 1;
    this.isBetter = better(this.monitor, checkMode('ModelCheckpoint', opts.mode ?? 'auto'));
    this.verbose = opts.verbose ?? 0;
    this.print = opts.printFn ?? console.log;
  }
  override onTrainBegin(): void {
    this.best = NaN;
  }
  override async onEpochEnd(epoch: number, logs: Logs = {}): Promise<void> {
    if ((epoch + 1) % this.saveFreq !== 0) return;
    const path = formatPath(this.filepath, epoch, logs);
    if (this.saveBestOnly) {
      const v = logs[this.monitor];
      if (v === undefined) {
        console.warn(`ModelCheckpoint: '${this.monitor}' is not in the logs; not saving`);
        return;
      }
      if (!Number.isNaN(this.best) && !this.isBetter(v, this.best, 0)) return;
      if (this.verbose > 0) this.print(`Epoch ${epoch + 1}: ${this.monitor} improved${Number.isNaN(this.best) ? '' : ` from ${this.best.toFixed(5)}`} to ${v.toFixed(5)}, saving model to ${path}`);
      this.best = v;
    } else if (this.verbose > 0) this.print(`Epoch ${epoch + 1}: saving model to ${path}`);
    await this.model.save(path);
    this.saved.push(path);
  }
}

/** Options of {@link ReduceLROnPlateau}. */
export interface ReduceLROnPlateauOptions {
  /** Default `val_loss`. */
  monitor?: string;
  /** New rate = rate · factor (default 0.1). */
  factor?: number;
  /** Epochs without improvement before reducing (default 10). */
  patience?: number;
  mode?: Mode;
  /** Default 1e-4. */
  minDelta?: number;
  /** Epochs to wait after a reduction (default 0). */
  cooldown?: number;
  /** Floor of the rate (default 0). */
  minLr?: number;
  verbose?: 0 | 1;
  printFn?: (line: string) => void;
}

/**
 * Multiplies the learning rate by `factor` when a monitored value plateaus; adds
 * `learning_rate` to the epoch logs.
 * @example new ReduceLROnPlateau({ factor: 0.5, patience: 2, minLr: 1e-5 })
 */
export class ReduceLROnPlateau extends Callback {
  readonly monitor: string;
  readonly factor: number;
  readonly patience: number;
  readonly minDelta: number;
  readonly cooldown: number;
  readonly minLr: number;
  private readonly mode: Mode;
  private isBetter: (a: number, b: number, d: number) => boolean;
  private best = NaN;
  private wait = 0;
  private cooldownLeft = 0;
  private readonly verbose: number;
  private readonly print: (line: string) => void;
  constructor(opts: ReduceLROnPlateauOptions = {}) {
    super();
    this.monitor = opts.monitor ?? 'val_loss';
    this.factor = opts.factor ?? 0.1;
    if (!(this.factor > 0 && this.factor < 1)) throw new ArgumentError('ReduceLROnPlateau', `factor must be in (0, 1), got ${this.factor}`);
    this.patience = opts.patience ?? 10;
    this.minDelta = opts.minDelta ?? 1e-4;
    this.cooldown = opts.cooldown ?? 0;
    this.minLr = opts.minLr ?? 0;
    this.mode = checkMode('ReduceLROnPlateau', opts.mode ?? 'auto');
    this.isBetter = better(this.monitor, this.mode);
    this.verbose = opts.verbose ?? 0;
    this.print = opts.printFn ?? console.log;
  }
  override onTrainBegin(): void {
    this.best = NaN;
    this.wait = 0;
    this.cooldownLeft = 0;
  }
  override onEpochEnd(epoch: number, logs: Logs = {}): void {
    const opt = this.model.optimizer;
    if (opt === null) return;
    logs.learning_rate = opt.learningRate;
    const v = logs[this.monitor];
    if (v === undefined) return;
    if (this.cooldownLeft > 0) {
      this.cooldownLeft--;
      this.wait = 0;
    }
    if (Number.isNaN(this.best) || this.isBetter(v, this.best, this.minDelta)) {
      this.best = v;
      this.wait = 0;
    } else if (this.cooldownLeft <= 0) {
      this.wait++;
      if (this.wait >= this.patience) {
        const old = opt.learningRate;
        if (old > this.minLr) {
          const next = Math.max(old * this.factor, this.minLr);
          opt.learningRate = next;
          if (this.verbose > 0) this.print(`Epoch ${epoch + 1}: ReduceLROnPlateau reducing learning rate to ${next}.`);
          this.cooldownLeft = this.cooldown;
          this.wait = 0;
        }
      }
    }
  }
}

/**
 * Stops training as soon as the loss becomes NaN or infinite (reads the running loss after
 * every batch).
 * @example model.fit(x, y, { callbacks: [new TerminateOnNaN()] });
 */
export class TerminateOnNaN extends Callback {
  /** Where training was stopped (`step`: optimisation steps of this `fit` so far, 1-based), or null. */
  terminatedAt: { epoch: number; batch: number; step: number } | null = null;
  /** The message printed when it stopped a run (names the epoch, batch and step), or null. */
  message: string | null = null;
  private epoch = 0;
  private steps = 0;
  private readonly print: (line: string) => void;
  constructor(opts: { printFn?: (line: string) => void } = {}) {
    super();
    this.print = opts.printFn ?? console.log;
  }
  override onTrainBegin(): void {
    this.terminatedAt = null;
    this.message = null;
    this.steps = 0;
  }
  override onEpochBegin(epoch: number): void {
    this.epoch = epoch;
  }
  override onBatchEnd(batch: number, logs: Logs = {}): void {
    this.steps++;
    // The batch's own loss finds the step that diverged; the running mean stays non-finite after it.
    const loss = logs.batchLoss ?? logs.loss;
    if (loss !== undefined && !Number.isFinite(loss)) {
      this.message = `TerminateOnNaN: the loss is ${loss} at step ${this.steps} (epoch ${this.epoch + 1}, batch ${batch + 1}); terminating training`;
      this.print(this.message);
      this.terminatedAt = { epoch: this.epoch, batch, step: this.steps };
      this.model.stopTraining = true;
    }
  }
}

/** Options of {@link CSVLogger}. */
export interface CSVLoggerOptions {
  /** Default ','. */
  separator?: string;
  /** Add to an existing file instead of starting it afresh (default false). */
  append?: boolean;
}

/**
 * Writes one CSV row per epoch (`epoch` then the log keys in sorted order) to a file (Node).
 * Each row is flushed to disk as it is written.
 * @example new CSVLogger('training.csv')
 */
export class CSVLogger extends Callback {
  readonly filename: string;
  readonly separator: string;
  readonly append: boolean;
  private keys: string[] | null = null;
  constructor(filename: string, opts: CSVLoggerOptions = {}) {
    super();
    if (typeof filename !== 'string' || filename.length === 0) throw new ArgumentError('CSVLogger', 'filename is required');
    this.filename = filename;
    this.separator = opts.separator ?? ',';
    this.append = opts.append ?? false;
  }
  override async onTrainBegin(): Promise<void> {
    this.keys = null;
    const fsx = await import('../io/node.js');
    if (!this.append) await fsx.writeFileAtomic(this.filename, '');
    else {
      const existing = await fsx.readText(this.filename).catch(() => '');
      const header = existing.split('\n')[0];
      if (header) this.keys = header.split(this.separator).slice(1);
    }
  }
  override async onEpochEnd(epoch: number, logs: Logs = {}): Promise<void> {
    const fsx = await import('../io/node.js');
    let head = '';
    if (this.keys === null) {
      this.keys = Object.keys(logs).sort();
      head = `${['epoch', ...this.keys].join(this.separator)}\n`;
    }
    const row = [String(epoch), ...this.keys.map((k) => (logs[k] === undefined ? 'NA' : String(logs[k])))].join(this.separator);
    await fsx.appendText(this.filename, `${head}${row}\n`);
  }
}

/**
 * Sets the learning rate at the start of each epoch from `schedule(epoch, currentLr)`;
 * adds `learning_rate` to the epoch logs.
 * @example new LearningRateScheduler((epoch, lr) => (epoch < 5 ? lr : lr * 0.9))
 */
export class LearningRateScheduler extends Callback {
  private readonly schedule: (epoch: number, lr: number) => number | Promise<number>;
  private readonly verbose: number;
  private readonly print: (line: string) => void;
  constructor(schedule: (epoch: number, lr: number) => number | Promise<number>, opts: { verbose?: 0 | 1; printFn?: (line: string) => void } = {}) {
    super();
    if (typeof schedule !== 'function') throw new ArgumentError('LearningRateScheduler', 'schedule must be a function (epoch, lr) => lr');
    this.schedule = schedule;
    this.verbose = opts.verbose ?? 0;
    this.print = opts.printFn ?? console.log;
  }
  override async onEpochBegin(epoch: number): Promise<void> {
    const opt = this.model.optimizer;
    if (opt === null) throw new ArgumentError('LearningRateScheduler', 'the model has no optimizer; compile it first');
    const lr = await this.schedule(epoch, opt.learningRate);
    if (typeof lr !== 'number' || !Number.isFinite(lr) || lr < 0) throw new ArgumentError('LearningRateScheduler', `schedule returned ${String(lr)} for epoch ${epoch}; expected a finite number >= 0`);
    opt.learningRate = lr;
    if (this.verbose > 0) this.print(`Epoch ${epoch + 1}: LearningRateScheduler setting learning rate to ${lr}.`);
  }
  override onEpochEnd(_epoch: number, logs: Logs = {}): void {
    const opt = this.model.optimizer;
    if (opt !== null) logs.learning_rate = opt.learningRate;
  }
}
