import { describe, expect, it } from 'vitest';
import { seedKey } from '../src/opdb/random.js';
import { bitsToUniform, threefry2x32, threefryBits } from '../src/threefry.js';

describe('threefry2x32 reference', () => {
  it('matches the Random123 known answers (20 rounds)', () => {
    expect(threefry2x32([0, 0], [0, 0])).toEqual([0x6b200159, 0x99ba4efe]);
    expect(threefry2x32([0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff])).toEqual([0x1cb996fc, 0xbb002be7]);
    expect(threefry2x32([0x13198a2e, 0x03707344], [0x243f6a88, 0x85a308d3])).toEqual([0xc4923a9c, 0x483df7a0]);
  });

  it('lays blocks out as the randomBits kernel specifies', () => {
    const key: [number, number] = [0x13198a2e, 0x03707344];
    const bits = threefryBits(key, 5, 5);
    expect([bits[0], bits[1]]).toEqual(threefry2x32(key, [5, 0]));
    expect([bits[2], bits[3]]).toEqual(threefry2x32(key, [6, 0]));
    expect(bits[4]).toBe(threefry2x32(key, [7, 0])[0]);
  });

  it('carries the 64-bit counter into the high word', () => {
    const key: [number, number] = [1, 2];
    const bits = threefryBits(key, 2 ** 32 - 1, 4);
    expect([bits[0], bits[1]]).toEqual(threefry2x32(key, [0xffffffff, 0]));
    expect([bits[2], bits[3]]).toEqual(threefry2x32(key, [0, 1]));
  });

  it('maps bits to float32 uniforms on the 2^-24 grid', () => {
    expect(bitsToUniform(0)).toBe(0);
    expect(bitsToUniform(0xff)).toBe(0);
    expect(bitsToUniform(0x100)).toBe(2 ** -24);
    expect(bitsToUniform(0xffffffff)).toBe(1 - 2 ** -24);
    expect(Math.fround(bitsToUniform(0xffffffff))).toBe(1 - 2 ** -24);
  });

  it('derives keys from seeds as core does (low word, high word)', () => {
    expect(seedKey(0)).toEqual([0, 0]);
    expect(seedKey(42)).toEqual([42, 0]);
    expect(seedKey(2 ** 32 + 7)).toEqual([7, 1]);
    expect(seedKey(2 ** 40 + 3)).toEqual([3, 256]);
  });
});
