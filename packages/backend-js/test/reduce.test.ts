import type { DType, ReduceOp, View } from '@tessera/core';
import { describe, expect, it } from 'vitest';
import { K, broadcast, empty, expectClose, flipped, rand, read, size, tensor, transposed, viewOf } from './helpers.js';

/** float64 reference reduction of logical row-major values. */
function refReduce(op: ReduceOp, vals: number[], shape: number[], axes: number[]): number[] {
  const kept = shape.map((_, d) => d).filter((d) => !axes.includes(d));
  const outShape = kept.map((d) => shape[d]);
  const init = op === 'sum' ? 0 : op === 'prod' ? 1 : op === 'max' ? -Infinity : Infinity;
  const out = new Array(size(outShape)).fill(init);
  const idx = new Array(shape.length).fill(0);
  for (let i = 0; i < vals.length; i++) {
    let o = 0;
    for (const d of kept) o = o * shape[d] + idx[d];
    const v = vals[i];
    out[o] = op === 'sum' ? out[o] + v : op === 'prod' ? out[o] * v : op === 'max' ? Math.max(out[o], v) : Math.min(out[o], v);
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return out.map(Math.fround);
}

function run(op: ReduceOp, x: View, axes: number[], dtype: DType = x.dtype): number[] {
  const outShape = x.shape.filter((_, d) => !axes.includes(d));
  const out = empty(outShape, dtype);
  K.reduce(op, x, axes, out);
  return read(out);
}

describe('reduce float32', () => {
  const shape = [3, 4, 5];
  const vals = rand(60, 5, 0.5, 1.5);
  const axesCases = [[0], [1], [2], [0, 1], [1, 2], [0, 2], [0, 1, 2], []];
  for (const op of ['sum', 'prod', 'max', 'min'] as ReduceOp[]) {
    for (const axes of axesCases) {
      it(`${op} over [${axes}] (contiguous, flipped, permuted)`, () => {
        const x = tensor(vals, shape);
        expectClose(run(op, x, axes), refReduce(op, vals, shape, axes), 1e-6, 0);
        const fx = flipped(x, 2);
        expectClose(run(op, fx, axes), refReduce(op, read(fx), shape, axes), 1e-6, 0);
        // permuted view: shape [5, 3, 4] of the same data
        const px = viewOf(x, [5, 3, 4], [1, 20, 5], 0);
        expectClose(run(op, px, axes), refReduce(op, read(px), [5, 3, 4], axes), 1e-6, 0);
      });
    }
  }

  it('row and column modes of a large matrix agree with the reference', () => {
    const v = rand(300 * 70, 9);
    const x = tensor(v, [300, 70]);
    expectClose(run('sum', x, [0]), refReduce('sum', v, [300, 70], [0]), 1e-5, 1e-5);
    expectClose(run('sum', x, [1]), refReduce('sum', v, [300, 70], [1]), 1e-5, 1e-5);
    const t = transposed(x);
    expectClose(run('max', t, [1]), refReduce('max', read(t), [70, 300], [1]), 0, 0);
    expectClose(run('min', t, [0]), refReduce('min', read(t), [70, 300], [0]), 0, 0);
  });

  it('max/min propagate NaN (wherever it is in the row)', () => {
    const x = tensor([1, NaN, 3, 4, 5, 6, NaN, 0, 1], [3, 3]);
    expect(run('max', x, [1])).toEqual([NaN, 6, NaN]);
    expect(run('min', x, [0])).toEqual([NaN, NaN, 1]);
    expect(run('sum', x, [1])).toEqual([NaN, 15, NaN]);
  });

  it('empty reductions give identities; size-0 output does nothing', () => {
    const x = empty([2, 0]);
    expect(run('sum', x, [1])).toEqual([0, 0]);
    expect(run('prod', x, [1])).toEqual([1, 1]);
    expect(run('max', x, [1])).toEqual([-Infinity, -Infinity]);
    expect(run('min', x, [1])).toEqual([Infinity, Infinity]);
    expect(run('sum', x, [0])).toEqual([]);
    expect(run('max', empty([0], 'int32'), [0], 'int32')).toEqual([-2147483648]);
    expect(run('min', empty([0], 'int32'), [0], 'int32')).toEqual([2147483647]);
    expect(run('max', empty([0], 'bool'), [0], 'bool')).toEqual([0]);
    expect(run('min', empty([0], 'bool'), [0], 'bool')).toEqual([1]);
  });

  it('reduces broadcast (stride-0) inputs', () => {
    const x = broadcast(tensor([1, 2, 3], [3]), [4, 3]);
    expect(run('sum', x, [0])).toEqual([4, 8, 12]);
    expect(run('sum', x, [0, 1])).toEqual([24]);
  });

  it('sums float32 in float64 (no catastrophic drift)', () => {
    const n = 100000;
    const x = tensor(new Array(n).fill(0.1), [n]);
    expect(run('sum', x, [0])[0]).toBeCloseTo(Math.fround(0.1) * n, 3);
  });
});

describe('reduce int32 and bool', () => {
  it('int32 sum/prod wrap; max/min exact', () => {
    const x = tensor([2147483647, 1, 65536, 65536, -5, 3], [3, 2], 'int32');
    expect(run('sum', x, [1])).toEqual([-2147483648, 131072, -2]);
    expect(run('prod', x, [1])).toEqual([2147483647, 0, -15]);
    expect(run('max', x, [0])).toEqual([2147483647, 65536]);
    expect(run('min', transposed(x), [1])).toEqual([-5, 1]);
    expect(run('sum', x, [0])).toEqual([(2147483647 + 65536 - 5) | 0, 65540]);
  });

  it('bool max/min are any/all; bool sum into int32 counts', () => {
    const b = tensor([1, 0, 0, 0, 1, 1], [2, 3], 'bool');
    expect(run('max', b, [1])).toEqual([1, 1]);
    expect(run('min', b, [1])).toEqual([0, 0]);
    expect(run('min', b, [0])).toEqual([0, 0, 0]);
    expect(run('max', b, [0])).toEqual([1, 1, 1]);
    expect(run('sum', b, [0, 1], 'int32')).toEqual([3]);
    expect(run('sum', b, [1], 'float32')).toEqual([1, 2]);
  });
});

describe('argReduce', () => {
  function arg(op: 'argmax' | 'argmin', x: View, axis: number): number[] {
    const shape = x.shape.filter((_, d) => d !== axis);
    const out = empty(shape, 'int32');
    K.argReduce(op, x, axis, out);
    return read(out);
  }
  it('ties go to the first index; NaN wins (first NaN)', () => {
    const x = tensor([1, 3, 3, 0, NaN, 2, NaN, 5, -1, -1, 7, -1], [3, 4]);
    expect(arg('argmax', x, 1)).toEqual([1, 0, 2]);
    expect(arg('argmin', x, 1)).toEqual([3, 0, 0]);
    expect(arg('argmax', x, 0)).toEqual([1, 0, 1, 1]);
    expect(arg('argmin', x, 0)).toEqual([1, 2, 1, 2]);
  });
  it('column mode on a wide matrix matches row mode on its transpose', () => {
    const v = rand(50 * 40, 21).map((x) => Math.round(x * 4));
    const x = tensor(v, [50, 40]);
    for (const op of ['argmax', 'argmin'] as const) {
      expect(arg(op, x, 0)).toEqual(arg(op, transposed(x), 1));
      const t = transposed(x);
      const ref = Array.from({ length: 40 }, (_, j) => {
        let bi = 0;
        for (let i = 1; i < 50; i++) if (op === 'argmax' ? v[i * 40 + j] > v[bi * 40 + j] : v[i * 40 + j] < v[bi * 40 + j]) bi = i;
        return bi;
      });
      expect(arg(op, t, 1)).toEqual(ref);
    }
  });
  it('int32, bool, flipped and rank-1 inputs', () => {
    expect(arg('argmax', tensor([3, 9, 9, 1], [4], 'int32'), 0)).toEqual([1]);
    expect(arg('argmax', tensor([0, 0, 1, 1], [4], 'bool'), 0)).toEqual([2]);
    expect(arg('argmax', flipped(tensor([3, 9, 9, 1], [4]), 0), 0)).toEqual([1]);
    expect(arg('argmin', tensor([-Infinity, -Infinity], [2]), 0)).toEqual([0]);
  });
});

describe('cumulative', () => {
  function cum(op: ReduceOp, x: View, axis: number, ex: boolean, rev: boolean): number[] {
    const out = empty(x.shape, x.dtype);
    K.cumulative(op, x, axis, ex, rev, out);
    return read(out);
  }
  it('sum: inclusive/exclusive × forward/reverse', () => {
    const x = tensor([1, 2, 3, 4], [4]);
    expect(cum('sum', x, 0, false, false)).toEqual([1, 3, 6, 10]);
    expect(cum('sum', x, 0, true, false)).toEqual([0, 1, 3, 6]);
    expect(cum('sum', x, 0, false, true)).toEqual([10, 9, 7, 4]);
    expect(cum('sum', x, 0, true, true)).toEqual([9, 7, 4, 0]);
  });
  it('prod/max/min with NaN', () => {
    const x = tensor([2, 3, NaN, 1], [4]);
    expect(cum('prod', x, 0, false, false)).toEqual([2, 6, NaN, NaN]);
    expect(cum('max', x, 0, false, false)).toEqual([2, 3, NaN, NaN]);
    expect(cum('min', x, 0, true, false)).toEqual([Infinity, 2, 2, NaN]);
    expect(cum('max', x, 0, false, true)).toEqual([NaN, NaN, NaN, 1]);
  });
  it('along axis 0 and 1 of a matrix (column and line modes), strided input', () => {
    const v = [1, 2, 3, 4, 5, 6];
    const x = tensor(v, [2, 3]);
    expect(cum('sum', x, 0, false, false)).toEqual([1, 2, 3, 5, 7, 9]);
    expect(cum('sum', x, 1, false, false)).toEqual([1, 3, 6, 4, 9, 15]);
    expect(cum('sum', x, 0, true, true)).toEqual([4, 5, 6, 0, 0, 0]);
    expect(cum('sum', transposed(x), 0, false, false)).toEqual([1, 4, 3, 9, 6, 15]);
    expect(cum('prod', transposed(x), 1, false, true)).toEqual([4, 4, 10, 5, 18, 6]);
    const big = rand(64 * 33, 4);
    const bx = tensor(big, [64, 33]);
    const got = cum('sum', bx, 0, false, false);
    const ref = big.slice();
    for (let i = 1; i < 64; i++) for (let j = 0; j < 33; j++) ref[i * 33 + j] = ref[(i - 1) * 33 + j] + big[i * 33 + j];
    expectClose(got, ref.map(Math.fround), 1e-5, 1e-5);
  });
  it('int32 wraps and bool cumsum into bool is a running or', () => {
    expect(cum('sum', tensor([2147483647, 1, 1], [3], 'int32'), 0, false, false)).toEqual([2147483647, -2147483648, -2147483647]);
    expect(cum('prod', tensor([65536, 65536, 3], [3], 'int32'), 0, false, false)).toEqual([65536, 0, 0]);
    expect(cum('sum', tensor([0, 1, 0], [3], 'bool'), 0, false, false)).toEqual([0, 1, 1]);
  });
  it('size-0 axis and size-0 view', () => {
    expect(cum('sum', empty([2, 0]), 1, false, false)).toEqual([]);
    expect(cum('sum', empty([0]), 0, true, false)).toEqual([]);
  });
});
