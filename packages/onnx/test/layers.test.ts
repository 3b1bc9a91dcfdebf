// Each supported layer (and every activation nn has), exported and run in ONNX Runtime,
// against model.predict at the export batch size and at another one (dynamic batch).
import { cast } from '@tessera/core';
import { type Layer, activationNames, input, layers, model, sequential, type Model, type SymbolicTensor } from '@tessera/nn';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkOnnx, exportableActivations, exportOnnx } from '../src/index.js';
import { expectNoLeak, expectRoundTrip, randomInts, randomizeWeights, randomTensor, snapshot, useTestBackend } from './helpers.js';

beforeAll(useTestBackend);

let seed = 1;

/** Builds a one-layer (or few-layer) Sequential model, randomizes it, and checks it at batch sizes 2 and 5. */
async function checkSequential(stack: Layer[], sampleShape: number[], range: [number, number] = [-2, 2]): Promise<Uint8Array> {
  const before = snapshot();
  const m = sequential(stack);
  randomizeWeights(m, seed++);
  const batches = [2, 5].map((n) => [randomTensor([n, ...sampleShape], seed++, range[0], range[1])]);
  const bytes = await expectRoundTrip(m, batches);
  m.dispose();
  expectNoLeak(before);
  return bytes;
}

/** The same for a functional model with the given inputs (batch sizes 3 and 1). */
async function checkFunctional(m: Model, makeInputs: (n: number) => ReturnType<typeof randomTensor>[]): Promise<Uint8Array> {
  randomizeWeights(m, seed++);
  const bytes = await expectRoundTrip(m, [makeInputs(3), makeInputs(1)]);
  m.dispose();
  return bytes;
}

describe('activations', () => {
  it('the exporter knows every activation nn has', () => {
    expect(new Set(exportableActivations())).toEqual(new Set(activationNames()));
  });

  for (const activation of activationNames()) {
    it(`Dense with activation '${activation}'`, async () => {
      await checkSequential([layers.dense({ units: 6, activation, inputShape: [7] })], [7], [-4, 4]);
    });
  }

  it('Activation layer (softmax over the last axis of a rank-3 input) and Dense on rank 3', async () => {
    await checkSequential([layers.dense({ units: 4, inputShape: [3, 5] }), layers.activation({ activation: 'softmax' })], [3, 5]);
  });
});

describe('core layers', () => {
  it('Dense without bias', async () => {
    await checkSequential([layers.dense({ units: 3, useBias: false, inputShape: [4] })], [4]);
  });

  it('Flatten, Reshape (with -1) and Dropout (identity at inference)', async () => {
    const bytes = await checkSequential(
      [layers.flatten({ inputShape: [4, 3, 2] }), layers.dropout({ rate: 0.5 }), layers.reshape({ targetShape: [6, -1] }), layers.dense({ units: 2 })],
      [4, 3, 2],
    );
    expect(checkOnnx(bytes).opTypes.Dropout).toBeUndefined();
  });

  it('Embedding with int32 indices, and with float indices (cast like Tessera)', async () => {
    const before = snapshot();
    const m = sequential([layers.embedding({ inputDim: 11, outputDim: 4, inputShape: [6] }), layers.flatten(), layers.dense({ units: 3 })]);
    randomizeWeights(m, seed++);
    await expectRoundTrip(m, [[randomInts([2, 6], 11, 5)], [randomInts([7, 6], 11, 6)]]);
    m.dispose();
    const x = input({ shape: [5] });
    const f = model({ inputs: x, outputs: layers.embedding({ inputDim: 9, outputDim: 3 }).apply(x) as SymbolicTensor });
    randomizeWeights(f, seed++);
    const floats = (n: number): ReturnType<typeof randomTensor> => {
      const t = randomInts([n, 5], 9, seed++);
      const asFloat = cast(t, 'float32');
      t.dispose();
      return asFloat;
    };
    const bytes = await expectRoundTrip(f, [[floats(2)], [floats(4)]]);
    expect(checkOnnx(bytes).opTypes.Cast).toBe(1);
    f.dispose();
    expectNoLeak(before);
  });

  it('Add (three inputs) and Concatenate on vectors', async () => {
    const before = snapshot();
    const a = input({ shape: [4], name: 'a' });
    const b = input({ shape: [4], name: 'b' });
    const d1 = layers.dense({ units: 4, activation: 'tanh' }).apply(a);
    const sum = layers.add().apply([a, b, d1]);
    const cat = layers.concatenate().apply([sum, b]);
    const m = model({ inputs: [a, b], outputs: layers.dense({ units: 2 }).apply(cat) as SymbolicTensor });
    await checkFunctional(m, (n) => [randomTensor([n, 4], seed++), randomTensor([n, 4], seed++)]);
    expectNoLeak(before);
  });
});

describe('convolution and pooling', () => {
  const convCases: [string, Parameters<typeof layers.conv2d>[0], number[]][] = [
    ['3x3 valid', { filters: 4, kernelSize: 3 }, [8, 7, 3]],
    ['3x3 same, stride 2, relu', { filters: 5, kernelSize: 3, padding: 'same', strides: 2, activation: 'relu' }, [9, 6, 2]],
    ['[2, 4] same, strides [1, 3]', { filters: 3, kernelSize: [2, 4], padding: 'same', strides: [1, 3] }, [7, 10, 2]],
    ['3x3 dilated 2, no bias, sigmoid', { filters: 2, kernelSize: 3, dilationRate: 2, useBias: false, activation: 'sigmoid' }, [9, 9, 3]],
    ['5x5 same dilated 2', { filters: 2, kernelSize: 5, dilationRate: 2, padding: 'same' }, [6, 7, 1]],
  ];
  for (const [what, args, shape] of convCases) {
    it(`Conv2D ${what}`, async () => {
      await checkSequential([layers.conv2d({ ...args, inputShape: shape })], shape);
    });
  }

  it('DepthwiseConv2D (multiplier 2, same, stride 2) and (multiplier 1, valid)', async () => {
    await checkSequential([layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same', strides: 2, inputShape: [7, 8, 3] })], [7, 8, 3]);
    await checkSequential([layers.depthwiseConv2d({ kernelSize: [3, 2], activation: 'relu6', inputShape: [6, 5, 4] })], [6, 5, 4]);
  });

  const poolCases: [string, Parameters<typeof layers.maxPooling2d>[0]][] = [
    ['2x2 valid', { poolSize: 2 }],
    ['3x3 same, stride 2', { poolSize: 3, strides: 2, padding: 'same' }],
    ['[2, 3] same, strides [1, 2]', { poolSize: [2, 3], strides: [1, 2], padding: 'same' }],
  ];
  for (const [what, args] of poolCases) {
    it(`MaxPooling2D and AveragePooling2D ${what} (padded cells ignored)`, async () => {
      await checkSequential([layers.maxPooling2d({ ...args, inputShape: [7, 9, 2] })], [7, 9, 2]);
      await checkSequential([layers.averagePooling2d({ ...args, inputShape: [7, 9, 2] })], [7, 9, 2]);
    });
  }

  it('GlobalAveragePooling2D / GlobalMaxPooling2D, with and without keepdims', async () => {
    for (const keepdims of [false, true]) {
      await checkSequential([layers.globalAveragePooling2d({ keepdims, inputShape: [5, 4, 3] })], [5, 4, 3]);
      await checkSequential([layers.globalMaxPooling2d({ keepdims, inputShape: [5, 4, 3] })], [5, 4, 3]);
    }
  });

  it('Add and Concatenate (channel axis) of two convolution branches stay channels-first', async () => {
    const before = snapshot();
    const x = input({ shape: [6, 6, 2] });
    const c1 = layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same' }).apply(x);
    const c2 = layers.conv2d({ filters: 3, kernelSize: 1 }).apply(x);
    const s = layers.add().apply([c1, c2]);
    const cat = layers.concatenate({ axis: -1 }).apply([s, c1]);
    const m = model({ inputs: x, outputs: cat as SymbolicTensor });
    const bytes = await checkFunctional(m, (n) => [randomTensor([n, 6, 6, 2], seed++)]);
    // One transpose in (shared by both convolutions), one out.
    expect(checkOnnx(bytes).opTypes.Transpose).toBe(2);
    expectNoLeak(before);
  });
});

describe('normalization', () => {
  it('BatchNormalization on vectors, after a convolution (channels-first), and on axis 1 of a sequence', async () => {
    await checkSequential([layers.dense({ units: 5, inputShape: [3] }), layers.batchNormalization()], [3]);
    const bytes = await checkSequential([layers.conv2d({ filters: 4, kernelSize: 3, inputShape: [6, 6, 2] }), layers.batchNormalization({ epsilon: 1e-2 }), layers.activation({ activation: 'relu' })], [6, 6, 2]);
    expect(checkOnnx(bytes).opTypes.Transpose).toBe(2);
    await checkSequential([layers.batchNormalization({ axis: 1, center: false, inputShape: [4, 3] })], [4, 3]);
  });

  it('LayerNormalization (opset 17 op), with and without gamma / beta', async () => {
    const bytes = await checkSequential([layers.layerNormalization({ epsilon: 1e-5, inputShape: [3, 8] })], [3, 8]);
    expect(checkOnnx(bytes).opTypes.LayerNormalization).toBe(1);
    await checkSequential([layers.layerNormalization({ center: false, scale: false, inputShape: [6] })], [6]);
  });
});

describe('file', () => {
  it('has the requested opset, IR version, producer and a symbolic batch axis', async () => {
    const before = snapshot();
    const m = sequential([layers.dense({ units: 2, inputShape: [3] })]);
    const info = checkOnnx(await exportOnnx(m, { producerName: 'unit-test', inputNames: ['x'], outputNames: ['y'] }));
    expect(info).toMatchObject({ irVersion: 8, opsetVersion: 17, producerName: 'unit-test' });
    expect(info.inputs).toEqual([{ name: 'x', elemType: 1, shape: ['batch', 3] }]);
    expect(info.outputs).toEqual([{ name: 'y', elemType: 1, shape: ['batch', 2] }]);
    m.dispose();
    expectNoLeak(before);
  });
});
