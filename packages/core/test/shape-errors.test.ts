/**
 * The public shape helpers called directly with garbage: each throws a typed error whose
 * message names the helper (or the op the caller named), the bad value and what was expected,
 * instead of returning NaN, a wrong number or throwing a TypeError from inside.
 */
import { describe, expect, it } from 'vitest';
import {
  ArgumentError, ShapeError, broadcastShapes, collapseAxes, fmtShape, isRowMajor, normAxes, normAxis, shapesEqual, sizeOf,
  stridesOf,
} from '../src/index.js';
import { expectTyped } from './setup.js';

/** Shapes that are not shapes, with how the message shows the offending part. */
const BAD_SHAPES: [string, unknown, RegExp][] = [
  ['negative', [2, -1], /\[2,-1\] must hold non-negative integers \(dimension 1 is -1\)/],
  ['fractional', [1.5, 2], /\[1\.5,2\] must hold non-negative integers \(dimension 0 is 1\.5\)/],
  ['NaN', [3, NaN], /dimension 1 is NaN/],
  ['Infinity', [Infinity], /dimension 0 is Infinity/],
  ['a string entry', [2, '3'], /dimension 1 is "3"/],
  ['a null entry', [null], /dimension 0 is null/],
  ['a bigint entry', [2n], /dimension 0 is 2/],
  ['a symbol entry', [Symbol('d')], /dimension 0 is Symbol\(d\)/],
  ['null', null, /must be an array of non-negative integers, got null/],
  ['undefined', undefined, /got undefined/],
  ['a number', 6, /got 6/],
  ['a string', '23', /got "23"/],
  ['a typed array', new Int32Array([2, 3]), /got an Int32Array/],
  ['an object', { length: 2 }, /got an object/],
];

describe('sizeOf and stridesOf', () => {
  for (const fn of [sizeOf, stridesOf]) {
    for (const [name, shape, message] of BAD_SHAPES) {
      it(`${fn.name} rejects ${name}`, () => expectTyped(() => fn(shape as number[]), ArgumentError, new RegExp(`^${fn.name}: shape`), message));
    }
    it(`${fn.name} rejects a shape whose element count is not exact`, () => {
      expectTyped(() => fn([2 ** 30, 2 ** 30, 2 ** 30]), ArgumentError, new RegExp(`^${fn.name}: shape \\[1073741824,1073741824,1073741824\\]`), /more than 9007199254740991/);
    });
  }

  it('still accept every valid shape, including empty and scalar ones', () => {
    expect(sizeOf([])).toBe(1);
    expect(sizeOf([0, 5])).toBe(0);
    expect(sizeOf([2 ** 20, 2 ** 20])).toBe(2 ** 40);
    expect(stridesOf([3, 0, 2])).toEqual([0, 2, 1]);
  });

  it('shows at most 8 entries of a long bad shape', () => {
    const long = [...Array.from({ length: 20 }, () => 1), -1];
    expectTyped(() => sizeOf(long), ArgumentError, /\[1,1,1,1,1,1,1,1,… \(21 entries\)\] must hold non-negative integers \(dimension 20 is -1\)/);
  });
});

describe('shapesEqual', () => {
  it('rejects a bad first or second shape, saying which', () => {
    expectTyped(() => shapesEqual([2, -3], [2, 3]), ArgumentError, /^shapesEqual: a \[2,-3\] must hold non-negative integers/);
    expectTyped(() => shapesEqual([2, 3], null as never), ArgumentError, /^shapesEqual: b must be an array of non-negative integers, got null/);
  });

  it('checks both shapes even when their lengths differ', () => {
    expectTyped(() => shapesEqual([NaN], [1, 2]), ArgumentError, /dimension 0 is NaN/);
  });

  it('compares valid shapes', () => {
    expect(shapesEqual([2, 3], [2, 3])).toBe(true);
    expect(shapesEqual([2, 3], [3, 2])).toBe(false);
    expect(shapesEqual([], [])).toBe(true);
  });
});

describe('broadcastShapes', () => {
  it('gives a ShapeError naming the op, both shapes and the axis when they cannot broadcast', () => {
    expectTyped(() => broadcastShapes([2, 3], [4, 3], 'myOp'), ShapeError, /^myOp: shapes \[2,3\] and \[4,3\] cannot broadcast \(axis -2: 2 vs 4\)/);
  });

  it('names itself when no op is given', () => {
    expectTyped(() => broadcastShapes([2], [3]), ShapeError, /^broadcastShapes: shapes \[2\] and \[3\] cannot broadcast/);
    expectTyped(() => broadcastShapes([2], [3], 7 as never), ShapeError, /^broadcastShapes: /);
    expect(broadcastShapes([2, 1], [3])).toEqual([2, 3]);
  });

  it('rejects shapes that are not shapes, equal or not, naming which one', () => {
    expectTyped(() => broadcastShapes([-1], [-1], 'add'), ArgumentError, /^add: shape a \[-1\] must hold non-negative integers \(dimension 0 is -1\)/);
    expectTyped(() => broadcastShapes([2, 3], [0.5], 'add'), ArgumentError, /^add: shape b \[0\.5\]/);
    expectTyped(() => broadcastShapes('23' as never, [3]), ArgumentError, /^broadcastShapes: shape a must be an array of non-negative integers, got "23"/);
    expectTyped(() => broadcastShapes([NaN], [1]), ArgumentError, /dimension 0 is NaN/);
  });
});

describe('normAxis and normAxes', () => {
  it('reject axes out of range, fractional, NaN or not numbers, naming the op, the axis and the range', () => {
    expectTyped(() => normAxis(2, 2, 'sum'), ArgumentError, /^sum: axis 2 is out of range for rank 2 \(expected an integer in -2\.\.1\)/);
    expectTyped(() => normAxis(-3, 2), ArgumentError, /^normAxis: axis -3 is out of range for rank 2/);
    expectTyped(() => normAxis(NaN, 2), ArgumentError, /^normAxis: axis NaN /);
    expectTyped(() => normAxis('1' as never, 2), ArgumentError, /^normAxis: axis "1" /);
    expectTyped(() => normAxis(Symbol('a') as never, 2), ArgumentError, /^normAxis: axis Symbol\(a\) /);
    expectTyped(() => normAxis(0, 0), ArgumentError, /for rank 0 \(expected an integer in 0\.\.-1\)/);
  });

  it('reject a rank that is not a non-negative integer, even with an axis that would fit', () => {
    for (const rank of [NaN, -1, 2.5, '3', Infinity, null]) {
      expectTyped(() => normAxis(0, rank as never), ArgumentError, /^normAxis: rank must be a non-negative integer, got /);
      expectTyped(() => normAxes(undefined, rank as never, 'mean'), ArgumentError, /^mean: rank must be a non-negative integer/);
      expectTyped(() => normAxes([0], rank as never), ArgumentError, /^normAxes: rank must be a non-negative integer/);
    }
  });

  it('normAxes rejects what is neither an axis, a list of axes nor undefined', () => {
    for (const [axes, shown] of [[null, 'null'], ['0', '"0"'], [{ 0: 1 }, 'an object'], [new Int32Array([0]), 'an Int32Array']] as const) {
      expectTyped(() => normAxes(axes as never, 2, 'sum'), ArgumentError, new RegExp(`^sum: axes must be an integer, an array of integers or undefined \\(all axes\\), got ${shown.replace(/[()]/g, '\\$&')}`));
    }
  });

  it('normAxes rejects a bad entry or a repeated axis', () => {
    expectTyped(() => normAxes([0, 5], 2, 'sum'), ArgumentError, /^sum: axis 5 is out of range for rank 2/);
    expectTyped(() => normAxes([0, 0.5], 2), ArgumentError, /^normAxes: axis 0\.5 /);
    expectTyped(() => normAxes([1, -1], 2, 'sum'), ArgumentError, /^sum: axes \[1,-1\] repeat an axis/);
  });

  it('normalise valid axes', () => {
    expect(normAxis(-1, 3)).toBe(2);
    expect(normAxes(-2, 3)).toEqual([1]);
    expect(normAxes([], 3)).toEqual([]);
    expect(normAxes(undefined, 0)).toEqual([]);
  });
});

describe('fmtShape', () => {
  it('formats any array as given (messages show bad shapes too)', () => {
    expect(fmtShape([2, 3])).toBe('[2,3]');
    expect(fmtShape([])).toBe('[]');
    expect(fmtShape([-1, NaN, 1.5])).toBe('[-1,NaN,1.5]');
    expect(fmtShape([Symbol('s')] as never)).toBe('[Symbol(s)]');
  });

  it('rejects what is not an array', () => {
    expectTyped(() => fmtShape(null as never), ArgumentError, /^fmtShape: shape must be an array, got null/);
    expectTyped(() => fmtShape(3 as never), ArgumentError, /^fmtShape: shape must be an array, got 3/);
  });
});

describe('isRowMajor', () => {
  it('rejects a bad shape, bad strides or strides of another rank', () => {
    expectTyped(() => isRowMajor([2, -3], [3, 1]), ArgumentError, /^isRowMajor: shape \[2,-3\] must hold non-negative integers/);
    expectTyped(() => isRowMajor([2, 3], [3, 0.5]), ArgumentError, /^isRowMajor: strides \[3,0\.5\] must hold integers \(entry 1 is 0\.5\)/);
    expectTyped(() => isRowMajor([2, 3], [NaN, 1]), ArgumentError, /entry 0 is NaN/);
    expectTyped(() => isRowMajor([2, 3], null as never), ArgumentError, /^isRowMajor: strides must be an array of integers, got null/);
    expectTyped(() => isRowMajor([2, 3], [1]), ShapeError, /^isRowMajor: strides \[1\] has 1 entries for shape \[2,3\] of rank 2/);
  });

  it('answers for valid layouts, negative and zero strides included', () => {
    expect(isRowMajor([2, 3], [3, 1])).toBe(true);
    expect(isRowMajor([2, 1, 3], [3, 99, 1])).toBe(true);
    expect(isRowMajor([2, 3], [-3, 1])).toBe(false);
    expect(isRowMajor([2, 3], [0, 1])).toBe(false);
  });
});

describe('collapseAxes', () => {
  it('rejects a bad shape, bad stride lists or a bad minRank', () => {
    expectTyped(() => collapseAxes([2, NaN], [[1, 1]]), ArgumentError, /^collapseAxes: shape \[2,NaN\]/);
    expectTyped(() => collapseAxes([2, 3], null as never), ArgumentError, /^collapseAxes: strides must be an array of stride lists \(one per operand\), got null/);
    expectTyped(() => collapseAxes([2, 3], [[3, 1], [3]]), ShapeError, /^collapseAxes: strides\[1\] \[3\] has 1 entries for shape \[2,3\] of rank 2/);
    expectTyped(() => collapseAxes([2, 3], [[3, 1], 5 as never]), ArgumentError, /^collapseAxes: strides\[1\] must be an array of integers, got 5/);
    expectTyped(() => collapseAxes([2, 3], [[3, '1' as never]]), ArgumentError, /^collapseAxes: strides\[0\] \[3,"1"\] must hold integers \(entry 1 is "1"\)/);
    expectTyped(() => collapseAxes([2, 3], [[3, 1]], 2 as never), ArgumentError, /^collapseAxes: minRank must be 0 or 1, got 2/);
  });

  it('merges valid layouts as before', () => {
    expect(collapseAxes([2, 3, 4], [[12, 4, 1], [0, 0, 1]])).toEqual({ shape: [6, 4], strides: [[4, 1], [0, 1]] });
    expect(collapseAxes([1, 1], [[5, 7]], 0)).toEqual({ shape: [], strides: [[]] });
    expect(collapseAxes([1], [[5]])).toEqual({ shape: [1], strides: [[0]] });
  });
});
