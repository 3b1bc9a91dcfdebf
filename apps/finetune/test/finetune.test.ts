/**
 * The app's two scenarios on reduced sizes: fine-tuning a pretrained model beats training
 * the same small set from scratch (MNIST 0–4 → 5–9; breast-cancer hospital A → B), and
 * every tensor is freed afterwards.
 */
import { init, memory } from 'tessera';
import { beforeAll, describe, expect, it } from 'vitest';
import { runMnistTransfer } from '../src/mnist-transfer.js';
import { runTabular } from '../src/tabular.js';

beforeAll(async () => {
  await init();
});

describe('finetune app', () => {
  it('MNIST: the frozen pretrained base with a new head beats scratch on 100 images of 5–9; LoRA and unfreezing run', async () => {
    const before = memory();
    const lines: string[] = [];
    const r = await runMnistTransfer({ smallSize: 100, pretrainPool: 12000, pretrainEpochs: 2, epochs: 15, testPool: 1000, seed: 0, print: (l) => void lines.push(l) });
    expect(r.smallSize).toBe(100);
    expect(r.testCount).toBeGreaterThan(400);
    expect(r.pretrainAccuracy04).toBeGreaterThan(0.95);
    expect(r.frozenBase).toBeGreaterThan(r.scratch);
    expect(r.unfrozen).toBeGreaterThan(r.scratch);
    expect(r.lora).toBeGreaterThan(0.5); // trains to far better than chance (0.2)
    expect(r.trainable.lora).toBeLessThan(r.trainable.frozenBase / 5);
    expect(r.adapterBytes).toBeGreaterThan(0);
    expect(lines.join('\n')).toMatch(/from scratch\s+\d+\.\d\d%/);
    const after = memory();
    expect({ n: after.numTensors, b: after.numBytes }).toEqual({ n: before.numTensors, b: before.numBytes });
  }, 300_000);

  it('breast cancer: fine-tuning hospital A\'s model end to end beats scratch on hospital B\'s 20 cases', async () => {
    const before = memory();
    const r = await runTabular({ fewShot: 20, draws: 3, seed: 0, print: () => {} });
    expect(r.counts).toEqual({ a: 284, bTrain: 20, bTest: 265 });
    expect(r.pretrainAccuracyA).toBeGreaterThan(0.95);
    expect(r.mean.endToEnd).toBeGreaterThan(r.mean.scratch);
    expect(r.mean.asIs).toBeLessThan(r.pretrainAccuracyA); // the shift is real
    const after = memory();
    expect({ n: after.numTensors, b: after.numBytes }).toEqual({ n: before.numTensors, b: before.numBytes });
  }, 60_000);
});
