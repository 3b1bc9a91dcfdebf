import { describe, expect, it } from 'vitest';
import { K, broadcast, empty, flipped, read, tensor, transposed, viewOf } from './helpers.js';

describe('gather', () => {
  const x = tensor([1, 2, 3, 4, 5, 6], [3, 2]);
  it('along axis 0 and 1, with repeated indices', () => {
    const o = empty([3, 2]);
    K.gather(x, tensor([2, 0, 2], [3], 'int32'), 0, o);
    expect(read(o)).toEqual([5, 6, 1, 2, 5, 6]);
    const o1 = empty([3, 3]);
    K.gather(x, tensor([1, 1, 0], [3], 'int32'), 1, o1);
    expect(read(o1)).toEqual([2, 2, 1, 4, 4, 3, 6, 6, 5]);
  });
  it('multi-dimensional indices insert their shape', () => {
    const o = empty([2, 2, 2]);
    K.gather(x, tensor([0, 1, 2, 0], [2, 2], 'int32'), 0, o);
    expect(read(o)).toEqual([1, 2, 3, 4, 5, 6, 1, 2]);
    const o2 = empty([3, 2, 1]);
    K.gather(x, tensor([1, 0], [2, 1], 'int32'), 1, o2);
    expect(read(o2)).toEqual([2, 1, 4, 3, 6, 5]);
  });
  it('out-of-range indices give zeros', () => {
    const o = empty([3, 2]);
    K.gather(x, tensor([-1, 3, 1], [3], 'int32'), 0, o);
    expect(read(o)).toEqual([0, 0, 0, 0, 3, 4]);
  });
  it('strided x and indices, int32 and bool, 3-D middle axis, scalar index', () => {
    const o = empty([2, 3]);
    K.gather(transposed(x), flipped(tensor([0, 1], [2], 'int32'), 0), 0, o);
    expect(read(o)).toEqual([2, 4, 6, 1, 3, 5]);
    const xi = tensor([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [2, 3, 2], 'int32');
    const oi = empty([2, 1, 2], 'int32');
    K.gather(xi, tensor([2], [1], 'int32'), 1, oi);
    expect(read(oi)).toEqual([5, 6, 11, 12]);
    const os = empty([2, 2], 'int32');
    K.gather(xi, tensor([1], [], 'int32'), 1, os);
    expect(read(os)).toEqual([3, 4, 9, 10]);
    const ob = empty([2], 'bool');
    K.gather(tensor([0, 1, 1], [3], 'bool'), tensor([2, 0], [2], 'int32'), 0, ob);
    expect(read(ob)).toEqual([1, 0]);
    const bx = broadcast(tensor([7, 8], [2]), [3, 2]);
    const ob2 = empty([1, 2]);
    K.gather(bx, tensor([2], [1], 'int32'), 0, ob2);
    expect(read(ob2)).toEqual([7, 8]);
  });
  it('writes a strided out and handles empty indices', () => {
    const col = viewOf(x, [3, 1], [2, 1], 0);
    const big2 = tensor(new Array(6).fill(-1), [3, 2]);
    K.gather(col, tensor([1, 2, 0], [3], 'int32'), 0, viewOf(big2, [3, 1], [2, 1], 1));
    expect(read(big2)).toEqual([-1, 3, -1, 5, -1, 1]);
    K.gather(x, empty([0], 'int32'), 0, empty([0, 2]));
  });
});

describe('scatterAdd', () => {
  it('accumulates repeated indices and drops out-of-range ones', () => {
    const out = tensor([10, 20, 30], [3]);
    K.scatterAdd(tensor([2, 2, 0, 5, -1], [5], 'int32'), tensor([1, 2, 3, 100, 100], [5]), 0, out);
    expect(read(out)).toEqual([13, 20, 33]);
  });
  it('is the adjoint of gather along axis 1 with 2-D indices', () => {
    const out = tensor(new Array(6).fill(0), [2, 3]);
    const idx = tensor([0, 2, 2, 1], [2, 2], 'int32');
    const upd = tensor([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2]);
    K.scatterAdd(idx, upd, 1, out);
    expect(read(out)).toEqual([1, 4, 5, 5, 8, 13]);
  });
  it('writes into a strided out with strided updates; int32 and bool', () => {
    const base = tensor(new Array(8).fill(0), [4, 2]);
    const outView = transposed(viewOf(base, [4, 2], [2, 1], 0)); // [2, 4]
    const upd = transposed(tensor([1, 2, 3, 4], [2, 2])); // [[1,3],[2,4]]
    K.scatterAdd(tensor([3, 0], [2], 'int32'), upd, 1, outView);
    expect(read(outView)).toEqual([3, 0, 0, 1, 4, 0, 0, 2]);
    const oi = tensor([1, 1], [2], 'int32');
    K.scatterAdd(tensor([1, 1, 1], [3], 'int32'), tensor([2147483647, 1, 1], [3], 'int32'), 0, oi);
    expect(read(oi)).toEqual([1, -2147483646]);
    const ob = tensor([0, 1, 0], [3], 'bool');
    K.scatterAdd(tensor([0, 0], [2], 'int32'), tensor([1, 0], [2], 'bool'), 0, ob);
    expect(read(ob)).toEqual([1, 1, 0]);
  });
  it('size-0 updates do nothing', () => {
    const out = tensor([1, 2], [2]);
    K.scatterAdd(empty([0], 'int32'), empty([0]), 0, out);
    expect(read(out)).toEqual([1, 2]);
  });
});
