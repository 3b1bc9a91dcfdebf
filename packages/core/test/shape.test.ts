import { describe, expect, it } from 'vitest';
import { ArgumentError, ShapeError, broadcastShapes, normAxes, normAxis, sizeOf, stridesOf } from '../src/index.js';

describe('shapes', () => {
  it('computes sizes and row-major strides', () => {
    expect(sizeOf([])).toBe(1);
    expect(sizeOf([2, 0, 3])).toBe(0);
    expect(stridesOf([2, 3, 4])).toEqual([12, 4, 1]);
    expect(stridesOf([])).toEqual([]);
  });

  it('broadcasts like NumPy', () => {
    expect(broadcastShapes([2, 1, 3], [4, 1], 'add')).toEqual([2, 4, 3]);
    expect(broadcastShapes([], [5], 'add')).toEqual([5]);
    expect(broadcastShapes([0, 1], [1, 7], 'add')).toEqual([0, 7]);
    expect(broadcastShapes([3], [1], 'add')).toEqual([3]);
  });

  it('names the op, the shapes and the axis when broadcasting fails', () => {
    expect(() => broadcastShapes([2, 3], [4], 'add')).toThrow(ShapeError);
    expect(() => broadcastShapes([2, 3], [4], 'add')).toThrow('add: shapes [2,3] and [4] cannot broadcast (axis -1: 3 vs 4)');
  });

  it('normalises negative axes and rejects out-of-range ones', () => {
    expect(normAxis(-1, 3, 'sum')).toBe(2);
    expect(normAxes([-1, 0], 3, 'sum')).toEqual([0, 2]);
    expect(normAxes(undefined, 2, 'sum')).toEqual([0, 1]);
    expect(() => normAxis(3, 3, 'sum')).toThrow(ArgumentError);
    expect(() => normAxis(1.5, 3, 'sum')).toThrow(/axis 1.5 is out of range/);
    expect(() => normAxes([0, -3], 3, 'sum')).toThrow(/repeat/);
  });
});
