/**
 * The suite's own seeded generator for test inputs (sfc32 seeded through splitmix32 from an
 * FNV-1a hash of a string), so every case's data depends on its id alone, not on the order
 * cases run in. Not the tensor RNG under test (that is threefry, in `threefry.ts`).
 * @module
 */

/**
 * FNV-1a 32-bit hash of a string.
 * @example
 * fnv1a('add/float32/same'); // a uint32
 */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function splitmix32(state: number): () => number {
  let s = state >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/**
 * A small deterministic PRNG (sfc32).
 * @example
 * const r = new Rng('add/float32/same-[3,4]x[3,4]#0');
 * r.int(0, 9); // the same number on every run
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /**
   * @param seed a number, or a string hashed with FNV-1a.
   * @example
   * const r = new Rng('matmul/float32/odd'); r.float();
   */
  constructor(seed: number | string) {
    const sm = splitmix32(typeof seed === 'string' ? fnv1a(seed) : seed);
    this.a = sm();
    this.b = sm();
    this.c = sm();
    this.d = sm();
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** A uint32. */
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** A float in [0, 1) with 32 random bits. */
  float(): number {
    return this.u32() / 4294967296;
  }

  /** An integer in [lo, hi] (inclusive). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }

  /** One element of a non-empty array. */
  pick<X>(xs: readonly X[]): X {
    return xs[Math.floor(this.float() * xs.length)];
  }

  /** A random permutation of `0..n-1`. */
  perm(n: number): number[] {
    const p = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(this.float() * (i + 1));
      [p[i], p[j]] = [p[j], p[i]];
    }
    return p;
  }
}
