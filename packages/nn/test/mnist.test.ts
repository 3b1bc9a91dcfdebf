import { loadMnist, toCategorical } from '@tessera/data';
import { dispose, setSeed } from '@tessera/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { layers, ProgressBar, sequential } from '../src/index.js';
import { expectNoLeak, Sink, snapshot, useTestBackend } from './helpers.js';

beforeAll(useTestBackend);

describe('MNIST end to end', () => {
  it('a 2-epoch MLP on 6,000 images reaches >= 90% test accuracy, leaving memory flat', async () => {
    const before = snapshot();
    const data = await loadMnist({ train: 6000 });
    const yTrain = toCategorical(data.train.labels, 10);
    const yTest = toCategorical(data.test.labels, 10);
    const base = snapshot();
    setSeed(7);
    const model = sequential([
      layers.flatten({ inputShape: [28, 28] }),
      layers.dense({ units: 128, activation: 'relu' }),
      layers.dense({ units: 10, activation: 'softmax' }),
    ]);
    model.compile({ optimizer: 'adam', loss: 'categorical_crossentropy', metrics: ['accuracy'] });
    const sink = new Sink();
    const t0 = Date.now();
    const history = await model.fit(data.train.images, yTrain, { epochs: 2, batchSize: 16, seed: 2, callbacks: [new ProgressBar({ stream: sink })] });
    const seconds = (Date.now() - t0) / 1000;
    const result = await model.evaluate(data.test.images, yTest);
    console.log(`fit ${seconds.toFixed(1)} s; test`, result, '\n' + sink.text);
    expect(history.history.loss).toHaveLength(2);
    
    expect(history.history.loss[1]!).toBeLessThan(history.history.loss[0]!);
    expect(result.accuracy).toBeGreaterThanOrEqual(0.9);
    expect(sink.text.split('\n').filter((l) => l.startsWith('Epoch '))).toHaveLength(2);
    model.dispose();
    expectNoLeak(base);
    dispose([yTrain, yTest, data.train.images, data.train.labels, data.test.images, data.test.labels]);
    expectNoLeak(before);
  });
});
