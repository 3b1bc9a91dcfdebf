import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { dispose, oneHot, randomUniform, Tensor, tensor } from '@tessera/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Callback,
  CSVLogger,
  EarlyStopping,
  LearningRateScheduler,
  layers,
  type Logs,
  ModelCheckpoint,
  ProgressBar,
  ReduceLROnPlateau,
  sequential,
  TerminateOnNaN,
  TrainingCurves,
  trainingCurvesSvg,
} from '../src/index.js';
import { expectNoLeak, Sink, snapshot, useTestBackend } from './helpers.js';

beforeAll(useTestBackend);
const dir = mkdtempSync(path.join(tmpdir(), 'tessera-cb-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** 20 samples of 4 features, 3 classes. */
function data(): { x: Tensor; y: Tensor } {
  const x = randomUniform([20, 4], { seed: 5 });
  const labels = tensor(Int32Array.from({ length: 20 }, (_, i) => i % 3), [20], 'int32');
  const y = oneHot(labels, 3);
  labels.dispose();
  return { x, y };
}

function small() {
  const m = sequential([layers.dense({ units: 6, activation: 'relu', inputShape: [4] }), layers.dense({ units: 3, activation: 'softmax' })]);
  m.compile({ optimizer: 'sgd', loss: 'categorical_crossentropy', metrics: ['accuracy'] });
  return m;
}

/** Puts a scripted value under `key` in the epoch logs (runs before the callbacks after it). */
class Script extends Callback {
  constructor(
    readonly key: string,
    readonly values: number[],
  ) {
    super();
  }
  override onEpochEnd(epoch: number, logs: Logs = {}): void {
    logs[this.key] = this.values[epoch]!;
  }
}

/** Snapshots the weights at the end of every epoch. */
class Snapshots extends Callback {
  readonly taken: number[][][] = [];
  override onEpochEnd(): void {
    const ws = this.model.getWeights();
    this.taken.push(ws.map((w) => Array.from(w.dataSync())));
    dispose(ws);
  }
}

describe('callbacks', () => {
  it('calls custom hooks in order and counts batches', async () => {
    const before = snapshot();
    const { x, y } = data();
    const m = small();
    const calls: string[] = [];
    await m.fit(x, y, {
      epochs: 2,
      batchSize: 8,
      verbose: 0,
      callbacks: [
        {
          onTrainBegin: () => void calls.push('trainBegin'),
          onEpochBegin: (e) => void calls.push(`epochBegin${e}`),
          onBatchBegin: (b) => void calls.push(`batchBegin${b}`),
          onBatchEnd: (b, logs) => void calls.push(`batchEnd${b}:${Number.isFinite(logs!.loss) ? 'ok' : 'bad'}`),
          onEpochEnd: (e, logs) => void calls.push(`epochEnd${e}:${Object.keys(logs!).join(',')}`),
          onTrainEnd: () => void calls.push('trainEnd'),
        },
      ],
    });
    expect(calls).toEqual([
      'trainBegin',
      'epochBegin0',
      'batchBegin0', 'batchEnd0:ok', 'batchBegin1', 'batchEnd1:ok', 'batchBegin2', 'batchEnd2:ok',
      'epochEnd0:loss,accuracy',
      'epochBegin1',
      'batchBegin0', 'batchEnd0:ok', 'batchBegin1', 'batchEnd1:ok', 'batchBegin2', 'batchEnd2:ok',
      'epochEnd1:loss,accuracy',
      'trainEnd',
    ]);
    m.dispose();
    dispose([x, y]);
    expectNoLeak(before);
  });

  it('does not read from the device per batch when nothing asks (verbose 0, no batch callbacks)', async () => {
    const before = snapshot();
    const { x, y } = data();
    const m = small();
    let reads = 0;
    const proto = Tensor.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
    const orig = { data: proto.data!, dataSync: proto.dataSync! };
    proto.data = function (this: Tensor, ...a: unknown[]) {
      reads++;
      return orig.data.apply(this, a);
    };
    proto.dataSync = function (this: Tensor, ...a: unknown[]) {
      reads++;
      return orig.dataSync.apply(this, a);
    };
    try {
      await m.fit(x, y, { epochs: 3, batchSize: 2, verbose: 0 }); // 10 batches per epoch
    } finally {
      proto.data = orig.data;
      proto.dataSync = orig.dataSync;
    }
    // Per epoch: the shuffle gather checks its indices once per tensor (x, y), and loss and accuracy are read once.
    expect(reads).toBeLessThanOrEqual(3 * 4);
    m.dispose();
    dispose([x, y]);
    expectNoLeak(before);
  });

  it('EarlyStopping stops after `patience` epochs without improvement and restores the best weights', async () => {
    const before = snapshot();
    const { x, y } = data();
    const m = small();
    const snaps = new Snapshots();
    const es = new EarlyStopping({ monitor: 'score', mode: 'min', patience: 2, restoreBestWeights: true });
    const h = await m.fit(x, y, { epochs: 20, batchSize: 4, verbose: 0, callbacks: [new Script('score', [5, 3, 1, 2, 4, 0, 0]), snaps, es] });
    expect(h.epoch).toEqual([0, 1, 2, 3, 4]);
    expect(es.stoppedEpoch).toBe(4);
    expect(es.bestEpoch).toBe(2);
    const ws = m.getWeights();
    const now = ws.map((w) => Array.from(w.dataSync()));
    dispose(ws);
    expect(now).toEqual(snaps.taken[2]);
    expect(now).not.toEqual(snaps.taken[4]);
    m.dispose();
    dispose([x, y]);
    expectNoLeak(before);
  });

  it('TerminateOnNaN stops at the batch whose loss is NaN and says which', async () => {
    const before = snapshot();
    const values = new Float32Array(20 * 4).fill(0.5);
    values[5 * 4 + 1] = NaN; // sample 5 → batch 2 with batchSize 2
    const x = tensor(values, [20, 4]);
    const { x: x0, y } = data();
    x0.dispose();
    const m = small();
    const lines: string[] = [];
    const seen: number[] = [];
    const t = new TerminateOnNaN({ printFn: (l) => lines.push(l) });
    const h = await m.fit(x, y, { epochs: 3, batchSize: 2, shuffle: false, verbose: 0, callbacks: [t, { onBatchEnd: (b) => void seen.push(b) }] });
    expect(lines).toEqual(['TerminateOnNaN: the loss is NaN at step 3 (epoch 1, batch 3); terminating training']);
    expect(t.terminatedAt).toEqual({ epoch: 0, batch: 2, step: 3 });
    expect(seen).toEqual([0, 1, 2]);
    expect(h.epoch).toEqual([0]);
    m.dispose();
    dispose([x, y]);
    expectNoLeak(before);
  });

  it('CSVLogger writes a header and one row per epoch', async () => {
    const before = snapshot();
    const { x, y } = data();
    const m = small();
    const file = path.join(dir, 'log.csv');
    const h = await m.fit(x, y, { epochs: 3, batchSize: 5, verbose: 0, validationSplit: 0.25, callbacks: [new CSVLogger(file)] });
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('epoch,accuracy,loss,val_accuracy,val_loss');
    expect(lines).toHaveLength(4);
    lines.slice(1).forEach((l, e) => {
      const cells = l.split(',').map(Number);
      expect(cells[0]).toBe(e);
      expect(cells[2]).toBeCloseTo(h.history.loss![e]!, 6);
      expect(cells[4]).toBeCloseTo(h.history.val_loss![e]!, 6);
    });
    m.dispose();
    dispose([x, y]);
    expectNoLeak(before);
  });

  it('ModelCheckpoint writes a model per epoch, or only on improvement', async () => {
    const before = snapshot();
    const { x, y } = data();
    const m = small();
    const every = new ModelCheckpoint({ filepath: path.join(dir, 'ckpt-{epoch:02d}') });
    const best = new ModelCheckpoint({ filepath: path.join(dir, 'best-{epoch}-{score:.1f}'), monitor: 'score', mode: 'min', saveBestOnly: true });
    await m.fit(x, y, { epochs: 3, batchSize: 10, verbose: 0, callbacks: [new Script('score', [2, 3, 1]), every, best] });
    for (const e of ['01', '02', '03']) expect(existsSync(path.join(dir, `ckpt-${e}`, 'model.json'))).toBe(true);
    expect(best.saved.map((p) => path.basename(p))).toEqual(['best-1-2.0', 'best-3-1.0']);
    expect(readdirSync(dir).filter((f) => f.startsWith('best-')).sort()).toEqual(['best-1-2.0', 'best-3-1.0']);
    m.dispose();
    dispose([x, y]);
    expectNoLeak(before);
  });

  it('ReduceLROnPlateau and LearningRateScheduler change the learning rate and log it', async () => {
    const before = snapshot();
    const { x, y } = data();
    const m = small();
    m.optimizer!.learningRate = 0.1;
    const h = await m.fit(x, y, {
      epochs: 5,
      batchSize: 10,
      verbose: 0,
      callbacks: [new Script('score', [1, 1, 1, 1, 1]), new ReduceLROnPlateau({ monitor: 'score', patience: 2, factor: 0.5, mode: 'min' })],
    });
    // Keras logs the rate in effect during the epoch, then reduces: reductions at the end of epochs 2 and 4.
    expect(h.history.learning_rate).toEqual([0.1, 0.1, 0.1, 0.05, 0.05]);
    expect(m.optimizer!.learningRate).toBeCloseTo(0.025);
    const h2 = await m.fit(x, y, { epochs: 3, batchSize: 10, verbose: 0, callbacks: [new LearningRateScheduler((epoch) => 0.01 * (epoch + 1))] });
    expect(h2.history.learning_rate).toEqual([0.01, 0.02, 0.03]);
    expect(m.optimizer!.learningRate).toBeCloseTo(0.03);
    m.dispose();
    dispose([x, y]);
    expectNoLeak(before);
  });

  it('TrainingCurves writes an SVG of training and validation curves', async () => {
    const before = snapshot();
    const { x, y } = data();
    const m = small();
    const file = path.join(dir, 'curves.svg');
    const h = await m.fit(x, y, { epochs: 3, batchSize: 5, verbose: 0, validationSplit: 0.25, callbacks: [new TrainingCurves(file, { title: 'Test run' })] });
    const svg = readFileSync(file, 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('Test run');
    expect(svg).toContain('>loss</text>');
    expect(svg).toContain('>accuracy</text>');
    expect(svg).toContain('validation');
    expect(svg.match(/<polyline/g)).toHaveLength(4);
    expect(trainingCurvesSvg(h, { title: 'Test run' })).toBe(svg);
    m.dispose();
    dispose([x, y]);
    expectNoLeak(before);
  });

  it('the progress bar draws in place on a terminal and prints one line per epoch elsewhere', async () => {
    const before = snapshot();
    const { x, y } = data();
    const m = small();
    const tty = new Sink(true);
    await m.fit(x, y, { epochs: 2, batchSize: 4, verbose: 1, callbacks: [new ProgressBar({ stream: tty, refreshMs: 0 })] });
    expect(tty.text).toContain('Epoch 1/2\n');
    expect(tty.text).toMatch(/\r\s*1\/5 .*(ms|us)\/step - loss: \d\.\d{4} - accuracy: \d\.\d{4}/);
    expect(tty.text).toMatch(/\r5\/5 .* - loss: \d\.\d{4} - accuracy: \d\.\d{4}\s*\n/);
    const pipe = new Sink(false);
    await m.fit(x, y, { epochs: 2, batchSize: 4, verbose: 2, callbacks: [new ProgressBar({ stream: pipe })] });
    const lines = pipe.text.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^Epoch 1\/2 - 5\/5 - \d+s \d+(ms|us)\/step - loss: \d\.\d{4} - accuracy: \d\.\d{4}$/);
    m.dispose();
    dispose([x, y]);
    expectNoLeak(before);
  });
});
