import { beforeAll, describe, expect, it } from 'vitest';
import {
  add, argmax, broadcastTo, cast, concat, conv2d, cumsum, div, equal, flip, floorDiv, gather, linear, logSumExp, matmul, maxPool, mean,
  memory, mod, oneHot, pad, reshape, round, scatterAdd, softmax, split, stack, stridedSlice, sum, tensor, tile, transpose, variance,
  where, withFusedKernels, zeros, avgPool, expandDims, squeeze,
} from '../src/index.js';
import { useJs } from './setup.js';

beforeAll(useJs);

const close = (got: ArrayLike<number>, want: number[], tol = 1e-5) => {
  expect(got.length).toBe(want.length);
  want.forEach((w, i) => expect(Math.abs(got[i]! - w)).toBeLessThanOrEqual(tol * (1 + Math.abs(w))));
};

describe('ops through the core (values; the conformance suite covers every kernel)', () => {
  it('broadcasts mixed operands and promotes dtypes', () => {
    expect(add(tensor([[1], [2]]), tensor([10, 20, 30])).arraySync()).toEqual([[11, 21, 31], [12, 22, 32]]);
    expect(add(tensor([1, 2], [2], 'int32'), 1).dtype).toBe('int32');
    expect(add(tensor([1, 2], [2], 'int32'), 0.5).dtype).toBe('float32');
    expect(div(tensor([1, 3], [2], 'int32'), 2).arraySync()).toEqual([0.5, 1.5]);
    expect(floorDiv(tensor([7, -7], [2], 'int32'), 2).arraySync()).toEqual([3, -4]);
    expect(mod(tensor([-3, 3]), 2).arraySync()).toEqual([1, 1]);
    expect(round(tensor([0.5, 1.5, 2.5, -0.5])).arraySync()).toEqual([0, 2, 2, -0]);
    expect(add(tensor([true]), tensor([true])).arraySync()).toEqual([2]);
  });

  it('views share storage and compose', () => {
    const before = memory().numBytes;
    const x = reshape(tensor([0, 1, 2, 3, 4, 5]), [2, 3]);
    const t = transpose(x);
    const f = flip(t, 0);
    const s = stridedSlice(x, [null, null], [null, null], [1, -2]);
    expect(memory().numBytes).toBe(before + 24);
    expect(f.arraySync()).toEqual([[2, 5], [1, 4], [0, 3]]);
    expect(s.arraySync()).toEqual([[2, 0], [5, 3]]);
    expect(broadcastTo(tensor([1, 2]), [2, 2]).arraySync()).toEqual([[1, 2], [1, 2]]);
    expect(squeeze(expandDims(tensor([1, 2]), 0)).shape).toEqual([2]);
  });

  it('copies with concat, stack, split, pad, tile, gather, scatterAdd and oneHot', () => {
    expect(concat([tensor([[1]]), tensor([[2, 3]])], 1).arraySync()).toEqual([[1, 2, 3]]);
    expect(stack([tensor([1, 2]), tensor([3, 4])], 1).arraySync()).toEqual([[1, 3], [2, 4]]);
    expect(split(tensor([1, 2, 3, 4]), [1, -1]).map((p) => p.arraySync())).toEqual([[1], [2, 3, 4]]);
    expect(pad(tensor([[1]]), [[1, 0], [0, 2]], 9).arraySync()).toEqual([[9, 9, 9], [1, 9, 9]]);
    expect(tile(tensor([1, 2]), [3]).arraySync()).toEqual([1, 2, 1, 2, 1, 2]);
    const idx = tensor([2, 0, 2], [3], 'int32');
    expect(gather(tensor([10, 20, 30]), idx).arraySync()).toEqual([30, 10, 30]);
    expect(scatterAdd(zeros([3]), idx, tensor([1, 2, 3])).arraySync()).toEqual([2, 0, 4]);
    expect(oneHot(tensor([1, 0], [2], 'int32'), 3).arraySync()).toEqual([[0, 1, 0], [1, 0, 0]]);
  });

  it('reduces over axes with keepDims', () => {
    const x = tensor([[1, 2, 3], [4, 5, 6]]);
    expect(sum(x).arraySync()).toBe(21);
    expect(sum(x, -1, true).arraySync()).toEqual([[6], [15]]);
    expect(mean(x, 0).arraySync()).toEqual([2.5, 3.5, 4.5]);
    close(variance(x, 1).dataSync(), [2 / 3, 2 / 3]);
    expect(argmax(x, 1).arraySync()).toEqual([2, 2]);
    expect(cumsum(x, 1).arraySync()).toEqual([[1, 3, 6], [4, 9, 15]]);
    close(logSumExp(tensor([1000, 1000])).dataSync(), [1000 + Math.log(2)]);
    expect(sum(tensor([true, true, false])).arraySync()).toBe(2);
  });

  it('matmul handles vectors, transposes and broadcast batches', () => {
    const a = tensor([[1, 2], [3, 4]]);
    expect(matmul(a, tensor([1, 1])).arraySync()).toEqual([3, 7]);
    expect(matmul(tensor([1, 1]), a).arraySync()).toEqual([4, 6]);
    expect(matmul(a, a, { transposeA: true }).arraySync()).toEqual([[10, 14], [14, 20]]);
    expect(matmul(zeros([2, 1, 3, 4]), zeros([5, 4, 2])).shape).toEqual([2, 5, 3, 2]);
    expect(matmul(tensor([1, 2]), tensor([3, 4])).arraySync()).toBe(11);
  });

  it('fused kernels and their decompositions agree', () => {
    const x = tensor([[0.5, -1, 2], [3, 0.1, -0.2]]);
    const w = tensor([[1, -1], [0.5, 2], [-3, 1]]);
    const b = tensor([0.1, -0.1]);
    const img = reshape(tensor(Array.from({ length: 2 * 5 * 5 * 3 }, (_, i) => Math.sin(i))), [2, 5, 5, 3]);
    const filt = reshape(tensor(Array.from({ length: 3 * 3 * 3 * 4 }, (_, i) => Math.cos(i))), [3, 3, 3, 4]);
    const run = () => [
      linear(x, w, b, 'relu').dataSync(),
      softmax(x).dataSync(),
      conv2d(img, filt, { strides: 2, padding: 'same' }).dataSync(),
      maxPool(img, 2, { padding: 'same' }).dataSync(),
      avgPool(img, 3, { strides: 1, padding: 'same' }).dataSync(),
    ];
    const fused = run();
    const plain = withFusedKernels(false, run);
    fused.forEach((f, i) => close(f, Array.from(plain[i]!), 1e-5));
  });

  it('where and compare broadcast', () => {
    expect(where(equal(tensor([1, 2, 3]), 2), 0, tensor([1, 2, 3])).arraySync()).toEqual([1, 0, 3]);
    expect(cast(tensor([1.7, -1.7, NaN]), 'int32').arraySync()).toEqual([1, -1, 0]);
  });
});
