/**
 * `BackupAndRestore`: Keras's fault-tolerance callback. It backs up everything a training run
 * needs to continue — weights, the optimizer's state (slots, step count, learning rate), the
 * epoch and batch reached and the position of the dropout random streams — and when `fit`
 * starts again after a crash it restores them, so the run continues as if never interrupted.
 * @module
 */
import { ArgumentError, FormatError } from '@tessera/core';
import type { Model } from '../engine/model.js';
import type { Layer } from '../engine/layer.js';
import { Dropout } from '../layers/core.js';
import { Callback, readsBatchLogsAsync } from './base.js';

/** Options of {@link BackupAndRestore}. */
export interface BackupAndRestoreOptions {
  /** Directory of the backup (created if needed; only this callback should write there). */
  backupDir: string;
  /**
   * `'epoch'` (default): back up at the end of every epoch. A number n: back up every n
   * batches as well (and at the end of each epoch), so a crash loses at most n steps.
   */
  saveFreq?: 'epoch' | number;
  /** Delete the backup when `fit` finishes without being stopped (default true, as in Keras). */
  deleteCheckpoint?: boolean;
}

/** What the backup's `trainingState` holds. */
interface TrainingState {
  kind: 'tessera-backup';
  /** The epoch to continue at, and how many of its batches were already trained on. */
  epoch: number;
  step: number;
  /** The layer-seed stream of `fit({ seed })` (unseeded Dropout masks). */
  layerSeed: { seed: number; counter: number } | null;
  /** Masks drawn so far by each Dropout layer, in model order (seeded Dropout streams). */
  dropoutCalls: number[];
}

/** Every Dropout layer of a model, nested models included, in a stable order. */
function dropoutLayers(model: Model): Dropout[] {
  const out: Dropout[] = [];
  const seen = new Set<Layer>();
  const walk = (layers: readonly Layer[]): void => {
    for (const l of layers) {
      if (seen.has(l)) continue;
      seen.add(l);
      if (l instanceof Dropout) out.push(l);
      const inner = (l as { layers?: unknown }).layers;
      if (Array.isArray(inner)) walk(inner as Layer[]);
    }
  };
  walk(model.layers);
  return out;
}

/**
 * Backs up the training state to `backupDir` and restores it when `fit` is run again after
 * an interruption (a crash, a killed process, a pre-empted machine). The backup is one
 * saved model (`model.json` + a safetensors file, see `model.save`) whose `model.json` — the
 * single commit point, written atomically after the weights file — also records the epoch,
 * the batch and the random-stream positions; a crash at any moment leaves the previous
 * complete backup. For a run that resumes bit-identically, pass `fit` a `seed` (the epoch's
 * shuffle and the dropout masks then depend only on it and the restored positions); the
 * running loss and metrics of a resumed epoch cover only the batches after the resume point.
 * @example
 * await model.fit(x, y, { epochs: 20, seed: 1, callbacks: [new BackupAndRestore({ backupDir: './backup' })] });
 */
export class BackupAndRestore extends Callback {
  readonly backupDir: string;
  readonly saveFreq: 'epoch' | number;
  readonly deleteCheckpoint: boolean;
  /** Where the last `fit` resumed from (null: it started afresh). */
  restoredFrom: { epoch: number; step: number } | null = null;
  /** Backups written by the last `fit`. */
  backups = 0;
  private epoch = 0;
  private sinceSave = 0;

  constructor(opts: BackupAndRestoreOptions) {
    super();
    const op = 'BackupAndRestore';
    if (opts === null || typeof opts !== 'object' || typeof opts.backupDir !== 'string' || opts.backupDir.length === 0) {
      throw new ArgumentError(op, 'backupDir (a directory path) is required');
    }
    const f = opts.saveFreq ?? 'epoch';
    if (f !== 'epoch' && !(typeof f === 'number' && Number.isInteger(f) && f >= 1)) {
      throw new ArgumentError(op, `saveFreq must be 'epoch' or an integer >= 1, got ${JSON.stringify(f)}`);
    }
    this.backupDir = opts.backupDir;
    this.saveFreq = f;
    this.deleteCheckpoint = opts.deleteCheckpoint ?? true;
  }

  override async onTrainBegin(): Promise<void> {
    this.restoredFrom = null;
    this.backups = 0;
    this.sinceSave = 0;
    const node = await import('../io/node.js');
    const [fs, path] = await Promise.all([import('node:fs/promises'), import('node:path')]);
    // Temporary files a crash left mid-write are never part of a backup: remove them.
    try {
      for (const f of await fs.readdir(this.backupDir)) if (/^\..*\.tmp$/.test(f)) await fs.rm(path.join(this.backupDir, f), { force: true });
    } catch {
      // No backup directory yet.
    }
    try {
      await fs.stat(path.join(this.backupDir, 'model.json'));
    } catch {
      return; // No backup: a fresh run.
    }
    const op = 'BackupAndRestore';
    const { json, tensors } = await node.readSavedModel(op, this.backupDir);
    const st = json.trainingState as Partial<TrainingState> | null | undefined;
    if (st === null || typeof st !== 'object' || st.kind !== 'tessera-backup' || !Number.isInteger(st.epoch) || !Number.isInteger(st.step) || !Array.isArray(st.dropoutCalls)) {
      throw new FormatError(op, `${this.backupDir} holds a saved model but not a training backup (no valid trainingState)`);
    }
    const { restoreWeights, restoreOptimizerState } = await import('../io/artifacts.js');
    const keys = restoreWeights(op, this.model, json, tensors, true);
    if (this.model.compiled !== null) restoreOptimizerState(op, this.model, json, tensors, keys);
    const drops = dropoutLayers(this.model);
    if (st.dropoutCalls.length !== drops.length) throw new FormatError(op, `the backup has ${st.dropoutCalls.length} Dropout stream positions; the model has ${drops.length} Dropout layers`);
    drops.forEach((d, i) => (d.calls = Number(st.dropoutCalls![i])));
    const ls = st.layerSeed;
    const seedOk = ls === null || ls === undefined || (typeof ls === 'object' && Number.isSafeInteger(ls.seed) && Number.isSafeInteger(ls.counter));
    if (!seedOk) throw new FormatError(op, `${this.backupDir} has an invalid layerSeed position ${JSON.stringify(ls)}`);
    this.restoredFrom = { epoch: st.epoch!, step: st.step! };
    // fit continues this run's dropout stream from the saved position (when it has a seed).
    this.model.resumeAt = { ...this.restoredFrom, ...(ls !== null && ls !== undefined && this.model.layerSeedPosition !== null ? { layerSeed: { seed: ls.seed, counter: ls.counter } } : {}) };
  }

  override async onEpochBegin(epoch: number): Promise<void> {
    this.epoch = epoch;
  }

  override async onEpochEnd(epoch: number): Promise<void> {
    await this.backup(epoch + 1, 0);
  }

  override async onTrainEnd(): Promise<void> {
    if (!this.deleteCheckpoint || this.model.stopTraining) return;
    const fs = await import('node:fs/promises');
    await fs.rm(this.backupDir, { recursive: true, force: true });
  }

  override async onBatchEnd(batch: number): Promise<void> {
    if (this.saveFreq === 'epoch') return;
    if (++this.sinceSave >= this.saveFreq) await this.backup(this.epoch, batch + 1);
  }

  private async backup(epoch: number, step: number): Promise<void> {
    const state: TrainingState = { kind: 'tessera-backup', epoch, step, layerSeed: this.model.layerSeedPosition, dropoutCalls: dropoutLayers(this.model).map((d) => d.calls) };
    const { saveModel } = await import('../io/node.js');
    await saveModel(this.model, this.backupDir, { trainingState: state as unknown as Record<string, unknown> });
    this.backups++;
    this.sinceSave = 0;
  }
}

// The batch hook reads no log values, so it costs no device read (WebGPU included).
readsBatchLogsAsync(BackupAndRestore.prototype.onBatchEnd);
