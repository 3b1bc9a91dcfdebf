/**
 * Random tensors from the counter-based threefry2x32 generator. A seed fixes the key and the
 * counter starts at 0, so a seeded draw is bit-identical on every backend; unseeded draws
 * advance one global stream (see {@link setSeed}).
 * @module
 */
import type { DType } from '../backend/types.js';
import { getBackend } from '../engine.js';
import { ArgumentError } from '../errors.js';
import { checkShape, sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { add, cast, cos, floor, greater, abs, log, mul, sqrt, sub, where } from './elementwise.js';
import { reshape, slice } from './movement.js';
import { output } from './util.js';

const stream = { key: [(Math.random() * 2 ** 32) >>> 0, (Math.random() * 2 ** 32) >>> 0] as [number, number], counter: 0 };

/**
 * Seeds the global random stream: every later unseeded draw is reproducible.
 * @example setSeed(42); const a = randomNormal([3]);
 */
export function setSeed(seed: number): void {
  stream.key = keyOf(seed, 'setSeed');
  stream.counter = 0;
}

/** The threefry key of a seed: its low and high 32-bit words (keyOf(2 ** 32 + 5, op) is [5, 1]). */
function keyOf(seed: number, op: string): [number, number] {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new ArgumentError(op, `seed must be a non-negative safe integer, got ${seed}`);
  return [seed >>> 0, Math.floor(seed / 2 ** 32) >>> 0];
}

/** The (key, counter) of a draw of `n` values: the seed's stream, or the next slice of the global one. */
function draw(n: number, seed: number | undefined, op: string): [[number, number], number] {
  if (seed !== undefined) return [keyOf(seed, op), 0];
  const counter = stream.counter;
  stream.counter += Math.ceil(n / 2);
  return [stream.key, counter];
}

function bits(shape: readonly number[], dtype: 'float32' | 'int32', seed: number | undefined, op: string): Tensor {
  checkShape(shape, op);
  if (seed !== undefined) keyOf(seed, op); // checked before the output exists, so a bad seed leaks nothing
  const be = getBackend();
  const out = output(be, dtype, shape.slice());
  const [key, counter] = draw(out.size, seed, op);
  if (out.size > 0) be.kernels.randomBits(key, counter, out);
  return out;
}

/**
 * Raw random 32-bit words (int32) from threefry2x32.
 * @example randomBits([4], 7)
 */
export function randomBits(shape: readonly number[], seed?: number): Tensor {
  return bits(shape, 'int32', seed, 'randomBits');
}

/** Options of {@link randomUniform}. */
export interface UniformOptions {
  min?: number;
  max?: number;
  dtype?: DType;
  seed?: number;
}

/**
 * Uniform values in `[min, max)` (int32: integers in `[min, max)`).
 * @example randomUniform([2, 2], { min: -1, max: 1, seed: 0 })
 */
export function randomUniform(shape: readonly number[], opts: UniformOptions = {}): Tensor {
  const lo = opts.min ?? 0;
  const hi = opts.max ?? 1;
  if (!(lo <= hi) || !Number.isFinite(lo) || !Number.isFinite(hi)) throw new ArgumentError('randomUniform', `need finite min <= max, got ${lo}, ${hi}`);
  const u = bits(shape, 'float32', opts.seed, 'randomUniform');
  if (lo === 0 && hi === 1 && (opts.dtype ?? 'float32') === 'float32') return u;
  const scaled = mul(u, hi - lo);
  const y = add(scaled, lo);
  u.dispose();
  scaled.dispose();
  if ((opts.dtype ?? 'float32') === 'float32') return y;
  const f = floor(y);
  const c = cast(f, opts.dtype!);
  y.dispose();
  f.dispose();
  return c;
}

/** Options of {@link randomNormal} and {@link truncatedNormal}. */
export interface NormalOptions {
  mean?: number;
  stddev?: number;
  seed?: number;
}

/** Standard normals by Box–Muller from 2n uniforms. */
function standardNormal(shape: readonly number[], seed: number | undefined, op: string): Tensor {
  checkShape(shape, op);
  const n = sizeOf(shape);
  const u = bits([2, n], 'float32', seed, op);
  const [u1, u2] = [slice(u, [0, 0], [1, n]), slice(u, [1, 0], [1, n])];
  const one = sub(1, u1); // (0, 1]: log never sees 0
  const l = log(one);
  const l2 = mul(l, -2);
  const r = sqrt(l2);
  const angle = mul(u2, 2 * Math.PI);
  const c = cos(angle);
  const z = mul(r, c);
  const out = reshape(z, shape);
  for (const t of [u, u1, u2, one, l, l2, r, angle, c, z]) t.dispose();
  return out;
}

/**
 * Normal values (Box–Muller over threefry uniforms).
 * @example randomNormal([3, 3], { stddev: 0.05, seed: 1 })
 */
export function randomNormal(shape: readonly number[], opts: NormalOptions = {}): Tensor {
  const z = standardNormal(shape, opts.seed, 'randomNormal');
  return affine(z, opts);
}

function affine(z: Tensor, opts: NormalOptions): Tensor {
  const sd = opts.stddev ?? 1;
  const m = opts.mean ?? 0;
  if (sd === 1 && m === 0) return z;
  const s = mul(z, sd);
  const y = add(s, m);
  z.dispose();
  s.dispose();
  return y;
}

/**
 * Normal values redrawn until within two standard deviations of the mean (like Keras).
 * @example truncatedNormal([128, 10], { stddev: 0.05, seed: 3 })
 */
export function truncatedNormal(shape: readonly number[], opts: NormalOptions = {}): Tensor {
  let z = standardNormal(shape, opts.seed, 'truncatedNormal');
  // Each round replaces out-of-range values with fresh draws; after 8 rounds fewer than
  // 1e-10 of the values could still lie outside; they are left as drawn.
  for (let round = 1; round <= 8; round++) {
    const fresh = standardNormal(shape, opts.seed === undefined ? undefined : opts.seed + round * 0x9e3779b9 % 2 ** 31, 'truncatedNormal');
    const a = abs(z);
    const bad = greater(a, 2);
    const next = where(bad, fresh, z);
    for (const t of [fresh, a, bad, z]) t.dispose();
    z = next;
  }
  return affine(z, opts);
}
