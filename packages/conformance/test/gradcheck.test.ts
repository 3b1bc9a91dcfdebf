import { describe, expect, it } from 'vitest';
import { centralDifference64 } from '../src/gradcheck.js';

describe('float64 central differences', () => {
  it('differentiate smooth functions to ~1e-9', () => {
    const f = (x: Float64Array, y: Float64Array) => Math.sin(x[0]) * y[1] + x[1] ** 3;
    const xs = [Float64Array.of(0.3, 2), Float64Array.of(5, -1.5)];
    expect(centralDifference64(f, xs, 0, 0)).toBeCloseTo(Math.cos(0.3) * -1.5, 8);
    expect(centralDifference64(f, xs, 0, 1)).toBeCloseTo(12, 6);
    expect(centralDifference64(f, xs, 1, 1)).toBeCloseTo(Math.sin(0.3), 8);
    expect(centralDifference64(f, xs, 1, 0)).toBeCloseTo(0, 8);
  });

  it('leave the inputs untouched', () => {
    const xs = [Float64Array.of(1, 2)];
    centralDifference64((x) => x[0] * x[1], xs, 0, 1);
    expect(Array.from(xs[0])).toEqual([1, 2]);
  });
});
