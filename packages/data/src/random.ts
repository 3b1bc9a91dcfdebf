/**
 * Host-side seeded randomness for shuffling and splitting. Orders are computed on the host
 * (they are index permutations, not tensor values), with a small, well-mixed 32-bit
 * generator so that a seed gives the same order on every platform and backend.
 * @module
 */
import { ArgumentError } from '@tessera/core';

/** Mixes a 32-bit word (the finaliser of MurmurHash3 / splitmix32). */
function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/**
 * A seeded generator (sfc32, seeded through splitmix-style mixing of the seed's two 32-bit
 * words and a stream number).
 * @internal
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** `seed` is any safe integer; `stream` selects an independent sequence (e.g. the epoch). */
  constructor(seed: number, stream = 0) {
    const lo = seed >>> 0;
    const hi = Math.floor(seed / 2 ** 32) >>> 0;
    this.a = mix32(lo ^ 0x9e3779b9);
    this.b = mix32(hi ^ mix32(this.a + 0x7f4a7c15));
    this.c = mix32((stream >>> 0) ^ mix32(this.b + 0x85ebca6b));
    this.d = mix32(Math.floor(stream / 2 ** 32) ^ mix32(this.c + 0xc2b2ae35));
    for (let i = 0; i < 12; i++) this.next();
  }

  /** The next 32-bit unsigned word. */
  next(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** A uniform integer in `[0, n)` for `1 <= n <= 2^32` (no modulo bias). */
  int(n: number): number {
    if (n <= 1) return 0;
    const limit = Math.floor(2 ** 32 / n) * n;
    let x = this.next();
    while (x >= limit) x = this.next();
    return x % n;
  }
}

/** A random safe-integer seed, for callers that did not give one. @internal */
export function randomSeed(): number {
  return Math.floor(Math.random() * 2 ** 52);
}

/** Checks a user-supplied seed. @internal */
export function checkSeed(op: string, seed: unknown): number {
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) {
    throw new ArgumentError(op, `seed must be a safe integer, got ${String(seed)}`);
  }
  return seed;
}

/** A uniformly random permutation of `0..n-1` (Fisher–Yates). @internal */
export function permutation(n: number, rng: Rng): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}

/**
 * The shuffle buffer shared by every shuffled dataset, over indices and over elements alike,
 * so a seed gives the same order whichever path a dataset takes. Fill up to `capacity`,
 * then each draw takes a random slot and refills it from upstream (or, at the end, moves the
 * last item into it). With a capacity at least the dataset size this is a uniform shuffle.
 * @internal
 */
export class ShuffleBuffer<T> {
  readonly items: T[] = [];
  constructor(
    readonly capacity: number,
    private readonly rng: Rng,
  ) {}

  get full(): boolean {
    return this.items.length >= this.capacity;
  }

  push(x: T): void {
    this.items.push(x);
  }

  /** Removes and returns a random item; when `refill` is given it takes the item's slot. */
  draw(refill?: { value: T }): T {
    const items = this.items;
    const j = this.rng.int(items.length);
    const out = items[j]!;
    if (refill !== undefined) items[j] = refill.value;
    else {
      items[j] = items[items.length - 1]!;
      items.pop();
    }
    return out;
  }
}
