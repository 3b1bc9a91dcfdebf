/**
 * Replays training.json's whole training runs (end_to_end_mlp, end_to_end_cnn) through
 * compile/fit: the loss of every step and the final weights, with the stored initial
 * weights and the stored batches in order (no shuffling).
 */
import { Adam, SGD } from '@tessera/optim';
import { dispose } from '@tessera/core';
import { loadGolden } from '@tessera/data/golden';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Layer, layers, type Logs, sequential } from '../src/index.js';
import { compare, expectNoLeak, snapshot, toTensor, useTestBackend } from './helpers.js';
import { getBackend as currentBackend } from '@tessera/core';
import { testBackendName } from '../../../scripts/test-backend.mjs';

beforeAll(useTestBackend);

const RTOL = 1e-3;
const ATOL = 1e-5;

/** Layers from the manifest's model description. */
function buildLayers(model: Record<string, any>[]): Layer[] {
  return model.map((m) => {
    const shape = m.input_shape ? { inputShape: m.input_shape as number[] } : {};
    switch (m.layer) {
      case 'flatten':
        return layers.flatten(shape);
      case 'dense':
        return layers.dense({ units: m.units, activation: m.activation, ...shape });
      case 'conv2d':
        return layers.conv2d({ filters: m.filters, kernelSize: m.kernel_size, strides: m.strides, padding: m.padding, activation: m.activation, ...shape });
      case 'max_pool2d':
        return layers.maxPooling2d({ poolSize: m.pool_size, strides: m.strides, padding: m.padding });
      default:
        throw new Error(`unknown layer ${m.layer}`);
    }
  });
}

function buildOptimizer(o: Record<string, any>) {
  if (o.optimizer === 'adam') return new Adam({ learningRate: o.learning_rate, beta1: o.beta_1, beta2: o.beta_2, epsilon: o.epsilon });
  if (o.optimizer === 'sgd') return new SGD({ learningRate: o.learning_rate, momentum: o.momentum, nesterov: o.nesterov });
  throw new Error(`unknown optimizer ${o.optimizer}`);
}

const golden = loadGolden('training');

describe('golden training runs (training.json)', () => {
  it('runs on the backend TESSERA_TEST_BACKEND names (default js)', () => {
    expect(currentBackend().name).toBe(testBackendName());
  });

  it('finds the golden data (TESSERA_GOLDEN_DIR, default ../shared/golden)', () => {
    expect(golden === null).toBe(false);
  });

  for (const c of golden?.manifest.cases ?? []) {
    it(`${c.kind}: loss at every step and final weights through compile/fit`, async () => {
      const t = golden!.tensors;
      const a = c.attrs as Record<string, any>;
      const before = snapshot();
      const model = sequential(buildLayers(a.model));
      const init = c.params.map((n) => toTensor(t.get(n)!));
      model.setWeights(init);
      dispose(init);
      const optimizer = buildOptimizer(a.optimizer);
      model.compile({ optimizer, loss: 'categorical_crossentropy' });
      const x = toTensor(t.get(`${c.id}/x`)!);
      const y = toTensor(t.get(`${c.id}/y_onehot`)!);
      const stepLosses: number[] = [];
      const history = await model.fit(x, y, {
        epochs: a.epochs,
        batchSize: a.batch_size,
        shuffle: false,
        verbose: 0,
        callbacks: [{ onBatchEnd: (_b: number, logs?: Logs) => void stepLosses.push(logs!.batchLoss!) }],
      });
      const problems: string[] = [];
      const push = (m: string | null) => m && problems.push(m);
      push(compare('step_losses', stepLosses, [stepLosses.length], t.get(`${c.id}/step_losses`)!, RTOL, ATOL));
      push(compare('epoch_losses', history.history.loss!, [history.history.loss!.length], t.get(`${c.id}/epoch_losses`)!, RTOL, ATOL));
      const finals = c.outputs.filter((n) => n.split('/')[1]!.startsWith('final_'));
      const weights = model.getWeights();
      const finalValues = await Promise.all(finals.map((_n, i) => weights[i]!.data()));
      finals.forEach((n, i) => push(compare(n, finalValues[i]!, weights[i]!.shape, t.get(n)!, RTOL, ATOL)));
      expect(stepLosses).toHaveLength(a.steps);
      dispose([...weights, x, y]);
      model.dispose();
      optimizer.dispose();
      expect(problems).toEqual([]);
      expectNoLeak(before);
    });
  }
});
