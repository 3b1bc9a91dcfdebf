/**
 * Splitting arrays into train/test sets, and one-hot encoding of labels.
 * @module
 */
import { ArgumentError, DTypeError, fmtShape, gather, oneHot, reshape, ShapeError, slice, tensor, Tensor, tidy } from '@tessera/core';
import { checkSeed, permutation, randomSeed, Rng } from './random.js';

/**
 * Options of {@link trainTestSplit}.
 * @example
 * trainTestSplit(x, y, { testSize: 0.2, shuffle: true, seed: 0 });
 */
export interface SplitOptions {
  /**
   * The test set's share: a fraction in (0, 1) (rounded up to whole rows, like
   * scikit-learn) or a row count >= 1. Default 0.25.
   */
  testSize?: number;
  /** Shuffle the rows before splitting (default true). */
  shuffle?: boolean;
  /** Seed of the shuffle; the same seed gives the same split everywhere. Random if omitted. */
  seed?: number;
}

/**
 * What {@link trainTestSplit} returns: four new tensors that belong to the caller.
 * @example
 * const split: Split = trainTestSplit(x, y, { seed: 1 }); dispose(split);
 */
export type Split = {
  xTrain: Tensor;
  xTest: Tensor;
  yTrain: Tensor;
  yTest: Tensor;
};

/**
 * Splits `x` and `y` (row `i` of one belongs with row `i` of the other) into train and test
 * sets along axis 0. With `shuffle` (the default) the rows are permuted by `seed` first and
 * gathered; without it the test set is the last rows (as views). The inputs are not disposed.
 * @example
 * const { xTrain, xTest, yTrain, yTest } = trainTestSplit(features, labels, { testSize: 0.2, seed: 0 });
 */
export function trainTestSplit(x: Tensor, y: Tensor, opts: SplitOptions = {}): Split {
  const op = 'trainTestSplit';
  for (const [what, t] of [['x', x], ['y', y]] as const) {
    if (!(t instanceof Tensor)) throw new ArgumentError(op, `${what} must be a Tensor, got ${t === null ? 'null' : typeof t}`);
    if (t.rank === 0) throw new ShapeError(op, `${what} is a scalar; expected rows along axis 0`);
  }
  const n = x.shape[0]!;
  if (y.shape[0] !== n) throw new ShapeError(op, `x ${fmtShape(x.shape)} and y ${fmtShape(y.shape)} have different numbers of rows`);
  const testSize = opts.testSize ?? 0.25;
  let nTest: number;
  if (typeof testSize === 'number' && testSize > 0 && testSize < 1) nTest = Math.ceil(testSize * n);
  else if (typeof testSize === 'number' && Number.isSafeInteger(testSize) && testSize >= 1) nTest = testSize;
  else throw new ArgumentError(op, `testSize must be a fraction in (0, 1) or a row count >= 1, got ${String(testSize)}`);
  const nTrain = n - nTest;
  if (nTest < 1 || nTrain < 1) {
    throw new ArgumentError(op, `testSize ${testSize} of ${n} rows leaves ${nTrain} for training and ${nTest} for testing; both need at least one`);
  }
  if (opts.shuffle === false) {
    return tidy(() => ({
      xTrain: slice(x, [0], [nTrain]),
      xTest: slice(x, [nTrain], [nTest]),
      yTrain: slice(y, [0], [nTrain]),
      yTest: slice(y, [nTrain], [nTest]),
    }));
  }
  const seed = opts.seed === undefined ? randomSeed() : checkSeed(op, opts.seed);
  const perm = permutation(n, new Rng(seed));
  return tidy(() => {
    const trainIdx = tensor(perm.subarray(0, nTrain), [nTrain], 'int32');
    const testIdx = tensor(perm.subarray(nTrain), [nTest], 'int32');
    return { xTrain: gather(x, trainIdx), xTest: gather(x, testIdx), yTrain: gather(y, trainIdx), yTest: gather(y, testIdx) };
  });
}

/**
 * One-hot encodes int32 class labels: `[...shape]` → float32 `[...shape, numClasses]` (a
 * trailing axis of size 1, as in `[n, 1]`, is dropped first, as Keras does). Labels outside
 * `[0, numClasses)` raise an IndexError. Also takes a plain array of integers.
 * @example
 * toCategorical(tensor([0, 2, 1], [3], 'int32'), 3) // [[1, 0, 0], [0, 0, 1], [0, 1, 0]]
 */
export function toCategorical(labels: Tensor | ArrayLike<number>, numClasses: number): Tensor {
  const op = 'toCategorical';
  if (typeof numClasses !== 'number' || !Number.isSafeInteger(numClasses) || numClasses < 1) {
    throw new ArgumentError(op, `numClasses must be a positive integer, got ${String(numClasses)}`);
  }
  if (!(labels instanceof Tensor)) {
    if (labels === null || typeof labels !== 'object' || typeof labels.length !== 'number') {
      throw new ArgumentError(op, `labels must be an int32 Tensor or an array of integers, got ${labels === null ? 'null' : typeof labels}`);
    }
    const ints = new Int32Array(labels.length);
    for (let i = 0; i < labels.length; i++) {
      const v = labels[i]!;
      if (!Number.isInteger(v)) throw new ArgumentError(op, `labels[${i}] is ${v}; expected an integer class id`);
      ints[i] = v;
    }
    return tidy(() => toCategorical(tensor(ints, [ints.length], 'int32'), numClasses));
  }
  if (labels.dtype !== 'int32') {
    throw new DTypeError(op, `labels have dtype ${labels.dtype}; expected int32 class ids (use cast(labels, 'int32'))`);
  }
  if (labels.rank > 1 && labels.shape[labels.rank - 1] === 1) {
    return tidy(() => oneHot(reshape(labels, labels.shape.slice(0, -1)), numClasses));
  }
  return oneHot(labels, numClasses);
}
