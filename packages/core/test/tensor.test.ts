import { beforeAll, describe, expect, it } from 'vitest';
import {
  ArgumentError, DTypeError, DisposedTensorError, ShapeError, Tensor, arange, eye, fill, linspace, memory, ones, scalar, tensor, zeros,
  zerosLike, onesLike, transpose, add,
} from '../src/index.js';
import { useJs } from './setup.js';

beforeAll(useJs);

describe('creation', () => {
  it('infers shape and dtype from nested arrays', async () => {
    const x = tensor([[1, 2, 3], [4, 5, 6]]);
    expect(x.shape).toEqual([2, 3]);
    expect(x.dtype).toBe('float32');
    expect(x.size).toBe(6);
    expect(x.rank).toBe(2);
    expect(await x.array()).toEqual([[1, 2, 3], [4, 5, 6]]);
    expect(tensor([true, false]).dtype).toBe('bool');
    expect(tensor(new Int32Array([1, 2])).dtype).toBe('int32');
    expect(tensor(3).shape).toEqual([]);
    expect(tensor([]).shape).toEqual([0]);
  });

  it('reshapes a flat array to a given shape and casts to a given dtype', () => {
    const x = tensor([1.9, 2, -3.7, 4], [2, 2], 'int32');
    expect(x.arraySync()).toEqual([[1, 2], [-3, 4]]);
  });

  it('rejects ragged arrays, bad shapes and bad dtypes with typed errors', () => {
    expect(() => tensor([[1, 2], [3]])).toThrow(ShapeError);
    expect(() => tensor([[1, 2], [3]])).toThrow(/ragged nested array at \[1\]: expected length 2/);
    expect(() => tensor([1, 2, 3], [2, 2])).toThrow(/shape \[2,2\] holds 4 values but 3 were given/);
    expect(() => tensor([1], [1], 'float64' as never)).toThrow(DTypeError);
    expect(() => zeros([2, -1])).toThrow(ArgumentError);
    expect(() => tensor('abc' as never)).toThrow(ArgumentError);
    expect(() => tensor([1, 'a'] as never)).toThrow(ShapeError);
  });

  it('makes filled, ranged and identity tensors', async () => {
    expect(zeros([2]).arraySync()).toEqual([0, 0]);
    expect(ones([2], 'int32').arraySync()).toEqual([1, 1]);
    expect(fill([2], 7).arraySync()).toEqual([7, 7]);
    expect(arange(4).arraySync()).toEqual([0, 1, 2, 3]);
    expect(arange(4).dtype).toBe('int32');
    expect(arange(0, 1, 0.25).arraySync()).toEqual([0, 0.25, 0.5, 0.75]);
    expect(arange(5, 1, -2).arraySync()).toEqual([5, 3]);
    expect(linspace(0, 1, 5).arraySync()).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(eye(2, 3).arraySync()).toEqual([[1, 0, 0], [0, 1, 0]]);
    const x = tensor([[1, 2]], undefined, 'int32');
    expect(zerosLike(x).dtype).toBe('int32');
    expect(onesLike(x).arraySync()).toEqual([[1, 1]]);
    expect(scalar(true).dtype).toBe('bool');
    expect(() => arange(0, 1, 0)).toThrow(ArgumentError);
  });
});

describe('Tensor', () => {
  it('prints like NumPy', () => {
    expect(tensor([[1, 2], [3, 4]]).toString()).toBe('Tensor float32 [2,2]\n[[1., 2.],\n [3., 4.]]');
    expect(tensor([true, false]).toString()).toBe('Tensor bool [2]\n[ true, false]');
    expect(tensor([NaN, -Infinity, 0.5]).toString()).toContain('nan, -inf,  0.5');
    expect(scalar(3, 'int32').toString()).toBe('Tensor int32 []\n3');
    const big = arange(3000).toString();
    expect(big).toContain('...');
    expect(big.length).toBeLessThan(200);
  });

  it('reads strided views in logical order', async () => {
    const x = tensor([[1, 2, 3], [4, 5, 6]]);
    const t = transpose(x);
    expect(t.isContiguous).toBe(false);
    expect(Array.from(await t.data())).toEqual([1, 4, 2, 5, 3, 6]);
    expect(t.arraySync()).toEqual([[1, 4], [2, 5], [3, 6]]);
  });

  it('returns bool arrays as booleans', () => {
    expect(tensor([true, false]).arraySync()).toEqual([true, false]);
  });

  it('throws DisposedTensorError on use after dispose, naming the op', async () => {
    const x = tensor([1, 2]);
    x.dispose();
    x.dispose(); // twice is fine
    expect(x.isDisposed).toBe(true);
    expect(() => add(x, 1)).toThrow(DisposedTensorError);
    expect(() => add(x, 1)).toThrow(/^add: tensor #\d+ \[2\] float32 was disposed$/);
    await expect(x.data()).rejects.toThrow(DisposedTensorError);
    expect(x.toString()).toContain('disposed');
  });

  it('is disposed at the end of a `using` block', () => {
    const before = memory().numTensors;
    let seen: Tensor;
    {
      using x = tensor([1, 2, 3]);
      seen = x;
      expect(memory().numTensors).toBe(before + 1);
    }
    expect(seen.isDisposed).toBe(true);
    expect(memory().numTensors).toBe(before);
  });
});
