import { ArgumentError, dispose, ShapeError, tensor, zeros } from '@tessera/core';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { clearSession, input, layers, model, sequential } from '../src/index.js';
import { expectNoLeak, snapshot, useTestBackend } from './helpers.js';

beforeAll(useTestBackend);
beforeEach(() => clearSession());

describe('summary', () => {
  it('prints a Keras-like table for the classic MLP', () => {
    const m = sequential([layers.flatten({ inputShape: [28, 28] }), layers.dense({ units: 128, activation: 'relu' }), layers.dense({ units: 10, activation: 'softmax' })]);
    const lines: string[] = [];
    const text = m.summary((l) => lines.push(l));
    expect(lines).toEqual([text]);
    expect(text).toBe(
      [
        'Model: "sequential"',
        '_________________________________________________________________',
        ' Layer (type)                 Output Shape              Param #',
        '=================================================================',
        ' flatten (Flatten)            (None, 784)               0',
        ' dense (Dense)                (None, 128)               100,480',
        ' dense_1 (Dense)              (None, 10)                1,290',
        '=================================================================',
        'Total params: 101,770 (397.54 KB)',
        'Trainable params: 101,770 (397.54 KB)',
        'Non-trainable params: 0 (0.00 B)',
        '_________________________________________________________________',
      ].join('\n'),
    );
    m.dispose();
  });

  it('shows connections for functional models and counts non-trainable weights (BatchNormalization, frozen layers)', () => {
    const a = input({ shape: [8], name: 'a' });
    const b = input({ shape: [4], name: 'b' });
    const h = layers.dense({ units: 5, name: 'h' }).apply(a);
    const c = layers.concatenate({ name: 'cat' }).apply([h, b]);
    const n = layers.batchNormalization({ name: 'bn' }).apply(c);
    const m = model({ inputs: [a, b], outputs: layers.dense({ units: 1, name: 'out' }).apply(n), name: 'two_inputs' });
    m.getLayer('h').trainable = false;
    const text = m.summary(() => {});
    expect(text).toContain('Model: "two_inputs"');
    expect(text).toMatch(/ Layer \(type\)\s+Output Shape\s+Param #\s+Connected to/);
    expect(text).toMatch(/ a \(InputLayer\)\s+\(None, 8\)\s+0\s+-/);
    expect(text).toMatch(/ cat \(Concatenate\)\s+\(None, 9\)\s+0\s+h\[0\]\[0\], b\[0\]\[0\]/);
    expect(text).toMatch(/ bn \(BatchNormalization\)\s+\(None, 9\)\s+36\s+cat\[0\]\[0\]/);
    expect(text).toContain('Total params: 91 (364.00 B)');
    expect(text).toContain('Trainable params: 28 (112.00 B)'); // bn gamma/beta 18 + out 10
    expect(text).toContain('Non-trainable params: 63 (252.00 B)'); // h 45 + moving stats 18
    m.dispose();
  });

  it('shows a nested model as one row', () => {
    const base = sequential([layers.dense({ units: 4, inputShape: [3] })], );
    const m = sequential([base, layers.dense({ units: 2 })]);
    const text = m.summary(() => {});
    expect(text).toMatch(/ sequential \(Sequential\)\s+\(None, 4\)\s+16/);
    expect(text).toContain('Total params: 26');
    m.dispose();
  });
});

describe('typed errors', () => {
  it('a wrong input shape to a built model names the layer and both shapes', () => {
    const before = snapshot();
    const m = sequential([layers.flatten({ inputShape: [28, 28] }), layers.dense({ units: 10 })]);
    const x = zeros([5, 10]);
    expect(() => m.predict(x)).toThrow(ShapeError);
    expect(() => m.predict(x)).toThrow('sequential: Input 0 of layer "flatten" is incompatible with the layer: expected shape [null,28,28], but received input with shape [5,10]');
    const d = m.getLayer('dense');
    const wrong = zeros([2, 100]);
    expect(() => d.apply(wrong)).toThrow('dense: Input 0 of layer "dense" is incompatible with the layer: expected axis -1 of the input shape to be 784, but received input with shape [2,100]');
    dispose([x, wrong]);
    m.dispose();
    expectNoLeak(before);
  });

  it('rejects bad arguments with ArgumentError or ShapeError and a message that says what was expected', async () => {
    const before = snapshot();
    expect(() => layers.dense({ units: 0 })).toThrow(/units must be an integer >= 1/);
    expect(() => layers.dense({ units: 3, activation: 'nope' as never })).toThrow(ArgumentError);
    expect(() => layers.dropout({ rate: 1 })).toThrow(/rate must be in \[0, 1\)/);
    expect(() => layers.conv2d({ filters: 2, kernelSize: 0 })).toThrow(/kernelSize/);
    expect(() => layers.conv2d({ filters: 2, kernelSize: 3, padding: 'full' as never })).toThrow(/padding must be 'same' or 'valid'/);
    const conv = layers.conv2d({ filters: 2, kernelSize: 3 });
    const flat = zeros([2, 8]);
    expect(() => conv.apply(flat)).toThrow(ShapeError);
    const m = sequential([layers.dense({ units: 2, inputShape: [3] })]);
    const x = zeros([4, 3]);
    const y = zeros([5, 2]);
    await expect(m.fit(x, y)).rejects.toThrow(/must be compiled first/);
    m.compile({ optimizer: 'sgd', loss: 'mse' });
    await expect(m.fit(x, y, { verbose: 0 })).rejects.toThrow(/same number of samples: x \[4,3\] has 4, y \[5,2\] has 5/);
    await expect(m.fit([[1, 2, 3]] as never, y, { verbose: 0 })).rejects.toThrow(/wrap it with tensor\(\)/);
    await expect(m.fit(x, y, { validationSplit: 1.5 })).rejects.toThrow(/validationSplit must be in \[0, 1\)/);
    expect(() => m.compile({ optimizer: 'sgd', loss: 'no_such_loss' })).toThrow(ArgumentError);
    expect(() => m.compile({ optimizer: 'sgd', loss: 'mse', metrics: ['nope'] })).toThrow(/unknown metric 'nope'/);
    expect(() => m.compile({ optimizer: 'nope', loss: 'mse' })).toThrow(ArgumentError);
    const w = tensor([1, 2]);
    expect(() => m.getLayer(0).setWeights([w, w])).toThrow("setWeights: weight 'kernel' has shape [3,2], got [2]");
    expect(() => m.getLayer(0).setWeights([w])).toThrow(/expected 2 tensors \(kernel, bias\)/);
    expect(() => layers.dense({ units: 2 }).countParams()).toThrow(/not built/);
    expect(() => m.getLayer('nope')).toThrow(/no layer named "nope"/);
    const a = input({ shape: [2] });
    const b = input({ shape: [2] });
    const head = layers.dense({ units: 1 });
    const out = head.apply(layers.add().apply([a, b]));
    expect(() => model({ inputs: a, outputs: out })).toThrow(/Graph disconnected/);
    head.dispose();
    dispose([flat, x, y, w]);
    m.dispose();
    expectNoLeak(before);
  });
});
