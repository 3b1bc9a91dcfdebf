import { ArgumentError, arange, dispose, DTypeError, IndexError, reshape, ShapeError, tensor, tidy } from '@tessera/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { toCategorical, trainTestSplit } from '../src/index.js';
import { expectNoLeak, useJs, values } from './setup.js';

beforeAll(() => {
  useJs();
});

describe('trainTestSplit', () => {
  const make = (n: number) => ({
    x: tidy(() => reshape(arange(2 * n), [n, 2])),
    y: arange(0, n, 1, 'int32'),
  });

  it('splits rows, keeping x and y aligned, deterministically with a seed', async () => {
    const { x, y } = make(20);
    await expectNoLeak(() => {
      const a = trainTestSplit(x, y, { testSize: 0.25, seed: 5 });
      expect(a.xTrain.shape).toEqual([15, 2]);
      expect(a.xTest.shape).toEqual([5, 2]);
      expect(a.yTrain.shape).toEqual([15]);
      expect(a.yTest.dtype).toBe('int32');
      const train = values(a.yTrain);
      const test = values(a.yTest);
      expect([...train, ...test].sort((p, q) => p - q)).toEqual([...Array(20).keys()]);
      const xs = values(a.xTrain);
      train.forEach((r, k) => expect(xs[2 * k]).toBe(2 * r));
      expect(train).not.toEqual([...Array(15).keys()]);
      const b = trainTestSplit(x, y, { testSize: 0.25, seed: 5 });
      expect(values(b.yTest)).toEqual(test);
      const c = trainTestSplit(x, y, { testSize: 0.25, seed: 6 });
      expect(values(c.yTest)).not.toEqual(test);
      dispose([a, b, c]);
    });
    expect(x.isDisposed || y.isDisposed).toBe(false);
    dispose([x, y]);
  });

  it('takes the last rows as the test set without shuffling, and counts or fractions', () => {
    const { x, y } = make(10);
    const s = trainTestSplit(x, y, { testSize: 3, shuffle: false });
    expect(values(s.yTrain)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(values(s.yTest)).toEqual([7, 8, 9]);
    expect(s.xTest.arraySync()).toEqual([[14, 15], [16, 17], [18, 19]]);
    const f = trainTestSplit(x, y, { testSize: 0.33, seed: 1 });
    expect(f.yTest.shape).toEqual([4]); // ceil(3.3)
    const d = trainTestSplit(x, y, { seed: 1 });
    expect(d.yTest.shape).toEqual([3]); // default 0.25 -> ceil(2.5)
    dispose([s, f, d, x, y]);
  });

  it('rejects bad sizes and mismatched rows', () => {
    const { x, y } = make(4);
    const y3 = tensor([1, 2, 3]);
    expect(() => trainTestSplit(x, y3)).toThrow(ShapeError);
    expect(() => trainTestSplit(x, y, { testSize: 0 })).toThrow(ArgumentError);
    expect(() => trainTestSplit(x, y, { testSize: 4 })).toThrow(/leaves 0 for training/);
    expect(() => trainTestSplit(x, y, { testSize: 1.5 })).toThrow(/fraction/);
    expect(() => trainTestSplit(x, y, { seed: -0.5 })).toThrow(/seed/);
    dispose([x, y, y3]);
  });
});

describe('toCategorical', () => {
  it('one-hot encodes int32 labels as float32', async () => {
    await expectNoLeak(() => {
      const labels = tensor([0, 2, 1, 2], [4], 'int32');
      const y = toCategorical(labels, 3);
      expect(y.dtype).toBe('float32');
      expect(y.arraySync()).toEqual([[1, 0, 0], [0, 0, 1], [0, 1, 0], [0, 0, 1]]);
      const col = tensor([1, 0], [2, 1], 'int32');
      const y2 = toCategorical(col, 2);
      expect(y2.arraySync()).toEqual([[0, 1], [1, 0]]);
      const fromArray = toCategorical([3, 0], 4);
      expect(fromArray.arraySync()).toEqual([[0, 0, 0, 1], [1, 0, 0, 0]]);
      dispose([labels, y, col, y2, fromArray]);
    });
  });

  it('rejects float labels, out-of-range labels and bad class counts', () => {
    const f = tensor([0, 1]);
    expect(() => toCategorical(f, 2)).toThrow(DTypeError);
    expect(() => toCategorical(f, 2)).toThrow(/cast\(labels, 'int32'\)/);
    const big = tensor([0, 5], [2], 'int32');
    expect(() => toCategorical(big, 3)).toThrow(IndexError);
    expect(() => toCategorical(big, 0)).toThrow(/numClasses/);
    expect(() => toCategorical([0.5], 2)).toThrow(/integer/);
    dispose([f, big]);
  });
});
