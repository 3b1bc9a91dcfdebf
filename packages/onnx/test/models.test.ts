// Whole models: an MLP, a CNN, functional graphs with branches, shared layers, nested models,
// several inputs/outputs, unknown spatial sizes; opsets 17-21; fixed batch.
import { BackendError, getBackend } from '@tessera/core';
import { input, layers, model, sequential, type SymbolicTensor } from '@tessera/nn';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkOnnx, exportOnnx, exportOnnxSync } from '../src/index.js';
import { expectNoLeak, expectRoundTrip, randomInts, randomizeWeights, randomTensor, runOrt, snapshot, useTestBackend } from './helpers.js';

beforeAll(useTestBackend);

const sym = (x: unknown): SymbolicTensor => x as SymbolicTensor;

function mlp() {
  return sequential([
    layers.flatten({ inputShape: [28, 28] }),
    layers.dense({ units: 64, activation: 'relu' }),
    layers.dropout({ rate: 0.2 }),
    layers.dense({ units: 32, activation: 'gelu' }),
    layers.dense({ units: 10, activation: 'softmax' }),
  ]);
}

function cnn() {
  return sequential([
    layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', inputShape: [16, 16, 1] }),
    layers.batchNormalization(),
    layers.activation({ activation: 'relu' }),
    layers.maxPooling2d({ poolSize: 2 }),
    layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, activation: 'relu6' }),
    layers.conv2d({ filters: 6, kernelSize: 1, activation: 'silu' }),
    layers.averagePooling2d({ poolSize: 3, strides: 2, padding: 'same' }),
    layers.flatten(),
    layers.dropout({ rate: 0.3 }),
    layers.dense({ units: 10, activation: 'log_softmax' }),
  ]);
}

describe('models', () => {
  it('an MNIST-shaped MLP, at batch 4 and 9', async () => {
    const before = snapshot();
    const m = mlp();
    randomizeWeights(m, 11);
    await expectRoundTrip(m, [[randomTensor([4, 28, 28], 1, 0, 1)], [randomTensor([9, 28, 28], 2, 0, 1)]]);
    m.dispose();
    expectNoLeak(before);
  });

  it('a CNN (conv, batch norm, pooling, depthwise, 1x1 conv, flatten, dense) with one transpose in and one out', async () => {
    const before = snapshot();
    const m = cnn();
    randomizeWeights(m, 12);
    const bytes = await expectRoundTrip(m, [[randomTensor([3, 16, 16, 1], 3)], [randomTensor([6, 16, 16, 1], 4)]]);
    const info = checkOnnx(bytes);
    expect(info.opTypes.Transpose).toBe(2);
    expect(info.opTypes.Conv).toBe(3);
    expect(info.inputs[0]!.shape).toEqual(['batch', 16, 16, 1]); // NHWC, as in Tessera
    m.dispose();
    expectNoLeak(before);
  });

  it('a functional model with a residual branch, a shared layer and a nested Sequential', async () => {
    const before = snapshot();
    const x = input({ shape: [10], name: 'features' });
    const shared = layers.dense({ units: 10, activation: 'tanh', name: 'shared' });
    const h1 = shared.apply(x);
    const h2 = shared.apply(h1); // the same weights, called twice
    const res = layers.add().apply([x, h2]);
    const head = sequential([layers.dense({ units: 8, activation: 'elu', inputShape: [10] }), layers.layerNormalization(), layers.dense({ units: 3 })], );
    const y = head.apply(res);
    const m = model({ inputs: x, outputs: sym(y) });
    randomizeWeights(m, 13);
    const bytes = await expectRoundTrip(m, [[randomTensor([5, 10], 5)], [randomTensor([2, 10], 6)]]);
    const info = checkOnnx(bytes);
    // shared kernel + bias once, head: 2 dense (4) + layer norm (2) → 8 weight initializers.
    expect(info.opTypes.MatMul).toBe(4);
    expect(info.initializerCount).toBe(8);
    m.dispose();
    expectNoLeak(before);
  });

  it('several inputs (one int32) and several outputs', async () => {
    const before = snapshot();
    const tokens = input({ shape: [4], dtype: 'int32', name: 'tokens' });
    const extra = input({ shape: [3], name: 'extra' });
    const emb = layers.flatten().apply(layers.embedding({ inputDim: 20, outputDim: 5 }).apply(tokens));
    const joined = layers.concatenate().apply([emb, extra]);
    const out1 = layers.dense({ units: 2, activation: 'softmax', name: 'probs' }).apply(joined);
    const out2 = layers.dense({ units: 1, name: 'score' }).apply(joined);
    const m = model({ inputs: [tokens, extra], outputs: [sym(out1), sym(out2)] });
    randomizeWeights(m, 14);
    const batch = (n: number, s: number) => [randomInts([n, 4], 20, s), randomTensor([n, 3], s + 1)];
    const bytes = await expectRoundTrip(m, [batch(3, 20), batch(7, 30)]);
    const info = checkOnnx(bytes);
    expect(info.inputs.map((i) => [i.name, i.elemType])).toEqual([['tokens', 6], ['extra', 1]]);
    expect(info.outputs.map((o) => o.name)).toEqual(['probs', 'score']);
    m.dispose();
    expectNoLeak(before);
  });

  it('unknown spatial sizes use auto_pad SAME_UPPER and named dims', async () => {
    const before = snapshot();
    const x = input({ shape: [null, null, 2], name: 'image' });
    let h = layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }).apply(x);
    h = layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }).apply(h);
    h = layers.averagePooling2d({ poolSize: 2, strides: 1, padding: 'same' }).apply(h);
    h = layers.globalAveragePooling2d().apply(h);
    const m = model({ inputs: x, outputs: sym(layers.dense({ units: 3 }).apply(h)) });
    randomizeWeights(m, 15);
    const bytes = await expectRoundTrip(m, [[randomTensor([2, 9, 7, 2], 40)], [randomTensor([3, 6, 11, 2], 41)]]);
    expect(checkOnnx(bytes).inputs[0]!.shape).toEqual(['batch', 'image_d1', 'image_d2', 2]);
    m.dispose();
    expectNoLeak(before);
  });

  for (const opset of [17, 18, 19, 20, 21]) {
    it(`opset ${opset} loads and matches`, async () => {
      const before = snapshot();
      const m = cnn();
      randomizeWeights(m, 16);
      const bytes = await expectRoundTrip(m, [[randomTensor([2, 16, 16, 1], 50)]], { opset });
      expect(checkOnnx(bytes).opsetVersion).toBe(opset);
      m.dispose();
      expectNoLeak(before);
    });
  }

  it('dynamicBatch false fixes the batch axis (and ORT rejects another batch size)', async () => {
    const before = snapshot();
    const m = mlp();
    randomizeWeights(m, 17);
    const bytes = await expectRoundTrip(m, [[randomTensor([4, 28, 28], 60)]], { dynamicBatch: false, batchSize: 4, inputNames: ['pixels'], outputNames: ['probs'] });
    const info = checkOnnx(bytes);
    expect(info.inputs[0]!.shape).toEqual([4, 28, 28]);
    expect(info.outputs[0]!.shape).toEqual([4, 10]);
    const wrong = randomTensor([3, 28, 28], 61);
    await expect(runOrt(bytes, { pixels: wrong })).rejects.toThrow();
    wrong.dispose();
    m.dispose();
    expectNoLeak(before);
  });

  it('exportOnnxSync writes the same bytes as exportOnnx, as a plain Uint8Array', async () => {
    const before = snapshot();
    const m = cnn();
    randomizeWeights(m, 18);
    const bytes = await exportOnnx(m);
    if (getBackend().caps.syncRead) expect(exportOnnxSync(m)).toEqual(bytes);
    else expect(() => exportOnnxSync(m)).toThrow(BackendError); // WebGPU: no synchronous reads
    expect(bytes.constructor).toBe(Uint8Array); // not a Node Buffer (a view into a shared pool)
    m.dispose();
    expectNoLeak(before);
  });

  it('a model built from the first batch (no inputShape) exports after predict', async () => {
    const before = snapshot();
    const m = sequential([layers.dense({ units: 3, activation: 'relu' }), layers.dense({ units: 2 })]);
    const x = randomTensor([2, 5], 70);
    (m.predict(x) as { dispose(): void }).dispose();
    await expectRoundTrip(m, [[x], [randomTensor([4, 5], 71)]]);
    m.dispose();
    expectNoLeak(before);
  });
});
