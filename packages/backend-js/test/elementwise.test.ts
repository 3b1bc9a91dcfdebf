import { describe, expect, it } from 'vitest';
import { K, broadcast, empty, flipped, read, raw, tensor, transposed, viewOf } from './helpers.js';

describe('fill', () => {
  it('fills contiguous outputs of each dtype, casting the value', () => {
    const f = empty([3]), i = empty([2], 'int32'), b = empty([2], 'bool');
    K.fill(f, 1.5);
    K.fill(i, -2.7);
    K.fill(b, 0.25);
    expect(read(f)).toEqual([1.5, 1.5, 1.5]);
    expect(read(i)).toEqual([-2, -2]);
    expect(read(b)).toEqual([1, 1]);
    K.fill(i, NaN);
    expect(read(i)).toEqual([0, 0]);
  });

  it('writes only the cells of a strided sub-view', () => {
    const base = tensor(new Array(12).fill(0), [3, 4]);
    const col = viewOf(base, [3, 2], [4, 2], 1); // columns 1 and 3
    K.fill(col, 9);
    expect(read(base)).toEqual([0, 9, 0, 9, 0, 9, 0, 9, 0, 9, 0, 9]);
  });

  it('does nothing on a size-0 view', () => {
    const base = tensor([1, 2], [2]);
    K.fill(viewOf(base, [0, 2], [2, 1], 0), 5);
    expect(read(base)).toEqual([1, 2]);
  });
});

describe('copy', () => {
  it('copies transposed, flipped and broadcast views into a contiguous out', () => {
    const x = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    const o1 = empty([3, 2]);
    K.copy(transposed(x), o1);
    expect(read(o1)).toEqual([1, 4, 2, 5, 3, 6]);
    const o2 = empty([2, 3]);
    K.copy(flipped(flipped(x, 0), 1), o2);
    expect(read(o2)).toEqual([6, 5, 4, 3, 2, 1]);
    const row = tensor([7, 8, 9], [3]);
    const o3 = empty([2, 3]);
    K.copy(broadcast(row, [2, 3]), o3);
    expect(read(o3)).toEqual([7, 8, 9, 7, 8, 9]);
  });

  it('writes into a strided sub-view of a larger buffer (pad/concat)', () => {
    const big = tensor(new Array(16).fill(0), [4, 4]);
    const x = tensor([1, 2, 3, 4], [2, 2], 'float32');
    K.copy(x, viewOf(big, [2, 2], [4, 1], 5));
    expect(read(big)).toEqual([0, 0, 0, 0, 0, 1, 2, 0, 0, 3, 4, 0, 0, 0, 0, 0]);
    // negative-stride destination
    const d = tensor([0, 0, 0], [3], 'int32');
    K.copy(tensor([1, 2, 3], [3], 'int32'), flipped(d, 0));
    expect(read(d)).toEqual([3, 2, 1]);
  });

  it('handles overlapping source and destination in one buffer', () => {
    const b = tensor([1, 2, 3, 4, 5], [5]);
    K.copy(viewOf(b, [4], [1], 0), viewOf(b, [4], [1], 1)); // shift right
    expect(read(b)).toEqual([1, 1, 2, 3, 4]);
    const c = tensor([1, 2, 3, 4], [4]);
    K.copy(flipped(c, 0), viewOf(c, [4], [1], 0)); // reverse in place
    expect(read(c)).toEqual([4, 3, 2, 1]);
  });

  it('copies bool and rank-0 views', () => {
    const b = tensor([1, 0, 1], [3], 'bool');
    const o = empty([3], 'bool');
    K.copy(flipped(b, 0), o);
    expect(read(o)).toEqual([1, 0, 1]);
    const s = tensor([42], [], 'int32');
    const so = empty([], 'int32');
    K.copy(s, so);
    expect(read(so)).toEqual([42]);
  });

  it('handles rank 8 with mixed strides', () => {
    const shape = [2, 1, 2, 1, 2, 1, 2, 3];
    const n = 48;
    const x = tensor(Array.from({ length: n }, (_, i) => i), shape);
    const out = empty(shape);
    K.copy(flipped(x, 7), out);
    const exp: number[] = [];
    for (let i = 0; i < n; i += 3) exp.push(i + 2, i + 1, i);
    expect(read(out)).toEqual(exp);
  });
});

describe('cast', () => {
  it('float32 → int32 truncates toward zero, NaN → 0, saturates', () => {
    const x = tensor([1.7, -1.7, 0.5, -0.5, NaN, Infinity, -Infinity, 3e9, -3e9, 2147483520], [10]);
    const o = empty([10], 'int32');
    K.cast(x, o);
    expect(read(o)).toEqual([1, -1, 0, 0, 0, 2147483647, -2147483648, 2147483647, -2147483648, 2147483520]);
  });

  it('anything → bool is x != 0 (NaN is true)', () => {
    const o = empty([4], 'bool');
    K.cast(tensor([0, -0, NaN, 0.1], [4]), o);
    expect(read(o)).toEqual([0, 0, 1, 1]);
    const o2 = empty([3], 'bool');
    K.cast(tensor([0, -5, 7], [3], 'int32'), o2);
    expect(read(o2)).toEqual([0, 1, 1]);
  });

  it('int32/bool → float32 and bool → int32 keep values (float32 rounding)', () => {
    const o = empty([3]);
    K.cast(tensor([16777217, -3, 0], [3], 'int32'), o);
    expect(read(o)).toEqual([16777216, -3, 0]);
    const o2 = empty([2], 'int32');
    K.cast(tensor([1, 0], [2], 'bool'), o2);
    expect(read(o2)).toEqual([1, 0]);
    const o3 = empty([2]);
    K.cast(tensor([1, 0], [2], 'bool'), o3);
    expect(read(o3)).toEqual([1, 0]);
  });

  it('casts strided and broadcast inputs, and same-dtype cast copies', () => {
    const x = tensor([1.5, 2.5, 3.5, 4.5], [2, 2]);
    const o = empty([2, 2], 'int32');
    K.cast(transposed(x), o);
    expect(read(o)).toEqual([1, 3, 2, 4]);
    const o2 = empty([2, 3], 'int32');
    K.cast(broadcast(tensor([9.9], [1]), [2, 3]), o2);
    expect(read(o2)).toEqual([9, 9, 9, 9, 9, 9]);
    const o3 = empty([2, 2]);
    K.cast(flipped(x, 1), o3);
    expect(read(o3)).toEqual([2.5, 1.5, 4.5, 3.5]);
  });
});

describe('where', () => {
  it('selects element-wise with broadcast operands', () => {
    const cond = tensor([1, 0, 0, 1], [2, 2], 'bool');
    const a = tensor([1, 2, 3, 4], [2, 2]);
    const b = broadcast(tensor([-1], [1]), [2, 2]);
    const o = empty([2, 2]);
    K.where(cond, a, b, o);
    expect(read(o)).toEqual([1, -1, -1, 4]);
  });

  it('works on int32 and bool with strided views', () => {
    const cond = broadcast(tensor([1, 0, 1], [3], 'bool'), [2, 3]);
    const a = tensor([1, 2, 3, 4, 5, 6], [3, 2], 'int32');
    const b = tensor([0, 0, 0, 0, 0, 0], [2, 3], 'int32');
    const o = empty([2, 3], 'int32');
    K.where(cond, transposed(a), b, o);
    expect(read(o)).toEqual([1, 0, 5, 2, 0, 6]);
    const ob = empty([2], 'bool');
    K.where(tensor([0, 1], [2], 'bool'), tensor([1, 1], [2], 'bool'), tensor([0, 0], [2], 'bool'), ob);
    expect(Array.from(raw(ob))).toEqual([0, 1]);
  });

  it('propagates NaN from the chosen side only', () => {
    const o = empty([2]);
    K.where(tensor([1, 0], [2], 'bool'), tensor([NaN, NaN], [2]), tensor([5, 6], [2]), o);
    expect(read(o)).toEqual([NaN, 6]);
  });
});
