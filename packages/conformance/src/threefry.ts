/**
 * An independent threefry2x32 (20 rounds) reference, as Random123 defines it, and the
 * `randomBits` stream the kernel interface specifies on top of it.
 * @module
 */

const ROTATIONS = [13, 15, 26, 6, 17, 29, 16, 24] as const;
const PARITY = 0x1bd11bda;

function rotl(x: number, r: number): number {
  return ((x << r) | (x >>> (32 - r))) >>> 0;
}

/**
 * Encrypts one 64-bit counter (two uint32 words) under a 64-bit key: 20 rounds, key
 * injection after every 4.
 * @example
 * threefry2x32([0, 0], [0, 0]); // [0x6b200159, 0x99ba4efe]
 */
export function threefry2x32(
  key: readonly [number, number], ctr: readonly [number, number],
): [number, number] {
  const ks = [key[0] >>> 0, key[1] >>> 0, (PARITY ^ key[0] ^ key[1]) >>> 0];
  let x0 = (ctr[0] + ks[0]) >>> 0;
  let x1 = (ctr[1] + ks[1]) >>> 0;
  for (let r = 0; r < 20; r++) {
    x0 = (x0 + x1) >>> 0;
    x1 = rotl(x1, ROTATIONS[r % 8]);
    x1 = (x1 ^ x0) >>> 0;
    if (r % 4 === 3) {
      const s = (r + 1) / 4;
      x0 = (x0 + ks[s % 3]) >>> 0;
      x1 = (x1 + ks[(s + 1) % 3] + s) >>> 0;
    }
  }
  return [x0, x1];
}

/**
 * The `randomBits` kernel's stream: block `j` encrypts the 64-bit counter `counter + j`
 * (low word first) and gives elements `2j` and `2j+1`. Returns `n` uint32 values.
 * @example
 * threefryBits([0, 0], 0, 2); // Uint32Array [0x6b200159, 0x99ba4efe]
 */
export function threefryBits(key: readonly [number, number], counter: number, n: number): Uint32Array {
  const out = new Uint32Array(n);
  for (let j = 0; 2 * j < n; j++) {
    const c = counter + j;
    const lo = c % 4294967296;
    const hi = Math.floor(c / 4294967296) % 4294967296;
    const [a, b] = threefry2x32(key, [lo, hi]);
    out[2 * j] = a;
    if (2 * j + 1 < n) out[2 * j + 1] = b;
  }
  return out;
}

/**
 * A float32 uniform in [0, 1) from 32 random bits: `(bits >>> 8) · 2^-24`.
 * @example
 * bitsToUniform(0xffffffff); // 1 - 2**-24
 */
export function bitsToUniform(bits: number): number {
  return (bits >>> 8) * 2 ** -24;
}
