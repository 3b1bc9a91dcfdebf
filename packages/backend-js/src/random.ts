/**
 * Counter-based random bits: threefry2x32 with 20 rounds (Random123), bit-exact with every
 * other Tessera backend.
 * @module
 */
import type { View } from '@tessera/core';
import { dataOf, hostView } from './storage.js';
import { isContiguous } from './strided.js';
import { copy } from './elementwise.js';

const PARITY = 0x1bd11bda;
const TWO_POW_32 = 4294967296;
const TWO_POW_M24 = 1 / 16777216;

/** Second word of the last {@link encrypt} call (avoids allocating a pair per block). */
let outHigh = 0;

/** threefry2x32-20 of (x0, x1) under (k0, k1), all int32; returns word 0, leaves word 1 in outHigh. */
function encrypt(k0: number, k1: number, x0: number, x1: number): number {
  const k2 = k0 ^ k1 ^ PARITY;
  x0 = (x0 + k0) | 0; x1 = (x1 + k1) | 0;
  // rounds 1-4: 13 15 26 6
  x0 = (x0 + x1) | 0; x1 = ((x1 << 13) | (x1 >>> 19)) ^ x0;
  x0 = (x0 + x1) | 0; x1 = ((x1 << 15) | (x1 >>> 17)) ^ x0;
  x0 = (x0 + x1) | 0; x1 = ((x1 << 26) | (x1 >>> 6)) ^ x0;
  x0 = (x0 + x1) | 0; x1 = ((x1 << 6) | (x1 >>> 26)) ^ x0;
  x0 = (x0 + k1) | 0; x1 = (x1 + k2 + 1) | 0;
  // rounds 5-8: 17 29 16 24
  x0 = (x0 + x1) | 0; x1 = ((x1 << 17) | (x1 >>> 15)) ^ x0;
  x0 = (x0 + x1) | 0; x1 = ((x1 << 29) | (x1 >>> 3)) ^ x0;
  x0 = (x0 + x1) | 0; x1 = ((x1 << 16) | (x1 >>> 16)) ^ x0;
  x0 = (x0 + x1) | 0; x1 = ((x1 << 24) | (x1 >>> 8)) ^ x0;
  x0 = (x0 + k2) | 0; x1 = (x1 + k0 + 2) | 0;
  // rounds 9-12
  x0 = (x0 + x1) | 0; x1 = ((x1 << 13) | (x1 >>> 19)) ^ x0;
  x0 = (x0 + x1) | 0; x1 = ((x1 << 15) | (x1 >>> 17)) ^ x0;
  x0 = (x0 + x1) | 0; x1 = ((x1 << 26) | (x1 >>> 6)) ^ x0;
  x0 = (x0 + x1) | 0; x1 = ((x1 << 6) | (x1 >>> 26)) ^ x0;
  x0 = (x0 + k0) | 0; x1 = (x1 + k1 + 3) | 0;
  // rounds 13-16
  x0 = (x0 + x1) | 0; x1 = ((x1 << 17) | (x1 >>> 15)) ^ x0;
  x0 = (x0 + x1) | 0; x1 = ((x1 << 29) | (x1 >>> 3)) ^ x0;
  x0 = (x0 + x1) | 0; x1 = ((x1 << 16) | (x1 >>> 16)) ^ x0;
  x0 = (x0 + x1) | 0; x1 = ((x1 << 24) | (x1 >>> 8)) ^ x0;
  x0 = (x0 + k1) | 0; x1 = (x1 + k2 + 4) | 0;
  // rounds 17-20
  x0 = (x0 + x1) | 0; x1 = ((x1 << 13) | (x1 >>> 19)) ^ x0;
  x0 = (x0 + x1) | 0; x1 = ((x1 << 15) | (x1 >>> 17)) ^ x0;
  x0 = (x0 + x1) | 0; x1 = ((x1 << 26) | (x1 >>> 6)) ^ x0;
  x0 = (x0 + x1) | 0; x1 = ((x1 << 6) | (x1 >>> 26)) ^ x0;
  x0 = (x0 + k2) | 0; x1 = (x1 + k0 + 5) | 0;
  outHigh = x1;
  return x0;
}

/**
 * threefry2x32 with 20 rounds: encrypts the block (x0, x1) under key (k0, k1); all words are
 * uint32 numbers. Exposed for known-answer tests.
 *
 * @example
 * threefry2x32(0, 0, 0, 0);   // [0x6b200159, 0x99ba4efe]
 */
export function threefry2x32(k0: number, k1: number, x0: number, x1: number): [number, number] {
  const y0 = encrypt(k0 | 0, k1 | 0, x0 | 0, x1 | 0);
  return [y0 >>> 0, outHigh >>> 0];
}

/**
 * Fills `out` with threefry2x32 bits: block j encrypts the 64-bit counter `counter + j`
 * (low word, high word) and yields elements 2j and 2j+1. int32 `out` gets the raw bits,
 * float32 `out` gets `(bits >>> 8) · 2^-24` in [0, 1).
 *
 * @example
 * randomBits([0, 0], 0, out);   // int32 out of size 2 → [0x6b200159 | 0, 0x99ba4efe | 0]
 */
export function randomBits(key: readonly [number, number], counter: number, out: View): void {
  const n = out.size;
  if (n === 0) return;
  if (!isContiguous(out)) {
    const tmp = new (out.dtype === 'int32' ? Int32Array : Float32Array)(n);
    fillBits(key, counter, tmp, 0, n, out.dtype === 'int32');
    copy(hostView(tmp, out.dtype, out.shape), out);
    return;
  }
  const O = dataOf(out) as Float32Array | Int32Array;
  fillBits(key, counter, O, out.offset, n, out.dtype === 'int32');
}

function fillBits(key: readonly [number, number], counter: number, O: Float32Array | Int32Array, o: number, n: number, raw: boolean): void {
  const k0 = key[0] | 0, k1 = key[1] | 0;
  let lo = counter % TWO_POW_32;
  let hi = Math.floor(counter / TWO_POW_32) % TWO_POW_32;
  for (let i = 0; i < n; i += 2) {
    const y0 = encrypt(k0, k1, lo | 0, hi | 0);
    const y1 = outHigh;
    if (raw) {
      O[o + i] = y0;
      if (i + 1 < n) O[o + i + 1] = y1;
    } else {
      O[o + i] = (y0 >>> 8) * TWO_POW_M24;
      if (i + 1 < n) O[o + i + 1] = (y1 >>> 8) * TWO_POW_M24;
    }
    if (++lo === TWO_POW_32) {
      lo = 0;
      hi = (hi + 1) % TWO_POW_32;
    }
  }
}
