import { describe, expect, it } from 'vitest';
import { bitwiseEqual, compareToRef } from '../src/compare.js';
import { host } from '../src/host.js';
import { accumulating, EXACT, F32 } from '../src/tolerance.js';

const got = (v: number[], shape = [v.length], dtype = 'float32') => ({
  shape, dtype, data: dtype === 'int32' ? Int32Array.from(v) : dtype === 'bool' ? Uint8Array.from(v) : Float32Array.from(v),
});

describe('compareToRef', () => {
  it('accepts |got − ref| ≤ atol + rtol·|ref| after rounding ref to float32', () => {
    expect(compareToRef(got([1]), host('float32', [1], [1 + 1e-8]), EXACT)).toBeNull();
    expect(compareToRef(got([1]), host('float32', [1], [1 + 1e-7]), EXACT)).not.toBeNull();
    expect(compareToRef(got([100.0009]), host('float32', [1], [100]), F32)).toBeNull();
    expect(compareToRef(got([100.01]), host('float32', [1], [100]), F32)).toMatch(/1\/1 elements differ/);
    expect(compareToRef(got([0]), host('float32', [1], [5e-7]), F32)).toBeNull();
  });

  it('requires NaN positions to match exactly', () => {
    expect(compareToRef(got([NaN, 1]), host('float32', [2], [NaN, 1]), F32)).toBeNull();
    expect(compareToRef(got([0, 1]), host('float32', [2], [NaN, 1]), F32)).toMatch(/\[0\] got 0 expected NaN/);
    expect(compareToRef(got([NaN]), host('float32', [1], [0]), F32)).not.toBeNull();
  });

  it('requires infinities to match in sign, and overflowing refs to become Inf', () => {
    expect(compareToRef(got([Infinity]), host('float32', [1], [Infinity]), F32)).toBeNull();
    expect(compareToRef(got([-Infinity]), host('float32', [1], [Infinity]), F32)).not.toBeNull();
    expect(compareToRef(got([3.4e38]), host('float32', [1], [Infinity]), F32)).not.toBeNull();
    expect(compareToRef(got([Infinity]), host('float32', [1], [1e39]), F32)).toBeNull();
  });

  it('ignores the sign of zero unless asked', () => {
    expect(compareToRef(got([0]), host('float32', [1], [-0]), EXACT)).toBeNull();
    expect(compareToRef(got([0]), host('float32', [1], [-0]), EXACT, { signedZeros: true })).toMatch(/expected -0/);
  });

  it('compares int32 and bool exactly whatever the tolerance, with int32 wrap-around', () => {
    expect(compareToRef(got([3], [1], 'int32'), host('int32', [1], [3]), { rtol: 1, atol: 1 })).toBeNull();
    expect(compareToRef(got([3], [1], 'int32'), host('int32', [1], [4]), { rtol: 1, atol: 1 })).not.toBeNull();
    expect(compareToRef(got([-2147483648], [1], 'int32'), host('int32', [1], [2147483648]), EXACT)).toBeNull();
    expect(compareToRef(got([1], [1], 'bool'), host('bool', [1], [1]), EXACT)).toBeNull();
  });

  it('checks shape and dtype', () => {
    expect(compareToRef(got([1, 2]), host('float32', [1, 2], [1, 2]), F32)).toMatch(/shape \[2\], expected \[1,2\]/);
    expect(compareToRef(got([1], [1], 'int32'), host('float32', [1], [1]), F32)).toMatch(/dtype int32/);
    expect(compareToRef(got([1], [1], 'int32'), host('float32', [1], [1]), F32, { anyDType: true })).toBeNull();
  });

  it('scales tolerances with the accumulation length', () => {
    const t = accumulating(F32, 100, 1);
    expect(t.rtol).toBeGreaterThan(F32.rtol);
    expect(t.atol).toBeCloseTo(1e-6 + 8 * 2 ** -24 * 100, 12);
  });
});

describe('bitwiseEqual', () => {
  it('sees -0, NaN payloads and array types', () => {
    expect(bitwiseEqual(Float32Array.of(1, NaN), Float32Array.of(1, NaN))).toBe(true);
    expect(bitwiseEqual(Float32Array.of(-0), Float32Array.of(0))).toBe(false);
    expect(bitwiseEqual(Int32Array.of(1), Float32Array.of(1))).toBe(false);
    const a = new Float32Array(1);
    new Uint32Array(a.buffer)[0] = 0x7fc00001;
    expect(bitwiseEqual(a, Float32Array.of(NaN))).toBe(false);
  });
});
