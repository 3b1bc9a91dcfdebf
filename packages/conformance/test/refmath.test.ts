import { describe, expect, it } from 'vitest';
import { erf, floorMod, gelu, intFloorDiv, intFloorMod, kahanSum, roundHalfEven, sigmoid, softplus } from '../src/refmath.js';

describe('scalar float64 references', () => {
  it('erf matches tabulated values', () => {
    const table: [number, number][] = [
      [0, 0], [0.01, 0.011283415555849618], [0.5, 0.5204998778130465], [1, 0.8427007929497149],
      [1.5, 0.9661051464753108], [2, 0.9953222650189527], [3, 0.9999779095030014], [4, 0.9999999845827421],
    ];
    for (const [x, v] of table) {
      expect(erf(x)).toBeCloseTo(v, 13);
      expect(erf(-x)).toBeCloseTo(-v, 13);
    }
    expect(erf(Infinity)).toBe(1);
    expect(erf(-Infinity)).toBe(-1);
    expect(erf(NaN)).toBeNaN();
    expect(Object.is(erf(-0), -0)).toBe(true);
  });

  it('rounds half to even', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4, 2.6].map(roundHalfEven)).toEqual([0, 2, 2, -0, -2, -2, 2, 3]);
    expect(Object.is(roundHalfEven(-0.4), -0)).toBe(true);
    expect(roundHalfEven(Infinity)).toBe(Infinity);
    expect(roundHalfEven(NaN)).toBeNaN();
  });

  it('floored modulo and division take the divisor sign', () => {
    expect(floorMod(-7, 3)).toBe(2);
    expect(floorMod(7, -3)).toBe(-2);
    expect(floorMod(-7.5, 2)).toBe(0.5);
    expect(floorMod(5, 0)).toBeNaN();
    expect(intFloorDiv(-7, 2)).toBe(-4);
    expect(intFloorDiv(7, 0)).toBe(0);
    expect(intFloorMod(-7, 3)).toBe(2);
    expect(intFloorMod(7, 0)).toBe(0);
  });

  it('sums with compensation and keeps infinities', () => {
    expect(kahanSum([1e16, 1, -1e16])).toBe(1);
    expect(kahanSum([Infinity, 1, -2])).toBe(Infinity);
    expect(kahanSum([Infinity, -Infinity])).toBeNaN();
    expect(kahanSum([])).toBe(0);
  });

  it('activations match hand values', () => {
    expect(sigmoid(0)).toBe(0.5);
    expect(sigmoid(-1000)).toBe(0);
    expect(sigmoid(1000)).toBe(1);
    expect(softplus(0)).toBeCloseTo(Math.LN2, 15);
    expect(softplus(1000)).toBe(1000);
    expect(gelu(1)).toBeCloseTo(0.8413447460685429, 14);
    expect(gelu(-1)).toBeCloseTo(-0.15865525393145707, 14);
    expect(gelu(1, true)).toBeCloseTo(0.8411919906082768, 14);
  });
});
