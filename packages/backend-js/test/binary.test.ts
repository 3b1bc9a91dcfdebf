import type { BinaryOp, CompareOp, View } from '@tessera/core';
import { describe, expect, it } from 'vitest';
import { K, broadcast, empty, expectClose, flipped, rand, read, size, tensor, transposed, viewOf } from './helpers.js';

const f = Math.fround;
function fmod(a: number, b: number): number {
  const r = a - Math.floor(a / b) * b;
  if (b === 0 || !Number.isFinite(a)) return NaN;
  if (!Number.isFinite(b)) return a === 0 || Math.sign(a) === Math.sign(b) ? a : b;
  return r === 0 ? (b < 0 ? -0 : 0) : Math.abs(r) >= Math.abs(b) ? 0 : r;
}
const FREF: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b, sub: (a, b) => a - b, mul: (a, b) => a * b, div: (a, b) => a / b, pow: Math.pow,
  max: Math.max, min: Math.min, mod: fmod, atan2: Math.atan2,
  and: (a, b) => (a !== 0 && b !== 0 ? 1 : 0), or: (a, b) => (a !== 0 || b !== 0 ? 1 : 0),
};

/** Logical values of a view given the backing data (row-major over its shape). */
function logical(v: View): number[] {
  return read(v);
}

describe('binary float32 on every layout', () => {
  const shape = [3, 5];
  const A = [...rand(13, 11, -3, 3), NaN, 0];
  const B = [...rand(12, 12, -3, 3), 0, NaN, -0];
  const layouts: [string, () => [View, View]][] = [
    ['contiguous', () => [tensor(A, shape), tensor(B, shape)]],
    ['scalar b', () => [tensor(A, shape), broadcast(tensor([1.5], [1]), shape)]],
    ['scalar a', () => [broadcast(tensor([-2.5], []), shape), tensor(B, shape)]],
    ['row/column broadcast', () => [broadcast(tensor(A.slice(0, 5), [5]), shape), broadcast(tensor(B.slice(0, 3), [3, 1]), shape)]],
    ['transposed and flipped', () => [transposed(tensor(A, [5, 3])), flipped(tensor(B, shape), 1)]],
    ['offset sub-view', () => {
      const big = tensor([...A, ...A, ...B], [45]);
      return [viewOf(big, shape, [5, 1], 3), viewOf(big, shape, [1, 3], 30)];
    }],
  ];
  for (const op of Object.keys(FREF) as BinaryOp[]) {
    for (const [name, make] of layouts) {
      it(`${op}: ${name}`, () => {
        const [a, b] = make();
        const out = empty(shape);
        K.binary(op, a, b, out);
        const la = logical(a), lb = logical(b);
        const exp = la.map((x, i) => f(FREF[op](x, lb[i])));
        expectClose(read(out), exp, 0, 0);
      });
    }
  }

  it('max/min propagate NaN; float mod by zero is NaN; mod takes the divisor sign', () => {
    const a = tensor([NaN, 1, 5, -5, 5, -5, 5.5], [7]);
    const b = tensor([1, NaN, 3, 3, -3, -3, 0], [7]);
    const o = empty([7]);
    K.binary('max', a, b, o);
    expect(read(o).slice(0, 2)).toEqual([NaN, NaN]);
    K.binary('min', a, b, o);
    expect(read(o).slice(0, 2)).toEqual([NaN, NaN]);
    K.binary('mod', a, b, o);
    expect(read(o).slice(2)).toEqual([2, 1, -1, -2, NaN]);
  });

  it('writes a strided out and handles rank 0, rank 8 and size 0', () => {
    const big = tensor(new Array(8).fill(0), [8]);
    K.binary('add', tensor([1, 2, 3, 4], [4]), tensor([10, 20, 30, 40], [4]), viewOf(big, [4], [2], 1));
    expect(read(big)).toEqual([0, 11, 0, 22, 0, 33, 0, 44]);
    const s = empty([]);
    K.binary('mul', tensor([3], []), tensor([4], []), s);
    expect(read(s)).toEqual([12]);
    const shape8 = [2, 1, 2, 1, 2, 1, 2, 2];
    const n = size(shape8);
    const a8 = tensor(Array.from({ length: n }, (_, i) => i), shape8);
    const b8 = broadcast(tensor([100, 200], [2]), shape8);
    const o8 = empty(shape8);
    K.binary('add', flipped(a8, 0), b8, o8);
    const la = read(flipped(a8, 0));
    expect(read(o8)).toEqual(la.map((v, i) => v + (i % 2 === 0 ? 100 : 200)));
    const z = empty([0, 3]);
    K.binary('add', empty([0, 3]), empty([0, 3]), z);
    expect(z.size).toBe(0);
  });
});

describe('binary int32', () => {
  const a = [7, -7, 7, -7, 0, 5, -2147483648, 2147483647, 3, -3];
  const b = [2, 2, -2, -2, 3, 0, -1, 1, 0, 5];
  it('div is floored with x/0 = 0', () => {
    const o = empty([10], 'int32');
    K.binary('div', tensor(a, [10], 'int32'), tensor(b, [10], 'int32'), o);
    expect(read(o)).toEqual([3, -4, -4, 3, 0, 0, -2147483648, 2147483647, 0, -1]);
  });
  it('mod is floored (divisor sign) with x mod 0 = 0', () => {
    const o = empty([10], 'int32');
    K.binary('mod', tensor(a, [10], 'int32'), tensor(b, [10], 'int32'), o);
    expect(read(o)).toEqual([1, 1, -1, -1, 0, 0, 0, 0, 0, 2]);
  });
  it('add/sub/mul wrap like int32; pow truncates; max/min', () => {
    const x = tensor([2147483647, -2147483648, 65536, 2, 2, -3], [6], 'int32');
    const y = tensor([1, 1, 65536, -1, 10, 3], [6], 'int32');
    const o = empty([6], 'int32');
    K.binary('add', x, y, o);
    expect(read(o)).toEqual([-2147483648, -2147483647, 131072, 1, 12, 0]);
    K.binary('sub', x, y, o);
    expect(read(o)).toEqual([2147483646, 2147483647, 0, 3, -8, -6]);
    K.binary('mul', x, y, o);
    expect(read(o)).toEqual([2147483647, -2147483648, 0, -2, 20, -9]);
    K.binary('pow', x, y, o);
    expect(read(o).slice(3)).toEqual([0, 1024, -27]);
    K.binary('max', x, y, o);
    expect(read(o)).toEqual([2147483647, 1, 65536, 2, 10, 3]);
    K.binary('min', x, y, o);
    expect(read(o)).toEqual([1, -2147483648, 65536, -1, 2, -3]);
  });
  it('broadcast and transposed int32 operands', () => {
    const x = tensor([1, 2, 3, 4, 5, 6], [3, 2], 'int32');
    const y = broadcast(tensor([10, 20, 30], [3], 'int32'), [2, 3]);
    const o = empty([2, 3], 'int32');
    K.binary('add', transposed(x), y, o);
    expect(read(o)).toEqual([11, 23, 35, 12, 24, 36]);
  });
});

describe('binary bool', () => {
  it('and/or (and max/min as or/and)', () => {
    const a = tensor([0, 0, 1, 1], [4], 'bool'), b = tensor([0, 1, 0, 1], [4], 'bool');
    const o = empty([4], 'bool');
    K.binary('and', a, b, o);
    expect(read(o)).toEqual([0, 0, 0, 1]);
    K.binary('or', a, b, o);
    expect(read(o)).toEqual([0, 1, 1, 1]);
    K.binary('max', a, b, o);
    expect(read(o)).toEqual([0, 1, 1, 1]);
    K.binary('min', flipped(a, 0), b, o);
    expect(read(o)).toEqual([0, 1, 0, 0]);
  });
});

describe('compare', () => {
  const CREF: Record<CompareOp, (a: number, b: number) => boolean> = {
    equal: (a, b) => a === b, notEqual: (a, b) => a !== b, less: (a, b) => a < b,
    lessEqual: (a, b) => a <= b, greater: (a, b) => a > b, greaterEqual: (a, b) => a >= b,
  };
  const A = [1, 2, 3, NaN, -0, Infinity], B = [1, 3, 2, NaN, 0, Infinity];
  for (const op of Object.keys(CREF) as CompareOp[]) {
    it(`${op}: NaN false except notEqual; contiguous, scalar and strided`, () => {
      const a = tensor(A, [6]), b = tensor(B, [6]);
      const o = empty([6], 'bool');
      K.compare(op, a, b, o);
      expect(read(o)).toEqual(A.map((x, i) => (CREF[op](x, B[i]) ? 1 : 0)));
      const s = broadcast(tensor([2], [1]), [6]);
      K.compare(op, a, s, o);
      expect(read(o)).toEqual(A.map((x) => (CREF[op](x, 2) ? 1 : 0)));
      K.compare(op, s, a, o);
      expect(read(o)).toEqual(A.map((x) => (CREF[op](2, x) ? 1 : 0)));
      K.compare(op, flipped(a, 0), b, o);
      const ra = A.slice().reverse();
      expect(read(o)).toEqual(ra.map((x, i) => (CREF[op](x, B[i]) ? 1 : 0)));
    });
  }
  it('compares int32 and bool', () => {
    const o = empty([3], 'bool');
    K.compare('less', tensor([-1, 5, 7], [3], 'int32'), tensor([0, 5, 2], [3], 'int32'), o);
    expect(read(o)).toEqual([1, 0, 0]);
    K.compare('equal', tensor([1, 0, 1], [3], 'bool'), tensor([1, 1, 0], [3], 'bool'), o);
    expect(read(o)).toEqual([1, 0, 0]);
  });
  it('2-D broadcast compare', () => {
    const o = empty([2, 3], 'bool');
    K.compare('greater', broadcast(tensor([1, 5], [2, 1]), [2, 3]), broadcast(tensor([0, 2, 6], [3]), [2, 3]), o);
    expect(read(o)).toEqual([1, 0, 0, 1, 1, 0]);
  });
});

