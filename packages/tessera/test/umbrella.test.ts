import { describe, expect, it } from 'vitest';
import * as tessera from '../src/index.js';

describe('tessera (umbrella)', () => {
  it('registers the js backend so `await init()` just works', async () => {
    const { backend, failures } = await tessera.init();
    expect(backend.name).toBe('js');
    expect(failures).toEqual([]);
    expect(tessera.listBackends().map((b) => b.name)).toContain('js');
  });

  it('re-exports every package, with the nn names winning clashes', () => {
    for (const name of ['tensor', 'tidy', 'memory', 'variable', 'variableGrads', 'getLoss', 'categoricalCrossentropy', 'Adam', 'getOptimizer', 'sequential', 'model', 'input', 'layers', 'loadModel', 'EarlyStopping', 'Dataset', 'loadMnist', 'toCategorical', 'createJsBackend']) {
      expect(tessera, name).toHaveProperty(name);
    }
    expect(tessera.ReduceLROnPlateau.prototype).toBeInstanceOf(tessera.Callback);
    expect(typeof tessera.ReduceLROnPlateauSchedule).toBe('function');
    expect(new tessera.Activation({ activation: 'relu' })).toBeInstanceOf(tessera.Layer);
  });

  it('runs the README example on a slice of MNIST', async () => {
    await tessera.init();
    const before = tessera.memory().numTensors;
    const { train, test } = await tessera.loadMnist({ train: 2000, test: 500 });
    const yTrain = tessera.toCategorical(train.labels, 10);
    const yTest = tessera.toCategorical(test.labels, 10);
    const model = tessera.sequential([
      tessera.layers.flatten({ inputShape: [28, 28] }),
      tessera.layers.dense({ units: 128, activation: 'relu' }),
      tessera.layers.dense({ units: 10, activation: 'softmax' }),
    ]);
    model.compile({ optimizer: 'adam', loss: 'categorical_crossentropy', metrics: ['accuracy'] });
    const history = await model.fit(train.images, yTrain, { epochs: 2, batchSize: 32, validationSplit: 0.2, verbose: 0 });
    expect(history.history.val_accuracy).toHaveLength(2);
    const { accuracy } = await model.evaluate(test.images, yTest);
    expect(accuracy).toBeGreaterThan(0.75);
    model.dispose();
    tessera.dispose([train.images, train.labels, test.images, test.labels, yTrain, yTest]);
    expect(tessera.memory().numTensors).toBe(before);
  });
});
