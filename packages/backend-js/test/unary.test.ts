import type { UnaryOp } from '@tessera/core';
import { describe, expect, it } from 'vitest';
import { erf, roundHalfEven } from '../src/math.js';
import { K, empty, expectClose, flipped, rand, read, tensor, transposed, viewOf } from './helpers.js';

const f = Math.fround;
const REF: Record<Exclude<UnaryOp, 'not'>, (x: number) => number> = {
  neg: (x) => -x, abs: Math.abs, sign: Math.sign, exp: Math.exp, expm1: Math.expm1, log: Math.log,
  log1p: Math.log1p, sqrt: Math.sqrt, rsqrt: (x) => 1 / Math.sqrt(x), square: (x) => x * x,
  reciprocal: (x) => 1 / x, sin: Math.sin, cos: Math.cos, tanh: Math.tanh, sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  erf: (x) => erf(x), floor: Math.floor, ceil: Math.ceil, round: roundHalfEven, relu: (x) => (x < 0 ? 0 : x),
};

describe('unary float32', () => {
  const xs = [...rand(37, 3, -4, 4), 0, -0, 0.5, -0.5, 2.5, -2.5, NaN, Infinity, -Infinity, 1e-30];
  for (const op of Object.keys(REF) as (keyof typeof REF)[]) {
    it(`${op} matches the float64 reference on contiguous and strided views`, () => {
      const x = tensor(xs, [xs.length]);
      const out = empty([xs.length]);
      K.unary(op, x, out);
      const exp = xs.map((v) => f(REF[op](v)));
      expectClose(read(out), exp, 2e-7, 0);
      // reversed input
      const out2 = empty([xs.length]);
      K.unary(op, flipped(x, 0), out2);
      expectClose(read(out2), exp.slice().reverse(), 2e-7, 0);
    });
  }

  it('round is half to even', () => {
    const x = tensor([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4, 2.6, -2.6, 1e7 + 0.5], [10]);
    const o = empty([10]);
    K.unary('round', x, o);
    expect(read(o)).toEqual([0, 2, 2, -0, -2, -2, 2, 3, -3, 1e7]);
  });

  it('erf agrees with known values', () => {
    const known: [number, number][] = [[0, 0], [0.1, 0.1124629160182849], [0.5, 0.5204998778130465], [1, 0.8427007929497149],
      [1.5, 0.9661051464753108], [2, 0.9953222650189527], [2.5, 0.999593047982555], [3, 0.9999779095030014], [-1, -0.8427007929497149], [7, 1]];
    for (const [x, v] of known) expect(Math.abs(erf(x) - v)).toBeLessThan(1e-12);
  });

  it('relu keeps NaN and sigmoid saturates cleanly', () => {
    const o = empty([4]);
    K.unary('relu', tensor([NaN, -1, 0, 2], [4]), o);
    expect(read(o)).toEqual([NaN, 0, 0, 2]);
    K.unary('sigmoid', tensor([-1000, 1000, 0, NaN], [4]), o);
    expect(read(o)).toEqual([0, 1, 0.5, NaN]);
  });

  it('handles 2-D transposed input, rank 0 and size 0', () => {
    const x = tensor([1, 4, 9, 16, 25, 36], [2, 3]);
    const o = empty([3, 2]);
    K.unary('sqrt', transposed(x), o);
    expect(read(o)).toEqual([1, 4, 2, 5, 3, 6]);
    const s = empty([]);
    K.unary('neg', tensor([3], []), s);
    expect(read(s)).toEqual([-3]);
    const z = tensor([7], [1]);
    K.unary('exp', viewOf(z, [0], [1], 0), viewOf(z, [0], [1], 0));
    expect(read(z)).toEqual([7]);
  });
});

describe('unary int32 and bool', () => {
  it('computes neg/abs/sign/square/relu/floor/ceil/round exactly on int32', () => {
    const xs = [-3, 0, 5, 46341, -2147483648];
    const x = tensor(xs, [5], 'int32');
    const o = empty([5], 'int32');
    const cases: [UnaryOp, number[]][] = [
      ['neg', [3, 0, -5, -46341, -2147483648]],
      ['abs', [3, 0, 5, 46341, -2147483648]],
      ['sign', [-1, 0, 1, 1, -1]],
      ['square', [9, 0, 25, Math.imul(46341, 46341), 0]],
      ['relu', [0, 0, 5, 46341, 0]],
      ['floor', xs], ['ceil', xs], ['round', xs],
    ];
    for (const [op, exp] of cases) {
      K.unary(op, x, o);
      expect(read(o), op).toEqual(exp);
    }
  });

  it('not flips bool, on strided views too', () => {
    const b = tensor([1, 0, 0, 1, 1, 0], [2, 3], 'bool');
    const o = empty([3, 2], 'bool');
    K.unary('not', transposed(b), o);
    expect(read(o)).toEqual([0, 0, 1, 0, 1, 1]);
  });

  it('other int32 ops go through float32 and truncate', () => {
    const o = empty([2], 'int32');
    K.unary('sqrt', tensor([10, 16], [2], 'int32'), o);
    expect(read(o)).toEqual([3, 4]);
  });
});
