/**
 * Small helpers shared by layers and models: symbolic shapes with unknown (`null`)
 * dimensions, Keras-style unique names, argument checks that raise typed errors, and
 * summing tensors one at a time ({@link accumulate}).
 * @module
 */
import { add, ArgumentError, type Tensor } from '@tessera/core';

/**
 * A shape whose dimensions may be unknown (`null`), such as the batch axis of a symbolic
 * input: `[null, 28, 28]`.
 * @example const s: Shape = [null, 784];
 */
export type Shape = (number | null)[];

/**
 * Formats a possibly-symbolic shape for error messages: `[null,28,28]`.
 * @example fmtShapeN([null, 3]) // '[null,3]'
 */
export function fmtShapeN(shape: readonly (number | null)[]): string {
  return `[${shape.map((d) => (d === null ? 'null' : String(d))).join(',')}]`;
}

/**
 * Formats a shape the way Keras's summary does: `(None, 784)`.
 * @example pyShape([null, 784]) // '(None, 784)'
 */
export function pyShape(shape: readonly (number | null)[]): string {
  const parts = shape.map((d) => (d === null ? 'None' : String(d)));
  return `(${parts.join(', ')}${parts.length === 1 ? ',' : ''})`;
}

/**
 * Keras's snake_case of a class name: `Conv2D` → `conv2d`, `BatchNormalization` →
 * `batch_normalization`.
 * @example toSnakeCase('DepthwiseConv2D') // 'depthwise_conv2d'
 */
export function toSnakeCase(name: string): string {
  return name
    .replace(/(.)([A-Z][a-z]+)/g, '$1_$2')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase();
}

const nameCounters = new Map<string, number>();

/**
 * A fresh name from a prefix: `dense`, then `dense_1`, `dense_2`, … (as Keras names layers).
 * @example uniqueName('dense') // 'dense' the first time, 'dense_1' the next
 */
export function uniqueName(prefix: string): string {
  const n = nameCounters.get(prefix) ?? 0;
  nameCounters.set(prefix, n + 1);
  return n === 0 ? prefix : `${prefix}_${n}`;
}

/**
 * Resets the automatic layer and model names (`dense`, `dense_1`, …), like Keras's
 * `clear_session()`. Existing layers keep their names.
 * @example clearSession(); layers.dense({ units: 1 }).name // 'dense'
 */
export function clearSession(): void {
  nameCounters.clear();
}

/** Checks that `v` is an integer >= min. */
export function checkPositiveInt(op: string, what: string, v: unknown, min = 1): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new ArgumentError(op, `${what} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** A pair from one number or two: `3` → `[3, 3]`. */
export function toPair(op: string, what: string, v: number | readonly number[]): [number, number] {
  const p: number[] = typeof v === 'number' ? [v, v] : [...v];
  if (p.length !== 2 || p.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new ArgumentError(op, `${what} must be a positive integer or a pair of them, got ${JSON.stringify(v)}`);
  }
  return [p[0]!, p[1]!];
}

/** Product of known dimensions, or null when any is unknown. */
export function knownSize(dims: readonly (number | null)[]): number | null {
  let n = 1;
  for (const d of dims) {
    if (d === null) return null;
    n *= d;
  }
  return n;
}

/** Formats an integer with thousands separators: 101770 → `101,770`. */
export function withCommas(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Human-readable byte count: `397.54 KB`. */
export function fmtBytes(n: number): string {
  if (n < 1024) return `${n.toFixed(2)} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(2)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(2)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

/**
 * A small deterministic PRNG (mulberry32) in [0, 1) for host-side draws — shuffles, masks,
 * sample choices — so that a seed gives the same sequence everywhere.
 * @example const next = hostRng(0); next() // 0.2647…
 */
export function hostRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random 31-bit seed from Math.random (for unseeded host draws). */
export function randomSeed(): number {
  return Math.floor(Math.random() * 2 ** 31);
}

/**
 * `total + p`, disposing both inputs (or `p` itself when `total` is null): sums tensors one at
 * a time without keeping the partial sums alive.
 * @example
 * let total: Tensor | null = null;
 * for (const p of penalties) total = accumulate(total, p);
 */
export function accumulate(total: Tensor | null, p: Tensor): Tensor {
  if (total === null) return p;
  const t = add(total, p);
  total.dispose();
  p.dispose();
  return t;
}
