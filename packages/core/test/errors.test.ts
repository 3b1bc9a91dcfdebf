import { beforeAll, describe, expect, it } from 'vitest';
import {
  ArgumentError, DTypeError, IndexError, ShapeError, TesseraError, add, concat, conv2d, gather, matmul, oneHot, reshape, sum, tensor,
  zeros, transpose, softmax, maxPool, slice,
} from '../src/index.js';
import { useJs } from './setup.js';

beforeAll(useJs);

describe('errors name the op, what came in and what was expected', () => {
  const cases: [string, () => unknown, new (...a: never[]) => TesseraError, RegExp][] = [
    ['broadcast', () => add(zeros([2, 3]), zeros([4])), ShapeError, /^add: shapes \[2,3\] and \[4\] cannot broadcast/],
    ['matmul inner', () => matmul(zeros([2, 3]), zeros([4, 5])), ShapeError, /matmul: inner dimensions differ: \[2,3\] @ \[4,5\]/],
    ['matmul dtype', () => matmul(zeros([2, 2], 'int32'), zeros([2, 2])), DTypeError, /matmul: a has dtype int32 \[2,2\]; expected float32/],
    ['reshape', () => reshape(zeros([2, 3]), [4, -1]), ShapeError, /reshape: cannot reshape \[2,3\] \(6 elements\) to \[4,-1\]/],
    ['axis', () => sum(zeros([2, 3]), 2), ArgumentError, /sum: axis 2 is out of range for rank 2/],
    ['gather index', () => gather(zeros([3, 2]), tensor([0, 3], [2], 'int32')), IndexError, /gather: index 3 at flat position 1 is out of range \[0, 3\)/],
    ['gather dtype', () => gather(zeros([3]), tensor([0])), DTypeError, /gather: indices have dtype float32; expected int32/],
    ['oneHot label', () => oneHot(tensor([0, -1], [2], 'int32'), 3), IndexError, /oneHot: index -1/],
    ['concat', () => concat([zeros([2, 2]), zeros([3, 3])], 0), ShapeError, /differ outside axis 0/],
    ['conv2d filter', () => conv2d(zeros([1, 4, 4, 3]), zeros([3, 3, 2, 8])), ShapeError, /conv2d: filter \[3,3,2,8\] does not fit x \[1,4,4,3\]/],
    ['conv2d window', () => conv2d(zeros([1, 2, 2, 1]), zeros([3, 3, 1, 1])), ShapeError, /does not fit input 2x2/],
    ['pool rank', () => maxPool(zeros([4, 4])), ShapeError, /maxPool: x must be NHWC/],
    ['transpose', () => transpose(zeros([2, 3]), [0, 0]), ArgumentError, /is not a permutation/],
    ['softmax dtype', () => softmax(zeros([2], 'int32')), DTypeError, /softmax: x has dtype int32/],
    ['slice range', () => slice(zeros([3]), [2], [5]), ArgumentError, /out of range for \[3\]/],
    ['non-tensor', () => add([1, 2] as never, 1), ArgumentError, /add: a must be a Tensor or a number, got an array \(wrap it with tensor\(\)\)/],
  ];
  for (const [name, fn, type, message] of cases) {
    it(name, () => {
      let caught: unknown;
      try {
        fn();
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(type);
      expect(caught).toBeInstanceOf(TesseraError);
      expect((caught as Error).message).toMatch(message);
    });
  }
});
