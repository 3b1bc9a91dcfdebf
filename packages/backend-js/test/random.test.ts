import { describe, expect, it } from 'vitest';
import { threefry2x32 } from '../src/index.js';
import { K, empty, read, tensor, viewOf } from './helpers.js';

describe('threefry2x32 (20 rounds) known answers', () => {
  it('key 0, counter 0', () => {
    expect(threefry2x32(0, 0, 0, 0)).toEqual([0x6b200159, 0x99ba4efe]);
  });
  it('key all ones, counter 2^64 - 1', () => {
    expect(threefry2x32(0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff)).toEqual([0x1cb996fc, 0xbb002be7]);
  });
  it('pi digits', () => {
    expect(threefry2x32(0x13198a2e, 0x03707344, 0x243f6a88, 0x85a308d3)).toEqual([0xc4923a9c, 0x483df7a0]);
  });
});

describe('randomBits', () => {
  it('int32 out gets raw bits; block j encrypts counter + j', () => {
    const out = empty([6], 'int32');
    K.randomBits([1234, 5678], 10, out);
    const exp: number[] = [];
    for (let j = 0; j < 3; j++) exp.push(...threefry2x32(1234, 5678, 10 + j, 0).map((v) => v | 0));
    expect(read(out)).toEqual(exp);
    const kat = empty([2], 'int32');
    K.randomBits([0, 0], 0, kat);
    expect(read(kat)).toEqual([0x6b200159 | 0, 0x99ba4efe | 0]);
  });

  it('float32 out gets (bits >>> 8) · 2^-24 in [0, 1)', () => {
    const out = empty([5]);
    K.randomBits([7, 9], 3, out);
    const bits: number[] = [];
    for (let j = 0; j < 3; j++) bits.push(...threefry2x32(7, 9, 3 + j, 0));
    expect(read(out)).toEqual(bits.slice(0, 5).map((b) => (b >>> 8) / 16777216));
    const big = empty([10000]);
    K.randomBits([1, 2], 0, big);
    const v = read(big);
    expect(Math.min(...v)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...v)).toBeLessThan(1);
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.02);
  });

  it('carries the counter into the high word', () => {
    const out = empty([4], 'int32');
    K.randomBits([3, 4], 2 ** 32 - 1, out);
    expect(read(out)).toEqual([
      ...threefry2x32(3, 4, 0xffffffff, 0).map((v) => v | 0),
      ...threefry2x32(3, 4, 0, 1).map((v) => v | 0),
    ]);
    const hi = empty([2], 'int32');
    K.randomBits([3, 4], 5 * 2 ** 32 + 17, hi);
    expect(read(hi)).toEqual(threefry2x32(3, 4, 17, 5).map((v) => v | 0));
  });

  it('is deterministic, fills odd sizes, strided outs, and ignores size 0', () => {
    const a = empty([7], 'int32'), b = empty([7], 'int32');
    K.randomBits([42, 0], 100, a);
    K.randomBits([42, 0], 100, b);
    expect(read(a)).toEqual(read(b));
    const base = tensor(new Array(8).fill(0), [8], 'int32');
    K.randomBits([42, 0], 100, viewOf(base, [4], [2], 0));
    const all = read(base);
    expect([all[0], all[2], all[4], all[6]]).toEqual(read(a).slice(0, 4));
    expect([all[1], all[3], all[5], all[7]]).toEqual([0, 0, 0, 0]);
    K.randomBits([1, 1], 0, empty([0], 'int32'));
  });
});
